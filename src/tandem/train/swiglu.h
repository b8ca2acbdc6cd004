// The SwiGLU gate of the llama feed-forward block (Shazeer 2020, arXiv
// 2002.05202): a = silu(g) * u with silu(g) = g * sigmoid(g). The gate and up
// projections come out of one fused GEMM, so each row of `gu` holds g in its
// first ffn columns and u in the next ffn.
//   da -> dg = da * u * sigmoid(g) * (1 + g * (1 - sigmoid(g))),  du = da * silu(g)
#pragma once

#include <cstdint>

#include "tandem/base/thread_pool.h"

namespace tandem {

// gu: (n, 2 ffn); a: (n, ffn).
template <class Real>
void swiglu_forward(ThreadPool& pool, const Real* gu, Real* a, int64_t n, int64_t ffn);

// da: (n, ffn); writes dgu: (n, 2 ffn) in the same [g | u] layout.
template <class Real>
void swiglu_backward(ThreadPool& pool, const Real* gu, const Real* da, Real* dgu, int64_t n, int64_t ffn);

}  // namespace tandem

// Causal grouped-query self-attention for training (Vaswani et al. 2017; GQA:
// Ainslie et al. 2023, arXiv 2305.13245), forward and backward, over B
// sequences of T tokens. Query head h reads key/value head h / (heads / kv_heads),
// as in the engine.
//
// Each row of `qkv` is one token's fused projection: n_heads query heads, then
// n_kv_heads key heads, then n_kv_heads value heads, head_dim values each (the
// layout the fused Wqkv GEMM writes). Per (sequence, head) the scores
// S = Q K^T / sqrt(head_dim) and the product P V are OpenBLAS GEMMs on strided
// views of that buffer, so nothing is transposed or copied. The probabilities P
// (B, heads, T, T) are kept for the backward pass (zeros above the diagonal).
//
// Backward, per (sequence, kv head), over the query heads of its group in order:
//   dP = dO V^T;  dV += P^T dO;  dS = P * (dP - rowsum(P * dP)) / sqrt(head_dim)
//   dQ = dS K;    dK += dS^T Q
// A job owns its kv head's dK/dV, so no two threads write the same values and the
// summation order is fixed: results are independent of the thread count.
#pragma once

#include <cstdint>

#include "tandem/base/thread_pool.h"

namespace tandem {

struct AttentionDims {
  int64_t batch = 1, seq = 1, n_heads = 1, n_kv_heads = 1, head_dim = 1;

  int64_t q_width() const { return n_heads * head_dim; }
  int64_t kv_width() const { return n_kv_heads * head_dim; }
  int64_t probs_size() const { return batch * n_heads * seq * seq; }
};

// qkv: (B*T, ld_qkv); probs: probs_size(); out: (B*T, ld_out), heads at h*head_dim.
template <class Real>
void attention_forward(ThreadPool& pool, const AttentionDims& a, const Real* qkv, int64_t ld_qkv, Real* probs,
                       Real* out, int64_t ld_out);

// dout: (B*T, ld_out); writes dqkv (B*T, ld_qkv) in qkv's layout (every value of
// the q, k and v columns). scratch: pool.size() * T * T values.
template <class Real>
void attention_backward(ThreadPool& pool, const AttentionDims& a, const Real* qkv, int64_t ld_qkv, const Real* probs,
                        const Real* dout, int64_t ld_out, Real* dqkv, Real* scratch);

}  // namespace tandem

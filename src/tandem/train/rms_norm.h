// RMSNorm for training (Zhang & Sennrich 2019, arXiv 1910.07467), forward and
// backward, over rows of d values:
//   y = x * r * w,   r = 1 / sqrt(mean(x^2) + eps)
//   dx = r * (dy*w) - x * r^3 / d * sum(dy * w * x),   dw += sum_rows dy * x * r
// The forward pass computes r exactly as the engine does (sum of squares in
// double, r rounded to float), so exported models reproduce the trainer's logits.
#pragma once

#include <cstdint>

#include "tandem/base/thread_pool.h"

namespace tandem {

// x, y: (n, d); w: (d); rstd: (n), kept for the backward pass.
template <class Real>
void rms_norm_forward(ThreadPool& pool, const Real* x, const Real* w, Real* y, Real* rstd, int64_t n, int64_t d,
                      float eps);

// Adds the gradient with respect to x into dx (n, d) — the residual stream's
// gradient, so the skip connection's sum is fused — and adds into dw (d), or
// overwrites dw when accumulate_dw is false (the first micro-batch of a step).
// Columns of dw are split over threads, each summing every row in order: the
// result does not depend on the thread count.
template <class Real>
void rms_norm_backward(ThreadPool& pool, const Real* dy, const Real* x, const Real* w, const Real* rstd, Real* dx,
                       Real* dw, int64_t n, int64_t d, bool accumulate_dw = true);

}  // namespace tandem

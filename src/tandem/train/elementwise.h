// The trainer's float elementwise kernels (SwiGLU, softmax exponentials, sums,
// AdamW), each compiled three times — AVX-512 (x86-64-v4), AVX2+FMA
// (x86-64-v3) and baseline x86-64 — with the best one picked once at load time
// (GCC target_clones), so the library still runs on any x86-64 CPU. The plain
// loops in swiglu.cpp etc. (the double instantiations) are their reference;
// elementwise_test.cpp holds each kernel to it.
//
// sum_f32 adds in a fixed pattern written out in the source (16 interleaved
// partial sums, then a fixed tree), so its result is the same on every path
// and every run: vectorized, yet deterministic.
#pragma once

#include <cstdint>

namespace tandem {

// a = silu(g) * u = g / (1 + exp(-g)) * u
void silu_mul_f32(const float* g, const float* u, float* a, int64_t n);
// From da: du = da * silu(g); dg = da * u * s * (1 + g (1 - s)), s = sigmoid(g).
void silu_mul_backward_f32(const float* g, const float* u, const float* da, float* dg, float* du, int64_t n);
// x = exp(x - shift)
void exp_sub_f32(float* x, int64_t n, float shift);
// x *= s
void scale_f32(float* x, int64_t n, float s);
float max_f32(const float* x, int64_t n);  // n >= 1
float sum_f32(const float* x, int64_t n);

struct AdamWStep {
  float beta1, beta2, eps;
  float step_size;     // lr / (1 - beta1^t)
  float inv_sqrt_bc2;  // 1 / sqrt(1 - beta2^t)
  float keep;          // 1 - lr * weight_decay, or 1 without decay
  float grad_scale;    // clipping factor
};
void adamw_f32(float* p, const float* g, float* m, float* v, int64_t n, const AdamWStep& s);

}  // namespace tandem

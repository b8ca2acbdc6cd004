// Multiversioned float kernels of the trainer (see elementwise.h).
#include "tandem/train/elementwise.h"

#include <cmath>

#include "tandem/train/fast_exp.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TANDEM_MULTIVERSION __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define TANDEM_MULTIVERSION
#endif

namespace tandem {

TANDEM_MULTIVERSION
void silu_mul_f32(const float* g, const float* u, float* a, int64_t n) {
  for (int64_t j = 0; j < n; ++j) a[j] = g[j] / (1.0f + fast_exp(-g[j])) * u[j];
}

TANDEM_MULTIVERSION
void silu_mul_backward_f32(const float* g, const float* u, const float* da, float* dg, float* du, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    const float s = 1.0f / (1.0f + fast_exp(-g[j]));
    du[j] = da[j] * (g[j] * s);
    dg[j] = da[j] * u[j] * s * (1.0f + g[j] * (1.0f - s));
  }
}

TANDEM_MULTIVERSION
void exp_sub_f32(float* x, int64_t n, float shift) {
  for (int64_t j = 0; j < n; ++j) x[j] = fast_exp(x[j] - shift);
}

TANDEM_MULTIVERSION
void scale_f32(float* x, int64_t n, float s) {
  for (int64_t j = 0; j < n; ++j) x[j] *= s;
}

TANDEM_MULTIVERSION
float max_f32(const float* x, int64_t n) {
  float lane[16];
  for (int k = 0; k < 16; ++k) lane[k] = x[0];
  int64_t j = 0;
  for (; j + 16 <= n; j += 16)
    for (int k = 0; k < 16; ++k) lane[k] = lane[k] > x[j + k] ? lane[k] : x[j + k];
  float m = lane[0];
  for (int k = 1; k < 16; ++k) m = m > lane[k] ? m : lane[k];
  for (; j < n; ++j) m = m > x[j] ? m : x[j];
  return m;
}

TANDEM_MULTIVERSION
float sum_f32(const float* x, int64_t n) {
  float lane[16] = {};
  int64_t j = 0;
  for (; j + 16 <= n; j += 16)
    for (int k = 0; k < 16; ++k) lane[k] += x[j + k];
  for (int w = 8; w >= 1; w /= 2)
    for (int k = 0; k < w; ++k) lane[k] += lane[k + w];
  float s = lane[0];
  for (; j < n; ++j) s += x[j];
  return s;
}

TANDEM_MULTIVERSION
void adamw_f32(float* p, const float* g, float* m, float* v, int64_t n, const AdamWStep& s) {
  // Locals, so the stores through p/m/v cannot be taken to change them.
  const float b1 = s.beta1, b2 = s.beta2, c1 = 1.0f - s.beta1, c2 = 1.0f - s.beta2, eps = s.eps;
  const float step_size = s.step_size, inv_sqrt_bc2 = s.inv_sqrt_bc2, keep = s.keep, gs = s.grad_scale;
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i] * gs;
    const float mi = b1 * m[i] + c1 * gi;
    const float vi = b2 * v[i] + c2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * keep - step_size * mi / (std::sqrt(vi) * inv_sqrt_bc2 + eps);
  }
}

}  // namespace tandem

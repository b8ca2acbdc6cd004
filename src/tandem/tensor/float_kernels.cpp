// The scalar references of float_kernels.h.
#include "tandem/tensor/float_kernels.h"

#include <algorithm>
#include <cmath>

namespace tandem {

void attend_scalar(const AttendArgs& a) {
  float* s = a.scores;
  for (int64_t i = 0; i < a.n_q; ++i) {
    const float* q = a.q + i * a.q_stride;
    float mx = -INFINITY;
    for (int64_t j = 0; j < a.n_kv; ++j) {
      float dot = 0;
      for (int64_t d = 0; d < a.hd; ++d) dot += q[d] * a.kt[d * a.kt_stride + j];
      s[j] = dot * a.scale;
      mx = std::max(mx, s[j]);
    }
    float sum = 0;
    for (int64_t j = 0; j < a.n_kv; ++j) {
      s[j] = std::exp(s[j] - mx);
      sum += s[j];
    }
    const float inv = 1.0f / sum;
    float* out = a.out + i * a.out_stride;
    std::fill(out, out + a.hd, 0.0f);
    for (int64_t j = 0; j < a.n_kv; ++j) {
      const float* v = a.v + j * a.v_stride;
      for (int64_t d = 0; d < a.hd; ++d) out[d] += s[j] * v[d];
    }
    for (int64_t d = 0; d < a.hd; ++d) out[d] *= inv;
  }
}

void swiglu_scalar(const float* g, const float* u, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}

}  // namespace tandem

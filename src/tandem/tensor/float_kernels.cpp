// The scalar references of float_kernels.h.
#include "tandem/tensor/float_kernels.h"

#include <algorithm>
#include <cmath>

#include "tandem/tensor/float16.h"

namespace tandem {

void attend_scalar(const AttendArgs& a) {
  auto key = [&](int64_t d, int64_t j) {
    const int64_t at = (j / kKeyBlock) * a.kt_stride + d * kKeyBlock + j % kKeyBlock;
    return a.kt16 ? fp16_to_fp32(a.kt16[at]) : a.kt[at];
  };
  auto value = [&](int64_t j, int64_t d) {
    const int64_t at = j * a.v_stride + d;
    return a.v16 ? fp16_to_fp32(a.v16[at]) : a.v[at];
  };
  float* s = a.scores;
  for (int64_t i = 0; i < a.n_q; ++i) {
    const float* q = a.q + i * a.q_stride;
    float mx = -INFINITY;
    for (int64_t j = 0; j < a.n_kv; ++j) {
      float dot = 0;
      for (int64_t d = 0; d < a.hd; ++d) dot += q[d] * key(d, j);
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
    for (int64_t j = 0; j < a.n_kv; ++j)
      for (int64_t d = 0; d < a.hd; ++d) out[d] += s[j] * value(j, d);
    for (int64_t d = 0; d < a.hd; ++d) out[d] *= inv;
  }
}

void swiglu_scalar(const float* g, const float* u, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}

void rms_norm_scalar(float* x, const float* add, const float* w, float* y, int64_t n, float eps) {
  if (add)
    for (int64_t i = 0; i < n; ++i) x[i] += add[i];
  double ss = 0;
  for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
  const float scale = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(n) + eps));
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale * w[i];
}

double log_sum_exp_scalar(const float* x, int64_t n, float* max) {
  if (n <= 0) return -INFINITY;
  float mx = x[0];
  for (int64_t i = 1; i < n; ++i) mx = std::max(mx, x[i]);
  if (max) *max = mx;
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(x[i] - mx));
  return static_cast<double>(mx) + std::log(sum);
}

void rope_scalar(float* v, int64_t n_heads, int64_t hd, int64_t n_rot, const float* cs, bool halves) {
  const int64_t half = n_rot / 2;
  for (int64_t h = 0; h < n_heads; ++h) {
    float* p = v + h * hd;
    for (int64_t i = 0; i < half; ++i) {
      const float c = cs[2 * i], s = cs[2 * i + 1];
      const int64_t a = halves ? i : 2 * i, b = halves ? i + half : 2 * i + 1;
      const float x0 = p[a], x1 = p[b];
      p[a] = x0 * c - x1 * s;
      p[b] = x0 * s + x1 * c;
    }
  }
}

bool column_max_scalar(const float* x, int64_t n, int64_t w, float* out) {
  bool finite = true;
  for (int64_t j = 0; j < w; ++j) {
    float m = x[j];
    for (int64_t i = j; i < n; i += w) {
      finite = finite && std::isfinite(x[i]);
      m = std::max(m, x[i]);
    }
    out[j] = m;
  }
  return finite;
}

int64_t indices_at_least_scalar(const float* x, int64_t n, float bound, int32_t* out) {
  int64_t c = 0;
  for (int64_t i = 0; i < n; ++i)
    if (x[i] >= bound) out[c++] = static_cast<int32_t>(i);
  return c;
}

}  // namespace tandem

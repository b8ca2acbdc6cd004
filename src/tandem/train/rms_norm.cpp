// RMSNorm forward and backward (see rms_norm.h for the formulas).
#include "tandem/train/rms_norm.h"

#include <algorithm>
#include <cmath>

namespace tandem {

template <class Real>
void rms_norm_forward(ThreadPool& pool, const Real* x, const Real* w, Real* y, Real* rstd, int64_t n, int64_t d,
                      float eps) {
  pool.parallel_for(n, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const Real* xr = x + i * d;
      Real* yr = y + i * d;
      double ss = 0;
      for (int64_t j = 0; j < d; ++j) ss += static_cast<double>(xr[j]) * static_cast<double>(xr[j]);
      const double r64 = 1.0 / std::sqrt(ss / static_cast<double>(d) + static_cast<double>(eps));
      const Real r = static_cast<Real>(r64);  // float: rounded as the engine rounds it
      rstd[i] = r;
      for (int64_t j = 0; j < d; ++j) yr[j] = xr[j] * r * w[j];
    }
  });
}

template <class Real>
void rms_norm_backward(ThreadPool& pool, const Real* dy, const Real* x, const Real* w, const Real* rstd, Real* dx,
                       Real* dw, int64_t n, int64_t d, bool accumulate_dw) {
  const Real inv_d = Real(1) / static_cast<Real>(d);
  pool.parallel_for(n, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const Real* dyr = dy + i * d;
      const Real* xr = x + i * d;
      Real* dxr = dx + i * d;
      const Real r = rstd[i];
      Real dot = 0;  // sum(dy * w * x)
      for (int64_t j = 0; j < d; ++j) dot += dyr[j] * w[j] * xr[j];
      const Real c = dot * r * r * r * inv_d;
      for (int64_t j = 0; j < d; ++j) dxr[j] += r * dyr[j] * w[j] - c * xr[j];
    }
  });
  pool.parallel_for(d, [&](int64_t b, int64_t e) {
    if (!accumulate_dw) std::fill(dw + b, dw + e, Real(0));
    for (int64_t i = 0; i < n; ++i) {
      const Real* dyr = dy + i * d;
      const Real* xr = x + i * d;
      const Real r = rstd[i];
      for (int64_t j = b; j < e; ++j) dw[j] += dyr[j] * xr[j] * r;
    }
  });
}

template void rms_norm_forward<float>(ThreadPool&, const float*, const float*, float*, float*, int64_t, int64_t, float);
template void rms_norm_forward<double>(ThreadPool&, const double*, const double*, double*, double*, int64_t, int64_t,
                                       float);
template void rms_norm_backward<float>(ThreadPool&, const float*, const float*, const float*, const float*, float*,
                                       float*, int64_t, int64_t, bool);
template void rms_norm_backward<double>(ThreadPool&, const double*, const double*, const double*, const double*,
                                        double*, double*, int64_t, int64_t, bool);

}  // namespace tandem

// SwiGLU forward and backward (see swiglu.h).
#include "tandem/train/swiglu.h"

#include <type_traits>

#include "tandem/train/elementwise.h"
#include "tandem/train/fast_exp.h"

namespace tandem {

template <class Real>
void swiglu_forward(ThreadPool& pool, const Real* gu, Real* a, int64_t n, int64_t ffn) {
  pool.parallel_for(n, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const Real* g = gu + i * 2 * ffn;
      const Real* u = g + ffn;
      Real* ar = a + i * ffn;
      // The engine's silu: g / (1 + exp(-g)), then times u.
      if constexpr (std::is_same_v<Real, float>) {
        silu_mul_f32(g, u, ar, ffn);
      } else {
        for (int64_t j = 0; j < ffn; ++j) ar[j] = g[j] / (Real(1) + fast_exp(-g[j])) * u[j];
      }
    }
  });
}

template <class Real>
void swiglu_backward(ThreadPool& pool, const Real* gu, const Real* da, Real* dgu, int64_t n, int64_t ffn) {
  pool.parallel_for(n, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const Real* g = gu + i * 2 * ffn;
      const Real* u = g + ffn;
      const Real* dar = da + i * ffn;
      Real* dg = dgu + i * 2 * ffn;
      Real* du = dg + ffn;
      if constexpr (std::is_same_v<Real, float>) {
        silu_mul_backward_f32(g, u, dar, dg, du, ffn);
        continue;
      }
      for (int64_t j = 0; j < ffn; ++j) {
        const Real s = Real(1) / (Real(1) + fast_exp(-g[j]));
        const Real silu = g[j] * s;
        du[j] = dar[j] * silu;
        dg[j] = dar[j] * u[j] * s * (Real(1) + g[j] * (Real(1) - s));
      }
    }
  });
}

template void swiglu_forward<float>(ThreadPool&, const float*, float*, int64_t, int64_t);
template void swiglu_forward<double>(ThreadPool&, const double*, double*, int64_t, int64_t);
template void swiglu_backward<float>(ThreadPool&, const float*, const float*, float*, int64_t, int64_t);
template void swiglu_backward<double>(ThreadPool&, const double*, const double*, double*, int64_t, int64_t);

}  // namespace tandem

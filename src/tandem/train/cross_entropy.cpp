// Fused softmax cross-entropy and its gradient (see cross_entropy.h).
#include "tandem/train/cross_entropy.h"

#include <algorithm>
#include <cmath>

#include <type_traits>

#include "tandem/train/elementwise.h"
#include "tandem/train/fast_exp.h"

namespace tandem {

template <class Real>
double cross_entropy(ThreadPool& pool, Real* logits, const int32_t* targets, int64_t n, int64_t vocab,
                     double grad_scale, bool write_grad, double* row_loss) {
  pool.parallel_for(n, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      Real* z = logits + i * vocab;
      const int32_t t = targets[i];
      if (t < 0 || t >= vocab) {
        row_loss[i] = 0;
        if (write_grad) std::fill(z, z + vocab, Real(0));
        continue;
      }
      const Real zt = z[t];
      // z becomes the unnormalized probabilities, then their sum.
      double sum = 0;
      Real mx;
      if constexpr (std::is_same_v<Real, float>) {
        mx = max_f32(z, vocab);
        exp_sub_f32(z, vocab, mx);
        sum = sum_f32(z, vocab);
      } else {
        mx = *std::max_element(z, z + vocab);
        for (int64_t j = 0; j < vocab; ++j) z[j] = fast_exp(z[j] - mx);
        for (int64_t j = 0; j < vocab; ++j) sum += static_cast<double>(z[j]);
      }
      row_loss[i] = std::log(sum) + static_cast<double>(mx) - static_cast<double>(zt);
      if (write_grad) {
        const Real s = static_cast<Real>(grad_scale / sum);
        if constexpr (std::is_same_v<Real, float>) {
          scale_f32(z, vocab, s);
        } else {
          for (int64_t j = 0; j < vocab; ++j) z[j] *= s;
        }
        z[t] -= static_cast<Real>(grad_scale);
      }
    }
  });
  double total = 0;
  for (int64_t i = 0; i < n; ++i) total += row_loss[i];
  return total;
}

template double cross_entropy<float>(ThreadPool&, float*, const int32_t*, int64_t, int64_t, double, bool, double*);
template double cross_entropy<double>(ThreadPool&, double*, const int32_t*, int64_t, int64_t, double, bool, double*);

}  // namespace tandem

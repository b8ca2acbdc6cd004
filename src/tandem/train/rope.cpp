// RoPE tables and the NORM-style rotation (see rope.h).
#include "tandem/train/rope.h"

#include <cmath>

namespace tandem {

RopeTable::RopeTable(int64_t n_pos, int64_t head_dim, float base) : n_pos_(n_pos), half_(head_dim / 2) {
  // The engine's inverse frequencies: double pow, rounded to float; theta = pos * f in float.
  std::vector<float> inv_freq(static_cast<size_t>(half_));
  for (int64_t i = 0; i < half_; ++i)
    inv_freq[static_cast<size_t>(i)] = static_cast<float>(
        std::pow(static_cast<double>(base), -2.0 * static_cast<double>(i) / static_cast<double>(head_dim)));
  cos_.resize(static_cast<size_t>(n_pos * half_));
  sin_.resize(cos_.size());
  for (int64_t p = 0; p < n_pos; ++p)
    for (int64_t i = 0; i < half_; ++i) {
      const float theta = static_cast<float>(p) * inv_freq[static_cast<size_t>(i)];
      cos_[static_cast<size_t>(p * half_ + i)] = std::cos(theta);
      sin_[static_cast<size_t>(p * half_ + i)] = std::sin(theta);
    }
}

template <class Real>
void rope_apply(ThreadPool& pool, const RopeTable& table, Real* x, int64_t ld, int64_t n_rows, int64_t seq_len,
                int64_t n_heads, int64_t head_dim, bool inverse) {
  const int64_t half = head_dim / 2;
  pool.parallel_for(n_rows, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const float* c = table.cos(r % seq_len);
      const float* s = table.sin(r % seq_len);
      Real* row = x + r * ld;
      for (int64_t h = 0; h < n_heads; ++h) {
        Real* v = row + h * head_dim;
        for (int64_t i = 0; i < half; ++i) {
          const Real ci = c[i], si = inverse ? -s[i] : s[i];
          const Real x0 = v[2 * i], x1 = v[2 * i + 1];
          v[2 * i] = x0 * ci - x1 * si;
          v[2 * i + 1] = x0 * si + x1 * ci;
        }
      }
    }
  });
}

template void rope_apply<float>(ThreadPool&, const RopeTable&, float*, int64_t, int64_t, int64_t, int64_t, int64_t,
                                bool);
template void rope_apply<double>(ThreadPool&, const RopeTable&, double*, int64_t, int64_t, int64_t, int64_t, int64_t,
                                 bool);

}  // namespace tandem

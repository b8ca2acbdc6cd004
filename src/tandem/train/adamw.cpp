// AdamW update and the global gradient norm (see adamw.h).
#include "tandem/train/adamw.h"

#include <algorithm>
#include <cmath>

#include "tandem/train/elementwise.h"

namespace tandem {
namespace {
constexpr int64_t kNormChunk = 1 << 16;  // fixed partial sums: independent of the thread count
}

Status AdamWConfig::validate() const {
  if (!(beta1 >= 0.0f && beta1 < 1.0f) || !(beta2 >= 0.0f && beta2 < 1.0f))
    return make_error("adamw: betas (", beta1, ", ", beta2, ") must be in [0, 1)");
  if (!(eps > 0.0f)) return make_error("adamw: eps ", eps, " must be positive");
  if (!(weight_decay >= 0.0f)) return make_error("adamw: weight decay ", weight_decay, " must be >= 0");
  return ok_status();
}

double global_grad_norm(ThreadPool& pool, std::span<const float> g) {
  const int64_t n = static_cast<int64_t>(g.size());
  const int64_t n_chunks = (n + kNormChunk - 1) / kNormChunk;
  std::vector<double> partial(static_cast<size_t>(n_chunks));
  pool.parallel_for(n_chunks, [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) {
      const int64_t lo = c * kNormChunk, hi = std::min(n, lo + kNormChunk);
      double s = 0;
      for (int64_t i = lo; i < hi; ++i) s += static_cast<double>(g[i]) * static_cast<double>(g[i]);
      partial[static_cast<size_t>(c)] = s;
    }
  });
  double s = 0;
  for (double p : partial) s += p;
  return std::sqrt(s);
}

AdamW::AdamW(const ParamLayout& layout, AdamWConfig config)
    : config_(config), m_(static_cast<size_t>(layout.total())), v_(static_cast<size_t>(layout.total())) {
  for (const ParamTensor& t : layout.tensors()) segments_.push_back({t.offset, t.offset + t.size(), t.decay});
}

void AdamW::update(ThreadPool& pool, std::span<float> params, std::span<const float> grads, float lr,
                   float grad_scale) {
  ++step_;
  const float b1 = config_.beta1, b2 = config_.beta2;
  const float bc1 = static_cast<float>(1.0 - std::pow(static_cast<double>(b1), static_cast<double>(step_)));
  const float bc2 = static_cast<float>(1.0 - std::pow(static_cast<double>(b2), static_cast<double>(step_)));
  const float step_size = lr / bc1, inv_sqrt_bc2 = 1.0f / std::sqrt(bc2);
  const float decay_factor = 1.0f - lr * config_.weight_decay;
  AdamWStep st{b1, b2, config_.eps, step_size, inv_sqrt_bc2, 1.0f, grad_scale};
  pool.parallel_for(static_cast<int64_t>(m_.size()), [&](int64_t b, int64_t e) {
    for (const Segment& s : segments_) {
      const int64_t lo = std::max(b, s.begin), hi = std::min(e, s.end);
      if (lo >= hi) continue;
      AdamWStep ss = st;
      ss.keep = s.decay ? decay_factor : 1.0f;
      adamw_f32(params.data() + lo, grads.data() + lo, m_.data() + lo, v_.data() + lo, hi - lo, ss);
    }
  });
}

Status AdamW::restore(std::span<const float> m, std::span<const float> v, int64_t step) {
  if (m.size() != m_.size() || v.size() != v_.size())
    return make_error("adamw: restoring ", m.size(), "/", v.size(), " moments into an optimizer of ", m_.size(),
                      " parameters");
  std::copy(m.begin(), m.end(), m_.begin());
  std::copy(v.begin(), v.end(), v_.begin());
  step_ = step;
  return ok_status();
}

}  // namespace tandem

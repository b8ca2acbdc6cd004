// Fixed or adaptive draft length (the cost model of arXiv 2211.17192).
#include "tandem/collab/draft_length.h"

#include <algorithm>
#include <cmath>

namespace tandem {

Result<DraftLength> DraftLength::create(DraftLengthParams p) {
  if (p.max < 1) return make_error("draft length: max is ", p.max, " (expected >= 1)");
  if (p.min < 0 || p.min > p.max) return make_error("draft length: min is ", p.min, " (expected 0..max = ", p.max, ")");
  if (!(p.cost_ratio >= 0.0) || !std::isfinite(p.cost_ratio))
    return make_error("draft length: cost_ratio is ", p.cost_ratio, " (expected a finite value >= 0)");
  if (!(p.decay >= 0.0 && p.decay < 1.0)) return make_error("draft length: decay is ", p.decay, " (expected 0 <= decay < 1)");
  return DraftLength(p);
}

DraftLength::DraftLength(DraftLengthParams p) : params_(p) { choose(); }

double DraftLength::expected_speedup(double a, int32_t k, double cost_ratio) {
  // (1 - a^(K+1)) / (1 - a) is 1 + a + ... + a^K; summed directly it has no
  // 0/0 at a = 1.
  double tokens = 0.0, term = 1.0;
  for (int32_t i = 0; i <= k; ++i, term *= a) tokens += term;
  return tokens / (k * cost_ratio + 1.0);
}

void DraftLength::update(int32_t drafted, int32_t accepted) {
  if (drafted <= 0) return;
  accepted = std::clamp(accepted, 0, drafted);
  successes_ = params_.decay * successes_ + accepted;
  trials_ = params_.decay * trials_ + accepted + (accepted < drafted ? 1 : 0);
  choose();
}

void DraftLength::choose() {
  if (!params_.adaptive) {
    k_ = params_.max;
    return;
  }
  const double a = acceptance();
  int32_t best = std::max(params_.min, 1);
  double best_f = expected_speedup(a, best, params_.cost_ratio);
  for (int32_t k = best + 1; k <= params_.max; ++k) {
    const double f = expected_speedup(a, k, params_.cost_ratio);
    if (f > best_f) best = k, best_f = f;
  }
  k_ = best;
}

}  // namespace tandem

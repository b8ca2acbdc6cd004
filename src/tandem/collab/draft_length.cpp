// Fixed or adaptive draft length (the cost model of arXiv 2211.17192).
#include "tandem/collab/draft_length.h"

#include <algorithm>
#include <cmath>

namespace tandem {
namespace {

// Rounds with drafts before K = 0 may be chosen.
constexpr int64_t kMinDraftRounds = 8;

// Expected tokens of a round with k drafts: (1 - a^(K+1)) / (1 - a) is
// 1 + a + ... + a^K; summed directly it has no 0/0 at a = 1.
double expected_tokens(double a, int32_t k) {
  double tokens = 0.0, term = 1.0;
  for (int32_t i = 0; i <= k; ++i, term *= a) tokens += term;
  return tokens;
}

}  // namespace

Result<DraftLength> DraftLength::create(DraftLengthParams p) {
  if (p.max < 1) return make_error("draft length: max is ", p.max, " (expected >= 1)");
  if (p.min < 0 || p.min > p.max) return make_error("draft length: min is ", p.min, " (expected 0..max = ", p.max, ")");
  if (!(p.cost_ratio >= 0.0) || !std::isfinite(p.cost_ratio))
    return make_error("draft length: cost_ratio is ", p.cost_ratio, " (expected a finite value >= 0)");
  if (!(p.decay >= 0.0 && p.decay < 1.0)) return make_error("draft length: decay is ", p.decay, " (expected 0 <= decay < 1)");
  if (!(p.cost_decay >= 0.0 && p.cost_decay < 1.0))
    return make_error("draft length: cost_decay is ", p.cost_decay, " (expected 0 <= cost_decay < 1)");
  if (p.probe_interval < 1) return make_error("draft length: probe_interval is ", p.probe_interval, " (expected >= 1)");
  return DraftLength(p);
}

DraftLength::DraftLength(DraftLengthParams p) : params_(p), interval_(p.probe_interval) { choose(); }

double DraftLength::expected_speedup(double a, int32_t k, double cost_ratio) {
  return expected_tokens(a, k) / (k * cost_ratio + 1.0);
}

void DraftLength::update(int32_t drafted, int32_t accepted) {
  probing_ = false;
  if (drafted <= 0) {
    if (k_ == 0) ++idle_;
    choose();
    return;
  }
  idle_ = 0;
  ++draft_rounds_;
  accepted = std::clamp(accepted, 0, drafted);
  successes_ = params_.decay * successes_ + accepted;
  trials_ = params_.decay * trials_ + accepted + (accepted < drafted ? 1 : 0);
  choose();
}

void DraftLength::observe(int32_t drafted, double draft_seconds, int64_t verified, double verify_seconds) {
  if (!params_.measure_costs) return;
  const double g = params_.cost_decay;
  if (drafted > 0 && !probing_ && draft_seconds >= 0 && std::isfinite(draft_seconds)) {
    draft_seconds_ = g * draft_seconds_ + draft_seconds;
    draft_tokens_ = g * draft_tokens_ + drafted;
  }
  if (verified > 0 && verify_seconds >= 0 && std::isfinite(verify_seconds)) {
    const double n = static_cast<double>(verified);
    w_ = g * w_ + 1;
    wn_ = g * wn_ + n;
    wnn_ = g * wnn_ + n * n;
    wy_ = g * wy_ + verify_seconds;
    wny_ = g * wny_ + n * verify_seconds;
    n_lo_ = n_lo_ == 0 ? verified : std::min(n_lo_, verified);
    n_hi_ = std::max(n_hi_, verified);
    if (drafted == 0 && verified == 1) {
      plain_s_ = g * plain_s_ + verify_seconds;
      plain_w_ = g * plain_w_ + 1;
    }
  }
}

void DraftLength::fit_verify(double& v0, double& v1) const {
  v0 = v1 = 0;
  if (w_ <= 0) return;
  // Weighted least squares; with one batch size so far (or a degenerate
  // spread) the line is flat through the mean.
  const double det = w_ * wnn_ - wn_ * wn_;
  if (n_hi_ > n_lo_ && det > 1e-9 * w_ * wnn_) v1 = std::max(0.0, (w_ * wny_ - wn_ * wy_) / det);
  v0 = (wy_ - v1 * wn_) / w_;
}

double DraftLength::verify_seconds(int64_t n) const {
  double v0, v1;
  fit_verify(v0, v1);
  return std::max(0.0, v0 + v1 * static_cast<double>(n));
}

double DraftLength::value(double a, int32_t k) const {
  if (!params_.measure_costs) return expected_speedup(a, k, params_.cost_ratio);
  // Plain decoding at its own measured time where there is one: the line
  // through the verifications can put V(1) far off.
  if (k == 0 && plain_w_ > 0 && plain_s_ > 0) return plain_w_ / plain_s_;
  const double tokens = expected_tokens(a, k);
  const double cost = k * draft_seconds_per_token() + verify_seconds(k + 1);
  return cost > 0 ? tokens / cost : tokens;
}

void DraftLength::choose() {
  if (!params_.adaptive) {
    k_ = params_.max;
    return;
  }
  const double a = acceptance();
  const int32_t lo = std::max(params_.min, 1);  // the shortest real draft
  if (params_.measure_costs) {
    // Explore both ends before trusting the line: the shortest K, then the longest.
    if (n_hi_ == 0) {
      k_ = lo;
      return;
    }
    if (n_hi_ == n_lo_) {
      k_ = n_hi_ <= lo + 1 ? params_.max : lo;
      return;
    }
  }
  int32_t best = lo;
  double best_f = value(a, lo);
  for (int32_t k = lo + 1; k <= params_.max; ++k) {
    const double f = value(a, k);
    if (f > best_f) best = k, best_f = f;
  }
  // Plain decoding only on evidence: a couple of unlucky first rounds must not
  // stop drafting, since rounds without drafts teach the estimate little.
  if (params_.min == 0 && draft_rounds_ >= kMinDraftRounds && value(a, 0) > best_f) {
    // Measured costs: time one plain round before trusting the line's V(1).
    if (params_.measure_costs && plain_w_ == 0) {
      k_ = 0;
      return;
    }
    if (idle_ < interval_) {
      k_ = 0;
      return;
    }
    // Probe; should it not bring drafting back, the next probe waits twice as long.
    idle_ = 0;
    interval_ = std::min(2 * interval_, 16 * params_.probe_interval);
    probing_ = true;
  } else {
    interval_ = params_.probe_interval;
  }
  k_ = best;
}

}  // namespace tandem

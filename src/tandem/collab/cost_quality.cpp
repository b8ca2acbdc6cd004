// Threshold sweeps over measured cascade outcomes.
#include "tandem/collab/cost_quality.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace tandem {

std::vector<SweepPoint> sweep_thresholds(const std::vector<RequestOutcome>& outcomes,
                                         const std::vector<double>& thresholds) {
  std::vector<SweepPoint> out;
  for (double t : thresholds) {
    SweepPoint p{.threshold = t, .large_share = 0, .large_tokens = 0, .quality = std::nullopt};
    double q = 0;
    int64_t n_q = 0, n_large = 0;
    for (const RequestOutcome& o : outcomes) {
      const bool esc = o.score < t;
      p.large_tokens += o.fixed_large_tokens;
      if (esc) {
        ++n_large;
        p.large_tokens += o.large_tokens;
      }
      const auto& qual = esc ? o.large_quality : o.small_quality;
      if (qual) {
        q += *qual;
        ++n_q;
      }
    }
    p.large_share = outcomes.empty() ? 0 : static_cast<double>(n_large) / static_cast<double>(outcomes.size());
    if (n_q > 0) p.quality = q / static_cast<double>(n_q);
    out.push_back(p);
  }
  return out;
}

std::vector<double> quantile_thresholds(const std::vector<RequestOutcome>& outcomes, int n_points) {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> s;
  for (const RequestOutcome& o : outcomes) s.push_back(o.score);
  std::sort(s.begin(), s.end());
  const size_t n = s.size();
  std::vector<double> t;
  if (n == 0 || n_points < 2) return {-inf, inf};
  for (int i = 0; i < n_points; ++i) {
    const size_t k = static_cast<size_t>(std::lround(static_cast<double>(i) * static_cast<double>(n) / (n_points - 1)));
    // k requests (the k least confident) escalate when the threshold lies in (s[k-1], s[k]].
    double v = k == 0 ? -inf : k >= n ? inf : 0.5 * (s[k - 1] + s[k]);
    if (k > 0 && k < n && s[k - 1] == s[k]) continue;  // a tie: this share is not reachable
    if (t.empty() || t.back() != v) t.push_back(v);
  }
  return t;
}

std::string sweep_table(const std::vector<SweepPoint>& points, std::string_view threshold_label, bool negate) {
  char buf[160];
  std::string out;
  std::snprintf(buf, sizeof buf, "%-16.*s %12s %14s %10s\n", static_cast<int>(threshold_label.size()),
                threshold_label.data(), "large share", "large tokens", "quality");
  out += buf;
  for (const SweepPoint& p : points) {
    const double t = negate ? -p.threshold : p.threshold;
    char th[32];
    if (std::isinf(t))
      std::snprintf(th, sizeof th, "%s", t < 0 ? "-inf" : "inf");
    else
      std::snprintf(th, sizeof th, "%.4g", t);
    char q[32];
    if (p.quality)
      std::snprintf(q, sizeof q, "%.4f", *p.quality);
    else
      std::snprintf(q, sizeof q, "-");
    std::snprintf(buf, sizeof buf, "%-16s %11.1f%% %14lld %10s\n", th, 100.0 * p.large_share,
                  static_cast<long long>(p.large_tokens), q);
    out += buf;
  }
  return out;
}

}  // namespace tandem

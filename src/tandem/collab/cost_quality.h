// Cost against quality across cascade thresholds: given each request's small
// confidence, the large model's cost, and (when references exist) the quality
// of both answers, what share escalates, what the large model costs and what
// quality results at each threshold. Pure arithmetic over outcomes already
// measured, so one run of both models yields the whole curve.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tandem {

struct RequestOutcome {
  double score = 0;          // small confidence (escalate when < threshold)
  int64_t large_tokens = 0;  // what the large model costs if asked
  std::optional<double> small_quality, large_quality;  // against the reference, when there is one
  int64_t fixed_large_tokens = 0;  // large-model cost paid at any threshold (a large verifier's read)
};

struct SweepPoint {
  double threshold = 0;  // may be -inf (never escalate) or +inf (always)
  double large_share = 0;
  int64_t large_tokens = 0;
  std::optional<double> quality;  // mean over requests with a reference
};

// One point per threshold, in the order given.
std::vector<SweepPoint> sweep_thresholds(const std::vector<RequestOutcome>& outcomes,
                                         const std::vector<double>& thresholds);

// Thresholds that escalate 0, 1/(n_points-1), ..., all of the requests: each
// halfway between neighbouring sorted scores (so ties do not split), -inf for
// none and +inf for all. Fewer points when scores tie.
std::vector<double> quantile_thresholds(const std::vector<RequestOutcome>& outcomes, int n_points = 11);

// The sweep as a text table (threshold, large share, large tokens, quality).
// With negate, thresholds print negated: a router escalates when its score is
// >= t, which callers sweep as -score < -t.
std::string sweep_table(const std::vector<SweepPoint>& points, std::string_view threshold_label = "threshold",
                        bool negate = false);

}  // namespace tandem

// How many tokens to draft each round of speculative decoding: a fixed K, or K
// adapted to the running acceptance rate.
//
// The adaptive rule is the cost model of Leviathan et al. (arXiv 2211.17192,
// Section 3.4-3.5): if each draft token is accepted independently with
// probability a, a round with K drafts yields (1 - a^(K+1)) / (1 - a) tokens on
// average and costs K*c + 1, where c is one draft forward pass relative to one
// target verification pass (about the ratio of their weight bytes on a
// memory-bound machine). Each round picks the K in [max(min, 1), max] that
// maximizes tokens per cost,
//
//     f(K) = (1 - a^(K+1)) / ((1 - a) (K c + 1)),
//
// with a estimated from the rounds so far. The estimate counts, per round with
// n of K drafts accepted, n successes out of n + (n < K) trials (a rejection is
// one failed trial; drafts after it were never tried), with exponential decay
// (a window of about 1 / (1 - decay) rounds) so K follows the text as it
// changes, and a prior of one success in two trials. K never drops below 1 in
// adaptive mode: a round without drafts would teach the estimate nothing.
// With c = 0 (prompt lookup: guesses are free) the rule always picks max.
#pragma once

#include <cstdint>

#include "tandem/base/result.h"

namespace tandem {

struct DraftLengthParams {
  int32_t max = 8;         // K, or the largest K when adaptive (>= 1)
  int32_t min = 0;         // the smallest K when adaptive (<= max)
  bool adaptive = false;   // false: always max
  double cost_ratio = 0.1; // c above: one draft pass / one target pass (>= 0)
  double decay = 0.9;      // weight of the past per round in the acceptance estimate, in [0, 1)
};

class DraftLength {
 public:
  // Errors name the bad field and its range.
  static Result<DraftLength> create(DraftLengthParams params);

  // K for the next round.
  int32_t next() const { return k_; }
  // Records a round: `drafted` tokens proposed, the first `accepted` of them kept.
  void update(int32_t drafted, int32_t accepted);
  // The running estimate of the per-token acceptance probability.
  double acceptance() const { return trials_ > 0 ? successes_ / trials_ : 0.0; }
  const DraftLengthParams& params() const { return params_; }

  // f(K) above: expected tokens per unit of target cost.
  static double expected_speedup(double a, int32_t k, double cost_ratio);

 private:
  explicit DraftLength(DraftLengthParams p);
  void choose();

  DraftLengthParams params_;
  double successes_ = 1.0, trials_ = 2.0;  // the prior: a = 0.5
  int32_t k_ = 0;
};

}  // namespace tandem

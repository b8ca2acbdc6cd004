// How many tokens to draft each round of speculative decoding: a fixed K, or K
// adapted to the running acceptance rate.
//
// The adaptive rule is the cost model of Leviathan et al. (arXiv 2211.17192,
// Section 3.4-3.5): if each draft token is accepted independently with
// probability a, a round with K drafts yields (1 - a^(K+1)) / (1 - a) tokens on
// average and costs K*c + 1, where c is one draft forward pass relative to one
// target verification pass (about the ratio of their weight bytes on a
// memory-bound machine). Each round picks the K in [min, max] that maximizes
// tokens per cost,
//
//     f(K) = (1 - a^(K+1)) / ((1 - a) (K c + 1)),
//
// with a estimated from the rounds so far. The estimate counts, per round with
// n of K drafts accepted, n successes out of n + (n < K) trials (a rejection is
// one failed trial; drafts after it were never tried), with exponential decay
// (a window of about 1 / (1 - decay) rounds) so K follows the text as it
// changes, and a prior of one success in two trials. With c = 0 (prompt
// lookup: guesses are free) the rule always picks max.
//
// K = 0 is plain decoding (f(0) = 1): chosen, with min = 0, where drafting
// costs more than it saves, so that an adaptive run is not slower than the
// target alone; only after 8 rounds with drafts, so that a couple of unlucky
// first rounds do not stop drafting. A round without drafts teaches the
// acceptance estimate nothing, so after probe_interval such rounds one round
// drafts the best K >= 1 again (a probe); where the text turns predictable,
// drafting resumes. A probe costs more than its drafts (a draft model first
// catches up on the rounds it sat out), so each probe that does not bring
// drafting back doubles the interval, up to 16 times probe_interval.
//
// With measure_costs the costs come from the rounds' own timings instead of c
// and a flat verification: the draft's seconds per drafted token d, and a
// straight line V(n) = v0 + v1 n through the verification seconds of n-token
// batches (exponentially weighted least squares over the rounds). A round then
// costs K d + V(K + 1). That matters where verifying is not free: on a target
// that stays in cache, V(7) measured 2.9 V(1), and the flat model's K cost the
// house pair speed (0.82x). Until two batch sizes have been timed the rule
// explores: the shortest K first, then the longest, so the line is fitted
// from both ends. Plain decoding is judged on the time of plain rounds, not on
// the line's V(1): verifications right after a draft run slower than a plain
// pass, and one slow early round at the longest K steepens the line, so its
// V(1) came out far too low (on the house pair the rule then decoded plainly
// from its 8th draft round on: 0.86-0.90x over 24 prompts where K = 3 gave
// 1.08-1.14x). Before the line's V(1) may stop drafting, one plain round is
// timed. A probe's draft time is left out of d: it includes catching a draft
// model up on the rounds it sat out. Timings vary from run to run, so
// under sampling a seed then fixes the output distribution but not the exact
// text.
#pragma once

#include <cstdint>

#include "tandem/base/result.h"

namespace tandem {

struct DraftLengthParams {
  int32_t max = 8;         // K, or the largest K when adaptive (>= 1)
  int32_t min = 0;         // the smallest K when adaptive (<= max; 0 lets it stop drafting)
  bool adaptive = false;   // false: always max
  double cost_ratio = 0.1; // c above: one draft pass / one target pass (>= 0)
  double decay = 0.9;      // weight of the past per round in the acceptance estimate, in [0, 1)
  bool measure_costs = false;  // adaptive: costs from observe()'s timings instead of cost_ratio
  double cost_decay = 0.98;    // weight of the past per round in the cost fit, in [0, 1)
  int32_t probe_interval = 16; // adaptive at K = 0: draft again after this many plain rounds (>= 1)
};

class DraftLength {
 public:
  // Errors name the bad field and its range.
  static Result<DraftLength> create(DraftLengthParams params);

  // K for the next round.
  int32_t next() const { return k_; }
  // Records a round: `drafted` tokens proposed, the first `accepted` of them
  // kept. Call it for rounds without drafts too (drafted = 0): they count
  // towards the next probe.
  void update(int32_t drafted, int32_t accepted);
  // Records a round's timings (before its update()): `drafted` tokens took
  // draft_seconds to propose; the target evaluated `verified` tokens in one
  // batch in verify_seconds. Used with measure_costs only.
  void observe(int32_t drafted, double draft_seconds, int64_t verified, double verify_seconds);
  // The fitted costs in seconds (0 until observed): per drafted token, and of
  // an n-token verification.
  double draft_seconds_per_token() const { return draft_tokens_ > 0 ? draft_seconds_ / draft_tokens_ : 0.0; }
  double verify_seconds(int64_t n) const;
  // The running estimate of the per-token acceptance probability.
  double acceptance() const { return trials_ > 0 ? successes_ / trials_ : 0.0; }
  const DraftLengthParams& params() const { return params_; }

  // f(K) above: expected tokens per unit of target cost (1 at K = 0).
  static double expected_speedup(double a, int32_t k, double cost_ratio);

 private:
  explicit DraftLength(DraftLengthParams p);
  void choose();
  // Expected tokens per second (measured costs) or per unit of cost (f) at K = k.
  double value(double a, int32_t k) const;

  void fit_verify(double& v0, double& v1) const;

  DraftLengthParams params_;
  double successes_ = 1.0, trials_ = 2.0;  // the prior: a = 0.5
  int32_t k_ = 0;
  int64_t draft_rounds_ = 0;  // rounds with drafts so far
  int32_t idle_ = 0;      // rounds in a row without drafts while K = 0
  int32_t interval_ = 0;  // plain rounds before the next probe
  bool probing_ = false;  // k_ is a probe
  // Exponentially weighted sums of the timings.
  double draft_seconds_ = 0, draft_tokens_ = 0;
  double w_ = 0, wn_ = 0, wnn_ = 0, wy_ = 0, wny_ = 0;  // sum of w, w n, w n^2, w y, w n y
  int64_t n_lo_ = 0, n_hi_ = 0;                         // smallest and largest batch timed (0: none)
  double plain_s_ = 0, plain_w_ = 0;                    // plain rounds: weighted seconds, weight
};

}  // namespace tandem

// The sampler of one sequence: a configurable chain of steps over the logits of
// the next token, the RNG that draws from the result, and the penalty history.
// It owns its state (never global), so many sequences sample side by side and a
// seed reproduces a run.
//
//   auto s = Sampler::create({.temperature = 0.7f, .top_k = 20, .seed = 42});
//   auto tok = s->sample(logits);   // Result<int32_t>
//   s->accept(*tok);                // the token joins the penalty window
//
// The chain runs the steps of `order` over the candidates (every token whose
// logit is not -inf), then draws. Default order, as llama.cpp's: penalties,
// top-k, top-p, min-p, temperature. A step not listed does not run.
//
// The draw (documented so results reproduce for a seed): softmax over the kept
// candidates in ascending id order; target = rng.uniform_double() * (sum of
// those probabilities, in double); the first token whose running sum exceeds
// target (the last token with nonzero probability if rounding leaves target
// beyond the sum). A non-greedy sample()
// consumes exactly one uniform_double(); a greedy one (temperature <= 0) none.
// So sample(logits) returns the same token as
// sample_from_probs(distribution(logits)) from the same RNG state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "tandem/base/result.h"
#include "tandem/sampling/candidates.h"
#include "tandem/sampling/penalties.h"
#include "tandem/sampling/rng.h"

namespace tandem {

enum class SamplerStep : uint8_t { penalties, top_k, top_p, min_p, temperature };

std::string_view to_string(SamplerStep s);
// Parses "penalties", "top_k", "top_p", "min_p", "temperature" (or "temp"), for
// command-line options that reorder the chain.
Result<SamplerStep> parse_sampler_step(std::string_view name);

inline std::vector<SamplerStep> default_sampler_order() {
  return {SamplerStep::penalties, SamplerStep::top_k, SamplerStep::top_p, SamplerStep::min_p,
          SamplerStep::temperature};
}

// Defaults are llama.cpp's, except the seed: fixed, so runs reproduce unless asked otherwise.
struct SamplerParams {
  float temperature = 0.8f;     // <= 0: greedy (argmax, ties to the lowest id)
  int32_t top_k = 40;           // <= 0: off
  float top_p = 0.95f;          // in [0, 1]; 1: off
  float min_p = 0.05f;          // in [0, 1]; 0: off
  size_t min_keep = 1;          // top-k/top-p/min-p keep at least this many (>= 1)
  float repeat_penalty = 1.0f;  // > 0; 1: off
  float frequency_penalty = 0.0f;
  float presence_penalty = 0.0f;
  int32_t penalty_last_n = 64;  // window of accepted tokens the penalties look at; 0: off
  uint64_t seed = 0;
  std::vector<SamplerStep> order = default_sampler_order();  // each step at most once
};

class Sampler {
 public:
  // Validates the parameters (a clear error names the field and its valid range).
  static Result<Sampler> create(SamplerParams params);

  // Runs the chain on one row of logits (one per vocabulary token) and draws a
  // token. Errors: empty row, NaN or +inf logit, all -inf. Does not accept() the
  // token: the caller decides what joins the history.
  Result<int32_t> sample(std::span<const float> logits);

  // The distribution sample() draws from: probs_out gets one probability per
  // vocabulary token, zero for the filtered ones (one-hot when greedy). Touches
  // neither the RNG nor the history. Speculative sampling compares p(x) and q(x)
  // of exactly these processed distributions (arXiv 2211.17192).
  Status distribution(std::span<const float> logits, std::vector<float>& probs_out);
  // distribution(), then a token drawn from it: the one sample_from_probs(
  // probs_out, rng()) gives, from the same one uniform_double(), without that
  // function's passes over the whole vocabulary (a draft model's q and token).
  Result<int32_t> sample_distribution(std::span<const float> logits, std::vector<float>& probs_out);

  // Adds a token to the penalty window (prompt tokens too, if the penalties
  // should see them). Ids outside the vocabulary match nothing.
  void accept(int32_t token) { window_.push(token); }
  // Clears the history and reseeds the RNG from params().seed.
  void reset();

  // The sequence's state, plain values: copy to snapshot, assign to roll back.
  Rng& rng() { return rng_; }
  const Rng& rng() const { return rng_; }
  PenaltyWindow& history() { return window_; }
  const PenaltyWindow& history() const { return window_; }

  const SamplerParams& params() const { return params_; }
  // True when the chain reduces to argmax (temperature <= 0 and in the order).
  bool greedy() const { return greedy_; }

 private:
  explicit Sampler(SamplerParams params);
  Status run_chain(std::span<const float> logits);
  // The chain left a large set out of id order (a wide nucleus): its draw
  // walks the full-vocabulary row rather than sorting the set.
  bool wide_reordered(size_t n_vocab) const { return !cand_.id_ordered() && cand_.size() > n_vocab / 16; }

  SamplerParams params_;
  PenaltyParams penalty_;
  Rng rng_;
  PenaltyWindow window_;
  bool greedy_ = false;
  // The greedy shortcut (argmax without the chain) is exact when no truncation
  // step runs before the penalties: truncations never drop the best token.
  bool greedy_shortcut_ = false;
  bool penalties_in_shortcut_ = false;  // penalties run before the temperature step
  Candidates cand_;
  std::vector<float> dense_;      // full-vocabulary probabilities for the draw over a wide set
  std::vector<uint8_t> scratch_;  // marks the window's tokens for the penalized argmax
};

// Draws a token from a full-vocabulary distribution (e.g. the residual
// max(0, p - q) of speculative sampling, normalized or not) with Sampler's rule:
// target = rng.uniform_double() * sum(probs), then the first id whose running sum
// (in double, ascending id) exceeds target. Consumes one uniform_double().
// Errors: empty, a negative or non-finite entry, or a zero sum.
Result<int32_t> sample_from_probs(std::span<const float> probs, Rng& rng);

}  // namespace tandem

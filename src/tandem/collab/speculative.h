// Speculative decoding: a draft source (a small model, or prompt lookup)
// proposes up to K tokens, the target model scores all of them in ONE batched
// forward pass, and the longest acceptable prefix is kept plus one token from
// the target (the correction at the first rejection, or a bonus token when all
// K pass). Every round costs one target pass and yields 1 to K+1 tokens.
//
// Exact: with greedy sampling the output is token for token the target's own
// greedy output, for every K; with sampling each token is distributed exactly
// as the target's processed distribution, by the rejection rule of Leviathan
// et al. and Chen et al. (arXiv 2211.17192, 2302.01318; speculative_rule.h).
//
// Cache bookkeeping of the target: its KV cache always holds the accepted
// context except the newest token (the pending one). A round evaluates
// [pending, d1..dK] with logits for all K+1 positions: row i predicts the token
// after d_i (row 0: after pending), so row i verifies d_{i+1} and row K gives
// the bonus. After n accepted drafts the cache is rolled back to hold pending,
// d1..dn, and the round's final token becomes the new pending one.
//
//   auto draft = ModelDraft::create(draft_seq, {.sampler = draft_sampler_params(s)});
//   auto r = generate_speculative(target_seq, **draft, prompt, {.sampler = s, .draft = {.max = 6}});
//   r->stats.acceptance_rate();
#pragma once

#include <cstdint>
#include <vector>

#include "tandem/collab/draft_length.h"
#include "tandem/collab/draft_source.h"
#include "tandem/collab/generator.h"

namespace tandem {

struct SpeculativeParams {
  int32_t n_predict = 64;   // tokens to generate at most
  bool stop_at_eog = true;  // stop at the vocabulary's end-of-generation tokens
  SamplerParams sampler{};  // the target's chain (the draft has its own, in its source)
  DraftLengthParams draft{};
  // One per member of a chained draft source (DraftSource::n_sources()), each
  // member's K chosen apart (lookup's guesses are free, a model's are not).
  // Empty: `draft` for every member.
  std::vector<DraftLengthParams> draft_by_source{};
};

struct SpeculativeStats {
  int64_t rounds = 0;        // target verification passes
  int64_t draft_rounds = 0;  // rounds that had at least one draft token (the others decode plainly)
  int64_t drafted = 0;       // draft tokens proposed
  int64_t accepted = 0;      // draft tokens accepted
  // accepted_hist[n]: draft rounds in which exactly n tokens were accepted.
  std::vector<int64_t> accepted_hist;
  double draft_seconds = 0;   // in the draft source (draft model passes, lookup)
  double verify_seconds = 0;  // target passes and the acceptance rule

  // Share of proposed tokens the target kept.
  double acceptance_rate() const { return drafted > 0 ? static_cast<double>(accepted) / drafted : 0.0; }
  // Accepted draft tokens per round that had a draft.
  double mean_accepted_length() const {
    return draft_rounds > 0 ? static_cast<double>(accepted) / draft_rounds : 0.0;
  }
};

struct SpeculativeResult {
  GenerateResult gen;  // tokens, text, timings, as plain generation reports them
  SpeculativeStats stats;
  // Generated tokens per target pass: what the speedup is made of.
  double tokens_per_round() const {
    return stats.rounds > 0 ? static_cast<double>(gen.tokens.size()) / stats.rounds : 0.0;
  }
};

// Generates after `prompt`: the prompt is evaluated after what `target` already
// holds; `draft` sees the prompt and the generated tokens. Stops after
// n_predict tokens, at an end-of-generation token, or when the target's context
// is full (the same count plain generate() reaches). Errors: an empty or
// overlong prompt, a draft token outside the target's vocabulary, model errors.
Result<SpeculativeResult> generate_speculative(Sequence& target, DraftSource& draft, const std::vector<int32_t>& prompt,
                                               const SpeculativeParams& params, const PieceFn& on_piece = {});

}  // namespace tandem

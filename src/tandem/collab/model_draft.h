// A small model as the draft source of speculative decoding: it runs its own
// sequence (KV cache) and sampler over the context, one token per forward pass,
// and proposes what it would generate.
//
// Cache bookkeeping: the source remembers the tokens its cache holds. Each
// round it keeps the longest prefix shared with the new context, rolls the
// cache back to it (dropping rejected guesses), and evaluates the context
// tokens it lacks in one batch: normally the target's correction or bonus
// token, plus the last draft token when every guess was accepted (that one
// was proposed but never fed to the draft). So the cache always holds exactly
// accepted tokens before drafting resumes.
//
// Pair a draft with a target only after check_vocab_compatible (vocab_compat.h):
// the verify loop checks that ids are in range, not that they mean the same.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "tandem/collab/draft_source.h"
#include "tandem/model/decoder.h"
#include "tandem/sampling/sampler.h"

namespace tandem {

struct ModelDraftParams {
  // The draft's sampler chain. The target's parameters with another seed give
  // the best acceptance (draft_sampler_params); any parameters stay exact,
  // because the rule compares against the q that was actually sampled.
  SamplerParams sampler{};
  // Stop drafting once the draft model's confidence, the top probability of
  // the softmax of its raw logits, falls below this (0: never). Measured on the
  // raw logits so it means the same when sampling is greedy (whose processed
  // distribution is one-hot). Checked before the token is drawn, so the
  // decision depends only on the accepted context and keeps sampling exact.
  float p_min = 0.0f;
  int32_t min_tokens = 0;     // p_min never stops a draft shorter than this
  int64_t n_vocab_limit = 0;  // propose only ids below this (the target's vocabulary); 0: the draft's own
};

// The target's sampler parameters with a seed of their own for the draft
// (derived from the target's by splitmix64, so one --seed reproduces both).
SamplerParams draft_sampler_params(const SamplerParams& target);

class ModelDraft final : public DraftSource {
 public:
  // `seq` belongs to the source from now on (begin() clears it). Errors: bad
  // sampler parameters, p_min outside [0, 1], min_tokens negative.
  static Result<std::unique_ptr<ModelDraft>> create(Sequence& seq, ModelDraftParams params);

  Status begin(std::span<const int32_t> prompt) override;
  Status propose(const DraftRequest& req, Draft& out) override;

  const Sequence& sequence() const { return seq_; }

 private:
  ModelDraft(Sequence& seq, ModelDraftParams params, Sampler sampler);
  // Keeps the longest cached prefix of `context` (at most size - keep_back tokens) and evaluates the rest.
  Result<std::span<const float>> catch_up(std::span<const int32_t> context, size_t keep_back);

  Sequence& seq_;
  ModelDraftParams params_;
  Sampler sampler_;
  std::vector<int32_t> cached_;  // the tokens in seq_'s KV cache, in order
};

}  // namespace tandem

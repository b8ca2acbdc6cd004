// Generation from several models' logits combined at every step (contrastive
// decoding: expert and amateur; proxy-tuning: large base, small tuned, small
// base): all sequences see the same prompt and the same sampled tokens in
// lockstep, one forward pass each per token, and the existing Sampler draws
// from the combined row. The models must share a vocabulary
// (check_vocab_compatible) — the caller checks, since it knows their names.
//
//   std::vector<Sequence*> seqs{&expert, &amateur};
//   auto r = generate_combined(seqs, contrastive_combiner({.alpha = 0.1f, .beta = 0.5f}), prompt, params);
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "tandem/collab/generator.h"
#include "tandem/collab/logit_combine.h"

namespace tandem {

struct CombinedStats {
  int64_t steps = 0;  // combined rows sampled from
  // Steps where the argmax of the combined row differs from the first model's
  // own argmax: how often the combination changes the greedy choice.
  int64_t changed_argmax = 0;
  double combine_seconds = 0;  // in the combiner (the rest is forward passes and sampling)

  double changed_share() const { return steps > 0 ? static_cast<double>(changed_argmax) / steps : 0.0; }
};

struct CombinedResult {
  GenerateResult gen;  // tokens, text, timings as plain generation reports them
  CombinedStats stats;
};

// Generates after `prompt` (evaluated after what each sequence holds; they must
// hold the same number of tokens). Tokens are decoded with seqs[0]'s tokenizer.
// Stops after n_predict tokens, at an end-of-generation token, or when any
// context is full. Errors: seqs.size() != combiner.n_models, an empty or
// overlong prompt, sequences at different positions, model and combiner errors.
Result<CombinedResult> generate_combined(std::span<Sequence* const> seqs, const LogitCombiner& combiner,
                                         const std::vector<int32_t>& prompt, const GenerateParams& params,
                                         const PieceFn& on_piece = {});

}  // namespace tandem

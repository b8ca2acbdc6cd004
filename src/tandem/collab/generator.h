// Plain generation with one model: prefill the prompt in one batch, then sample
// one token per forward pass. The baseline every collaboration strategy
// (speculative decoding, cascades, contrastive decoding) is measured against.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/result.h"
#include "tandem/model/decoder.h"
#include "tandem/sampling/sampler.h"

namespace tandem {

struct GenerateParams {
  int32_t n_predict = 64;     // tokens to generate at most
  bool stop_at_eog = true;    // stop at the vocabulary's end-of-generation tokens (EOS, EOT)
  SamplerParams sampler{};
  // Also record each generated token's log-probability under the model's own
  // next-token distribution (log-softmax of the raw logits, before any sampler
  // step), as an OpenAI-style `logprobs` field does: cascades score confidence
  // with it, whatever sampler produced the token. Off by default: one extra pass
  // over the vocabulary per token.
  bool logprobs = false;
  // Stop strings: generation ends at the first token after which the text
  // contains one; the text is cut before the stop string, the token that
  // completed it stays in `tokens` (it was computed, so it counts as cost).
  std::vector<std::string> stop{};
};

struct GenerateResult {
  std::vector<int32_t> tokens;  // generated ids (the end-of-generation token excluded)
  std::string text;             // their decoded text (cut before a stop string)
  std::vector<float> logprobs;  // with params.logprobs: one per token of `tokens`
  int64_t n_prompt = 0;
  double prompt_seconds = 0;
  double gen_seconds = 0;
  bool stopped_at_eog = false;
  bool stopped_at_stop = false;  // a stop string ended generation

  double prompt_tokens_per_s() const { return prompt_seconds > 0 ? n_prompt / prompt_seconds : 0; }
  double gen_tokens_per_s() const { return gen_seconds > 0 ? tokens.size() / gen_seconds : 0; }
};

// Called with each piece of text as soon as its token is sampled.
using PieceFn = std::function<void(std::string_view piece)>;

// Whether n_prompt more tokens leave room in seq's context for at least one
// generated token; the error (prefixed with `what`) names both sizes. Checked
// by generate() and generate_speculative(), and by callers that print the
// prompt before generating.
Status check_prompt_fits(const Sequence& seq, int64_t n_prompt, std::string_view what);

// Generates after `prompt` on a fresh or partly filled sequence (the prompt is
// evaluated after what the sequence already holds).
Result<GenerateResult> generate(Sequence& seq, const std::vector<int32_t>& prompt, const GenerateParams& params,
                                const PieceFn& on_piece = {});

// Whether a token ends generation for this vocabulary (EOS, EOT).
bool is_end_of_generation(const Vocab& v, int32_t id);

}  // namespace tandem

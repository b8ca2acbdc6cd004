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
};

struct GenerateResult {
  std::vector<int32_t> tokens;  // generated ids (the end-of-generation token excluded)
  std::string text;             // their decoded text
  int64_t n_prompt = 0;
  double prompt_seconds = 0;
  double gen_seconds = 0;
  bool stopped_at_eog = false;

  double prompt_tokens_per_s() const { return prompt_seconds > 0 ? n_prompt / prompt_seconds : 0; }
  double gen_tokens_per_s() const { return gen_seconds > 0 ? tokens.size() / gen_seconds : 0; }
};

// Called with each piece of text as soon as its token is sampled.
using PieceFn = std::function<void(std::string_view piece)>;

// Generates after `prompt` on a fresh or partly filled sequence (the prompt is
// evaluated after what the sequence already holds).
Result<GenerateResult> generate(Sequence& seq, const std::vector<int32_t>& prompt, const GenerateParams& params,
                                const PieceFn& on_piece = {});

// Whether a token ends generation for this vocabulary (EOS, EOT).
bool is_end_of_generation(const Vocab& v, int32_t id);

}  // namespace tandem

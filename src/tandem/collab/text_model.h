// The black-box model interface of DESIGN.md: prompt in; text, tokens and
// per-token log-probabilities out, with token counts for cost. Cascades,
// routing and verification work at this level only, so the large role can be
// a hosted LLM behind an OpenAI-compatible API (a later client implements this
// same interface). Nothing here names a local-model type on purpose.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/result.h"

namespace tandem {

// The fields of an OpenAI-style completion request that tandem's strategies use.
struct CompletionRequest {
  std::string prompt;
  int32_t max_tokens = 64;
  float temperature = 0.0f;        // <= 0: greedy
  uint64_t seed = 0;
  std::vector<std::string> stop{};  // stop strings (cut from the text)
};

struct Completion {
  std::string text;
  std::vector<std::string> tokens;  // the generated tokens' texts
  std::vector<float> logprobs;      // natural-log probability of each generated token
  int64_t prompt_tokens = 0;        // usage, as an API bills it
  int64_t completion_tokens = 0;
  std::string finish_reason;        // "stop" (end of text or a stop string) or "length"

  int64_t total_tokens() const { return prompt_tokens + completion_tokens; }
};

// Log-probabilities of a given text after a given context (an API's echo mode):
// what a verifier needs to judge another model's answer.
struct ScoredText {
  std::vector<std::string> tokens;  // the text's tokens
  std::vector<float> logprobs;      // one per token, each conditioned on context and earlier tokens
  int64_t prompt_tokens = 0;        // tokens evaluated in all (context and text), for cost
};

class TextModel {
 public:
  virtual ~TextModel() = default;
  // A short name for reports ("house-small", a file name, an endpoint's model id).
  virtual std::string name() const = 0;
  virtual Result<Completion> complete(const CompletionRequest& request) = 0;
  // Scores `text` as a continuation of `context` (an empty context scores the
  // text from the start of a document). Errors: empty text, or too long.
  virtual Result<ScoredText> score(std::string_view context, std::string_view text) = 0;
};

// Confidence summaries of a log-prob sequence. Both are 0 for an empty
// sequence: nothing was said, so nothing was uncertain (a caller that wants
// empty answers escalated checks the text).
double mean_logprob(std::span<const float> logprobs);
double min_logprob(std::span<const float> logprobs);

}  // namespace tandem

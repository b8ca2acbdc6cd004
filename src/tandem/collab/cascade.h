// Model cascading (survey branch "SMs enhance LLMs: efficient inference"): the
// small model answers first; when its confidence falls below a threshold the
// request escalates to the large model (FrugalGPT, arXiv 2305.05176, scores
// the cheap answer and escalates the same way). Works on TextModels only, so
// the large role may be a remote LLM.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/result.h"
#include "tandem/collab/text_model.h"

namespace tandem {

// How the small answer's confidence is scored (all in nats per token, higher is surer):
//   mean:     mean log-prob of the small model's own tokens;
//   min:      the least likely token (one bad guess sinks the answer);
//   verifier: mean log-prob of the small answer under a verifier model
//             (e.g. the large model reading rather than writing it: one batched
//             pass, cheaper than generating).
enum class ConfidenceScore { kMean, kMin, kVerifier };

std::string_view to_string(ConfidenceScore s);
// Parses "mean", "min", "verifier"; the error lists the valid names.
Result<ConfidenceScore> parse_confidence_score(std::string_view name);

struct CascadeParams {
  ConfidenceScore score = ConfidenceScore::kMean;
  double threshold = -1.5;  // escalate when score < threshold
  CompletionRequest request{};  // max_tokens, temperature, stop; the prompt is set per request
};

struct CascadeResult {
  std::string answer;
  std::string model;   // "small" or "large"
  double score = 0;    // the small answer's confidence
  std::string reason;  // e.g. "mean logprob -1.92 < threshold -1.5"
  Completion small;
  std::optional<Completion> large;  // present when escalated
  int64_t verifier_tokens = 0;      // tokens the verifier read (its cost), 0 without one
  bool empty_answer = false;        // escalated whatever the score: the small answer was empty
  bool escalated() const { return large.has_value(); }
  // Tokens the large model processed for this request (prompt and completion).
  int64_t large_tokens() const { return large ? large->total_tokens() : 0; }
};

// Scores a small model's completion of `prompt`. `verifier` is required for
// kVerifier and ignored otherwise; `verifier_tokens` (optional) gets its cost.
Result<double> confidence(const Completion& small, ConfidenceScore how, std::string_view prompt, TextModel* verifier,
                          int64_t* verifier_tokens = nullptr);

// The decision, as words: "mean logprob -1.92 < threshold -1.5".
std::string cascade_reason(ConfidenceScore how, double score, double threshold);

// One request through the cascade: escalates when the score is below the
// threshold or the small answer is empty (only whitespace). Errors: a model's
// error, named by model.
Result<CascadeResult> run_cascade(TextModel& small, TextModel& large, TextModel* verifier, const std::string& prompt,
                                  const CascadeParams& params);

}  // namespace tandem

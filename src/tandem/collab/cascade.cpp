// The cascade's decision rule and its explanation.
#include "tandem/collab/cascade.h"

#include <cstdio>

namespace tandem {

std::string_view to_string(ConfidenceScore s) {
  switch (s) {
    case ConfidenceScore::kMean: return "mean";
    case ConfidenceScore::kMin: return "min";
    case ConfidenceScore::kVerifier: return "verifier";
  }
  return "?";
}

Result<ConfidenceScore> parse_confidence_score(std::string_view name) {
  if (name == "mean") return ConfidenceScore::kMean;
  if (name == "min") return ConfidenceScore::kMin;
  if (name == "verifier") return ConfidenceScore::kVerifier;
  return make_error("unknown confidence score '", name, "' (expected mean, min or verifier)");
}

Result<double> confidence(const Completion& small, ConfidenceScore how, std::string_view prompt, TextModel* verifier,
                          int64_t* verifier_tokens) {
  switch (how) {
    case ConfidenceScore::kMean: return mean_logprob(small.logprobs);
    case ConfidenceScore::kMin: return min_logprob(small.logprobs);
    case ConfidenceScore::kVerifier: {
      if (!verifier) return make_error("confidence: the verifier score needs a verifier model");
      // An empty answer gives the verifier nothing to read: as confident as the
      // mean of nothing (0), consistent with the other scores.
      if (small.text.empty()) return 0.0;
      auto s = verifier->score(prompt, small.text);
      if (!s) return make_error("verifier ", verifier->name(), ": ", s.error().message);
      if (verifier_tokens) *verifier_tokens = s->prompt_tokens;
      return mean_logprob(s->logprobs);
    }
  }
  return make_error("confidence: unknown score");
}

std::string cascade_reason(ConfidenceScore how, double score, double threshold) {
  const char* what = how == ConfidenceScore::kMean  ? "mean logprob"
                     : how == ConfidenceScore::kMin ? "min logprob"
                                                    : "verifier mean logprob";
  char buf[160];
  std::snprintf(buf, sizeof buf, "%s %.3g %s threshold %.3g", what, score, score < threshold ? "<" : ">=", threshold);
  return buf;
}

Result<CascadeResult> run_cascade(TextModel& small, TextModel& large, TextModel* verifier, const std::string& prompt,
                                  const CascadeParams& params) {
  CompletionRequest req = params.request;
  req.prompt = prompt;
  auto s = small.complete(req);
  if (!s) return make_error("small model ", small.name(), ": ", s.error().message);
  CascadeResult r;
  r.small = std::move(*s);
  auto score = confidence(r.small, params.score, prompt, verifier, &r.verifier_tokens);
  if (!score) return score.error();
  r.score = *score;
  r.reason = cascade_reason(params.score, r.score, params.threshold);
  // An answer of nothing (or only whitespace) has no uncertain token to be
  // caught by a log-prob score, yet it answers nothing: always escalate it.
  r.empty_answer = r.small.text.find_first_not_of(" \t\r\n") == std::string::npos;
  if (r.empty_answer) r.reason = "small answer is empty";
  if (r.empty_answer || r.score < params.threshold) {
    auto l = large.complete(req);
    if (!l) return make_error("large model ", large.name(), ": ", l.error().message);
    r.large = std::move(*l);
    r.answer = r.large->text;
    r.model = "large";
  } else {
    r.answer = r.small.text;
    r.model = "small";
  }
  return r;
}

}  // namespace tandem

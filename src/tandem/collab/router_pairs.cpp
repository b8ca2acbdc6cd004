// Labeled (prompt, small sufficed?) pairs from a dev set and both models.
#include "tandem/collab/router_pairs.h"

namespace tandem {

Result<std::vector<RouterPair>> make_router_pairs(TextModel& small, TextModel& large,
                                                  const std::vector<DevExample>& dev, const AnswerMetric& metric,
                                                  const RouterPairParams& params, const PairProgressFn& progress) {
  if (!metric) return make_error("router pairs: no metric given");
  std::vector<RouterPair> out;
  out.reserve(dev.size());
  for (size_t i = 0; i < dev.size(); ++i) {
    CompletionRequest req = params.request;
    req.prompt = dev[i].prompt;
    auto s = small.complete(req);
    if (!s) return make_error("dev example ", i + 1, ": small model ", small.name(), ": ", s.error().message);
    auto l = large.complete(req);
    if (!l) return make_error("dev example ", i + 1, ": large model ", large.name(), ": ", l.error().message);
    auto dense = router_dense_features(small, dev[i].prompt);
    if (!dense) return make_error("dev example ", i + 1, ": ", dense.error().message);
    RouterPair p;
    p.prompt = dev[i].prompt;
    p.small_answer = s->text;
    p.large_answer = l->text;
    p.small_quality = metric(p.small_answer, dev[i].reference);
    p.large_quality = metric(p.large_answer, dev[i].reference);
    p.small_sufficed = p.small_quality >= p.large_quality - params.margin;
    p.dense = std::move(*dense);
    p.large_tokens = l->total_tokens();
    out.push_back(std::move(p));
    if (progress) progress(i + 1, dev.size());
  }
  return out;
}

std::vector<RouterExample> router_examples(const std::vector<RouterPair>& pairs) {
  std::vector<RouterExample> ex;
  ex.reserve(pairs.size());
  for (const RouterPair& p : pairs) ex.push_back({.prompt = p.prompt, .dense = p.dense, .needs_large = !p.small_sufficed});
  return ex;
}

}  // namespace tandem

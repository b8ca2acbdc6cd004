// LocalTextModel: completion through the plain generator (with log-probs on),
// scoring through one batched pass with logits for every position.
#include "tandem/collab/local_text_model.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "tandem/collab/generator.h"
#include "tandem/sampling/log_softmax.h"

namespace tandem {
LocalTextModel::LocalTextModel(std::shared_ptr<const DecoderModel> model, ThreadPool& pool, LocalTextModelOptions opt)
    : model_(model),
      seq_(std::move(model), pool, SequenceOptions{.n_ctx = opt.n_ctx}),
      name_(opt.name.empty() ? "local" : std::move(opt.name)),
      sampler_(std::move(opt.sampler)) {}

Result<Completion> LocalTextModel::complete(const CompletionRequest& request) {
  if (request.max_tokens < 1) return make_error(name_, ": max_tokens is ", request.max_tokens, " (expected >= 1)");
  const Tokenizer& tok = model_->tokenizer();
  const std::vector<int32_t> prompt = tok.encode(request.prompt);
  if (prompt.empty()) return make_error(name_, ": the prompt is empty (no tokens to start from)");
  TANDEM_TRY(seq_.rollback(0));
  GenerateParams gp{.n_predict = request.max_tokens, .stop_at_eog = true, .sampler = sampler_, .logprobs = true,
                    .stop = request.stop};
  gp.sampler.temperature = request.temperature;
  gp.sampler.seed = request.seed;
  auto g = generate(seq_, prompt, gp);
  if (!g) return make_error(name_, ": ", g.error().message);
  Completion c;
  c.text = std::move(g->text);
  c.tokens.reserve(g->tokens.size());
  for (int32_t id : g->tokens) c.tokens.push_back(tok.token_to_piece(id));
  c.logprobs = std::move(g->logprobs);
  c.prompt_tokens = g->n_prompt;
  c.completion_tokens = static_cast<int64_t>(g->tokens.size());
  c.finish_reason = g->stopped_at_eog || g->stopped_at_stop ? "stop" : "length";
  return c;
}

Result<ScoredText> LocalTextModel::score(std::string_view context, std::string_view text) {
  if (text.empty()) return make_error(name_, ": nothing to score (empty text)");
  const Tokenizer& tok = model_->tokenizer();
  std::vector<int32_t> ids = tok.encode(context);
  size_t n_ctx_tokens = ids.size();
  // Tokenize context and text together when the context's tokens survive as a
  // prefix (so the text is split as the model would have produced it after
  // that context); otherwise append the text's own tokens.
  std::string joined(context);
  joined += text;
  std::vector<int32_t> full = tok.encode(joined);
  if (full.size() > ids.size() && std::equal(ids.begin(), ids.end(), full.begin())) {
    ids = std::move(full);
  } else {
    const std::vector<int32_t> rest = tok.encode(text, {.add_special = false});
    ids.insert(ids.end(), rest.begin(), rest.end());
  }
  // With neither BOS nor context the first token has nothing to be predicted from.
  const size_t first = std::max<size_t>(n_ctx_tokens, 1);
  if (ids.size() <= first) return make_error(name_, ": the text has no token to score after its context");
  if (static_cast<int64_t>(ids.size()) > seq_.n_ctx())
    return make_error(name_, ": context and text have ", ids.size(), " tokens but the context holds ", seq_.n_ctx());
  TANDEM_TRY(seq_.rollback(0));
  // Rows from the one predicting ids[first] on (the context's own are not needed).
  auto logits = seq_.eval_tail(ids, static_cast<int64_t>(first) - 1);
  if (!logits) return make_error(name_, ": ", logits.error().message);
  const size_t n_vocab = static_cast<size_t>(model_->config().n_vocab);
  ScoredText out;
  out.prompt_tokens = static_cast<int64_t>(ids.size());
  for (size_t i = first; i < ids.size(); ++i) {
    out.tokens.push_back(tok.token_to_piece(ids[i]));
    out.logprobs.push_back(static_cast<float>(log_prob(logits->subspan((i - first) * n_vocab, n_vocab), ids[i])));
  }
  return out;
}

Result<std::unique_ptr<LocalTextModel>> load_local_text_model(const std::string& path, ThreadPool& pool,
                                                              int64_t n_ctx) {
  auto m = DecoderModel::load(path);
  if (!m) return m.error();
  return std::make_unique<LocalTextModel>(*m, pool,
                                          LocalTextModelOptions{.name = std::filesystem::path(path).stem().string(),
                                                                .n_ctx = n_ctx});
}

}  // namespace tandem

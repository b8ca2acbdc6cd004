// The draft model: catch up on the accepted context, then draft token by token
// until max_tokens, an end-of-generation token, the p_min cut or the end of
// its context.
#include "tandem/collab/model_draft.h"

#include <algorithm>
#include <cmath>

#include "tandem/collab/generator.h"
#include "tandem/sampling/log_softmax.h"

namespace tandem {

SamplerParams draft_sampler_params(const SamplerParams& target) {
  SamplerParams p = target;
  uint64_t s = target.seed ^ 0x6472616674ULL;  // "draft": any constant gives an independent stream
  p.seed = splitmix64(s);
  return p;
}

Result<std::unique_ptr<ModelDraft>> ModelDraft::create(Sequence& seq, ModelDraftParams params) {
  if (!(params.p_min >= 0.0f && params.p_min <= 1.0f))
    return make_error("draft: p_min is ", params.p_min, " (expected 0..1; 0 is off)");
  if (params.min_tokens < 0) return make_error("draft: min_tokens is ", params.min_tokens, " (expected >= 0)");
  if (params.n_vocab_limit < 0) return make_error("draft: n_vocab_limit is ", params.n_vocab_limit, " (expected >= 0)");
  auto sampler = Sampler::create(params.sampler);
  if (!sampler) return sampler.error();
  return std::unique_ptr<ModelDraft>(new ModelDraft(seq, std::move(params), std::move(*sampler)));
}

ModelDraft::ModelDraft(Sequence& seq, ModelDraftParams params, Sampler sampler)
    : seq_(seq), params_(std::move(params)), sampler_(std::move(sampler)) {}

Status ModelDraft::begin(std::span<const int32_t> prompt) {
  TANDEM_TRY(seq_.rollback(0));
  cached_.clear();
  // All but the last prompt token: the first propose() evaluates that one and
  // drafts from its logits, as every later round does with its newest token.
  if (prompt.size() > 1 && static_cast<int64_t>(prompt.size()) - 1 <= seq_.n_ctx()) {
    auto head = prompt.first(prompt.size() - 1);
    auto r = seq_.eval(head, Logits::kLast);
    if (!r) return r.error();
    cached_.assign(head.begin(), head.end());
  }
  return ok_status();
}

Result<std::span<const float>> ModelDraft::catch_up(std::span<const int32_t> context, size_t keep_back) {
  size_t keep = 0;
  const size_t limit = std::min(cached_.size(), context.size() - keep_back);
  while (keep < limit && cached_[keep] == context[keep]) ++keep;
  TANDEM_TRY(seq_.rollback(static_cast<int64_t>(keep)));
  cached_.resize(keep);
  auto rest = context.subspan(keep);
  auto r = seq_.eval(rest, Logits::kLast);
  if (!r) return r;
  cached_.insert(cached_.end(), rest.begin(), rest.end());
  return r;
}

Status ModelDraft::propose(const DraftRequest& req, Draft& out) {
  out.clear();
  if (req.context.empty() || req.max_tokens <= 0) return ok_status();
  // Room: the context must fit, and each draft token but the last is fed back.
  const int64_t room = seq_.n_ctx() - static_cast<int64_t>(req.context.size()) + 1;
  const int32_t k = static_cast<int32_t>(std::min<int64_t>(req.max_tokens, room));
  if (k <= 0) return ok_status();

  // At least the newest context token is evaluated: its logits start the draft.
  auto logits = catch_up(req.context, 1);
  if (!logits) return logits.error();

  // The penalties see the same window the target's sampler sees.
  sampler_.history().clear();
  const size_t n_win = std::min(req.context.size(), sampler_.history().capacity());
  for (size_t i = req.context.size() - n_win; i < req.context.size(); ++i) sampler_.accept(req.context[i]);

  const Vocab& vocab = seq_.model().tokenizer().vocab();
  const int64_t n_vocab = seq_.model().config().n_vocab;
  const size_t limit = static_cast<size_t>(params_.n_vocab_limit > 0 ? std::min(params_.n_vocab_limit, n_vocab) : n_vocab);
  const bool with_probs = req.want_probs && !sampler_.greedy();
  if (with_probs) out.stride = limit;
  std::vector<float> q;
  for (int32_t i = 0; i < k; ++i) {
    if (i >= params_.min_tokens && params_.p_min > 0.0f && top_probability(*logits) < params_.p_min) break;
    // Only ids the target knows: the chain runs over the common range, so q is
    // the distribution actually sampled and the rule stays exact.
    auto row = logits->first(limit);
    int32_t x;
    if (with_probs) {
      auto drawn = sampler_.sample_distribution(row, q);
      if (!drawn) return drawn.error();
      x = *drawn;
      out.probs.insert(out.probs.end(), q.begin(), q.end());
    } else {
      auto drawn = sampler_.sample(row);
      if (!drawn) return drawn.error();
      x = *drawn;
    }
    out.tokens.push_back(x);
    sampler_.accept(x);
    // Past an end-of-generation token there is nothing worth guessing.
    if (i + 1 == k || is_end_of_generation(vocab, x)) break;
    logits = seq_.eval(std::span<const int32_t>(&x, 1), Logits::kLast);
    if (!logits) return logits.error();
    cached_.push_back(x);
  }
  return ok_status();
}

}  // namespace tandem

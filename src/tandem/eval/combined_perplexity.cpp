// combined_perplexity(): perplexity() of perplexity.cpp, with one Sequence per
// model and the combined row in place of the single model's.
#include "tandem/eval/combined_perplexity.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace tandem {

Result<PerplexityResult> combined_perplexity(const std::vector<std::shared_ptr<const DecoderModel>>& models,
                                             const LogitCombiner& combiner, ThreadPool& pool,
                                             const std::vector<int32_t>& tokens, const PerplexityParams& p,
                                             const ChunkFn& on_chunk) {
  if (models.empty() || models.size() != combiner.n_models)
    return make_error(combiner.name, " perplexity: expects ", combiner.n_models, " models, got ", models.size());
  if (p.n_ctx < 4) return make_error("perplexity: context of ", p.n_ctx, " tokens is too small (need at least 4)");
  int64_t n_chunks = static_cast<int64_t>(tokens.size()) / p.n_ctx;
  if (n_chunks == 0)
    return make_error("perplexity: the text has ", tokens.size(), " tokens, fewer than one chunk of ", p.n_ctx,
                      " (use a smaller --ctx)");
  if (p.max_chunks > 0) n_chunks = std::min(n_chunks, p.max_chunks);
  const Vocab& v = models[0]->tokenizer().vocab();
  const int64_t first = p.n_ctx / 2;
  std::vector<std::unique_ptr<Sequence>> seqs;
  for (const auto& m : models) seqs.push_back(std::make_unique<Sequence>(m, pool, SequenceOptions{.n_ctx = p.n_ctx}));
  std::vector<std::span<const float>> all(models.size()), rows(models.size());
  std::vector<float> combined(static_cast<size_t>(models[0]->config().n_vocab));
  PerplexityResult r;
  double sum = 0, sum2 = 0;
  auto t0 = std::chrono::steady_clock::now();
  std::vector<int32_t> chunk(static_cast<size_t>(p.n_ctx));
  for (int64_t c = 0; c < n_chunks; ++c) {
    std::copy_n(tokens.begin() + c * p.n_ctx, p.n_ctx, chunk.begin());
    if (v.add_bos && v.bos >= 0) chunk[0] = v.bos;
    for (size_t m = 0; m < seqs.size(); ++m) {
      TANDEM_TRY(seqs[m]->rollback(0));
      auto l = seqs[m]->eval(chunk, Logits::kAll);
      if (!l) return make_error("model ", m, " (", models[m]->file().path(), "): ", l.error().message);
      all[m] = *l;
    }
    for (int64_t j = first; j < p.n_ctx - 1; ++j) {
      for (size_t m = 0; m < seqs.size(); ++m) {
        const auto V = static_cast<size_t>(models[m]->config().n_vocab);
        rows[m] = all[m].subspan(static_cast<size_t>(j) * V, V);
      }
      TANDEM_TRY(combiner.combine(rows, combined));
      const double nll = -log_prob(combined, tokens[static_cast<size_t>(c * p.n_ctx + j + 1)]);
      sum += nll;
      sum2 += nll * nll;
      ++r.n_scored;
    }
    if (on_chunk) on_chunk(c, std::exp(sum / static_cast<double>(r.n_scored)));
  }
  r.n_chunks = n_chunks;
  r.mean_nll = sum / static_cast<double>(r.n_scored);
  r.ppl = std::exp(r.mean_nll);
  const double var = std::max(0.0, sum2 / static_cast<double>(r.n_scored) - r.mean_nll * r.mean_nll);
  r.ppl_stderr = r.ppl * std::sqrt(var / static_cast<double>(std::max<int64_t>(1, r.n_scored - 1)));
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace tandem

#include "tandem/eval/perplexity.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "tandem/sampling/log_softmax.h"

namespace tandem {

Result<PerplexityResult> chunked_perplexity(ChunkRows& rows, const Vocab& v, const std::vector<int32_t>& tokens,
                                            const PerplexityParams& p, const ChunkFn& on_chunk) {
  if (p.n_ctx < 4) return make_error("perplexity: context of ", p.n_ctx, " tokens is too small (need at least 4)");
  int64_t n_chunks = static_cast<int64_t>(tokens.size()) / p.n_ctx;
  if (n_chunks == 0)
    return make_error("perplexity: the text has ", tokens.size(), " tokens, fewer than one chunk of ", p.n_ctx,
                      " (use a smaller --ctx)");
  if (p.max_chunks > 0) n_chunks = std::min(n_chunks, p.max_chunks);
  const int64_t first = p.n_ctx / 2;
  PerplexityResult r;
  double sum = 0, sum2 = 0;
  auto t0 = std::chrono::steady_clock::now();
  std::vector<int32_t> chunk(static_cast<size_t>(p.n_ctx));
  for (int64_t c = 0; c < n_chunks; ++c) {
    std::copy_n(tokens.begin() + c * p.n_ctx, p.n_ctx, chunk.begin());
    if (v.add_bos && v.bos >= 0) chunk[0] = v.bos;
    TANDEM_TRY(rows.eval(chunk, first));
    for (int64_t j = first; j < p.n_ctx - 1; ++j) {
      auto row = rows.row(j);
      if (!row) return row.error();
      const double nll = -log_prob(*row, tokens[static_cast<size_t>(c * p.n_ctx + j + 1)]);
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

namespace {
// One model's rows.
class SequenceRows : public ChunkRows {
 public:
  SequenceRows(const std::shared_ptr<const DecoderModel>& model, ThreadPool& pool, int64_t n_ctx)
      : seq_(model, pool, {.n_ctx = n_ctx}), V_(model->config().n_vocab) {}
  Status eval(std::span<const int32_t> chunk, int64_t first) override {
    TANDEM_TRY(seq_.rollback(0));
    auto l = seq_.eval_tail(chunk, first);
    if (!l) return l.error();
    all_ = *l;
    first_ = first;
    return ok_status();
  }
  Result<std::span<const float>> row(int64_t j) override {
    return all_.subspan(static_cast<size_t>((j - first_) * V_), static_cast<size_t>(V_));
  }

 private:
  Sequence seq_;
  int64_t V_;
  std::span<const float> all_;
  int64_t first_ = 0;
};
}  // namespace

Result<PerplexityResult> perplexity(const std::shared_ptr<const DecoderModel>& model, ThreadPool& pool,
                                    const std::vector<int32_t>& tokens, const PerplexityParams& p,
                                    const ChunkFn& on_chunk) {
  SequenceRows rows(model, pool, std::max<int64_t>(p.n_ctx, 1));
  return chunked_perplexity(rows, model->tokenizer().vocab(), tokens, p, on_chunk);
}

}  // namespace tandem

// combined_perplexity(): perplexity.cpp's chunked scoring, with one Sequence per
// model and the combined row in place of a single model's.
#include "tandem/eval/combined_perplexity.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace tandem {

namespace {
// Each model's rows, combined position by position.
class CombinedRows : public ChunkRows {
 public:
  CombinedRows(const std::vector<std::shared_ptr<const DecoderModel>>& models, const LogitCombiner& combiner,
               ThreadPool& pool, int64_t n_ctx)
      : models_(models), combiner_(combiner), all_(models.size()), rows_(models.size()),
        combined_(static_cast<size_t>(models[0]->config().n_vocab)) {
    for (const auto& m : models) seqs_.push_back(std::make_unique<Sequence>(m, pool, SequenceOptions{.n_ctx = n_ctx}));
  }
  Status eval(std::span<const int32_t> chunk, int64_t first) override {
    first_ = first;
    for (size_t m = 0; m < seqs_.size(); ++m) {
      TANDEM_TRY(seqs_[m]->rollback(0));
      auto l = seqs_[m]->eval_tail(chunk, first);
      if (!l) return make_error("model ", m, " (", models_[m]->file().path(), "): ", l.error().message);
      all_[m] = *l;
    }
    return ok_status();
  }
  Result<std::span<const float>> row(int64_t j) override {
    for (size_t m = 0; m < seqs_.size(); ++m) {
      const auto V = static_cast<size_t>(models_[m]->config().n_vocab);
      rows_[m] = all_[m].subspan(static_cast<size_t>(j - first_) * V, V);
    }
    TANDEM_TRY(combiner_.combine(rows_, combined_));
    return std::span<const float>(combined_);
  }

 private:
  const std::vector<std::shared_ptr<const DecoderModel>>& models_;
  const LogitCombiner& combiner_;
  std::vector<std::unique_ptr<Sequence>> seqs_;
  std::vector<std::span<const float>> all_, rows_;
  std::vector<float> combined_;
  int64_t first_ = 0;
};
}  // namespace

Result<PerplexityResult> combined_perplexity(const std::vector<std::shared_ptr<const DecoderModel>>& models,
                                             const LogitCombiner& combiner, ThreadPool& pool,
                                             const std::vector<int32_t>& tokens, const PerplexityParams& p,
                                             const ChunkFn& on_chunk) {
  if (models.empty() || models.size() != combiner.n_models)
    return make_error(combiner.name, " perplexity: expects ", combiner.n_models, " models, got ", models.size());
  CombinedRows rows(models, combiner, pool, std::max<int64_t>(p.n_ctx, 1));
  return chunked_perplexity(rows, models[0]->tokenizer().vocab(), tokens, p, on_chunk);
}

}  // namespace tandem

// A TextModel over local weights: DecoderModel + one Sequence, reused (rolled
// back to position 0) for every request, so a model answers many prompts
// without reallocating its KV cache. Log-probs are those of the model's raw
// next-token distribution (see GenerateParams::logprobs).
#pragma once

#include <memory>
#include <string>

#include "tandem/base/thread_pool.h"
#include "tandem/collab/text_model.h"
#include "tandem/model/decoder.h"
#include "tandem/sampling/sampler.h"

namespace tandem {

struct LocalTextModelOptions {
  std::string name{};  // for reports; empty: "local"
  int64_t n_ctx = 0;  // 0: the model's training context
  SamplerParams sampler{.temperature = 0.0f};  // top-k/p etc.; temperature and seed come per request
};

class LocalTextModel final : public TextModel {
 public:
  LocalTextModel(std::shared_ptr<const DecoderModel> model, ThreadPool& pool, LocalTextModelOptions opt = {});

  std::string name() const override { return name_; }
  Result<Completion> complete(const CompletionRequest& request) override;
  Result<ScoredText> score(std::string_view context, std::string_view text) override;

  const DecoderModel& model() const { return *model_; }

 private:
  std::shared_ptr<const DecoderModel> model_;
  Sequence seq_;
  std::string name_;
  SamplerParams sampler_;
};

// Loads a GGUF file as a LocalTextModel named after the file's stem.
Result<std::unique_ptr<LocalTextModel>> load_local_text_model(const std::string& path, ThreadPool& pool,
                                                              int64_t n_ctx = 0);

}  // namespace tandem

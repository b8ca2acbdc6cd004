// A TeacherLogits source backed by the inference engine: the teacher is any
// GGUF decoder the engine runs (any weight type), evaluated on the fly for each
// training batch — white-box distillation from a model the trainer never holds
// in float. Each batch row is one sequence evaluated from position 0.
#pragma once

#include <memory>

#include "tandem/base/thread_pool.h"
#include "tandem/model/decoder.h"
#include "tandem/train/loss_function.h"

namespace tandem {

class EngineTeacher : public TeacherLogits {
 public:
  // The pool may be the trainer's own (Trainer::pool()): the teacher runs
  // between the trainer's parallel sections, never during them.
  EngineTeacher(std::shared_ptr<const DecoderModel> model, ThreadPool& pool);

  int64_t vocab() const override { return model_->config().n_vocab; }
  Status logits(const Batch& batch, std::span<float> out) override;

 private:
  std::shared_ptr<const DecoderModel> model_;
  ThreadPool& pool_;
  std::unique_ptr<Sequence> seq_;
  int64_t seq_ctx_ = 0;
};

}  // namespace tandem

// Teacher logits from the inference engine (see engine_teacher.h).
#include "tandem/train/engine_teacher.h"

#include <algorithm>

namespace tandem {

EngineTeacher::EngineTeacher(std::shared_ptr<const DecoderModel> model, ThreadPool& pool)
    : model_(std::move(model)), pool_(pool) {}

Status EngineTeacher::logits(const Batch& batch, std::span<float> out) {
  const int64_t V = vocab(), T = batch.seq;
  if (static_cast<int64_t>(out.size()) != batch.batch * T * V || static_cast<int64_t>(batch.inputs.size()) != batch.batch * T)
    return make_error("teacher: output of ", out.size(), " floats for a batch of ", batch.batch, " x ", T,
                      " over a vocabulary of ", V);
  if (!seq_ || seq_ctx_ < T) {
    seq_ = std::make_unique<Sequence>(model_, pool_, SequenceOptions{.n_ctx = T});
    seq_ctx_ = T;
  }
  for (int64_t b = 0; b < batch.batch; ++b) {
    TANDEM_TRY(seq_->rollback(0));
    auto row = std::span<const int32_t>(batch.inputs).subspan(static_cast<size_t>(b * T), static_cast<size_t>(T));
    auto l = seq_->eval(row, Logits::kAll);
    if (!l) return make_error("teacher: ", l.error().message);
    std::copy(l->begin(), l->end(), out.begin() + b * T * V);
  }
  return ok_status();
}

}  // namespace tandem

// Cross-entropy and distillation behind the trainer's loss hook (see loss_function.h).
#include "tandem/train/loss_function.h"

#include "tandem/train/cross_entropy.h"

namespace tandem {
namespace {

Status check_shape(const Batch& batch, std::span<float> logits, int64_t vocab) {
  const int64_t n = batch.batch * batch.seq;
  if (static_cast<int64_t>(batch.targets.size()) != n || static_cast<int64_t>(logits.size()) != n * vocab)
    return make_error("loss: ", logits.size(), " logits and ", batch.targets.size(), " targets for a batch of ",
                      batch.batch, " x ", batch.seq, " over a vocabulary of ", vocab);
  return ok_status();
}

int64_t count_targets(const Batch& batch) {
  int64_t n = 0;
  for (int32_t t : batch.targets) n += t >= 0;
  return n;
}

}  // namespace

Result<LossSums> CrossEntropyLoss::compute(const Batch& batch, std::span<float> logits, int64_t vocab,
                                           double grad_scale, bool write_grad, ThreadPool& pool) {
  TANDEM_TRY(check_shape(batch, logits, vocab));
  const int64_t n = batch.batch * batch.seq;
  rows_.resize(static_cast<size_t>(n));
  const double ce = cross_entropy(pool, logits.data(), batch.targets.data(), n, vocab, grad_scale, write_grad,
                                  rows_.data());
  return LossSums{ce, ce, count_targets(batch)};
}

std::string DistillationLoss::name() const {
  switch (options_.mode) {
    case DistillMode::kForwardKl: return "forward_kl";
    case DistillMode::kReverseKl: return "reverse_kl";
    case DistillMode::kTopK: return "top_k";
  }
  return "distill";
}

Result<LossSums> DistillationLoss::compute(const Batch& batch, std::span<float> logits, int64_t vocab,
                                           double grad_scale, bool write_grad, ThreadPool& pool) {
  TANDEM_TRY(check_shape(batch, logits, vocab));
  TANDEM_TRY(options_.validate(vocab));
  if (teacher_->vocab() != vocab)
    return make_error("distill: the teacher's vocabulary has ", teacher_->vocab(), " tokens, the student's ", vocab);
  const int64_t n = batch.batch * batch.seq;
  teacher_logits_.resize(static_cast<size_t>(n * vocab));
  TANDEM_TRY(teacher_->logits(batch, teacher_logits_));
  rows_.resize(static_cast<size_t>(3 * n));
  const DistillSums s = distill_loss(pool, logits.data(), teacher_logits_.data(), batch.targets.data(), n, vocab,
                                     options_, grad_scale, write_grad, rows_.data());
  // Every position has a teacher distribution, labelled or not.
  return LossSums{s.loss, s.ce, n};
}

}  // namespace tandem

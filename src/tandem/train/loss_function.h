// The trainer's loss hook. The trainer runs the forward pass, hands the logits
// to a LossFunction, which writes dLoss/dlogits in their place, and runs the
// backward pass from there. Hard-label cross-entropy is the default; white-box
// distillation plugs in as another LossFunction that asks a TeacherLogits
// source (the engine on the fly, or a cache on disk) for the teacher's logits of
// the same batch.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tandem/base/result.h"
#include "tandem/base/thread_pool.h"
#include "tandem/train/batch_sampler.h"
#include "tandem/train/distill_loss.h"

namespace tandem {

struct LossSums {
  double loss = 0;       // sum over tokens of the training loss
  double ce = 0;         // sum over tokens of the hard-label cross-entropy
  int64_t n_tokens = 0;  // tokens counted (targets >= 0)
};

class LossFunction {
 public:
  virtual ~LossFunction() = default;
  virtual std::string name() const = 0;
  // logits: (batch.batch * batch.seq, vocab) for batch.targets. When write_grad,
  // overwrites them with grad_scale * d(sum of per-token losses)/dlogits;
  // otherwise their contents afterwards are unspecified.
  virtual Result<LossSums> compute(const Batch& batch, std::span<float> logits, int64_t vocab, double grad_scale,
                                   bool write_grad, ThreadPool& pool) = 0;
};

class CrossEntropyLoss : public LossFunction {
 public:
  std::string name() const override { return "ce"; }
  Result<LossSums> compute(const Batch& batch, std::span<float> logits, int64_t vocab, double grad_scale,
                           bool write_grad, ThreadPool& pool) override;

 private:
  std::vector<double> rows_;
};

// The teacher's next-token logits for every position of a batch.
class TeacherLogits {
 public:
  virtual ~TeacherLogits() = default;
  virtual int64_t vocab() const = 0;
  // out: (batch.batch * batch.seq, vocab), row i for the prefix ending at input i.
  virtual Status logits(const Batch& batch, std::span<float> out) = 0;
};

class DistillationLoss : public LossFunction {
 public:
  DistillationLoss(std::shared_ptr<TeacherLogits> teacher, DistillOptions options)
      : teacher_(std::move(teacher)), options_(options) {}
  std::string name() const override;
  Result<LossSums> compute(const Batch& batch, std::span<float> logits, int64_t vocab, double grad_scale,
                           bool write_grad, ThreadPool& pool) override;

 private:
  std::shared_ptr<TeacherLogits> teacher_;
  DistillOptions options_;
  std::vector<float> teacher_logits_;
  std::vector<double> rows_;
};

}  // namespace tandem

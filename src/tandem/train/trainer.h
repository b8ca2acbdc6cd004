// The training loop: a decoder, AdamW, the learning-rate schedule, gradient
// clipping and accumulation, a seeded batch order over a TokenDataset, a
// pluggable loss (cross-entropy by default, distillation losses through
// LossFunction), checkpoints that resume bit for bit, validation, the training
// log, and GGUF export. Everything random is drawn from the run's seed; nothing
// is global, so two trainers can run side by side.
//
// One optimizer step = grad_accum micro-batches of batch_size x seq tokens;
// the loss is the mean over all of the step's tokens, so accumulation changes
// memory use, not the result (up to float summation order).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "tandem/base/result.h"
#include "tandem/base/thread_pool.h"
#include "tandem/train/adamw.h"
#include "tandem/train/batch_sampler.h"
#include "tandem/train/gguf_export.h"
#include "tandem/train/loss_function.h"
#include "tandem/train/token_dataset.h"
#include "tandem/train/train_decoder.h"
#include "tandem/train/train_log.h"
#include "tandem/train/train_options.h"

namespace tandem {

class Trainer {
 public:
  // A new run: weights drawn from options.seed (init_params), or copied from
  // initial_params when given (e.g. import_gguf of an existing student, in
  // ParamLayout(options.model) order); moments zero. `data` must outlive the trainer.
  static Result<std::unique_ptr<Trainer>> create(const TrainOptions& options, const TokenDataset& data,
                                                 std::span<const float> initial_params = {});
  // Continues the run saved in a checkpoint, on the dataset it was trained on.
  // threads = 0 keeps the checkpoint's thread count, which continues the run bit
  // for bit; another count continues it with float-rounding-level differences.
  static Result<std::unique_ptr<Trainer>> resume(const std::string& checkpoint_path, const TokenDataset& data,
                                                 int threads = 0);

  // Replaces the loss (default: CrossEntropyLoss).
  void set_loss(std::shared_ptr<LossFunction> loss) { loss_ = std::move(loss); }

  // One optimizer step; returns its log point (also appended to log()). A
  // non-finite loss or gradient is an error and leaves the weights untouched.
  Result<TrainLogPoint> step();

  // Steps until `until_step` optimizer steps are done, calling on_step after
  // each (printing progress, validating, checkpointing); an error from the
  // callback stops the run and is returned.
  using StepCallback = std::function<Status(const TrainLogPoint&)>;
  Status run(int64_t until_step, const StepCallback& on_step = {});

  // Mean cross-entropy per token (nats) over consecutive windows of `data`
  // (at most max_batches batches; 0: all of it).
  Result<double> evaluate(const TokenDataset& data, int64_t max_batches = 0);

  Status save_checkpoint(const std::string& path) const;
  Status export_gguf(const std::string& path, const ExportOptions& options) const;

  // Seconds a step has taken on average in this session, and the remaining time
  // to total_steps at that pace.
  double seconds_per_step() const;
  double eta_seconds() const;
  std::string progress_line(const TrainLogPoint& p) const {
    return format_progress(p, options_.schedule.total_steps, eta_seconds());
  }

  const TrainOptions& options() const { return options_; }
  int64_t steps_done() const { return step_; }
  const TrainLog& log() const { return log_; }
  TrainLog& log() { return log_; }
  TrainDecoder<float>& model() { return *model_; }
  const TrainDecoder<float>& model() const { return *model_; }
  std::span<const float> params() const { return model_->params(); }
  const AdamW& optimizer() const { return adam_; }
  ThreadPool& pool() { return *pool_; }

 private:
  Trainer(const TrainOptions& options, const TokenDataset& data, BatchSampler sampler);

  TrainOptions options_;
  const TokenDataset* data_;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<TrainDecoder<float>> model_;
  AdamW adam_;
  BatchSampler sampler_;
  std::shared_ptr<LossFunction> loss_;
  TrainLog log_;
  Batch batch_;
  int64_t step_ = 0;
  int64_t tokens_ = 0;
  double session_seconds_ = 0;  // time spent in step() since create/resume
  int64_t session_steps_ = 0;
};

}  // namespace tandem

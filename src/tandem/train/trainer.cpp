// The training loop, checkpoint resume, validation and export (see trainer.h).
#include "tandem/train/trainer.h"

#include <algorithm>
#include <cmath>

#include "tandem/train/checkpoint.h"
#include "tandem/train/cross_entropy.h"
#include "tandem/train/gemm.h"

namespace tandem {

Trainer::Trainer(const TrainOptions& options, const TokenDataset& data, BatchSampler sampler)
    : options_(options),
      data_(&data),
      pool_(std::make_unique<ThreadPool>(options.threads)),
      model_(std::make_unique<TrainDecoder<float>>(options.model, *pool_)),
      adam_(model_->layout(), options.adamw),
      sampler_(std::move(sampler)),
      loss_(std::make_shared<CrossEntropyLoss>()) {}

Result<std::unique_ptr<Trainer>> Trainer::create(const TrainOptions& options, const TokenDataset& data,
                                                 std::span<const float> initial_params) {
  TANDEM_TRY(options.validate());
  TANDEM_TRY(blas_load());
  TrainOptions o = options;
  // The thread count is part of what makes a run repeatable: fix it now.
  if (o.threads == 0) o.threads = ThreadPool::default_threads();
  auto sampler = BatchSampler::create(data, o.batch_size, o.seq(), o.seed);
  if (!sampler) return sampler.error();
  const ParamLayout layout(o.model);
  if (!initial_params.empty() && static_cast<int64_t>(initial_params.size()) != layout.total())
    return make_error("trainer: ", initial_params.size(), " initial parameters for a model of ", layout.total());
  std::unique_ptr<Trainer> t(new Trainer(o, data, std::move(*sampler)));
  if (initial_params.empty())
    init_params<float>(o.model, t->model_->layout(), t->model_->params(), o.seed);
  else
    std::copy(initial_params.begin(), initial_params.end(), t->model_->params().begin());
  return t;
}

Result<std::unique_ptr<Trainer>> Trainer::resume(const std::string& path, const TokenDataset& data, int threads) {
  TANDEM_TRY(blas_load());
  auto ck = load_checkpoint(path);
  if (!ck) return ck.error();
  TrainOptions& o = ck->state.options;
  if (threads < 0) return make_error("trainer: threads ", threads, " must be >= 0");
  if (threads > 0) o.threads = threads;
  auto sampler = BatchSampler::create(data, o.batch_size, o.seq(), o.seed);
  if (!sampler) return sampler.error();
  auto st = sampler->restore(ck->state.sampler);
  if (!st) return make_error(path, ": ", st.error().message);
  std::unique_ptr<Trainer> t(new Trainer(o, data, std::move(*sampler)));
  std::copy(ck->params.begin(), ck->params.end(), t->model_->params().begin());
  TANDEM_TRY(t->adam_.restore(ck->adam_m, ck->adam_v, ck->state.step));
  t->step_ = ck->state.step;
  t->log_.points() = std::move(ck->state.history);
  t->tokens_ = t->log_.points().empty() ? t->step_ * o.tokens_per_step() : t->log_.points().back().tokens;
  return t;
}

Result<TrainLogPoint> Trainer::step() {
  const auto t0 = std::chrono::steady_clock::now();
  const TrainOptions& o = options_;
  const int64_t B = o.batch_size, T = o.seq(), V = o.model.vocab;
  const double grad_scale = 1.0 / static_cast<double>(B * T * o.grad_accum);
  LossSums total;
  for (int64_t micro = 0; micro < o.grad_accum; ++micro) {
    TANDEM_TRY(sampler_.next(batch_));
    TANDEM_TRY(model_->forward(batch_.inputs, B, T));
    auto sums = loss_->compute(batch_, model_->logits(), V, grad_scale, true, *pool_);
    if (!sums) return sums.error();
    total.loss += sums->loss;
    total.ce += sums->ce;
    total.n_tokens += sums->n_tokens;
    model_->backward(/*accumulate=*/micro > 0);
  }
  const double loss = total.n_tokens > 0 ? total.loss / static_cast<double>(total.n_tokens) : 0.0;
  const double norm = global_grad_norm(*pool_, model_->grads());
  if (!std::isfinite(loss) || !std::isfinite(norm))
    return make_error("training diverged at step ", step_ + 1, ": loss ", loss, ", gradient norm ", norm,
                      " (lower the learning rate or the gradient clip)");
  // As torch.nn.utils.clip_grad_norm_: scale by max_norm / (norm + 1e-6) when above max_norm.
  float clip = 1.0f;
  if (o.grad_clip > 0 && norm > o.grad_clip) clip = static_cast<float>(o.grad_clip / (norm + 1e-6));
  const float lr = o.schedule.at(step_);
  adam_.update(*pool_, model_->params(), model_->grads(), lr, clip);
  ++step_;
  tokens_ += o.tokens_per_step();

  const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  session_seconds_ += dt;
  ++session_steps_;
  TrainLogPoint p;
  p.step = step_;
  p.tokens = tokens_;
  p.loss = loss;
  p.lr = lr;
  p.grad_norm = norm;
  p.tokens_per_s = dt > 0 ? static_cast<double>(o.tokens_per_step()) / dt : 0.0;
  log_.add(p);
  return p;
}

Status Trainer::run(int64_t until_step, const StepCallback& on_step) {
  while (step_ < until_step) {
    auto p = step();
    if (!p) return p.error();
    if (on_step) TANDEM_TRY(on_step(*p));
  }
  return ok_status();
}

Result<double> Trainer::evaluate(const TokenDataset& data, int64_t max_batches) {
  const int64_t T = options_.seq(), B = options_.batch_size, V = options_.model.vocab;
  const int64_t n_windows = (data.size() - 1) / T;
  if (n_windows < 1)
    return make_error("evaluate: the dataset has ", data.size(), " tokens, fewer than one window of ", T + 1);
  int64_t limit = n_windows;
  if (max_batches > 0) limit = std::min(limit, max_batches * B);
  Batch batch;
  std::vector<int32_t> window(static_cast<size_t>(T + 1));
  std::vector<double> rows;
  double sum = 0;
  int64_t count = 0;
  for (int64_t w0 = 0; w0 < limit; w0 += B) {
    const int64_t nb = std::min(B, limit - w0);
    batch.batch = nb;
    batch.seq = T;
    batch.inputs.resize(static_cast<size_t>(nb * T));
    batch.targets.resize(batch.inputs.size());
    for (int64_t b = 0; b < nb; ++b) {
      TANDEM_TRY(data.read((w0 + b) * T, window));
      for (int64_t t = 0; t < T; ++t) {
        batch.inputs[static_cast<size_t>(b * T + t)] = window[static_cast<size_t>(t)];
        batch.targets[static_cast<size_t>(b * T + t)] = window[static_cast<size_t>(t + 1)];
      }
    }
    TANDEM_TRY(model_->forward(batch.inputs, nb, T));
    rows.resize(static_cast<size_t>(nb * T));
    sum += cross_entropy(*pool_, model_->logits().data(), batch.targets.data(), nb * T, V, 0.0, false, rows.data());
    count += nb * T;
  }
  return sum / static_cast<double>(count);
}

Status Trainer::save_checkpoint(const std::string& path) const {
  CheckpointState s{options_, step_, sampler_.state(), log_.points()};
  return tandem::save_checkpoint(path, s, model_->params(), adam_.m(), adam_.v());
}

Status Trainer::export_gguf(const std::string& path, const ExportOptions& options) const {
  return tandem::export_gguf(path, options_.model, model_->params(), options);
}

double Trainer::seconds_per_step() const {
  return session_steps_ > 0 ? session_seconds_ / static_cast<double>(session_steps_) : NAN;
}

double Trainer::eta_seconds() const {
  return seconds_per_step() * static_cast<double>(std::max<int64_t>(0, options_.schedule.total_steps - step_));
}

}  // namespace tandem

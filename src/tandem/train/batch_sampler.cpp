// Seeded, resumable batch order over a token dataset (see batch_sampler.h).
#include "tandem/train/batch_sampler.h"

#include <utility>

namespace tandem {

Result<BatchSampler> BatchSampler::create(const TokenDataset& data, int64_t batch, int64_t seq, uint64_t seed) {
  if (batch <= 0 || seq <= 0) return make_error("batch sampler: batch ", batch, " and seq ", seq, " must be positive");
  if (data.size() < seq + 1)
    return make_error("batch sampler: the dataset has ", data.size(), " tokens, fewer than one window of seq + 1 = ",
                      seq + 1);
  BatchSampler s(data, batch, seq);
  s.state_.epoch_rng = Rng(seed).state();
  s.draw_epoch();
  return s;
}

void BatchSampler::draw_epoch() {
  Rng rng = Rng::from_state(state_.epoch_rng);
  const int64_t n = data_->size();
  int64_t shift = static_cast<int64_t>(rng.next_u64() % static_cast<uint64_t>(seq_));
  if ((n - 1 - shift) / seq_ < 1) shift = 0;
  const int64_t count = (n - 1 - shift) / seq_;
  order_.resize(static_cast<size_t>(count));
  for (int64_t k = 0; k < count; ++k) order_[static_cast<size_t>(k)] = shift + k * seq_;
  for (int64_t i = count - 1; i > 0; --i) {  // Fisher-Yates
    const int64_t j = static_cast<int64_t>(rng.next_u64() % static_cast<uint64_t>(i + 1));
    std::swap(order_[static_cast<size_t>(i)], order_[static_cast<size_t>(j)]);
  }
  next_epoch_rng_ = rng.state();
}

Status BatchSampler::next(Batch& out) {
  out.batch = batch_;
  out.seq = seq_;
  out.inputs.resize(static_cast<size_t>(batch_ * seq_));
  out.targets.resize(out.inputs.size());
  out.starts.resize(static_cast<size_t>(batch_));
  window_.resize(static_cast<size_t>(seq_ + 1));
  for (int64_t b = 0; b < batch_; ++b) {
    if (state_.index >= windows_in_epoch()) {
      state_.epoch_rng = next_epoch_rng_;
      state_.epoch += 1;
      state_.index = 0;
      draw_epoch();
    }
    const int64_t start = order_[static_cast<size_t>(state_.index++)];
    TANDEM_TRY(data_->read(start, window_));
    for (int64_t t = 0; t < seq_; ++t) {
      out.inputs[static_cast<size_t>(b * seq_ + t)] = window_[static_cast<size_t>(t)];
      out.targets[static_cast<size_t>(b * seq_ + t)] = window_[static_cast<size_t>(t + 1)];
    }
    out.starts[static_cast<size_t>(b)] = start;
  }
  return ok_status();
}

Status BatchSampler::restore(const SamplerState& s) {
  state_ = s;
  draw_epoch();
  if (s.index < 0 || s.index > windows_in_epoch())
    return make_error("batch sampler: cursor ", s.index, " is outside the epoch's ", windows_in_epoch(),
                      " windows (was the checkpoint made with another dataset or sequence length?)");
  return ok_status();
}

}  // namespace tandem

// Training batches from a token dataset, in an order fixed by a seed. Each epoch
// cuts the stream into windows of seq+1 tokens (inputs and the targets shifted by
// one) starting at a random shift in [0, seq), so successive epochs see
// different boundaries, and visits them in a random permutation. The sampler owns
// its RNG (xoshiro256**, sampling/rng.h); its whole state is the RNG state at the
// start of the current epoch plus (epoch, index), which a checkpoint stores so a
// resumed run draws exactly the batches the uninterrupted run would have.
#pragma once

#include <cstdint>
#include <vector>

#include "tandem/base/result.h"
#include "tandem/sampling/rng.h"
#include "tandem/train/token_dataset.h"

namespace tandem {

struct Batch {
  int64_t batch = 0, seq = 0;
  std::vector<int32_t> inputs;   // (batch, seq)
  std::vector<int32_t> targets;  // (batch, seq): inputs shifted by one; negative = ignored
  std::vector<int64_t> starts;   // (batch) dataset offset of each row's first input token
};

struct SamplerState {
  Rng::State epoch_rng{};  // RNG state when the current epoch's order was drawn
  uint64_t epoch = 0;
  int64_t index = 0;       // next window of the epoch's permutation
};

class BatchSampler {
 public:
  // An error when the dataset holds fewer than seq + 1 tokens.
  static Result<BatchSampler> create(const TokenDataset& data, int64_t batch, int64_t seq, uint64_t seed);

  // Fills the next batch (rows continue into the next epoch when one runs out).
  Status next(Batch& out);

  SamplerState state() const { return state_; }
  Status restore(const SamplerState& s);
  int64_t windows_in_epoch() const { return static_cast<int64_t>(order_.size()); }

 private:
  BatchSampler(const TokenDataset& data, int64_t batch, int64_t seq) : data_(&data), batch_(batch), seq_(seq) {}
  void draw_epoch();  // from state_.epoch_rng: shift and permutation of this epoch

  const TokenDataset* data_;
  int64_t batch_, seq_;
  SamplerState state_;
  Rng::State next_epoch_rng_{};  // RNG state after drawing this epoch: the next epoch starts there
  std::vector<int64_t> order_;  // window start offsets in visiting order
  std::vector<int32_t> window_;
};

}  // namespace tandem

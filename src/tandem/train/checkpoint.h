// Training checkpoints: everything a run needs to continue exactly as if it had
// never stopped — options, weights, both AdamW moments, the optimizer step, the
// data sampler's RNG state and cursor, and the log so far. Stored as a GGUF file
// (F32 tensors under their model names plus "adam.m." / "adam.v." copies,
// settings under "train.*" keys), so the validated reader loads it and `tandem
// gguf info` shows it; written to a temporary name and renamed into place, so a
// crash mid-write leaves the previous checkpoint intact.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tandem/base/result.h"
#include "tandem/train/batch_sampler.h"
#include "tandem/train/param_layout.h"
#include "tandem/train/train_log.h"
#include "tandem/train/train_options.h"

namespace tandem {

struct CheckpointState {
  TrainOptions options;
  int64_t step = 0;  // optimizer updates done
  SamplerState sampler;
  std::vector<TrainLogPoint> history;
};

Status save_checkpoint(const std::string& path, const CheckpointState& state, std::span<const float> params,
                       std::span<const float> adam_m, std::span<const float> adam_v);

struct LoadedCheckpoint {
  CheckpointState state;
  std::vector<float> params, adam_m, adam_v;  // in ParamLayout(state.options.model) order
};

Result<LoadedCheckpoint> load_checkpoint(const std::string& path);

}  // namespace tandem

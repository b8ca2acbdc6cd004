// Everything that decides a training run: model shape, optimizer, schedule,
// batch geometry, seed, threads. A checkpoint stores it whole, so a resume needs
// only the checkpoint and the dataset.
#pragma once

#include <cstdint>

#include "tandem/base/result.h"
#include "tandem/train/adamw.h"
#include "tandem/train/decoder_config.h"
#include "tandem/train/lr_schedule.h"

namespace tandem {

struct TrainOptions {
  DecoderConfig model;
  AdamWConfig adamw;
  LrSchedule schedule;         // schedule.total_steps is the run's length
  int64_t batch_size = 8;      // sequences per micro-batch
  int64_t seq_len = 0;         // tokens per sequence; 0: model.ctx
  int64_t grad_accum = 1;      // micro-batches per optimizer step
  float grad_clip = 1.0f;      // max global gradient norm; 0: no clipping
  uint64_t seed = 1;           // weights and data order
  int threads = 0;             // 0: the cores present. Results are repeatable for a fixed count.

  int64_t seq() const { return seq_len > 0 ? seq_len : model.ctx; }
  int64_t tokens_per_step() const { return batch_size * seq() * grad_accum; }
  Status validate() const;
};

}  // namespace tandem

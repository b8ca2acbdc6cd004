// Learning rate over optimizer steps: linear warmup from ~0 to the peak, then a
// half-cosine decay to the floor at the last step (Loshchilov & Hutter, SGDR,
// arXiv 1608.03983, without restarts), constant at the floor after it.
#pragma once

#include <cstdint>

#include "tandem/base/result.h"

namespace tandem {

struct LrSchedule {
  float peak = 3e-4f;
  float floor = 3e-5f;
  int64_t warmup_steps = 100;
  int64_t total_steps = 1000;

  // Rate for the update made at step (0-based): warmup gives peak * (step+1) / warmup.
  float at(int64_t step) const;
  Status validate() const;
};

}  // namespace tandem

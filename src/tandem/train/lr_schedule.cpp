// Warmup + cosine learning-rate schedule (see lr_schedule.h).
#include "tandem/train/lr_schedule.h"

#include <cmath>

namespace tandem {

float LrSchedule::at(int64_t step) const {
  if (step < warmup_steps) return peak * static_cast<float>(step + 1) / static_cast<float>(warmup_steps);
  const int64_t decay_steps = total_steps - warmup_steps;
  if (decay_steps <= 0 || step >= total_steps) return floor;
  const double progress = static_cast<double>(step - warmup_steps) / static_cast<double>(decay_steps);
  const double cosine = 0.5 * (1.0 + std::cos(M_PI * progress));
  return static_cast<float>(floor + (peak - floor) * cosine);
}

Status LrSchedule::validate() const {
  if (!(peak > 0.0f)) return make_error("lr schedule: peak learning rate ", peak, " must be positive");
  if (!(floor >= 0.0f && floor <= peak))
    return make_error("lr schedule: floor ", floor, " must be in [0, peak ", peak, "]");
  if (warmup_steps < 0 || total_steps <= 0)
    return make_error("lr schedule: warmup ", warmup_steps, " and total ", total_steps, " steps must be >= 0 and > 0");
  return ok_status();
}

}  // namespace tandem

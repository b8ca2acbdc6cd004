// The record of a training run: one point per optimizer step (loss, learning
// rate, gradient norm, speed, validation loss when measured), the progress line
// printed while training, and the loss curve written at the end as CSV and as an
// SVG plot that any browser opens (drawn here: axes, ticks, training loss with a
// smoothed line, validation points).
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "tandem/base/result.h"

namespace tandem {

struct TrainLogPoint {
  int64_t step = 0;           // optimizer steps done, this one included
  int64_t tokens = 0;         // training tokens seen so far
  double loss = 0;            // mean training loss over the step's tokens
  double lr = 0;              // learning rate of the step's update
  double grad_norm = 0;       // global gradient norm before clipping
  double tokens_per_s = 0;    // training speed over the step
  double val_loss = NAN;      // validation loss measured after the step, when measured
};

class TrainLog {
 public:
  void add(const TrainLogPoint& p) { points_.push_back(p); }
  // Records a validation loss on the latest point (which must be `step`).
  Status set_val_loss(int64_t step, double loss);
  const std::vector<TrainLogPoint>& points() const { return points_; }
  std::vector<TrainLogPoint>& points() { return points_; }

  std::string csv() const;  // header "step,tokens,loss,lr,grad_norm,tokens_per_s,val_loss"
  std::string svg(const std::string& title) const;
  Status write_csv(const std::string& path) const;
  Status write_svg(const std::string& path, const std::string& title) const;

 private:
  std::vector<TrainLogPoint> points_;
};

// "step 120/1000  loss 3.4521  lr 2.91e-04  |g| 0.84  1234 tok/s  ETA 12m03s"
std::string format_progress(const TrainLogPoint& p, int64_t total_steps, double eta_seconds);
// "1h02m03s", "12m03s", "42s"
std::string format_duration(double seconds);

}  // namespace tandem

// AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", arXiv
// 1711.05101) over the flat parameter buffer, in PyTorch's formulation:
//   p <- p * (1 - lr * wd)                     (decay only where ParamTensor::decay)
//   m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2
//   p <- p - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
// Weight decay applies to the matrices (embedding, projections, head) and not to
// the RMSNorm gains: decaying a gain pulls it toward 0, i.e. toward switching
// the layer off, which is not the prior we want (the common GPT-2/llama recipe).
//
// The global gradient norm is summed in fixed chunks in a fixed order, so
// clipping is bit-for-bit repeatable whatever the thread count.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "tandem/base/result.h"
#include "tandem/base/thread_pool.h"
#include "tandem/train/param_layout.h"

namespace tandem {

struct AdamWConfig {
  float beta1 = 0.9f;
  float beta2 = 0.95f;
  float eps = 1e-8f;
  float weight_decay = 0.1f;

  Status validate() const;
};

// sqrt(sum g^2) over the buffer (accumulated in double).
double global_grad_norm(ThreadPool& pool, std::span<const float> grads);

class AdamW {
 public:
  AdamW() = default;
  AdamW(const ParamLayout& layout, AdamWConfig config);

  // One update with learning rate lr; each gradient is first multiplied by
  // grad_scale (the clipping factor). Increments step().
  void update(ThreadPool& pool, std::span<float> params, std::span<const float> grads, float lr, float grad_scale);

  int64_t step() const { return step_; }  // updates done so far (t of the bias correction)
  std::span<float> m() { return m_; }
  std::span<float> v() { return v_; }
  std::span<const float> m() const { return m_; }
  std::span<const float> v() const { return v_; }
  // For checkpoints: restores the moments and the step count.
  Status restore(std::span<const float> m, std::span<const float> v, int64_t step);

 private:
  AdamWConfig config_;
  std::vector<float> m_, v_;
  struct Segment {
    int64_t begin, end;  // element range of one tensor
    bool decay;
  };
  std::vector<Segment> segments_;  // in buffer order
  int64_t step_ = 0;
};

}  // namespace tandem

// Rotary position embedding for training, in the engine's NORM style (rotate
// adjacent pairs (x[2i], x[2i+1]) by pos * base^(-2i/head_dim); RoFormer, Su et
// al. 2021, arXiv 2104.09864). Angles, cosines and sines are computed in float
// exactly as the engine computes them, so an exported model sees the same
// rotation. The backward pass applies the transposed rotation (angle -theta)
// with the very same cos/sin values, so it is the exact adjoint.
#pragma once

#include <cstdint>
#include <vector>

#include "tandem/base/thread_pool.h"

namespace tandem {

class RopeTable {
 public:
  RopeTable() = default;
  RopeTable(int64_t n_pos, int64_t head_dim, float base);

  int64_t n_pos() const { return n_pos_; }
  int64_t half() const { return half_; }
  const float* cos(int64_t pos) const { return cos_.data() + pos * half_; }  // (half)
  const float* sin(int64_t pos) const { return sin_.data() + pos * half_; }

 private:
  int64_t n_pos_ = 0, half_ = 0;
  std::vector<float> cos_, sin_;  // (n_pos, head_dim / 2)
};

// Rotates in place n_heads heads of head_dim values in each of n_rows rows; row i
// starts at x + i * ld and holds position i % seq_len (rows are B sequences of
// seq_len tokens). inverse = true rotates by -theta (the backward pass).
template <class Real>
void rope_apply(ThreadPool& pool, const RopeTable& table, Real* x, int64_t ld, int64_t n_rows, int64_t seq_len,
                int64_t n_heads, int64_t head_dim, bool inverse);

}  // namespace tandem

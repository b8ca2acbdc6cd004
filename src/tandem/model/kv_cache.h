// The key/value cache of one sequence: for each layer, the keys and values of
// every position evaluated so far. Truncating it to an earlier position is how a
// sequence rolls back (speculative decoding rejects draft tokens this way).
#pragma once

#include <cstdint>

#include "tandem/base/page_buffer.h"
#include "tandem/base/result.h"
#include "tandem/tensor/float_kernels.h"

namespace tandem {

class KvCache {
 public:
  KvCache() = default;
  // Keys and values live in a PageBuffer: zero pages until written, huge pages
  // where the kernel offers them (attention reads every cached position of
  // every layer per token). Elements are floats, or fp16 with f16 (half the
  // memory and the bytes attention reads; keys16 / values16 then). Throws
  // std::bad_alloc when the memory cannot be had, as a std::vector would.
  KvCache(int64_t n_layer, int64_t n_ctx, int64_t n_embd_kv, bool f16 = false);

  int64_t n_ctx() const { return n_ctx_; }
  int64_t n_past() const { return n_past_; }
  int64_t n_embd_kv() const { return n_embd_kv_; }

  // One layer's keys, transposed in blocks of kKeyBlock positions
  // (float_kernels.h): component c of position j at
  // keys(layer)[(j / kKeyBlock) * key_block_stride() + c * kKeyBlock + j % kKeyBlock],
  // so attention reads a vector of positions per component, and a block of
  // one head's keys is contiguous. Values: (n_ctx, n_embd_kv), position j's
  // row at values(layer) + j * n_embd_kv(). Positions below n_past() are valid.
  int64_t key_block_stride() const { return n_embd_kv_ * kKeyBlock; }
  static int64_t key_index(int64_t j, int64_t c, int64_t n_embd_kv) {
    return (j / kKeyBlock) * n_embd_kv * kKeyBlock + c * kKeyBlock + j % kKeyBlock;
  }
  // Float caches only:
  float* keys(int64_t layer) { return static_cast<float*>(k_) + layer * layer_elems(); }
  float* values(int64_t layer) { return static_cast<float*>(v_) + layer * layer_elems(); }
  const float* keys(int64_t layer) const { return static_cast<const float*>(k_) + layer * layer_elems(); }
  const float* values(int64_t layer) const { return static_cast<const float*>(v_) + layer * layer_elems(); }
  // fp16 caches only, same layouts:
  bool f16() const { return f16_; }
  uint16_t* keys16(int64_t layer) { return static_cast<uint16_t*>(k_) + layer * layer_elems(); }
  uint16_t* values16(int64_t layer) { return static_cast<uint16_t*>(v_) + layer * layer_elems(); }

  // Forgets every position from n on. n above n_past() is an error.
  Status truncate(int64_t n);
  // Marks n more positions as valid once their keys and values are written.
  void advance(int64_t n) { n_past_ += n; }
  size_t bytes() const { return buf_.size(); }

 private:
  // Elements of one layer's keys (or values): n_ctx rounded up to whole key blocks.
  int64_t layer_elems() const { return (n_ctx_ + kKeyBlock - 1) / kKeyBlock * kKeyBlock * n_embd_kv_; }
  int64_t n_ctx_ = 0, n_embd_kv_ = 0, n_past_ = 0;
  bool f16_ = false;
  PageBuffer buf_;  // keys of every layer, then values
  void* k_ = nullptr;
  void* v_ = nullptr;
};

}  // namespace tandem

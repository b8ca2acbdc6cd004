// The key/value cache of one sequence: for each layer, the keys and values of
// every position evaluated so far. Truncating it to an earlier position is how a
// sequence rolls back (speculative decoding rejects draft tokens this way).
#pragma once

#include <cstdint>

#include "tandem/base/page_buffer.h"
#include "tandem/base/result.h"

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

  // One layer's keys, transposed: (n_embd_kv, n_ctx), component c of position j
  // at keys(layer)[c * n_ctx() + j] (attention reads a vector of positions per
  // component). Values: (n_ctx, n_embd_kv), position j's row at values(layer) + j * n_embd_kv().
  // Positions below n_past() are valid.
  // Float caches only:
  float* keys(int64_t layer) { return static_cast<float*>(k_) + layer * n_ctx_ * n_embd_kv_; }
  float* values(int64_t layer) { return static_cast<float*>(v_) + layer * n_ctx_ * n_embd_kv_; }
  const float* keys(int64_t layer) const { return static_cast<const float*>(k_) + layer * n_ctx_ * n_embd_kv_; }
  const float* values(int64_t layer) const { return static_cast<const float*>(v_) + layer * n_ctx_ * n_embd_kv_; }
  // fp16 caches only, same layouts:
  bool f16() const { return f16_; }
  uint16_t* keys16(int64_t layer) { return static_cast<uint16_t*>(k_) + layer * n_ctx_ * n_embd_kv_; }
  uint16_t* values16(int64_t layer) { return static_cast<uint16_t*>(v_) + layer * n_ctx_ * n_embd_kv_; }

  // Forgets every position from n on. n above n_past() is an error.
  Status truncate(int64_t n);
  // Marks n more positions as valid once their keys and values are written.
  void advance(int64_t n) { n_past_ += n; }
  size_t bytes() const { return buf_.size(); }

 private:
  int64_t n_ctx_ = 0, n_embd_kv_ = 0, n_past_ = 0;
  bool f16_ = false;
  PageBuffer buf_;  // keys of every layer, then values
  void* k_ = nullptr;
  void* v_ = nullptr;
};

}  // namespace tandem

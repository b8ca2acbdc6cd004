#include "tandem/model/kv_cache.h"

#include <new>
#include <utility>

namespace tandem {

KvCache::KvCache(int64_t n_layer, int64_t n_ctx, int64_t n_embd_kv) : n_ctx_(n_ctx), n_embd_kv_(n_embd_kv) {
  const auto half = static_cast<size_t>(n_layer) * static_cast<size_t>(n_ctx) * static_cast<size_t>(n_embd_kv);
  auto buf = PageBuffer::allocate(2 * half * sizeof(float));
  if (!buf) throw std::bad_alloc();
  buf_ = std::move(*buf);
  k_ = reinterpret_cast<float*>(buf_.data());
  v_ = k_ + half;
}

Status KvCache::truncate(int64_t n) {
  if (n < 0 || n > n_past_)
    return make_error("kv cache: cannot truncate to position ", n, ": the sequence holds ", n_past_, " positions");
  n_past_ = n;
  return ok_status();
}

}  // namespace tandem

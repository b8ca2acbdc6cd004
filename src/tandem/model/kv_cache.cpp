#include "tandem/model/kv_cache.h"

#include <new>
#include <utility>

namespace tandem {

KvCache::KvCache(int64_t n_layer, int64_t n_ctx, int64_t n_embd_kv, bool f16)
    : n_ctx_(n_ctx), n_embd_kv_(n_embd_kv), f16_(f16) {
  const size_t elem = f16 ? sizeof(uint16_t) : sizeof(float);
  const auto half = static_cast<size_t>(n_layer) * static_cast<size_t>(layer_elems()) * elem;
  auto buf = PageBuffer::allocate(2 * half);
  if (!buf) throw std::bad_alloc();
  buf_ = std::move(*buf);
  k_ = buf_.data();
  v_ = buf_.data() + half;
}

Status KvCache::truncate(int64_t n) {
  if (n < 0 || n > n_past_)
    return make_error("kv cache: cannot truncate to position ", n, ": the sequence holds ", n_past_, " positions");
  n_past_ = n;
  return ok_status();
}

}  // namespace tandem

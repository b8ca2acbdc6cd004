#include "tandem/model/kv_cache.h"

namespace tandem {

KvCache::KvCache(int64_t n_layer, int64_t n_ctx, int64_t n_embd_kv)
    : n_ctx_(n_ctx),
      n_embd_kv_(n_embd_kv),
      k_(static_cast<size_t>(n_layer * n_ctx * n_embd_kv)),
      v_(static_cast<size_t>(n_layer * n_ctx * n_embd_kv)) {}

Status KvCache::truncate(int64_t n) {
  if (n < 0 || n > n_past_)
    return make_error("kv cache: cannot truncate to position ", n, ": the sequence holds ", n_past_, " positions");
  n_past_ = n;
  return ok_status();
}

}  // namespace tandem

// Validation and parameter counting of the trainer's decoder shape.
#include "tandem/train/decoder_config.h"

namespace tandem {

int64_t DecoderConfig::n_params() const {
  const int64_t per_layer = 2 * dim + dim * qkv_width() + q_width() * dim + 3 * dim * ffn;
  return vocab * dim * (tied ? 1 : 2) + dim + n_layers * per_layer;
}

Status DecoderConfig::validate() const {
  if (dim <= 0 || n_layers <= 0 || n_heads <= 0 || n_kv_heads <= 0 || ffn <= 0 || vocab <= 0 || ctx <= 0)
    return make_error("decoder config: every size must be positive (dim ", dim, ", layers ", n_layers, ", heads ", n_heads,
                      ", kv heads ", n_kv_heads, ", ffn ", ffn, ", vocab ", vocab, ", ctx ", ctx, ")");
  if (dim % n_heads != 0) return make_error("decoder config: dim ", dim, " is not a multiple of heads ", n_heads);
  if (n_heads % n_kv_heads != 0)
    return make_error("decoder config: kv heads ", n_kv_heads, " must divide heads ", n_heads);
  if (head_dim() % 2 != 0) return make_error("decoder config: head size ", head_dim(), " must be even for RoPE");
  if (!(rope_base > 0.0f)) return make_error("decoder config: rope base ", rope_base, " must be positive");
  if (!(rms_eps > 0.0f)) return make_error("decoder config: rms eps ", rms_eps, " must be positive");
  return ok_status();
}

}  // namespace tandem

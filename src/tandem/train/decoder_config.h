// Shape of a llama-style decoder as the trainer builds it: the hyperparameters a
// person chooses for a house model (dim, layers, heads, ...). The exporter maps
// them onto the GGUF keys the engine reads (llama.embedding_length, ...), so a
// trained model loads in the engine with exactly these values.
#pragma once

#include <cstdint>

#include "tandem/base/result.h"

namespace tandem {

struct DecoderConfig {
  int64_t dim = 384;       // embedding width (llama.embedding_length)
  int64_t n_layers = 6;    // llama.block_count
  int64_t n_heads = 6;     // query heads (llama.attention.head_count)
  int64_t n_kv_heads = 2;  // key/value heads, GQA (llama.attention.head_count_kv)
  int64_t ffn = 1024;      // SwiGLU hidden width (llama.feed_forward_length)
  int64_t vocab = 4096;    // tokens (rows of token_embd.weight)
  int64_t ctx = 256;       // longest training sequence (llama.context_length)
  float rope_base = 10000.0f;
  float rms_eps = 1e-5f;
  bool tied = false;  // the token embedding doubles as the output head (no output.weight)

  int64_t head_dim() const { return dim / n_heads; }
  int64_t q_width() const { return n_heads * head_dim(); }      // == dim
  int64_t kv_width() const { return n_kv_heads * head_dim(); }
  int64_t qkv_width() const { return q_width() + 2 * kv_width(); }
  // Trainable parameters (embedding and head counted once when tied).
  int64_t n_params() const;

  // Checks what the forward pass and the engine rely on: positive sizes, heads
  // dividing dim, kv heads dividing heads, an even head size (RoPE pairs).
  Status validate() const;
};

}  // namespace tandem

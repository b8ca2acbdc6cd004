// Hyperparameters of a decoder model, read from GGUF metadata under the
// architecture's prefix ("llama.embedding_length", ...). Every value the forward
// pass uses comes from here; missing optional keys take the reference's defaults.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tandem/base/result.h"

namespace tandem {

class GgufFile;

enum class RopeStyle {
  kNorm,  // rotate adjacent pairs (x[2i], x[2i+1]): llama-family GGUFs (Q/K permuted at conversion)
  kNeox,  // rotate halves (x[i], x[i + d/2]): qwen2
};

struct ModelConfig {
  std::string arch;  // general.architecture
  int64_t n_vocab = 0;
  int64_t n_ctx_train = 0;
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_ff = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim = 0;    // key/value length per head
  int64_t n_rot = 0;       // rope dimension count
  float rope_freq_base = 10000.0f;
  float rope_freq_scale = 1.0f;  // 1 / linear scaling factor
  // Per rotated pair i: its angle is divided by factor[i] (tensor rope_freqs.weight,
  // n_rot / 2 values, which Llama 3.1+ converters write for "llama3" rope
  // scaling); empty when the file has none.
  std::vector<float> rope_freq_factors;
  float rms_eps = 1e-5f;
  RopeStyle rope = RopeStyle::kNorm;
  bool attn_bias = false;   // q/k/v biases (qwen2)
  bool tied_output = false; // no output.weight: the token embedding is the output head

  int64_t n_embd_q() const { return n_head * head_dim; }
  int64_t n_embd_kv() const { return n_head_kv * head_dim; }
  // The angle per position of each rotated pair: freq_scale * base^(-2i / n_rot)
  // / factor[i], as the reference computes it.
  std::vector<float> rope_inv_freq() const;

  // Reads and checks the hyperparameters; n_vocab comes from the tokenizer or
  // token_embd when the metadata has no vocab_size.
  static Result<ModelConfig> from_gguf(const GgufFile& f);
};

}  // namespace tandem

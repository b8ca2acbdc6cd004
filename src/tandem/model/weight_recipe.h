// Which GGUF type each matrix of a model is stored in: one type for all of
// them, or one of the reference's *_K_M mixes, which keep some matrices in
// Q6_K. Shared by `tandem gguf synth` (random weights) and `tandem gguf
// convert` (an existing model in another type).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tandem/base/result.h"
#include "tandem/gguf/ggml_type.h"

namespace tandem {

struct WeightRecipe {
  GgmlType type = GgmlType::F32;
  // *_K_M: attn_v and ffn_down of the layers more_bits() picks, in Q6_K.
  bool k_mix = false;

  // general.file_type in the reference's numbering (LLAMA_FTYPE_*).
  int file_type() const;
  // The reference quantizer's rule for which layers of n get more bits in *_K_M files.
  static bool more_bits(int64_t layer, int64_t n_layers);
};

// Parses a --type value: a GGUF type name (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0,
// Q5_1, Q4_K, Q5_K, Q6_K) or a mix (Q4_K_M, Q5_K_M), case-insensitive.
Result<WeightRecipe> parse_weight_recipe(const std::string& name);

// The layer of a tensor named "blk.N. ...", or -1.
int64_t tensor_layer(std::string_view name);

}  // namespace tandem

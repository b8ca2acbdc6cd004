// Rewrites a decoder model's weights in another type, choosing each matrix's
// type as the reference's quantizer does without an importance matrix:
// - 2-D tensors whose names end in "weight" (not norms) take the recipe's type;
// - a quantized recipe stores the output head (the token embedding when tied)
//   in Q6_K unless the recipe is Q8_0, and *_K_M keeps attn_v and ffn_down of
//   the layers WeightRecipe::more_bits picks in Q6_K;
// - a K-quant whose rows are not a multiple of 256 falls back (Q4_K -> Q5_0,
//   Q5_K -> Q5_1, Q6_K -> Q8_0, then F16);
// - everything else (norms, biases, rope factors, metadata) is copied, and
//   general.file_type names the recipe.
// Weights pass through float32: dequantized, then quantized again.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "tandem/base/result.h"
#include "tandem/model/weight_recipe.h"

namespace tandem {

class GgufFile;
class ThreadPool;

struct ConvertSummary {
  std::map<GgmlType, int> tensors_by_type;  // the output's tensors per type
  int converted = 0;                        // tensors whose type changed
  uint64_t bytes_in = 0, bytes_out = 0;     // tensor data
};

// The type the recipe gives tensor `name` of shape (n_in, ...) and `n_dims`
// dimensions stored as `current`, in a model of n_layers (tied: no output.weight).
GgmlType converted_type(const WeightRecipe& r, const std::string& name, int n_dims, int64_t n_in, GgmlType current,
                        int64_t n_layers, bool tied);

// Reads `in` (a model the engine runs), writes `out` under a temporary name and
// renames it; one tensor's output is in memory at a time.
// A tensor's rows are quantized on every thread of `pool` (the bytes do not
// depend on how many).
Result<ConvertSummary> convert_model(const std::string& in, const std::string& out, const WeightRecipe& r,
                                     ThreadPool& pool);

}  // namespace tandem

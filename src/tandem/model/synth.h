// Writes a llama-architecture GGUF with random weights and a real tokenizer
// (copied from a vocabulary GGUF): models of any shape and weight type for
// benchmarks and tests, laid out as the reference's converter lays them out.
#pragma once

#include <cstdint>
#include <string>

#include "tandem/base/result.h"
#include "tandem/gguf/ggml_type.h"

namespace tandem {

struct SynthParams {
  std::string arch = "llama";  // llama or qwen2 (q/k/v biases)
  int64_t dim = 256;
  int64_t layers = 2;
  int64_t heads = 8;
  int64_t kv_heads = 0;  // 0: same as heads
  int64_t ffn = 512;
  int64_t ctx = 2048;
  float rope_base = 10000.0f;
  float rms_eps = 1e-5f;
  bool tied = false;
  GgmlType type = GgmlType::F32;  // 2-D weights; norms and biases stay F32
  // The reference's *_K_M recipe: output.weight, and attn_v / ffn_down of the
  // layers use_more_bits() picks, in Q6_K; everything else in `type`.
  bool k_mix = false;
  std::string vocab_from;         // GGUF whose tokenizer.ggml.* is copied
  uint64_t seed = 42;
};

// Parses a --type value: a GGUF type name (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0,
// Q5_1, Q4_K, Q5_K, Q6_K) or a mix (Q4_K_M, Q5_K_M); sets type and k_mix.
Status parse_synth_type(const std::string& name, SynthParams& p);

// Writes the model to path. Errors name the bad parameter or file.
Status synth_model(const SynthParams& p, const std::string& path);

}  // namespace tandem

// Export of trained weights as a GGUF `llama` model that the engine (and any
// GGUF reader) loads: the metadata keys and tensor names of the fixtures in
// ../shared/fixtures/models (llama.embedding_length, llama.attention.head_count_kv,
// llama.rope.freq_base, ..., token_embd.weight, blk.N.attn_q.weight, ...,
// output.weight unless tied), matrices in ggml order [n_in, n_out]. The
// tokenizer is copied in as tokenizer.ggml.* metadata from another file.
//
// Types: F32, F16 or Q8_0 for the 2-D weights through the tensor layer's
// reference quantizers (ggml's round-to-nearest, the bytes llama-quantize
// writes); the RMSNorm gains stay F32, as llama-quantize leaves them. A matrix
// whose rows are not a whole number of 32-value Q8_0 blocks falls back to F16.
#pragma once

#include <span>
#include <string>
#include <utility>
#include <vector>

#include "tandem/base/result.h"
#include "tandem/gguf/ggml_type.h"
#include "tandem/gguf/gguf_value.h"
#include "tandem/train/decoder_config.h"

namespace tandem {

class GgufFile;

using GgufMetadata = std::vector<std::pair<std::string, GgufValue>>;

struct ExportOptions {
  GgmlType type = GgmlType::F32;  // F32, F16 or Q8_0
  std::string name = "tandem";    // general.name
  GgufMetadata tokenizer;         // tokenizer.ggml.* entries; tokens must number config.vocab
};

// The tokenizer.* entries of a GGUF file, in file order (to copy into an export).
GgufMetadata tokenizer_metadata(const GgufFile& f);

// params: the trainer's flat buffer (ParamLayout(config) order).
Status export_gguf(const std::string& path, const DecoderConfig& config, std::span<const float> params,
                   const ExportOptions& options);

}  // namespace tandem

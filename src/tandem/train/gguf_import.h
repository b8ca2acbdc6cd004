// The reverse of gguf_export: a llama-family GGUF model (from tandem or any
// other writer) as the trainer's config and flat F32 parameters, dequantized
// from whatever compute type the file holds. Starting points for fine-tuning
// and for distillation into an existing student (`tandem distill --student
// S.gguf`). Hyperparameters are read and checked by the engine's own parser
// (ModelConfig::from_gguf); what the trainer cannot represent is an error: NEOX
// rope (qwen2), q/k/v biases, partial rotary dimensions, rope scaling.
#pragma once

#include <string>
#include <vector>

#include "tandem/base/result.h"
#include "tandem/train/decoder_config.h"
#include "tandem/train/gguf_export.h"

namespace tandem {

struct ImportedModel {
  DecoderConfig config;
  std::vector<float> params;  // ParamLayout(config) order
  GgufMetadata tokenizer;     // the file's tokenizer.* entries, for a later export
  std::string name;           // general.name
};

Result<ImportedModel> import_gguf(const std::string& path);

}  // namespace tandem

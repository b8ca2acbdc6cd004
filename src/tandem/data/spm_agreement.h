// Agreement between tandem's llama.cpp-style tokenizer and sentencepiece's own
// encoder on the same model: both encode each line (no BOS/EOS) and the id
// sequences must be equal. This is how the house tokenizer's GGUF conversion
// is checked, on held-out text, and the figure reported for it.
//
// One known divergence, by design of the two encoders: invalid UTF-8.
// Sentencepiece replaces each malformed byte with U+FFFD before encoding, while
// the llama tokenizer encodes the raw byte as its byte piece. Valid UTF-8
// text never meets it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/result.h"

namespace tandem {

class Tokenizer;

struct SpmAgreement {
  int64_t lines = 0;
  int64_t equal = 0;        // lines whose id sequences are identical
  int64_t round_trips = 0;  // lines for which our decode(encode(line)) == line
  int64_t bytes = 0;        // of the lines, newlines not counted
  int64_t tokens = 0;       // our ids, no BOS/EOS
  int64_t spm_tokens = 0;   // sentencepiece's ids
  std::vector<std::string> mismatches;  // the first few, described for a person

  double rate() const { return lines == 0 ? 1.0 : static_cast<double>(equal) / static_cast<double>(lines); }
  double tokens_per_byte() const { return bytes == 0 ? 0.0 : static_cast<double>(tokens) / static_cast<double>(bytes); }
};

// `model_proto`: the serialized sentencepiece model that `ours` was converted from.
Result<SpmAgreement> compare_with_sentencepiece(std::string_view model_proto, const Tokenizer& ours,
                                                std::span<const std::string> lines, size_t max_reported = 5);

}  // namespace tandem

// Byte-level BPE (GPT-2 style, tokenizer.ggml.model = "gpt2"): text is split by
// the pre-tokenizer named in tokenizer.ggml.pre, each piece's bytes are mapped to
// printable code points (GPT-2's bytes_to_unicode), then merged by merge rank.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/result.h"
#include "tandem/tokenizer/vocab.h"

namespace tandem {

class BpeEncoder {
 public:
  // Fails for an unknown pre-tokenizer name or a malformed merge.
  static Result<BpeEncoder> create(const Vocab& vocab);
  ~BpeEncoder();
  BpeEncoder(BpeEncoder&&) noexcept;
  BpeEncoder& operator=(BpeEncoder&&) noexcept;

  // Encodes one fragment of raw text (special tokens already split off), appending ids.
  void encode(std::string_view text, std::vector<int32_t>& out) const;

 private:
  struct Impl;
  explicit BpeEncoder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The raw bytes a byte-level token text stands for (inverse of bytes_to_unicode).
std::string bpe_token_to_bytes(std::string_view token_text);

}  // namespace tandem

// SentencePiece-style BPE ("llama" tokenizer model: Llama 1/2, Mistral,
// TinyLlama, Phi-3) as llama.cpp applies it: spaces become U+2581 ("▁"), an
// optional dummy "▁" is prepended, the text is split into UTF-8 characters and
// the adjacent pair whose concatenation is the highest-scoring token is merged
// until no pair is a token; characters that never became a token fall back to
// byte tokens <0xXX>.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "tandem/base/result.h"
#include "tandem/tokenizer/vocab.h"

namespace tandem {

class SpmEncoder {
 public:
  // Copies what it needs from the vocabulary (it need not outlive the encoder).
  // Fails when scores or types do not match the token list.
  static Result<SpmEncoder> create(const Vocab& vocab);
  ~SpmEncoder();
  SpmEncoder(SpmEncoder&&) noexcept;
  SpmEncoder& operator=(SpmEncoder&&) noexcept;

  // Encodes one fragment of raw text (special tokens already split off),
  // appending ids. dummy_prefix prepends the SentencePiece dummy space; the
  // reference does so (when the vocabulary's add_space_prefix is set) for the
  // first fragment and for each fragment that follows a special token.
  void encode(std::string_view fragment, std::vector<int32_t>& out, bool dummy_prefix = false) const;

 private:
  struct Impl;
  explicit SpmEncoder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tandem

// The tokenizer of a model, read from its GGUF metadata, encoding and decoding
// exactly as the reference implementation (llama.cpp) does: SentencePiece-style
// BPE ("llama"), byte-level BPE ("gpt2", with per-family pre-tokenizers) and
// WordPiece ("bert"). Special tokens are split off first: user-defined tokens
// always, control and unknown tokens only when parse_special is set (as in the
// reference); BOS/EOS are added as the vocabulary's flags say when add_special
// is set (BERT: [CLS] ... [SEP] whenever add_special is set).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/result.h"
#include "tandem/tokenizer/vocab.h"

namespace tandem {

class GgufFile;

struct EncodeOptions {
  bool add_special = true;     // add BOS/EOS (or CLS/SEP) as the vocabulary says
  bool parse_special = false;  // also recognise control/unknown token texts (user-defined ones always are)
};

struct DecodeOptions {
  bool remove_special = false;  // drop a leading BOS and trailing EOS (when the vocabulary adds them)
  bool unparse_special = false;  // render control tokens' text instead of nothing
};

class Tokenizer {
 public:
  static Result<Tokenizer> from_gguf(const GgufFile& f);
  static Result<Tokenizer> from_vocab(Vocab vocab);
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  std::vector<int32_t> encode(std::string_view text, const EncodeOptions& opt = {}) const;
  std::string decode(const std::vector<int32_t>& ids, const DecodeOptions& opt = {}) const;
  // The text of one token as it appears in output (byte fallback and byte-level mapping undone).
  std::string token_to_piece(int32_t id, bool unparse_special = false) const;

  const Vocab& vocab() const;
  int32_t n_vocab() const;

 private:
  struct Impl;
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tandem

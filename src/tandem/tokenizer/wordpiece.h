// WordPiece ("bert" tokenizer model: BGE, MiniLM) as llama.cpp's WPM tokenizer
// applies it. Text is normalized per code point (the first code point of its
// canonical decomposition, so accents on precomposed letters fall away;
// lowercased), split on whitespace, and every punctuation mark, ASCII symbol
// and CJK ideograph becomes a word of its own; control characters vanish. Each
// word is matched greedily, longest token first, against the vocabulary as
// llama.cpp's converter stores it: a word-initial piece carries a "▁" prefix
// (BERT's "word"), a continuation piece is bare (BERT's "##word"). A word with
// an unmatched position becomes the unknown token as a whole.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/result.h"
#include "tandem/tokenizer/vocab.h"

namespace tandem {

class WordPieceEncoder {
 public:
  // Copies what it needs from the vocabulary (it need not outlive the encoder).
  static Result<WordPieceEncoder> create(const Vocab& vocab);
  ~WordPieceEncoder();
  WordPieceEncoder(WordPieceEncoder&&) noexcept;
  WordPieceEncoder& operator=(WordPieceEncoder&&) noexcept;

  // Encodes one fragment of raw text (special tokens already split off), appending ids.
  void encode(std::string_view text, std::vector<int32_t>& out) const;

  // The normalized words a text splits into (BERT's basic tokenizer step).
  static std::vector<std::string> split_words(std::string_view text);

 private:
  struct Impl;
  explicit WordPieceEncoder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tandem

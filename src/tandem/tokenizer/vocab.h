// A tokenizer vocabulary as stored in GGUF metadata (tokenizer.ggml.*): the
// model type, token texts, scores, token types, BPE merges, special token ids
// and flags. Immutable once loaded; every encoder reads from it.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "tandem/base/result.h"

namespace tandem {

class GgufFile;

enum class TokenizerModel { kSpm, kBpe, kWordPiece };

// tokenizer.ggml.token_type values (llama.cpp's numbering).
enum class TokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

struct Vocab {
  TokenizerModel model = TokenizerModel::kSpm;
  std::string model_name;  // tokenizer.ggml.model as written
  std::string pre;         // tokenizer.ggml.pre ("" when absent: the default pre-tokenizer)
  std::vector<std::string> tokens;
  std::vector<float> scores;      // empty when absent
  std::vector<TokenType> types;   // kNormal for all when absent
  std::vector<std::string> merges;  // "left right", BPE only
  std::unordered_map<std::string, int32_t> token_to_id;

  int32_t bos = -1, eos = -1, unk = -1, sep = -1, pad = -1, cls = -1, mask = -1, eot = -1;
  bool add_bos = false;
  bool add_eos = false;
  bool add_space_prefix = true;  // SentencePiece's dummy prefix
  bool remove_extra_whitespaces = false;

  int32_t size() const { return static_cast<int32_t>(tokens.size()); }
  int32_t find(const std::string& text) const {
    auto it = token_to_id.find(text);
    return it == token_to_id.end() ? -1 : it->second;
  }
  TokenType type(int32_t id) const { return types[static_cast<size_t>(id)]; }

  // Reads and validates tokenizer.ggml.* (ids in range, array lengths equal).
  static Result<Vocab> from_gguf(const GgufFile& f);
};

}  // namespace tandem

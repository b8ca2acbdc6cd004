// A tokenizer vocabulary as stored in GGUF metadata (tokenizer.ggml.*): the
// model type, token texts, scores, token types, BPE merges, special token ids
// and flags. Immutable once loaded; every encoder reads from it. Loading applies
// the reference's (llama.cpp's) per-model defaults and fix-ups, because the
// token ids a model was trained on depend on them.
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

// Per-token whitespace stripping around a special token found in the input
// (the reference's LSTRIP/RSTRIP attributes; GGUF does not store them, the
// loader sets them per model family, e.g. Phi-3).
enum TokenStrip : uint8_t {
  kStripNone = 0,
  kStripLeft = 1,   // drop whitespace just before the token
  kStripRight = 2,  // drop whitespace just after the token
};

struct Vocab {
  TokenizerModel model = TokenizerModel::kSpm;
  std::string model_name;  // tokenizer.ggml.model as written
  std::string pre;         // tokenizer.ggml.pre ("" when absent: the default pre-tokenizer)
  std::vector<std::string> tokens;
  std::vector<float> scores;      // empty when absent
  std::vector<TokenType> types;   // kNormal for all when absent
  std::vector<uint8_t> strip;     // TokenStrip bits per token; empty when no token has any
  std::vector<std::string> merges;  // "left right", BPE only
  std::unordered_map<std::string, int32_t> token_to_id;

  int32_t bos = -1, eos = -1, unk = -1, sep = -1, pad = -1, cls = -1, mask = -1, eot = -1, eom = -1;
  int32_t fim_pre = -1, fim_suf = -1, fim_mid = -1, fim_pad = -1, fim_rep = -1, fim_sep = -1;
  bool add_bos = false;
  bool add_eos = false;
  bool add_space_prefix = true;  // SentencePiece's dummy prefix
  bool remove_extra_whitespaces = false;
  bool clean_spaces = false;   // decoding removes the space before ?!., and in contractions
  bool ignore_merges = false;  // BPE: a pre-token that is itself a token is not merged (Llama 3)

  int32_t size() const { return static_cast<int32_t>(tokens.size()); }
  int32_t find(const std::string& text) const {
    auto it = token_to_id.find(text);
    return it == token_to_id.end() ? -1 : it->second;
  }
  TokenType type(int32_t id) const { return types[static_cast<size_t>(id)]; }
  uint8_t strip_of(int32_t id) const { return strip.empty() ? uint8_t{kStripNone} : strip[static_cast<size_t>(id)]; }

  // Fills token_to_id from tokens, and types (kNormal) and scores (0) when they
  // are empty: for vocabularies built in code. Fails on a duplicated token text
  // or arrays of different lengths.
  Status build_index();

  // Reads and validates tokenizer.ggml.* (ids in range, array lengths equal).
  static Result<Vocab> from_gguf(const GgufFile& f);
};

}  // namespace tandem

// The tokenizer facade: splits special tokens out of the input the way
// llama.cpp's tokenizer_st_partition does, hands the text in between to the
// model's encoder (SentencePiece BPE, byte-level BPE or WordPiece), adds
// BOS/EOS (CLS/SEP) as the vocabulary says, and decodes like llama.cpp's
// token_to_piece/detokenize, so ids and text agree with the reference.
#include "tandem/tokenizer/tokenizer.h"

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <unordered_map>

#include "tandem/gguf/gguf_file.h"
#include "tandem/tokenizer/bpe.h"
#include "tandem/tokenizer/spm.h"
#include "tandem/tokenizer/wordpiece.h"

namespace tandem {
namespace {

// A piece of the input: a special token, or raw text [off, off + len).
struct Fragment {
  int32_t token;  // -1 for raw text
  size_t off;
  size_t len;
};

// The C locale's isspace, which the reference uses for LSTRIP/RSTRIP.
bool is_c_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

bool is_special_type(TokenType t) {
  return t == TokenType::kControl || t == TokenType::kUserDefined || t == TokenType::kUnknown;
}

std::string replace_escaped_spaces(const std::string& text) {
  static constexpr std::string_view kEscapedSpace = "\xe2\x96\x81";
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (text.compare(i, kEscapedSpace.size(), kEscapedSpace) == 0) {
      out.push_back(' ');
      i += kEscapedSpace.size();
    } else {
      out.push_back(text[i++]);
    }
  }
  return out;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The reference's clean_up_tokenization_spaces, three in-place passes over the
// decoded bytes: " ?" " !" " ." " ," lose the space; a lone "'" between spaces
// takes both spaces with it; " 's" " 'm" " 're" " 've" lose the space.
void clean_spaces(std::string& s) {
  size_t total = s.size();
  // First pass.
  {
    const size_t n = total;
    total = n ? 1 : 0;
    for (size_t i = 1; i < n; ++i) {
      const char x = s[i];
      if (s[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) --total;
      s[total++] = x;
    }
  }
  // Second pass. The space after the apostrophe is blanked in place (as NUL)
  // and skipped; the next step's look-behind then sees that NUL, as in the reference.
  {
    const size_t n = total;
    total = n ? 1 : 0;
    for (size_t i = 1; i < n; ++i) {
      const char x = s[i];
      if (x == '\'' && i + 1 < n && s[i - 1] == ' ' && s[i + 1] == ' ') {
        --total;
        s[++i] = '\0';
      }
      s[total++] = x;
    }
  }
  // Third pass.
  {
    const size_t n = total;
    total = n ? 1 : 0;
    for (size_t i = 1; i < n; ++i) {
      const char x = s[i];
      if (s[i - 1] == ' ' && x == '\'' && i + 1 < n) {
        const char x1 = s[i + 1];
        if (x1 == 's' || x1 == 'm') {
          --total;
        } else if (x1 != 't' && x1 != 'd' && i + 2 < n) {
          const char x2 = s[i + 2];
          if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) --total;
        }
      }
      s[total++] = x;
    }
  }
  s.resize(total);
}

}  // namespace

struct Tokenizer::Impl {
  Vocab vocab;
  std::optional<SpmEncoder> spm;
  std::optional<BpeEncoder> bpe;
  std::optional<WordPieceEncoder> wordpiece;
  // Control, user-defined and unknown tokens, longest text first.
  std::vector<int32_t> specials;
  // A byte trie over the special texts, to find which of them occur in an
  // input at all in one pass; vocabularies with thousands of user-defined
  // tokens (DeepSeek) would otherwise search a long input thousands of times.
  std::array<bool, 256> trie_first{};
  std::unordered_map<uint64_t, int32_t> trie_edges;  // (node << 8 | byte) -> child node
  std::vector<int32_t> trie_terminal;                 // node -> index into specials, or -1

  void build_trie();
  std::vector<bool> occurring(std::string_view text) const;

  std::vector<Fragment> split_special(std::string_view text, bool parse_special) const;
  std::string piece(int32_t id, bool unparse_special) const;
};

// Each special token in turn, longest first, cuts every raw fragment at its
// non-overlapping occurrences from left to right. Without parse_special only
// user-defined tokens cut: the reference (like Hugging Face tokenizers) always
// splits those off first, while control and unknown tokens are then plain text.
std::vector<Fragment> Tokenizer::Impl::split_special(std::string_view text, bool parse_special) const {
  std::vector<Fragment> frags;
  if (text.empty()) return frags;
  frags.push_back(Fragment{-1, 0, text.size()});
  const std::vector<bool> present = occurring(text);
  std::vector<Fragment> next;
  for (size_t k = 0; k < specials.size(); ++k) {
    // A text absent from the input is absent from each of its fragments.
    if (!present[k]) continue;
    const int32_t id = specials[k];
    const TokenType type = vocab.type(id);
    if (!parse_special && (type == TokenType::kControl || type == TokenType::kUnknown)) continue;
    const std::string& tok = vocab.tokens[static_cast<size_t>(id)];
    if (tok.empty()) continue;
    const uint8_t strip = vocab.strip_of(id);
    next.clear();
    for (const Fragment& f : frags) {
      if (f.token >= 0) {
        next.push_back(f);
        continue;
      }
      size_t off = f.off, len = f.len;
      while (len > 0) {
        const size_t m = text.substr(0, off + len).find(tok, off);
        if (m == std::string_view::npos) break;
        size_t left = m - off;
        if (strip & kStripLeft)
          while (left > 0 && is_c_space(text[off + left - 1])) --left;
        if (left > 0) next.push_back(Fragment{-1, off, left});
        next.push_back(Fragment{id, 0, 0});
        const size_t end = m + tok.size();
        len = off + len - end;
        off = end;
        if (strip & kStripRight)
          while (len > 0 && is_c_space(text[off])) ++off, --len;
      }
      if (len > 0) next.push_back(Fragment{-1, off, len});
    }
    frags.swap(next);
  }
  return frags;
}

void Tokenizer::Impl::build_trie() {
  trie_edges.clear();
  trie_terminal.assign(1, -1);
  for (size_t k = 0; k < specials.size(); ++k) {
    const std::string& t = vocab.tokens[static_cast<size_t>(specials[k])];
    if (t.empty()) continue;
    trie_first[static_cast<unsigned char>(t[0])] = true;
    int32_t node = 0;
    for (unsigned char c : t) {
      const uint64_t key = (static_cast<uint64_t>(node) << 8) | c;
      auto it = trie_edges.find(key);
      if (it == trie_edges.end()) {
        it = trie_edges.emplace(key, static_cast<int32_t>(trie_terminal.size())).first;
        trie_terminal.push_back(-1);
      }
      node = it->second;
    }
    trie_terminal[static_cast<size_t>(node)] = static_cast<int32_t>(k);
  }
}

std::vector<bool> Tokenizer::Impl::occurring(std::string_view text) const {
  std::vector<bool> present(specials.size(), false);
  for (size_t pos = 0; pos < text.size(); ++pos) {
    if (!trie_first[static_cast<unsigned char>(text[pos])]) continue;
    int32_t node = 0;
    for (size_t i = pos; i < text.size(); ++i) {
      auto it = trie_edges.find((static_cast<uint64_t>(node) << 8) | static_cast<unsigned char>(text[i]));
      if (it == trie_edges.end()) break;
      node = it->second;
      if (const int32_t k = trie_terminal[static_cast<size_t>(node)]; k >= 0) present[static_cast<size_t>(k)] = true;
    }
  }
  return present;
}

// llama.cpp's token_to_piece: control and unknown tokens only when asked for,
// user-defined verbatim, SentencePiece/WordPiece pieces with "▁" as a space and
// <0xXX> as the raw byte, byte-level BPE pieces mapped back to bytes; any other
// token type renders as nothing.
std::string Tokenizer::Impl::piece(int32_t id, bool unparse_special) const {
  if (id < 0 || id >= vocab.size()) return {};
  const TokenType type = vocab.type(id);
  const std::string& text = vocab.tokens[static_cast<size_t>(id)];
  if (type == TokenType::kControl || type == TokenType::kUnknown) return unparse_special ? text : std::string();
  if (type == TokenType::kUserDefined) return text;
  if (vocab.model == TokenizerModel::kBpe) return type == TokenType::kNormal ? bpe_token_to_bytes(text) : std::string();
  if (type == TokenType::kNormal) return replace_escaped_spaces(text);
  if (type == TokenType::kByte && text.size() >= 5) {
    const int hi = hex_digit(text[3]), lo = hex_digit(text[4]);
    if (hi >= 0 && lo >= 0) return std::string(1, static_cast<char>(hi * 16 + lo));
  }
  return {};
}

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

Result<Tokenizer> Tokenizer::from_gguf(const GgufFile& f) {
  auto v = Vocab::from_gguf(f);
  if (!v) return v.error();
  auto t = from_vocab(std::move(v).value());
  if (!t) return make_error(f.path(), ": ", t.error().message);
  return t;
}

Result<Tokenizer> Tokenizer::from_vocab(Vocab vocab) {
  auto impl = std::make_unique<Impl>();
  impl->vocab = std::move(vocab);
  Vocab& v = impl->vocab;
  if (v.tokens.empty()) return make_error("tokenizer: the vocabulary is empty");
  if (v.token_to_id.size() != v.tokens.size() || v.types.empty()) TANDEM_TRY(v.build_index());
  if (v.types.size() != v.tokens.size() || (!v.scores.empty() && v.scores.size() != v.tokens.size()) ||
      (!v.strip.empty() && v.strip.size() != v.tokens.size()))
    return make_error("tokenizer: ", v.tokens.size(), " tokens but ", v.types.size(), " types, ", v.scores.size(),
                      " scores and ", v.strip.size(), " strip flags");
  struct Named {
    const char* name;
    int32_t id;
  };
  for (Named s : {Named{"bos", v.bos}, Named{"eos", v.eos}, Named{"unk", v.unk}, Named{"sep", v.sep},
                  Named{"pad", v.pad}, Named{"cls", v.cls}, Named{"mask", v.mask}, Named{"eot", v.eot}})
    if (s.id < -1 || s.id >= v.size())
      return make_error("tokenizer: ", s.name, " token id ", s.id, " is outside the vocabulary of ", v.size(), " tokens");

  switch (v.model) {
    case TokenizerModel::kSpm: {
      auto e = SpmEncoder::create(v);
      if (!e) return e.error();
      impl->spm.emplace(std::move(e).value());
      break;
    }
    case TokenizerModel::kBpe: {
      auto e = BpeEncoder::create(v);
      if (!e) return e.error();
      impl->bpe.emplace(std::move(e).value());
      break;
    }
    case TokenizerModel::kWordPiece: {
      auto e = WordPieceEncoder::create(v);
      if (!e) return e.error();
      impl->wordpiece.emplace(std::move(e).value());
      break;
    }
  }

  for (int32_t id = 0; id < v.size(); ++id)
    if (is_special_type(v.type(id))) impl->specials.push_back(id);
  // The reference orders them with std::sort by text length alone; the same
  // call on the same id-ordered input gives the same order among equal lengths.
  std::sort(impl->specials.begin(), impl->specials.end(), [&v](int32_t a, int32_t b) {
    return v.tokens[static_cast<size_t>(a)].size() > v.tokens[static_cast<size_t>(b)].size();
  });
  impl->build_trie();
  return Tokenizer(std::move(impl));
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, const EncodeOptions& opt) const {
  const Vocab& v = impl_->vocab;
  std::vector<int32_t> out;
  const std::vector<Fragment> frags = impl_->split_special(text, opt.parse_special);
  auto raw = [&text](const Fragment& f) { return text.substr(f.off, f.len); };
  switch (v.model) {
    case TokenizerModel::kSpm: {
      if (opt.add_special && v.add_bos && v.bos >= 0) out.push_back(v.bos);
      // The dummy prefix goes before the first fragment and after every special token.
      bool prev_special = true;
      for (const Fragment& f : frags) {
        if (f.token >= 0) {
          out.push_back(f.token);
          prev_special = true;
        } else {
          impl_->spm->encode(raw(f), out, v.add_space_prefix && prev_special);
          prev_special = false;
        }
      }
      if (opt.add_special && v.add_eos && v.eos >= 0) out.push_back(v.eos);
      break;
    }
    case TokenizerModel::kBpe: {
      if (opt.add_special && v.add_bos && v.bos >= 0) out.push_back(v.bos);
      for (const Fragment& f : frags) {
        if (f.token >= 0)
          out.push_back(f.token);
        else
          impl_->bpe->encode(raw(f), out);
      }
      if (opt.add_special && v.add_eos && v.eos >= 0) out.push_back(v.eos);
      break;
    }
    case TokenizerModel::kWordPiece: {
      // BERT always frames the sequence: [CLS] (the BOS id) ... [SEP].
      if (opt.add_special && v.bos >= 0) out.push_back(v.bos);
      for (const Fragment& f : frags) {
        if (f.token >= 0)
          out.push_back(f.token);
        else
          impl_->wordpiece->encode(raw(f), out);
      }
      if (opt.add_special && v.sep >= 0) out.push_back(v.sep);
      break;
    }
  }
  return out;
}

std::string Tokenizer::token_to_piece(int32_t id, bool unparse_special) const {
  return impl_->piece(id, unparse_special);
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, const DecodeOptions& opt) const {
  const Vocab& v = impl_->vocab;
  size_t first = 0, last = ids.size();
  // SentencePiece's dummy prefix comes off the first piece, unless a removed
  // BOS stood before it (the reference's rule, kept for identical output).
  bool remove_space = v.add_space_prefix;
  if (opt.remove_special && v.add_bos && last > first && ids[first] == v.bos) {
    remove_space = false;
    ++first;
  }
  if (opt.remove_special && v.add_eos && last > first && ids[last - 1] == v.eos) --last;
  std::string text;
  for (size_t i = first; i < last; ++i) {
    std::string p = impl_->piece(ids[i], opt.unparse_special);
    if (remove_space && !p.empty() && p.front() == ' ') p.erase(0, 1);
    remove_space = false;
    text += p;
  }
  if (v.clean_spaces) clean_spaces(text);
  return text;
}

const Vocab& Tokenizer::vocab() const { return impl_->vocab; }
int32_t Tokenizer::n_vocab() const { return impl_->vocab.size(); }

}  // namespace tandem

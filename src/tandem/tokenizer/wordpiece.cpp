// WordPiece matching over words from BERT's basic tokenizer, following
// llama.cpp's WPM session step for step (byte-wise longest match with the
// "▁" word-start marker, unknown token for a word that cannot be covered).
#include "tandem/tokenizer/wordpiece.h"

#include <algorithm>
#include <unordered_map>

#include "tandem/tokenizer/unicode.h"

namespace tandem {
namespace {

constexpr std::string_view kWordStart = "\xe2\x96\x81";  // U+2581, the converter's stand-in for "no ##"

// CJK ideograph blocks of BERT's _is_chinese_char, with the same upper block
// start (0x2B920, not 0x2B820) as the Hugging Face tokenizer the reference copies.
bool is_cjk_ideograph(uint32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) ||
         (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

}  // namespace

struct WordPieceEncoder::Impl {
  std::vector<std::string> texts;  // owns the keys of `ids`
  std::unordered_map<std::string_view, int32_t> ids;
  size_t max_token_len = 0;
  int32_t unk = -1;
};

WordPieceEncoder::WordPieceEncoder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WordPieceEncoder::~WordPieceEncoder() = default;
WordPieceEncoder::WordPieceEncoder(WordPieceEncoder&&) noexcept = default;
WordPieceEncoder& WordPieceEncoder::operator=(WordPieceEncoder&&) noexcept = default;

Result<WordPieceEncoder> WordPieceEncoder::create(const Vocab& vocab) {
  const size_t n = vocab.tokens.size();
  if (n == 0) return make_error("WordPiece tokenizer: the vocabulary is empty");
  auto impl = std::make_unique<Impl>();
  impl->texts.reserve(vocab.token_to_id.size());
  impl->ids.reserve(vocab.token_to_id.size());
  for (const auto& [text, id] : vocab.token_to_id) {
    if (id < 0 || static_cast<size_t>(id) >= n)
      return make_error("WordPiece tokenizer: token index maps '", text, "' to id ", id, ", outside the vocabulary of ",
                        n, " tokens");
    impl->texts.push_back(text);
  }
  // Keys are views into `texts`, which no longer grows.
  for (const std::string& t : impl->texts) impl->ids.emplace(t, vocab.token_to_id.at(t));
  for (const std::string& t : vocab.tokens) impl->max_token_len = std::max(impl->max_token_len, t.size());
  impl->unk = vocab.unk;
  return WordPieceEncoder(std::move(impl));
}

std::vector<std::string> WordPieceEncoder::split_words(std::string_view text) {
  std::vector<std::string> words(1);
  std::vector<uint32_t> decomposed;
  for (uint32_t cp : unicode::utf8_decode(text)) {
    // The reference's NFD table maps a code point to the first code point of
    // its decomposition only (é -> e), which is what the model was run with.
    decomposed.clear();
    unicode::append_nfd(cp, decomposed);
    if (!decomposed.empty()) cp = decomposed.front();

    const uint16_t f = unicode::flags(cp);
    if (f & unicode::kWhitespace) {
      if (!words.back().empty()) words.emplace_back();
      continue;
    }
    if (cp == 0 || cp == 0xFFFD || (f & unicode::kControl)) continue;
    std::string s;
    unicode::utf8_append(unicode::to_lower(cp), s);
    if ((f & unicode::kPunctuation) || (cp < 0x7F && (f & unicode::kSymbol)) || is_cjk_ideograph(cp)) {
      if (!words.back().empty()) words.emplace_back();
      words.back() = std::move(s);
      words.emplace_back();
    } else {
      words.back() += s;
    }
  }
  if (words.back().empty()) words.pop_back();
  return words;
}

void WordPieceEncoder::encode(std::string_view text, std::vector<int32_t>& out) const {
  std::string word;
  for (const std::string& w : split_words(text)) {
    if (w.empty()) continue;
    word.assign(kWordStart);
    word += w;
    const size_t n = word.size();
    const size_t start = out.size();
    // Longest match first at each byte position; one miss discards the word.
    for (size_t i = 0; i < n;) {
      size_t matched = 0;
      for (size_t j = std::min(n, i + impl_->max_token_len + 1); j > i; --j) {
        auto it = impl_->ids.find(std::string_view(word).substr(i, j - i));
        if (it != impl_->ids.end()) {
          out.push_back(it->second);
          matched = j - i;
          break;
        }
      }
      if (matched == 0) {
        out.resize(start);
        break;
      }
      i += matched;
    }
    if (out.size() == start && impl_->unk >= 0) out.push_back(impl_->unk);
  }
}

}  // namespace tandem

// WordPiece: BERT's basic tokenizer step (lowercasing, accent folding, splits
// at whitespace, punctuation and CJK ideographs, control characters dropped),
// longest-match pieces with the "▁" word-start marker of llama.cpp's GGUF
// conversion, unknown words, [CLS]/[SEP] framing and decoding.
#include "tandem/tokenizer/wordpiece.h"

#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tandem/gguf/gguf_file.h"
#include "tandem/tokenizer/tokenizer.h"
#include "test_util.h"

namespace tandem {
namespace {

const std::string kSp = "\xe2\x96\x81";  // "▁"

using Words = std::vector<std::string>;

Vocab tiny_bert() {
  Vocab v;
  v.model = TokenizerModel::kWordPiece;
  v.model_name = "bert";
  v.tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", kSp + "hello", kSp + "world", kSp + "un", "aff", "able",
              kSp + "!", kSp + ",", kSp + "h", "e", "l", "o", kSp + "\xe4\xb8\xad", kSp + "cafe"};
  v.types.assign(v.tokens.size(), TokenType::kNormal);
  for (int i = 0; i < 4; ++i) v.types[static_cast<size_t>(i)] = TokenType::kControl;
  v.pad = 0, v.unk = 1, v.bos = 2, v.cls = 2, v.sep = 3;
  v.add_bos = true, v.add_space_prefix = false, v.clean_spaces = true;
  EXPECT_TRUE(v.build_index().ok());
  return v;
}

std::vector<std::string> texts(const Vocab& v, const std::vector<int32_t>& ids) {
  std::vector<std::string> out;
  for (int32_t id : ids) out.push_back(v.tokens[static_cast<size_t>(id)]);
  return out;
}

TEST(WordPiece, SplitsWordsLikeBertsBasicTokenizer) {
  EXPECT_EQ(WordPieceEncoder::split_words("Hello, World!"), (Words{"hello", ",", "world", "!"}));
  EXPECT_EQ(WordPieceEncoder::split_words("  \tfoo \n bar  "), (Words{"foo", "bar"}));
  // Precomposed accents fall away (the reference keeps only the base letter).
  EXPECT_EQ(WordPieceEncoder::split_words("Caf\xc3\xa9 F\xc3\x9chrer"), (Words{"cafe", "fuhrer"}));
  // CJK ideographs are words of their own; other scripts are not split.
  EXPECT_EQ(WordPieceEncoder::split_words("a\xe4\xb8\xad\xe6\x96\x87" "b"), (Words{"a", "\xe4\xb8\xad", "\xe6\x96\x87", "b"}));
  EXPECT_EQ(WordPieceEncoder::split_words("\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82"),
            (Words{"\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82"}));
  // ASCII symbols split, control characters and NUL vanish, invalid bytes too.
  const char raw[] = "a+b$c\x01\x7f" "d\x00" "e\xff" "f";
  EXPECT_EQ(WordPieceEncoder::split_words(std::string_view(raw, sizeof raw - 1)), (Words{"a", "+", "b", "$", "cdef"}));
  EXPECT_TRUE(WordPieceEncoder::split_words("").empty());
  EXPECT_TRUE(WordPieceEncoder::split_words(" \n\t ").empty());
}

TEST(WordPiece, MatchesLongestPiecesWithTheWordStartMarker) {
  const Vocab v = tiny_bert();
  auto e = WordPieceEncoder::create(v);
  ASSERT_TRUE(e.ok()) << e.error().message;
  std::vector<int32_t> out;
  e->encode("Hello, unaffable world!", out);
  EXPECT_EQ(texts(v, out), (Words{kSp + "hello", kSp + ",", kSp + "un", "aff", "able", kSp + "world", kSp + "!"}));
  out.clear();
  e->encode("hollow h\xe4\xb8\xad", out);
  // "hollow": ▁h o l l o, then "w" matches nothing: the whole word is [UNK].
  EXPECT_EQ(texts(v, out), (Words{"[UNK]", kSp + "h", kSp + "\xe4\xb8\xad"}));
  out.clear();
  e->encode("CAF\xc3\x89", out);
  EXPECT_EQ(texts(v, out), (Words{kSp + "cafe"}));
}

TEST(WordPiece, FacadeFramesWithClsSepAndDecodes) {
  auto tok = Tokenizer::from_vocab(tiny_bert());
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  const Vocab& v = tok->vocab();
  auto ids = tok->encode("Hello, world!");
  EXPECT_EQ(texts(v, ids), (Words{"[CLS]", kSp + "hello", kSp + ",", kSp + "world", kSp + "!", "[SEP]"}));
  EXPECT_EQ(texts(v, tok->encode("Hello", {.add_special = false})), (Words{kSp + "hello"}));
  EXPECT_EQ(texts(v, tok->encode("hello [SEP] world", {.add_special = false, .parse_special = true})),
            (Words{kSp + "hello", "[SEP]", kSp + "world"}));
  // Decoding: "▁" is a space, clean-up joins punctuation back to the word.
  EXPECT_EQ(tok->decode(ids), " hello, world!");
  EXPECT_EQ(tok->decode(ids, {.unparse_special = true}), "[CLS] hello, world![SEP]");
}

TEST(WordPiece, DecodeInvertsEncodeUpToNormalization) {
  TANDEM_REQUIRE_FIXTURES("tokenizer");
  auto f = GgufFile::open(testing::shared_dir() + "/fixtures/tokenizer/ggml-vocab-bert-bge.gguf");
  ASSERT_TRUE(f.ok());
  auto tok = Tokenizer::from_gguf(*f);
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  // Words in, lowercased words with one leading space out; accents folded.
  EXPECT_EQ(tok->decode(tok->encode("The Caf\xc3\xa9 is OPEN")), " the cafe is open");
  EXPECT_EQ(tok->decode(tok->encode("tokenization, unaffable!")), " tokenization, unaffable!");
  std::mt19937 rng(5);
  const std::vector<std::string> words = {"the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog",
                                          "tokenizer", "embedding", "retrieval", "42", "2024", "naïve"};
  for (int iter = 0; iter < 100; ++iter) {
    std::string s, want;
    for (size_t i = 0, n = 1 + rng() % 12; i < n; ++i) {
      const std::string& w = words[rng() % words.size()];
      s += (i ? " " : "") + w;
      want += " " + (w == "naïve" ? std::string("naive") : w);
    }
    const char* end = rng() % 2 ? "." : "";
    ASSERT_EQ(tok->decode(tok->encode(s + end)), want + end) << s;
  }
}

TEST(WordPiece, CreateRejectsAnEmptyVocabulary) {
  Vocab v;
  v.model = TokenizerModel::kWordPiece;
  EXPECT_FALSE(WordPieceEncoder::create(v).ok());
}

}  // namespace
}  // namespace tandem

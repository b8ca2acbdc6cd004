// SentencePiece BPE: merge order, dummy prefix, byte fallback and unknown
// characters on tiny vocabularies built in code; equality with a plain
// quadratic re-statement of the reference algorithm on random text (the
// encoder cuts text into independent segments, which must not change a single
// id); decode(encode(s)) == s on random text with the Llama 2 vocabulary.
#include "tandem/tokenizer/spm.h"

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

struct Piece {
  std::string text;
  float score;
  TokenType type = TokenType::kNormal;
};

// <unk>, <s>, </s>, then byte tokens for the given bytes, then the pieces.
Vocab tiny_vocab(const std::vector<Piece>& pieces, const std::vector<int>& bytes) {
  Vocab v;
  v.model = TokenizerModel::kSpm;
  v.model_name = "llama";
  auto add = [&v](const std::string& text, float score, TokenType type) {
    v.tokens.push_back(text);
    v.scores.push_back(score);
    v.types.push_back(type);
  };
  add("<unk>", 0, TokenType::kUnknown);
  add("<s>", 0, TokenType::kControl);
  add("</s>", 0, TokenType::kControl);
  for (int b : bytes) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    add(name, 0, TokenType::kByte);
  }
  for (const Piece& p : pieces) add(p.text, p.score, p.type);
  v.bos = 1, v.eos = 2, v.unk = 0;
  v.add_bos = true, v.add_space_prefix = true;
  EXPECT_TRUE(v.build_index().ok());
  return v;
}

std::vector<std::string> texts(const Vocab& v, const std::vector<int32_t>& ids) {
  std::vector<std::string> out;
  for (int32_t id : ids) out.push_back(id >= 0 && id < v.size() ? v.tokens[static_cast<size_t>(id)] : "?");
  return out;
}

std::vector<int32_t> spm(const Vocab& v, const std::string& s, bool prefix) {
  auto e = SpmEncoder::create(v);
  EXPECT_TRUE(e.ok()) << e.error().message;
  std::vector<int32_t> out;
  e->encode(s, out, prefix);
  return out;
}

TEST(Spm, MergesHighestScoreFirstThenLeftmost) {
  Vocab v = tiny_vocab({{"a", -1}, {"b", -1}, {"c", -1}, {"ab", -5}, {"bc", -2}}, {});
  // "bc" outscores "ab", and once b is taken "ab" is gone for good.
  EXPECT_EQ(texts(v, spm(v, "abc", false)), (std::vector<std::string>{"a", "bc"}));
  Vocab longer = tiny_vocab({{"a", -1}, {"b", -1}, {"c", -1}, {"ab", -5}, {"bc", -2}, {"abc", -3}}, {});
  // The merged "bc" pairs with "a" again: the new pair "abc" is a token.
  EXPECT_EQ(texts(longer, spm(longer, "abc", false)), (std::vector<std::string>{"abc"}));
  Vocab tie = tiny_vocab({{"a", -1}, {"aa", -2}}, {});
  // Equal scores: the leftmost pair merges first.
  EXPECT_EQ(texts(tie, spm(tie, "aaa", false)), (std::vector<std::string>{"aa", "a"}));
}

TEST(Spm, EscapesSpacesAndAddsTheDummyPrefix) {
  Vocab v = tiny_vocab({{kSp, -1}, {"a", -1}, {"b", -1}, {kSp + "a", -2}, {kSp + "b", -2}}, {});
  EXPECT_EQ(texts(v, spm(v, "a b", true)), (std::vector<std::string>{kSp + "a", kSp + "b"}));
  EXPECT_EQ(texts(v, spm(v, "a b", false)), (std::vector<std::string>{"a", kSp + "b"}));
  EXPECT_EQ(texts(v, spm(v, "  a", false)), (std::vector<std::string>{kSp, kSp + "a"}));
  EXPECT_TRUE(spm(v, "", false).empty());
  EXPECT_EQ(texts(v, spm(v, "", true)), (std::vector<std::string>{kSp}));
}

TEST(Spm, FallsBackToByteTokens) {
  Vocab v = tiny_vocab({{"a", -1}}, {0xC3, 0xA9, 0x0A});
  // "é" is no piece: its two UTF-8 bytes come out as <0xC3> <0xA9>.
  EXPECT_EQ(texts(v, spm(v, "a\xc3\xa9\n", false)), (std::vector<std::string>{"a", "<0xC3>", "<0xA9>", "<0x0A>"}));
}

TEST(Spm, UnknownCharactersWithoutByteTokensBecomeUnk) {
  // The reference aborts here (no byte token to fall back to); the unknown
  // token stands in for each byte instead.
  Vocab v = tiny_vocab({{"a", -1}}, {});
  EXPECT_EQ(texts(v, spm(v, "a\xc3\xa9", false)), (std::vector<std::string>{"a", "<unk>", "<unk>"}));
}

TEST(Spm, InvalidUtf8MakesProgress) {
  Vocab v = tiny_vocab({{"a", -1}}, {0x80, 0xE4, 0x41});
  // A stray continuation byte is one symbol; a truncated lead byte swallows what follows.
  EXPECT_EQ(texts(v, spm(v, "\x80" "a\xe4" "A", false)),
            (std::vector<std::string>{"<0x80>", "a", "<0xE4>", "<0x41>"}));
}

TEST(Spm, FacadeAddsBosEosAndSplitsSpecialTokens) {
  Vocab v = tiny_vocab({{kSp, -1}, {"a", -1}, {"b", -1}, {kSp + "a", -2}, {kSp + "b", -2}, {"<x>", 0, TokenType::kUserDefined}},
                       {'<', '>', 's', '/', 'x'});
  v.add_eos = true;
  auto tok = Tokenizer::from_vocab(v);
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  const Vocab& tv = tok->vocab();
  EXPECT_EQ(texts(tv, tok->encode("a")), (std::vector<std::string>{"<s>", kSp + "a", "</s>"}));
  EXPECT_EQ(texts(tv, tok->encode("a", {.add_special = false})), (std::vector<std::string>{kSp + "a"}));
  // Control tokens are text unless parse_special; the fragment after one gets the dummy prefix.
  EXPECT_EQ(texts(tv, tok->encode("a<s>b", {.add_special = false, .parse_special = true})),
            (std::vector<std::string>{kSp + "a", "<s>", kSp + "b"}));
  EXPECT_EQ(texts(tv, tok->encode("a<s>b", {.add_special = false})),
            (std::vector<std::string>{kSp + "a", "<0x3C>", "<0x73>", "<0x3E>", "b"}));
  // User-defined tokens are split off either way.
  EXPECT_EQ(texts(tv, tok->encode("a<x>b", {.add_special = false})),
            (std::vector<std::string>{kSp + "a", "<x>", kSp + "b"}));
  // Decoding: control tokens hidden unless asked, user-defined verbatim, bytes raw,
  // the dummy prefix's space dropped from the first piece.
  auto ids = tok->encode("a<x>b<s>", {.add_special = false});
  EXPECT_EQ(tok->decode(ids), "a<x> b<s>");
  auto with_bos = tok->encode("a<s>", {.parse_special = true});
  EXPECT_EQ(tok->decode(with_bos), " a");
  EXPECT_EQ(tok->decode(with_bos, {.unparse_special = true}), "<s> a<s></s>");
  EXPECT_EQ(tok->decode(with_bos, {.remove_special = true, .unparse_special = true}), " a<s>");
}

TEST(Spm, LongerSpecialTokensAreSplitOffFirst) {
  Vocab v = tiny_vocab({{kSp, -1}, {"a", -1}, {kSp + "a", -2}, {"<x>", 0, TokenType::kUserDefined},
                        {"<x><x>", 0, TokenType::kUserDefined}, {"x><", 0, TokenType::kUserDefined}},
                       {'<', '>', 'x'});
  auto tok = Tokenizer::from_vocab(v);
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  // "<x><x>" (6 bytes) is cut out before "x><" (3) could claim its middle.
  EXPECT_EQ(texts(tok->vocab(), tok->encode("<x><x><x>a", {.add_special = false})),
            (std::vector<std::string>{"<x><x>", "<x>", kSp + "a"}));
  EXPECT_EQ(texts(tok->vocab(), tok->encode("ax><x", {.add_special = false})),
            (std::vector<std::string>{kSp + "a", "x><", kSp, "<0x78>"}));
}

TEST(Spm, StripFlagsEatWhitespaceAroundSpecialTokens) {
  Vocab v = tiny_vocab({{kSp, -1}, {"a", -1}, {"b", -1}, {kSp + "a", -2}, {kSp + "b", -2}, {"<x>", 0, TokenType::kUserDefined}},
                       {});
  v.strip.assign(v.tokens.size(), kStripNone);
  v.strip[static_cast<size_t>(v.find("<x>"))] = kStripLeft | kStripRight;
  auto tok = Tokenizer::from_vocab(v);
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  EXPECT_EQ(texts(tok->vocab(), tok->encode("a \t<x>\n b", {.add_special = false})),
            (std::vector<std::string>{kSp + "a", "<x>", kSp + "b"}));
}

// The reference algorithm re-stated as plainly as possible: merge the
// best-scoring adjacent pair (leftmost on ties) until no pair is a token.
std::vector<int32_t> naive_spm(const Vocab& v, const std::string& fragment, bool prefix) {
  std::string text = prefix ? kSp : "";
  for (char c : fragment) text += c == ' ' ? kSp : std::string(1, c);
  std::vector<std::string> syms;
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    // Sequence length from the high nibble of the lead byte, as the reference does.
    static constexpr size_t kLen[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    size_t len = kLen[c >> 4];
    len = std::min(len, text.size() - i);
    syms.push_back(text.substr(i, len));
    i += len;
  }
  for (;;) {
    int best = -1;
    float best_score = 0;
    for (size_t i = 0; i + 1 < syms.size(); ++i) {
      const int32_t id = v.find(syms[i] + syms[i + 1]);
      if (id < 0) continue;
      const float s = v.scores[static_cast<size_t>(id)];
      if (best < 0 || s > best_score) best = static_cast<int>(i), best_score = s;
    }
    if (best < 0) break;
    syms[static_cast<size_t>(best)] += syms[static_cast<size_t>(best) + 1];
    syms.erase(syms.begin() + best + 1);
  }
  std::vector<int32_t> out;
  for (const std::string& s : syms) {
    const int32_t id = v.find(s);
    if (id >= 0) {
      out.push_back(id);
      continue;
    }
    for (unsigned char c : s) {
      char name[8];
      std::snprintf(name, sizeof name, "<0x%02X>", c);
      out.push_back(v.find(name));
    }
  }
  return out;
}

std::string random_text(std::mt19937& rng, size_t n_parts, bool valid_utf8) {
  static const std::vector<std::string> parts = {
      " ",    "  ",   "\n",  "\t",  "a",    "e",     "t",   "th",  "the", "in",  "ing", "Hello", "world", "3",
      "33",   "...",  "!",   "?",   "'",    "\"",    ",",   "(",   ")",   "é",   "ü",   "ß",     "中",    "文",
      "🦙",   "😀",   "ы",   "ή",   "ि",    "\xc2\xa0", "<s>", "</s>", "<0x41>", "~",  "-",   "--",    "==",  "A"};
  static const std::vector<std::string> invalid = {"\x80", "\xe4", "\xff", "\xc3"};
  std::string s;
  for (size_t i = 0; i < n_parts; ++i) {
    if (!valid_utf8 && rng() % 16 == 0)
      s += invalid[rng() % invalid.size()];
    else
      s += parts[rng() % parts.size()];
  }
  return s;
}

Result<Vocab> llama_vocab() {
  auto f = GgufFile::open(testing::shared_dir() + "/fixtures/tokenizer/ggml-vocab-llama-spm.gguf");
  if (!f) return f.error();
  return Vocab::from_gguf(*f);
}

TEST(Spm, SegmentedMergingEqualsThePlainAlgorithm) {
  TANDEM_REQUIRE_FIXTURES("tokenizer");
  auto v = llama_vocab();
  ASSERT_TRUE(v.ok()) << v.error().message;
  auto e = SpmEncoder::create(*v);
  ASSERT_TRUE(e.ok()) << e.error().message;
  std::mt19937 rng(1234);
  for (int iter = 0; iter < 300; ++iter) {
    const std::string s = random_text(rng, 1 + rng() % 60, /*valid_utf8=*/iter % 3 != 0);
    std::vector<int32_t> got;
    e->encode(s, got, iter % 2 == 0);
    ASSERT_EQ(got, naive_spm(*v, s, iter % 2 == 0)) << "text: " << s;
  }
}

TEST(Spm, SegmentedMergingEqualsThePlainAlgorithmOnATinyVocab) {
  // Pieces that span spaces ("a▁b", "▁▁") forbid cuts at some word boundaries.
  Vocab v = tiny_vocab({{kSp, -1}, {"a", -1}, {"b", -1}, {kSp + kSp, -3}, {"a" + kSp, -4}, {"a" + kSp + "b", -2},
                        {kSp + "a", -5}, {"ab", -6}, {kSp + kSp + "a", -1}},
                       {});
  auto e = SpmEncoder::create(v);
  ASSERT_TRUE(e.ok());
  std::mt19937 rng(99);
  const std::string alphabet[] = {"a", "b", " "};
  for (int iter = 0; iter < 2000; ++iter) {
    std::string s;
    for (size_t i = 0, n = 1 + rng() % 12; i < n; ++i) s += alphabet[rng() % 3];
    std::vector<int32_t> got;
    e->encode(s, got, iter % 2 == 0);
    ASSERT_EQ(got, naive_spm(v, s, iter % 2 == 0)) << "text: '" << s << "'";
  }
}

TEST(Spm, DecodeInvertsEncodeOnRandomText) {
  TANDEM_REQUIRE_FIXTURES("tokenizer");
  auto f = GgufFile::open(testing::shared_dir() + "/fixtures/tokenizer/ggml-vocab-llama-spm.gguf");
  ASSERT_TRUE(f.ok());
  auto tok = Tokenizer::from_gguf(*f);
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  std::mt19937 rng(42);
  for (int iter = 0; iter < 300; ++iter) {
    const std::string s = random_text(rng, rng() % 80, /*valid_utf8=*/true);
    const auto ids = tok->encode(s, {.add_special = false});
    ASSERT_EQ(tok->decode(ids), s) << "ids: " << ::testing::PrintToString(ids);
  }
}

TEST(Spm, CreateRejectsMismatchedScores) {
  Vocab v = tiny_vocab({{"a", -1}}, {});
  v.scores.pop_back();
  auto e = SpmEncoder::create(v);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("scores"), std::string::npos) << e.error().message;
}

}  // namespace
}  // namespace tandem

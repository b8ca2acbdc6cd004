// The house tokenizer pipeline on a small corpus: sentencepiece trains a BPE
// model, it is written as a GGUF `llama` tokenizer, and tandem's tokenizer
// loaded from that GGUF gives exactly sentencepiece's own ids on held-out text
// (unseen words, digits, punctuation, non-ASCII through byte fallback, odd
// whitespace), and decodes back to the text.
#include "tandem/data/spm_tokenizer_trainer.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tandem/base/mapped_file.h"
#include "tandem/data/line_file.h"
#include "tandem/data/spm_agreement.h"
#include "tandem/gguf/gguf_file.h"
#include "tandem/tokenizer/tokenizer.h"
#include "test_util.h"

namespace tandem {
namespace {

// English-looking text from a fixed syllable inventory. std::mt19937's output
// is fixed by the standard, and only its raw output is used (distributions are
// not portable), so the corpus is the same everywhere.
class TextGen {
 public:
  explicit TextGen(uint32_t seed) : rng_(seed) {
    for (int i = 0; i < 400; ++i) words_.push_back(make_word(1 + pick(3)));
  }
  uint32_t pick(uint32_t n) { return static_cast<uint32_t>(rng_() % n); }
  std::string make_word(uint32_t syllables) {
    static constexpr const char* kOnsets[] = {"", "b", "c", "d", "f", "g", "h", "l", "m", "n", "p",
                                              "r", "s", "t", "th", "sh", "ch", "w", "st", "tr", "gr"};
    static constexpr const char* kVowels[] = {"a", "e", "i", "o", "u", "ea", "ou", "ai", "ee"};
    static constexpr const char* kCodas[] = {"", "", "n", "r", "s", "t", "l", "nd", "st", "th", "ck"};
    std::string w;
    for (uint32_t i = 0; i < syllables; ++i) {
      w += kOnsets[pick(std::size(kOnsets))];
      w += kVowels[pick(std::size(kVowels))];
      w += kCodas[pick(std::size(kCodas))];
    }
    return w;
  }
  // Zipf-like: low indices (frequent words) far more often than high ones.
  const std::string& word() {
    const uint32_t a = pick(static_cast<uint32_t>(words_.size())), b = pick(static_cast<uint32_t>(words_.size()));
    return words_[a * b / words_.size()];
  }
  std::string sentence() {
    std::string s;
    const uint32_t n = 4 + pick(14);
    for (uint32_t i = 0; i < n; ++i) {
      std::string w = word();
      if (i == 0 || pick(12) == 0) w[0] = static_cast<char>(w[0] - 'a' + 'A');
      if (i) s += ' ';
      s += w;
      if (i + 1 < n && pick(7) == 0) s += ",;:"[pick(3)];
    }
    s += ".?!."[pick(4)];
    return s;
  }

 private:
  std::mt19937 rng_;
  std::vector<std::string> words_;
};

std::vector<std::string> training_corpus() {
  TextGen g(1611);
  std::vector<std::string> lines;
  for (int i = 0; i < 3000; ++i) lines.push_back(g.sentence());  // about 250 KB
  return lines;
}

// Held-out text: new sentences (same words, new combinations), words never
// seen, digits, rare punctuation, non-ASCII scripts and emoji (only byte
// pieces can spell them), special-token look-alikes and whitespace runs.
std::vector<std::string> held_out_text() {
  TextGen g(2024);
  TextGen unseen(77);
  const std::vector<std::string> extras = {
      "In 1611, 42 men paid $3.50 (about 7%) for 1,000 copies #9.",
      "caf\xc3\xa9 na\xc3\xafve r\xc3\xa9sum\xc3\xa9 \xc3\x9c" "ber Stra\xc3\x9f" "e ni\xc3\xb1o",
      "\xce\x95\xce\xbd \xe1\xbc\x80\xcf\x81\xcf\x87\xe1\xbf\x87 \xe1\xbc\xa6\xce\xbd \xe1\xbd\x81 \xce\xbb\xcf\x8c\xce\xb3\xce\xbf\xcf\x82",
      "\xd0\x92 \xd0\xbd\xd0\xb0\xd1\x87\xd0\xb0\xd0\xbb\xd0\xb5 \xd0\xb1\xd1\x8b\xd0\xbb\xd0\xbe \xd0\xa1\xd0\xbb\xd0\xbe\xd0\xb2\xd0\xbe",
      "\xe5\xa4\xaa\xe5\x88\x9d\xe6\x9c\x89\xe9\x81\x93 \xe3\x81\xaf\xe3\x81\x98\xe3\x82\x81\xe3\x81\xab",
      "\xf0\x9f\x99\x82 \xf0\x9f\x8c\x8d\xf0\x9f\x94\xa5 emoji \xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd",
      "e\xcc\x81 combining acute, \xef\xbc\xa6\xef\xbd\x95\xef\xbd\x8c\xef\xbd\x8c width, \xef\xac\x81 ligature",
      "<s> </s> <unk> <0x41> <0xE2> tokens as plain text",
      "  two leading spaces", "trailing spaces   ", "a  b   c    d", " ", "   ", "\ttab\tseparated\t",
      "x", "I", "!", "?!...", "--", "\"quoted\" 'single' (paren) [bracket] {brace}", "a+b=c*d/e\\f|g~h^i`j@k&l_m",
      "",
  };
  std::vector<std::string> lines;
  for (int i = 0; i < 2500; ++i) {
    std::string s = g.sentence();
    switch (i % 5) {
      case 0: s += " " + unseen.make_word(2 + unseen.pick(3)); break;  // an unseen word
      case 1: s += " " + std::to_string(i * 7919 % 100003); break;      // digits
      case 2: s = extras[static_cast<size_t>(i / 5) % extras.size()] + " " + s; break;
      case 3: s += "\xe2\x80\x94\xe2\x80\x9cquoted\xe2\x80\x9d"; break;  // em dash, curly quotes
      default: break;
    }
    lines.push_back(s);
  }
  lines.insert(lines.end(), extras.begin(), extras.end());
  return lines;
}

constexpr int32_t kVocab = 512;

std::string trained_model() {
  auto proto = train_spm_tokenizer(training_corpus(), SpmTrainerOptions{.vocab_size = kVocab});
  EXPECT_TRUE(proto.ok()) << proto.error().message;
  return proto.ok() ? *proto : std::string();
}

struct Loaded {
  std::vector<uint8_t> bytes;  // the GgufFile views these
  Result<GgufFile> file = Error{"unset"};
};

void load_gguf(const std::string& proto, Loaded& out) {
  auto w = spm_tokenizer_gguf(proto, "house-test");
  ASSERT_TRUE(w.ok()) << w.error().message;
  out.bytes = w->to_bytes();
  out.file = GgufFile::parse(out.bytes, "house-test.gguf");
  ASSERT_TRUE(out.file.ok()) << out.file.error().message;
}

TEST(SpmTokenizerTrainer, WritesALlamaTokenizer) {
  const std::string proto = trained_model();
  ASSERT_FALSE(proto.empty());
  Loaded g;
  load_gguf(proto, g);
  if (HasFatalFailure()) return;
  const GgufFile& f = *g.file;
  EXPECT_EQ(*f.get_string("tokenizer.ggml.model"), "llama");
  EXPECT_EQ(*f.get_int("tokenizer.ggml.bos_token_id", -1), 1);
  EXPECT_EQ(*f.get_int("tokenizer.ggml.eos_token_id", -1), 2);
  EXPECT_EQ(*f.get_int("tokenizer.ggml.unknown_token_id", -1), 0);
  EXPECT_FALSE(f.find("tokenizer.ggml.padding_token_id"));
  EXPECT_TRUE(*f.get_bool("tokenizer.ggml.add_bos_token", false));
  EXPECT_FALSE(*f.get_bool("tokenizer.ggml.add_eos_token", true));
  EXPECT_TRUE(*f.get_bool("tokenizer.ggml.add_space_prefix", false));
  EXPECT_EQ(f.tensors().size(), 0u);

  auto tok = Tokenizer::from_gguf(f);
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  const Vocab& v = tok->vocab();
  ASSERT_EQ(v.size(), kVocab);
  EXPECT_EQ(v.tokens[0], "<unk>");
  EXPECT_EQ(v.type(0), TokenType::kUnknown);
  EXPECT_EQ(v.tokens[1], "<s>");
  EXPECT_EQ(v.type(1), TokenType::kControl);
  EXPECT_EQ(v.tokens[2], "</s>");
  EXPECT_EQ(v.type(2), TokenType::kControl);
  // The 256 byte pieces follow, in byte order, then the merged and single-character pieces.
  EXPECT_EQ(v.tokens[3], "<0x00>");
  EXPECT_EQ(v.tokens[3 + 0x41], "<0x41>");
  EXPECT_EQ(v.tokens[258], "<0xFF>");
  for (int32_t id = 3; id < 259; ++id) EXPECT_EQ(v.type(id), TokenType::kByte) << id;
  for (int32_t id = 259; id < kVocab; ++id) EXPECT_EQ(v.type(id), TokenType::kNormal) << id;
  // BPE scores rank the merges: later pieces score lower.
  for (int32_t id = 260; id < kVocab; ++id) EXPECT_LT(v.scores[id], v.scores[id - 1]) << id;
  EXPECT_TRUE(v.add_bos);
  EXPECT_FALSE(v.add_eos);
  EXPECT_TRUE(v.add_space_prefix);

  const std::vector<int32_t> ids = tok->encode("Thea sound.");
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids.front(), 1);  // BOS
  EXPECT_TRUE(tok->encode("", EncodeOptions{.add_special = false}).empty());
}

TEST(SpmTokenizerTrainer, TandemAgreesWithSentencepieceOnHeldOutText) {
  const std::string proto = trained_model();
  ASSERT_FALSE(proto.empty());
  Loaded g;
  load_gguf(proto, g);
  if (HasFatalFailure()) return;
  auto tok = Tokenizer::from_gguf(*g.file);
  ASSERT_TRUE(tok.ok()) << tok.error().message;

  const std::vector<std::string> lines = held_out_text();
  ASSERT_GT(lines.size(), 2000u);
  auto a = compare_with_sentencepiece(proto, *tok, lines, 10);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->lines, static_cast<int64_t>(lines.size()));
  EXPECT_EQ(a->equal, a->lines);
  for (const std::string& m : a->mismatches) ADD_FAILURE() << m;
  EXPECT_EQ(a->round_trips, a->lines);
  EXPECT_EQ(a->tokens, a->spm_tokens);

  // Byte fallback was exercised: non-ASCII text needs byte pieces, never <unk>.
  const std::vector<int32_t> ids = tok->encode("\xf0\x9f\x99\x82 caf\xc3\xa9", EncodeOptions{.add_special = false});
  int n_bytes = 0;
  for (int32_t id : ids) {
    EXPECT_NE(id, 0) << "<unk> in the output";
    n_bytes += tok->vocab().type(id) == TokenType::kByte;
  }
  EXPECT_GE(n_bytes, 6);  // the emoji's 4 bytes and é's 2
  for (const std::string& s : lines) EXPECT_EQ(tok->decode(tok->encode(s, EncodeOptions{.add_special = false})), s);
}

TEST(SpmTokenizerTrainer, TrainingIsDeterministic) {
  const std::string a = trained_model();
  const std::string b = trained_model();
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(a, b);
}

TEST(SpmTokenizerTrainer, BadInputIsAnError) {
  auto empty = train_spm_tokenizer(std::vector<std::string>{"", ""});
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("no non-empty"), std::string::npos) << empty.error().message;

  // Fewer entries than the 3 special pieces, 256 bytes and the alphabet.
  auto tiny = train_spm_tokenizer(training_corpus(), SpmTrainerOptions{.vocab_size = 100});
  ASSERT_FALSE(tiny.ok());
  EXPECT_NE(tiny.error().message.find("sentencepiece"), std::string::npos) << tiny.error().message;

  auto garbage = spm_tokenizer_gguf("definitely not a model", "x");
  EXPECT_FALSE(garbage.ok());
}

TEST(SpmTokenizerTrainer, AgreementCheckRefusesAnotherModel) {
  const std::string proto = trained_model();
  ASSERT_FALSE(proto.empty());
  auto other = train_spm_tokenizer(training_corpus(), SpmTrainerOptions{.vocab_size = kVocab + 16});
  ASSERT_TRUE(other.ok()) << other.error().message;
  Loaded g;
  load_gguf(*other, g);
  if (HasFatalFailure()) return;
  auto tok = Tokenizer::from_gguf(*g.file);
  ASSERT_TRUE(tok.ok());
  auto a = compare_with_sentencepiece(proto, *tok, std::vector<std::string>{"abc"});
  EXPECT_FALSE(a.ok());
}

// The committed house tokenizer and its sentencepiece model stay one model.
TEST(SpmTokenizerTrainer, CommittedHouseTokenizerAgrees) {
  const std::string gguf_path = testing::source_dir() + "/models/house-tokenizer.gguf";
  const std::string model_path = testing::source_dir() + "/models/house-tokenizer.model";
  auto proto = read_file(model_path);
  auto f = GgufFile::open(gguf_path);
  if (!proto.ok() || !f.ok()) GTEST_SKIP() << "models/house-tokenizer.{gguf,model} not present";
  auto tok = Tokenizer::from_gguf(*f);
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  auto a = compare_with_sentencepiece(*proto, *tok, held_out_text(), 10);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->equal, a->lines);
  for (const std::string& m : a->mismatches) ADD_FAILURE() << m;
}

}  // namespace
}  // namespace tandem

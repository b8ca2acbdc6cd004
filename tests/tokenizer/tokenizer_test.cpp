// Tokenizer facade: token-for-token conformance with llama.cpp on the shared
// fixtures (all nine vocabularies, no special tokens added, none parsed), and
// the special-token rules: BOS/EOS flags, parse_special, decoding.
#include "tandem/tokenizer/tokenizer.h"

#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tandem/base/mapped_file.h"
#include "tandem/gguf/gguf_file.h"
#include "test_util.h"

namespace tandem {
namespace {

std::string fixture(const std::string& name) {
  return testing::shared_dir() + "/fixtures/tokenizer/ggml-vocab-" + name + ".gguf";
}

Result<Tokenizer> load(const std::string& name) {
  auto f = GgufFile::open(fixture(name));
  if (!f) return f.error();
  return Tokenizer::from_gguf(*f);
}

std::string ids_string(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s += " " + std::to_string(id);
  return s;
}

// Makes a test string readable in a failure message.
std::string printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\n')
      out += "\\n";
    else if (c == '\t')
      out += "\\t";
    else if (c < 0x20)
      out += "\\x" + std::string(1, "0123456789abcdef"[c >> 4]) + "0123456789abcdef"[c & 15];
    else
      out += static_cast<char>(c);
  }
  return out;
}

class Conformance : public ::testing::TestWithParam<const char*> {};

TEST_P(Conformance, MatchesReferenceIds) {
  TANDEM_REQUIRE_FIXTURES("tokenizer");
  const std::string name = GetParam();
  auto inp = read_file(fixture(name) + ".inp");
  auto expected = read_file(fixture(name) + ".out");
  ASSERT_TRUE(inp.ok()) << inp.error().message;
  ASSERT_TRUE(expected.ok()) << expected.error().message;

  std::vector<std::string> cases;
  const std::string sep = "\n__ggml_vocab_test__\n";
  for (size_t pos = 0;;) {
    const size_t q = inp->find(sep, pos);
    if (q == std::string::npos) {
      if (pos < inp->size()) cases.push_back(inp->substr(pos));
      break;
    }
    cases.push_back(inp->substr(pos, q - pos));
    pos = q + sep.size();
  }
  std::vector<std::string> lines;
  std::istringstream in(*expected);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(cases.size(), lines.size()) << "test strings and expected lines differ in number";

  auto tok = load(name);
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  int mismatches = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto ids = tok->encode(cases[i], EncodeOptions{.add_special = false, .parse_special = false});
    if (ids_string(ids) != lines[i]) {
      ++mismatches;
      ADD_FAILURE() << name << " case " << i << " \"" << printable(cases[i]) << "\"\n  expected:" << lines[i]
                    << "\n  got:     " << ids_string(ids);
    }
  }
  EXPECT_EQ(mismatches, 0) << name << ": " << mismatches << " of " << cases.size() << " cases differ";
}

INSTANTIATE_TEST_SUITE_P(AllVocabs, Conformance,
                         ::testing::Values("llama-spm", "bert-bge", "gpt-2", "llama-bpe", "qwen2", "deepseek-llm",
                                           "deepseek-coder", "falcon", "starcoder"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

TEST(Tokenizer, SpmAddsBosAsTheVocabularySays) {
  TANDEM_REQUIRE_FIXTURES("tokenizer");
  auto tok = load("llama-spm");
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  EXPECT_TRUE(tok->vocab().add_bos);
  EXPECT_FALSE(tok->vocab().add_eos);
  EXPECT_EQ(tok->encode("Hello world"), (std::vector<int32_t>{1, 15043, 3186}));
  EXPECT_EQ(tok->encode("Hello world", {.add_special = false}), (std::vector<int32_t>{15043, 3186}));
  // The reference's empty text: [BOS] with special tokens, nothing without.
  EXPECT_EQ(tok->encode(""), (std::vector<int32_t>{1}));
  EXPECT_TRUE(tok->encode("", {.add_special = false}).empty());
}

TEST(Tokenizer, SpmParsesControlTokensOnlyWhenAsked) {
  TANDEM_REQUIRE_FIXTURES("tokenizer");
  auto tok = load("llama-spm");
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  const std::string text = "<s>Hello</s> world";
  auto parsed = tok->encode(text, {.add_special = false, .parse_special = true});
  // Each fragment after a special token gets the dummy prefix again.
  EXPECT_EQ(parsed, (std::vector<int32_t>{1, 15043, 2, 29871, 3186}));
  auto plain = tok->encode(text, {.add_special = false, .parse_special = false});
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 1), 0);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 2), 0);
  EXPECT_EQ(tok->decode(plain), text);
}

TEST(Tokenizer, SpmDecodesLikeTheReference) {
  TANDEM_REQUIRE_FIXTURES("tokenizer");
  auto tok = load("llama-spm");
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  const std::vector<int32_t> ids = tok->encode(" Hello, world!\n\tü 🦙");
  EXPECT_EQ(ids.front(), 1);
  // BOS renders as nothing; then the first piece keeps its dummy space, as in llama.cpp's detokenize.
  EXPECT_EQ(tok->decode(ids), "  Hello, world!\n\tü 🦙");
  EXPECT_EQ(tok->decode(ids, {.remove_special = true}), "  Hello, world!\n\tü 🦙");
  EXPECT_EQ(tok->decode({ids.begin() + 1, ids.end()}), " Hello, world!\n\tü 🦙");
  EXPECT_EQ(tok->decode(ids, {.unparse_special = true}), "<s>  Hello, world!\n\tü 🦙");
  EXPECT_EQ(tok->token_to_piece(1), "");
  EXPECT_EQ(tok->token_to_piece(1, true), "<s>");
  EXPECT_EQ(tok->token_to_piece(13), "\n");  // <0x0A>
  EXPECT_EQ(tok->token_to_piece(15043), " Hello");
  EXPECT_EQ(tok->token_to_piece(-1), "");
  EXPECT_EQ(tok->token_to_piece(tok->n_vocab()), "");
}

TEST(Tokenizer, BertFramesWithClsAndSep) {
  TANDEM_REQUIRE_FIXTURES("tokenizer");
  auto tok = load("bert-bge");
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  auto ids = tok->encode("Hello world");
  ASSERT_GE(ids.size(), 2u);
  EXPECT_EQ(ids.front(), 101);
  EXPECT_EQ(ids.back(), 102);
  EXPECT_EQ(tok->encode("Hello world", {.add_special = false}), std::vector<int32_t>(ids.begin() + 1, ids.end() - 1));
  auto parsed = tok->encode("a [SEP] b", {.add_special = false, .parse_special = true});
  EXPECT_NE(std::find(parsed.begin(), parsed.end(), 102), parsed.end());
  auto plain = tok->encode("a [SEP] b", {.add_special = false});
  EXPECT_EQ(std::find(plain.begin(), plain.end(), 102), plain.end());
  EXPECT_EQ(tok->decode(ids), " hello world");
  EXPECT_EQ(tok->decode(ids, {.unparse_special = true}), "[CLS] hello world[SEP]");
}

TEST(Tokenizer, BpeDecodesBytesAndCleansSpacesWhereTheReferenceDoes) {
  TANDEM_REQUIRE_FIXTURES("tokenizer");
  auto qwen = load("qwen2");
  ASSERT_TRUE(qwen.ok()) << qwen.error().message;
  const std::string text = "Hello , world ! 'tis  \t\n\xc3\xa9\xe4\xb8\xad\xf0\x9f\xa6\x99 <|im_end|>";
  // Qwen2 keeps spaces as they are; the control token is text without parse_special.
  EXPECT_EQ(qwen->decode(qwen->encode(text)), text);
  auto parsed = qwen->encode("a<|im_end|>", {.parse_special = true});
  EXPECT_EQ(qwen->decode(parsed), "a");
  EXPECT_EQ(qwen->decode(parsed, {.unparse_special = true}), "a<|im_end|>");
  // GPT-2 decodes with clean_up_tokenization_spaces.
  auto gpt2 = load("gpt-2");
  ASSERT_TRUE(gpt2.ok()) << gpt2.error().message;
  EXPECT_EQ(gpt2->decode(gpt2->encode("Hello , world ! I 'm here . It ' s")), "Hello, world! I'm here. It's");
}

TEST(Tokenizer, FromVocabRejectsBadSpecialIds) {
  Vocab v;
  v.model = TokenizerModel::kSpm;
  v.tokens = {"<unk>", "a"};
  v.bos = 5;
  auto t = Tokenizer::from_vocab(v);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find("bos"), std::string::npos) << t.error().message;
  v.bos = -1;
  EXPECT_TRUE(Tokenizer::from_vocab(v).ok());
  Vocab empty;
  EXPECT_FALSE(Tokenizer::from_vocab(empty).ok());
}

}  // namespace
}  // namespace tandem

// The vocabulary check before pairing two models: identical vocabularies pass,
// sizes within the margin pass, and each kind of mismatch is an error naming
// what differs (the first differing token by id and text).
#include "tandem/collab/vocab_compat.h"

#include <gtest/gtest.h>

#include "tandem/model/decoder.h"
#include "test_util.h"

namespace tandem {
namespace {

Vocab make_vocab(int n) {
  Vocab v;
  v.model = TokenizerModel::kSpm;
  v.tokens = {"<unk>", "<s>", "</s>"};
  for (int i = 3; i < n; ++i) v.tokens.push_back("t" + std::to_string(i));
  v.unk = 0, v.bos = 1, v.eos = 2, v.add_bos = true;
  return v;
}

std::string message(const Status& s) { return s.ok() ? "" : s.error().message; }

TEST(VocabCompat, SameAndWithinMarginPass) {
  EXPECT_TRUE(check_vocab_compatible(make_vocab(300), make_vocab(300)).ok());
  EXPECT_TRUE(check_vocab_compatible(make_vocab(300), make_vocab(428)).ok());
  EXPECT_TRUE(check_vocab_compatible(make_vocab(428), make_vocab(300)).ok());
  auto s = check_vocab_compatible(make_vocab(300), make_vocab(429));
  EXPECT_NE(message(s).find("sizes differ by 129: target 300 vs draft 429"), std::string::npos) << message(s);
  EXPECT_TRUE(check_vocab_compatible(make_vocab(300), make_vocab(429), {.max_size_difference = 200}).ok());
}

TEST(VocabCompat, NamesTheFirstMismatch) {
  Vocab a = make_vocab(100), b = make_vocab(100);
  b.tokens[42] = "x\ny";
  b.tokens[77] = "other";
  auto s = check_vocab_compatible(a, b);
  EXPECT_EQ(message(s), "token 42 differs: target 't42' vs draft 'x\\x0Ay' (first of 100 common ids to differ)");
  // Id 0 is compared too (llama.cpp starts at 5).
  b = make_vocab(100);
  b.tokens[0] = "<pad>";
  EXPECT_NE(message(check_vocab_compatible(a, b)).find("token 0 differs"), std::string::npos);
}

TEST(VocabCompat, TokenizerAndSpecialTokens) {
  Vocab a = make_vocab(50), b = make_vocab(50);
  b.model = TokenizerModel::kBpe;
  EXPECT_NE(message(check_vocab_compatible(a, b)).find("tokenizer models differ"), std::string::npos);
  b = make_vocab(50);
  b.eos = 7;
  EXPECT_EQ(message(check_vocab_compatible(a, b)), "EOS token ids differ: target 2 vs draft 7 (-1: none)");
  b = make_vocab(50);
  b.eot = 9;
  EXPECT_NE(message(check_vocab_compatible(a, b)).find("EOT token ids differ"), std::string::npos);
  b = make_vocab(50);
  b.add_bos = false;
  EXPECT_NE(message(check_vocab_compatible(a, b)).find("add-BOS flags differ"), std::string::npos);
}

TEST(VocabCompat, FixturePairs) {
  TANDEM_REQUIRE_FIXTURES("models");
  auto load = [](const char* f) {
    auto m = DecoderModel::load(testing::shared_dir() + "/fixtures/models/" + f);
    EXPECT_TRUE(m.ok()) << f;
    return *m;
  };
  auto gqa = load("llama-gqa-spm-f32.gguf"), mha = load("llama-mha-spm-f32.gguf");
  auto qwen = load("qwen2-gpt2-f32.gguf"), tied = load("llama-tied-gpt2-f32.gguf");
  EXPECT_TRUE(check_vocab_compatible(gqa->tokenizer().vocab(), mha->tokenizer().vocab()).ok());
  EXPECT_TRUE(check_vocab_compatible(qwen->tokenizer().vocab(), tied->tokenizer().vocab()).ok());
  EXPECT_FALSE(check_vocab_compatible(qwen->tokenizer().vocab(), gqa->tokenizer().vocab()).ok());
}

}  // namespace
}  // namespace tandem

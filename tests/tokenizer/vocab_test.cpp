// Vocabulary loading: the reference's per-model defaults, metadata overrides,
// out-of-range special ids, the control-type fix-up of end-of-turn tokens, the
// Phi-3 strip attributes, and clear errors for unusable token lists.
#include "tandem/tokenizer/vocab.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tandem/gguf/gguf_file.h"
#include "tandem/gguf/gguf_writer.h"

namespace tandem {
namespace {

struct Loaded {
  std::vector<uint8_t> bytes;  // GgufFile views these
  Result<Vocab> vocab = Error{"not loaded"};
};

Loaded load(GgufWriter& w) {
  Loaded l;
  l.bytes = w.to_bytes();
  auto f = GgufFile::parse(l.bytes, "mem.gguf");
  if (!f) {
    l.vocab = f.error();
    return l;
  }
  l.vocab = Vocab::from_gguf(*f);
  return l;
}

GgufWriter spm_writer(const std::vector<std::string>& tokens, const std::vector<int32_t>& types) {
  GgufWriter w;
  w.set("tokenizer.ggml.model", GgufValue::string("llama"));
  w.set("tokenizer.ggml.tokens", GgufValue::string_array(tokens));
  std::vector<float> scores(tokens.size(), 0.0f);
  w.set("tokenizer.ggml.scores", GgufValue::f32_array(scores));
  w.set("tokenizer.ggml.token_type", GgufValue::i32_array(types));
  return w;
}

TEST(Vocab, SentencePieceDefaults) {
  GgufWriter w = spm_writer({"<unk>", "<s>", "</s>", "a"}, {2, 3, 3, 1});
  auto l = load(w);
  ASSERT_TRUE(l.vocab.ok()) << l.vocab.error().message;
  const Vocab& v = *l.vocab;
  EXPECT_EQ(v.model, TokenizerModel::kSpm);
  EXPECT_EQ(v.bos, 1);
  EXPECT_EQ(v.eos, 2);
  EXPECT_EQ(v.unk, 0);
  EXPECT_TRUE(v.add_bos);
  EXPECT_FALSE(v.add_eos);
  EXPECT_TRUE(v.add_space_prefix);
  EXPECT_FALSE(v.clean_spaces);
  EXPECT_EQ(v.find("a"), 3);
  EXPECT_EQ(v.type(1), TokenType::kControl);
  EXPECT_TRUE(v.strip.empty());
}

TEST(Vocab, MetadataOverridesDefaultsButNotWithBadIds) {
  GgufWriter w = spm_writer({"<unk>", "<s>", "</s>", "a"}, {2, 3, 3, 1});
  w.set("tokenizer.ggml.add_bos_token", GgufValue::boolean(false));
  w.set("tokenizer.ggml.add_eos_token", GgufValue::boolean(true));
  w.set("tokenizer.ggml.add_space_prefix", GgufValue::boolean(false));
  w.set("tokenizer.ggml.eos_token_id", GgufValue::u32(3));
  // Outside the vocabulary: the reference warns and keeps the default.
  w.set("tokenizer.ggml.bos_token_id", GgufValue::u32(99));
  auto l = load(w);
  ASSERT_TRUE(l.vocab.ok()) << l.vocab.error().message;
  EXPECT_FALSE(l.vocab->add_bos);
  EXPECT_TRUE(l.vocab->add_eos);
  EXPECT_FALSE(l.vocab->add_space_prefix);
  EXPECT_EQ(l.vocab->eos, 3);
  EXPECT_EQ(l.vocab->bos, 1);
}

TEST(Vocab, WrongTypedMetadataIsAnError) {
  GgufWriter w = spm_writer({"<unk>", "<s>", "</s>"}, {2, 3, 3});
  w.set("tokenizer.ggml.add_bos_token", GgufValue::string("yes"));
  auto l = load(w);
  ASSERT_FALSE(l.vocab.ok());
  EXPECT_NE(l.vocab.error().message.find("add_bos_token"), std::string::npos) << l.vocab.error().message;
}

TEST(Vocab, BertDefaultsBeyondASmallVocabularyNameNoToken) {
  GgufWriter w;
  w.set("tokenizer.ggml.model", GgufValue::string("bert"));
  w.set("tokenizer.ggml.tokens", GgufValue::string_array({"[PAD]", "[UNK]", "hello"}));
  auto l = load(w);
  ASSERT_TRUE(l.vocab.ok()) << l.vocab.error().message;
  EXPECT_EQ(l.vocab->model, TokenizerModel::kWordPiece);
  EXPECT_EQ(l.vocab->pad, 0);
  EXPECT_EQ(l.vocab->bos, -1);  // default 101
  EXPECT_EQ(l.vocab->sep, -1);  // default 102
  EXPECT_TRUE(l.vocab->clean_spaces);
  EXPECT_FALSE(l.vocab->add_space_prefix);
  EXPECT_EQ(l.vocab->type(2), TokenType::kNormal);  // no token_type array: all normal
}

TEST(Vocab, BpeFlagsFollowThePreTokenizer) {
  auto bpe = [](const char* pre) {
    GgufWriter w;
    w.set("tokenizer.ggml.model", GgufValue::string("gpt2"));
    w.set("tokenizer.ggml.pre", GgufValue::string(pre));
    w.set("tokenizer.ggml.tokens", GgufValue::string_array({"a", "b", "ab"}));
    w.set("tokenizer.ggml.merges", GgufValue::string_array({"a b"}));
    return w;
  };
  GgufWriter llama3 = bpe("llama-bpe");
  auto l = load(llama3);
  ASSERT_TRUE(l.vocab.ok()) << l.vocab.error().message;
  EXPECT_TRUE(l.vocab->add_bos);
  EXPECT_TRUE(l.vocab->ignore_merges);
  EXPECT_TRUE(l.vocab->clean_spaces);
  EXPECT_FALSE(l.vocab->add_space_prefix);
  GgufWriter qwen = bpe("qwen2");
  auto q = load(qwen);
  ASSERT_TRUE(q.vocab.ok());
  EXPECT_FALSE(q.vocab->add_bos);
  EXPECT_FALSE(q.vocab->clean_spaces);
  EXPECT_EQ(q.vocab->merges, (std::vector<std::string>{"a b"}));

  GgufWriter no_merges;
  no_merges.set("tokenizer.ggml.model", GgufValue::string("gpt2"));
  no_merges.set("tokenizer.ggml.tokens", GgufValue::string_array({"a"}));
  EXPECT_FALSE(load(no_merges).vocab.ok());
}

TEST(Vocab, EndOfTurnTokensBecomeControl) {
  GgufWriter w = spm_writer({"<unk>", "<s>", "</s>", "<|im_end|>", "<|user|>"}, {2, 3, 3, 4, 4});
  auto l = load(w);
  ASSERT_TRUE(l.vocab.ok()) << l.vocab.error().message;
  EXPECT_EQ(l.vocab->eot, 3);
  EXPECT_EQ(l.vocab->type(3), TokenType::kControl);
  EXPECT_EQ(l.vocab->type(4), TokenType::kUserDefined);
}

TEST(Vocab, Phi3SpecialTokensStripTheWhitespaceAfterThem) {
  GgufWriter w = spm_writer({"<unk>", "<s>", "</s>", "<|user|>", "<|end|>", "a"}, {2, 3, 3, 4, 3, 1});
  w.set("general.name", GgufValue::string("Phi-3 Mini 4k Instruct"));
  auto l = load(w);
  ASSERT_TRUE(l.vocab.ok()) << l.vocab.error().message;
  const Vocab& v = *l.vocab;
  ASSERT_EQ(v.strip.size(), v.tokens.size());
  EXPECT_EQ(v.strip_of(0), kStripNone);   // <unk>
  EXPECT_EQ(v.strip_of(1), kStripNone);   // <s>
  EXPECT_EQ(v.strip_of(2), kStripRight);  // </s>
  EXPECT_EQ(v.strip_of(3), kStripRight);
  EXPECT_EQ(v.strip_of(4), kStripRight);
  EXPECT_EQ(v.strip_of(5), kStripNone);
}

TEST(Vocab, TokenListProblems) {
  GgufWriter dup = spm_writer({"<unk>", "a", "a"}, {2, 1, 1});
  auto d = load(dup);
  ASSERT_FALSE(d.vocab.ok());
  EXPECT_NE(d.vocab.error().message.find("'a' appears twice"), std::string::npos) << d.vocab.error().message;

  GgufWriter empty_text = spm_writer({"<unk>", "", "b"}, {2, 1, 7});
  auto e = load(empty_text);
  ASSERT_TRUE(e.vocab.ok()) << e.vocab.error().message;
  EXPECT_EQ(e.vocab->tokens[1], "[EMPTY_1]");
  EXPECT_EQ(e.vocab->type(2), TokenType::kUndefined);  // 7 is no llama.cpp token type

  GgufWriter short_scores = spm_writer({"<unk>", "a"}, {2, 1});
  short_scores.set("tokenizer.ggml.scores", GgufValue::f32_array({0.0f}));
  auto s = load(short_scores);
  ASSERT_FALSE(s.vocab.ok());
  EXPECT_NE(s.vocab.error().message.find("scores"), std::string::npos);

  GgufWriter unknown_model;
  unknown_model.set("tokenizer.ggml.model", GgufValue::string("t5"));
  unknown_model.set("tokenizer.ggml.tokens", GgufValue::string_array({"a"}));
  auto u = load(unknown_model);
  ASSERT_FALSE(u.vocab.ok());
  EXPECT_NE(u.vocab.error().message.find("t5"), std::string::npos);
}

TEST(Vocab, BuildIndexFillsDefaultsForVocabulariesBuiltInCode) {
  Vocab v;
  v.tokens = {"x", "y"};
  ASSERT_TRUE(v.build_index().ok());
  EXPECT_EQ(v.find("y"), 1);
  EXPECT_EQ(v.types, (std::vector<TokenType>{TokenType::kNormal, TokenType::kNormal}));
  EXPECT_EQ(v.scores.size(), 2u);
  v.tokens.push_back("x");
  v.types.push_back(TokenType::kNormal);
  v.scores.push_back(0);
  EXPECT_FALSE(v.build_index().ok());
}

}  // namespace
}  // namespace tandem

// Pre-tokenizers: which family each tokenizer.ggml.pre name selects, and the
// pieces of each family on inputs whose splits were worked out by hand from
// the reference's regex lists (in order, each regex on the previous pieces,
// unmatched text kept). Families without conformance vectors (default, refact,
// mpt, BLOOM, Viking, Tekken, Chameleon, DeepSeek V3) are covered here only.
#include "tandem/tokenizer/pretokenizer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tandem/tokenizer/unicode.h"

namespace tandem {
namespace {

using Pieces = std::vector<std::string>;

Pieces split(std::string_view pre, std::string_view text) {
  auto p = PreTokenizer::from_name(pre);
  EXPECT_TRUE(p.ok()) << p.error().message;
  if (!p) return {};
  return p->split_text(text);
}

TEST(Pretokenizer, NamesSelectTheReferenceFamily) {
  struct Name {
    const char* name;
    PreTokenizerFamily family;
    bool ignore_merges;
  };
  using F = PreTokenizerFamily;
  for (Name n : {Name{"", F::kDefault, false},
                 Name{"default", F::kDefault, false},
                 Name{"llama-bpe", F::kLlama3, true},
                 Name{"llama3", F::kLlama3, true},
                 Name{"llama-v3", F::kLlama3, true},
                 Name{"falcon3", F::kLlama3, true},
                 Name{"dbrx", F::kLlama3, false},
                 Name{"smaug-bpe", F::kLlama3, false},
                 Name{"chatglm-bpe", F::kLlama3, false},
                 Name{"qwen2", F::kQwen2, false},
                 Name{"stablelm2", F::kQwen2, false},
                 Name{"megrez", F::kQwen2, false},
                 Name{"deepseek-r1-qwen", F::kQwen2, false},
                 Name{"gpt-2", F::kGpt2, false},
                 Name{"mpt", F::kGpt2, false},
                 Name{"olmo", F::kGpt2, false},
                 Name{"jais", F::kGpt2, false},
                 Name{"phi-2", F::kGpt2, false},
                 Name{"roberta-bpe", F::kGpt2, false},
                 Name{"jina-v2-code", F::kGpt2, false},
                 Name{"gigachat", F::kGpt2, false},
                 Name{"starcoder", F::kStarcoder, false},
                 Name{"refact", F::kStarcoder, false},
                 Name{"command-r", F::kStarcoder, false},
                 Name{"smollm", F::kStarcoder, false},
                 Name{"codeshell", F::kStarcoder, false},
                 Name{"exaone", F::kStarcoder, false},
                 Name{"minerva-7b", F::kStarcoder, false},
                 Name{"deepseek-llm", F::kDeepseekLlm, false},
                 Name{"deepseek-coder", F::kDeepseekCoder, false},
                 Name{"deepseek-v3", F::kDeepseek3, false},
                 Name{"falcon", F::kFalcon, false},
                 Name{"bloom", F::kBloom, false},
                 Name{"poro-chat", F::kBloom, false},
                 Name{"gpt3-finnish", F::kBloom, false},
                 Name{"viking", F::kViking, false},
                 Name{"tekken", F::kTekken, true},
                 Name{"chameleon", F::kChameleon, false}}) {
    auto p = PreTokenizer::from_name(n.name);
    ASSERT_TRUE(p.ok()) << n.name << ": " << p.error().message;
    EXPECT_EQ(p->family(), n.family) << n.name;
    EXPECT_EQ(p->ignore_merges(), n.ignore_merges) << n.name;
    EXPECT_EQ(p->name(), n.name);
  }
}

TEST(Pretokenizer, AnUnknownNameIsAnErrorNamingIt) {
  auto p = PreTokenizer::from_name("gpt-4o");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("'gpt-4o'"), std::string::npos) << p.error().message;
  EXPECT_NE(p.error().message.find("tokenizer.ggml.pre"), std::string::npos) << p.error().message;
}

TEST(Pretokenizer, EmptyTextHasNoPieces) {
  EXPECT_TRUE(split("gpt-2", "").empty());
  EXPECT_TRUE(split("deepseek-llm", "").empty());
}

TEST(Pretokenizer, Gpt2) {
  EXPECT_EQ(split("gpt-2", "Hello world"), (Pieces{"Hello", " world"}));
  // A space before a word goes with it; of a longer run the last one does.
  EXPECT_EQ(split("gpt-2", "I'm  here\n"), (Pieces{"I", "'m", " ", " here", "\n"}));
  EXPECT_EQ(split("gpt-2", " 123abc"), (Pieces{" 123", "abc"}));
  EXPECT_EQ(split("gpt-2", "don't"), (Pieces{"don", "'t"}));
  EXPECT_EQ(split("gpt-2", "'S"), (Pieces{"'", "S"}));  // contractions are case-sensitive here
  EXPECT_EQ(split("gpt-2", "a  "), (Pieces{"a", "  "}));
  // mpt uses the same regex.
  EXPECT_EQ(split("mpt", "I'm  here\n"), split("gpt-2", "I'm  here\n"));
}

TEST(Pretokenizer, Llama3) {
  EXPECT_EQ(split("llama-bpe", "I'M 12345 ok\r\n\n  x"),
            (Pieces{"I", "'M", " ", "123", "45", " ok", "\r\n\n", " ", " x"}));
  EXPECT_EQ(split("llama-bpe", "?!\n\nHi"), (Pieces{"?!\n\n", "Hi"}));
  EXPECT_EQ(split("llama-bpe", ",word"), (Pieces{",word"}));  // one non-letter may lead a word
}

TEST(Pretokenizer, Qwen2SplitsDigitsOneByOne) {
  EXPECT_EQ(split("qwen2", "12345"), (Pieces{"1", "2", "3", "4", "5"}));
  EXPECT_EQ(split("qwen2", "I'M ok\n"), split("llama-bpe", "I'M ok\n"));
}

TEST(Pretokenizer, DefaultWhenThePreTokenizerIsMissing) {
  // Punctuation runs first, then GPT-2, then number runs, then ASCII digit triples.
  EXPECT_EQ(split("", "Hello, world! 1234567 $5"),
            (Pieces{"Hello", ",", " world", "!", " ", "123", "456", "7", " ", "$", "5"}));
  EXPECT_EQ(split("", "a+=b"), (Pieces{"a", "+=", "b"}));
  // The apostrophe is cut off by the first regex, so GPT-2 never sees "'s".
  EXPECT_EQ(split("", "it's"), (Pieces{"it", "'", "s"}));
  EXPECT_EQ(split("default", "it's"), split("", "it's"));
}

TEST(Pretokenizer, RefactSplitsDigitsThenRunsGpt2) {
  EXPECT_EQ(split("refact", "abc 123"), (Pieces{"abc", " ", "1", "2", "3"}));
  EXPECT_EQ(split("starcoder", "abc 123"), split("refact", "abc 123"));
}

TEST(Pretokenizer, Falcon) { EXPECT_EQ(split("falcon", "x 1234567!"), (Pieces{"x", " ", "123", "456", "7", "!"})); }

TEST(Pretokenizer, DeepseekLlm) {
  // ü is in the cased-letter class but not in the ASCII-and-fullwidth class
  // that runs next, which cuts it out of the word.
  EXPECT_EQ(split("deepseek-llm", "F\xc3\xbchrer"), (Pieces{"F", "\xc3\xbc", "hrer"}));
  // \s+$ cuts trailing whitespace off a piece.
  EXPECT_EQ(split("deepseek-llm", "a\xe4\xb8\xad  "), (Pieces{"a", "\xe4\xb8\xad", "  "}));
}

TEST(Pretokenizer, DeepseekCoder) {
  EXPECT_EQ(split("deepseek-coder", "a\nb 12"), (Pieces{"a", "\n", "b", " ", "1", "2"}));
}

TEST(Pretokenizer, Deepseek3) {
  EXPECT_EQ(split("deepseek-v3", "1234567"), (Pieces{"123", "456", "7"}));
  // The reference's \p{S} leaves out '~', so '~' may lead a word where '+' may not.
  EXPECT_EQ(split("deepseek-v3", "x~\xc3\xbc"), (Pieces{"x", "~\xc3\xbc"}));
  EXPECT_EQ(split("deepseek-v3", "x+\xc3\xbc"), (Pieces{"x", "+", "\xc3\xbc"}));
}

TEST(Pretokenizer, BloomAndViking) {
  EXPECT_EQ(split("bloom", "Hello, world!"), (Pieces{"Hello", ",", " world", "!"}));
  EXPECT_EQ(split("viking", "abc123 x"), (Pieces{"abc", "1", "2", "3", " x"}));
}

TEST(Pretokenizer, TekkenKeepsCamelCaseApart) {
  EXPECT_EQ(split("tekken",
                  "HTTPServer camelCase \xc3\x89"
                  "COLE"),
            (Pieces{"HTTPServer", " camel", "Case", " \xc3\x89", "COLE"}));
  EXPECT_EQ(split("tekken", "a/b 12"), (Pieces{"a", "/b", " ", "1", "2"}));
}

TEST(Pretokenizer, Chameleon) {
  // Later regexes split what earlier ones matched: the sentinel comes apart.
  EXPECT_EQ(split("chameleon", "<sentinel:3>IMGIMGABZ  x"),
            (Pieces{"<", "sentinel", ":", "3", ">", "IMGIMGABZ", "  ", "x"}));
}

TEST(Pretokenizer, PiecesCoverTheTextInOrder) {
  const std::string text =
      "Hi \xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9 x\xcc\x81 \xd8\xb9\xd8\xb1\xd8\xa8\xd9\x8a 42\n";
  for (const char* pre : {"", "gpt-2", "llama-bpe", "qwen2", "deepseek-llm", "deepseek-coder", "deepseek-v3", "falcon",
                          "starcoder", "bloom", "viking", "tekken", "chameleon"}) {
    std::string joined;
    for (const std::string& p : split(pre, text)) {
      EXPECT_FALSE(p.empty()) << pre;
      joined += p;
    }
    EXPECT_EQ(joined, text) << pre;
  }
}

TEST(Pretokenizer, InvalidUtf8BecomesReplacementCharacters) {
  EXPECT_EQ(split("gpt-2", "a\xff"), (Pieces{"a", "\xef\xbf\xbd"}));
}

TEST(Pretokenizer, LongInputStaysLinear) {
  // A long whitespace run that does not reach the end, and one that does.
  const std::string spaces(200000, ' ');
  EXPECT_EQ(split("deepseek-llm", spaces + "x").size(), 2u);
  EXPECT_EQ(split("deepseek-llm", "x" + spaces).size(), 2u);
  EXPECT_EQ(split("gpt-2", spaces + "x").size(), 2u);
}

}  // namespace
}  // namespace tandem

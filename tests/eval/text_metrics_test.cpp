// Task metrics: normalization, token F1 and first-line exact match.
#include "tandem/eval/text_metrics.h"

#include <gtest/gtest.h>

namespace tandem {
namespace {

TEST(TextMetrics, NormalizesCasePunctuationAndSpace) {
  EXPECT_EQ(normalized_words("  And God said, Let there be LIGHT!"),
            (std::vector<std::string>{"and", "god", "said", "let", "there", "be", "light"}));
  EXPECT_TRUE(normalized_words(" ,.; ").empty());
}

TEST(TextMetrics, TokenF1) {
  EXPECT_DOUBLE_EQ(token_f1("the light", "The light."), 1.0);
  // 2 common of 4 answer words and 2 reference words: P = 1/2, R = 1, F1 = 2/3.
  EXPECT_NEAR(token_f1("let there be light", "be light"), 2.0 / 3.0, 1e-12);
  // Repeats count once per occurrence in the reference.
  EXPECT_NEAR(token_f1("the the the", "the"), 0.5, 1e-12);
  EXPECT_DOUBLE_EQ(token_f1("darkness", "light"), 0.0);
  EXPECT_DOUBLE_EQ(token_f1("", ""), 1.0);
  EXPECT_DOUBLE_EQ(token_f1("x", ""), 0.0);
}

TEST(TextMetrics, ExactMatchOfFirstLine) {
  EXPECT_DOUBLE_EQ(exact_match_first_line(" And it was so.\nmore", "and it was so"), 1.0);
  EXPECT_DOUBLE_EQ(exact_match_first_line("and it was not so", "and it was so"), 0.0);
  EXPECT_DOUBLE_EQ(exact_match_first_line("\n\nsecond", "second"), 1.0);
}

TEST(TextMetrics, ParsesNames) {
  EXPECT_EQ(*parse_text_metric("f1"), TextMetric::kTokenF1);
  EXPECT_EQ(*parse_text_metric("exact"), TextMetric::kExactMatch);
  auto bad = parse_text_metric("bleu");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("f1 or exact"), std::string::npos);
  EXPECT_DOUBLE_EQ(text_metric(TextMetric::kExactMatch, "a b", "A, b"), 1.0);
}

}  // namespace
}  // namespace tandem

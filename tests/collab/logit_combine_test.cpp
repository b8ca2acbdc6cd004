// Contrastive decoding and proxy-tuning arithmetic on hand-built logit rows:
// the formulas of O'Brien & Lewis (arXiv 2309.09117) and Liu et al. (arXiv
// 2401.08565), the plausibility mask at alpha = 0, 1 and in between (ties
// included), the identities beta = 0 == expert and proxy alpha = 0 == base,
// -inf in each row, rows of unequal length, and parameter errors.
#include "tandem/collab/logit_combine.h"

#include <cmath>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

namespace tandem {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

std::vector<float> cd(const std::vector<float>& e, const std::vector<float>& a, float alpha, float beta) {
  std::vector<float> out(e.size(), 123.0f);
  auto st = contrastive_logits(e, a, {.alpha = alpha, .beta = beta}, out);
  EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().message);
  return out;
}

std::vector<float> proxy(const std::vector<float>& b, const std::vector<float>& t, const std::vector<float>& sb,
                         float alpha) {
  std::vector<float> out(b.size(), 123.0f);
  auto st = proxy_tuned_logits(b, t, sb, {.alpha = alpha}, out);
  EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().message);
  return out;
}

TEST(Contrastive, ArithmeticIsOnePlusBetaExpertMinusBetaAmateur) {
  const std::vector<float> e{1.0f, 2.0f, 3.0f, 0.5f};
  const std::vector<float> a{0.0f, 4.0f, 1.0f, -2.0f};
  auto out = cd(e, a, 0.0f, 0.5f);
  for (size_t i = 0; i < e.size(); ++i) EXPECT_FLOAT_EQ(out[i], 1.5f * e[i] - 0.5f * a[i]) << i;
  // The amateur's favourite (token 1) loses to token 2; token 3, which the amateur dislikes, gains.
  EXPECT_FLOAT_EQ(out[1], 1.0f);
  EXPECT_FLOAT_EQ(out[2], 4.0f);
  EXPECT_FLOAT_EQ(out[3], 1.75f);
}

TEST(Contrastive, MaskKeepsTokensWithinAlphaOfTheMaxProbability) {
  // p_e(i) / max p_e = exp(e_i - max): 1, exp(-1) = 0.368, exp(-2) = 0.135, exp(-3) = 0.0498.
  const std::vector<float> e{3.0f, 2.0f, 1.0f, 0.0f};
  const std::vector<float> a{0.0f, 0.0f, 0.0f, 0.0f};
  auto out = cd(e, a, 0.1f, 1.0f);
  EXPECT_FLOAT_EQ(out[0], 6.0f);
  EXPECT_FLOAT_EQ(out[1], 4.0f);
  EXPECT_FLOAT_EQ(out[2], 2.0f);
  EXPECT_EQ(out[3], -kInf);
  // A stricter alpha (0.2, between exp(-2) and exp(-1)) keeps token 1 and masks token 2 ...
  out = cd(e, a, 0.2f, 1.0f);
  EXPECT_TRUE(std::isfinite(out[1]));
  EXPECT_EQ(out[2], -kInf);
  // ... and the mask is on the expert alone: the amateur cannot unmask a token.
  out = cd(e, {0.0f, 0.0f, 0.0f, -100.0f}, 0.1f, 1.0f);
  EXPECT_EQ(out[3], -kInf);
}

TEST(Contrastive, MaskIsTheSameOnLogitsAndLogProbs) {
  // Shifting a row by a constant (logits vs log-softmax) changes no decision.
  const std::vector<float> e{0.3f, -1.2f, 2.5f, 1.9f, -4.0f};
  const std::vector<float> a{1.0f, 0.1f, 2.0f, -0.5f, 0.0f};
  std::vector<float> e2 = e, a2 = a;
  for (float& v : e2) v -= 7.0f;
  for (float& v : a2) v += 3.0f;
  auto x = cd(e, a, 0.3f, 0.7f), y = cd(e2, a2, 0.3f, 0.7f);
  const float shift = 1.7f * -7.0f - 0.7f * 3.0f;
  for (size_t i = 0; i < e.size(); ++i) {
    EXPECT_EQ(std::isinf(x[i]), std::isinf(y[i])) << i;
    if (std::isfinite(x[i])) {
      EXPECT_NEAR(y[i], x[i] + shift, 1e-4f) << i;
    }
  }
}

TEST(Contrastive, AlphaZeroKeepsAllAlphaOneKeepsOnlyTheMax) {
  const std::vector<float> e{-30.0f, 5.0f, 4.999f, 5.0f, -1e30f};
  const std::vector<float> a{1.0f, 1.0f, 1.0f, 1.0f, 1.0f};
  auto all = cd(e, a, 0.0f, 0.5f);
  for (size_t i = 0; i < e.size(); ++i) EXPECT_TRUE(std::isfinite(all[i])) << i;
  auto top = cd(e, a, 1.0f, 0.5f);
  EXPECT_EQ(top[0], -kInf);
  EXPECT_FLOAT_EQ(top[1], 7.0f);
  EXPECT_EQ(top[2], -kInf);
  EXPECT_FLOAT_EQ(top[3], 7.0f);  // a tie with the max is kept
  EXPECT_EQ(top[4], -kInf);
}

TEST(Contrastive, BetaZeroIsTheExpert) {
  const std::vector<float> e{0.25f, -3.5f, 8.0f, 1e-7f};
  const std::vector<float> a{100.0f, -100.0f, 3.0f, -kInf};
  auto out = cd(e, a, 0.0f, 0.0f);
  EXPECT_EQ(out, e);  // bit for bit
}

TEST(Contrastive, NegativeInfinity) {
  // Expert -inf stays -inf even at alpha = 0; amateur -inf becomes the amateur's lowest finite logit.
  const std::vector<float> e{1.0f, -kInf, 2.0f, 0.0f};
  const std::vector<float> a{-1.0f, 0.0f, -kInf, 3.0f};
  auto out = cd(e, a, 0.0f, 1.0f);
  EXPECT_FLOAT_EQ(out[0], 3.0f);
  EXPECT_EQ(out[1], -kInf);
  EXPECT_FLOAT_EQ(out[2], 4.0f - (-1.0f));  // 2 * 2 - 1 * floor(-1)
  EXPECT_FLOAT_EQ(out[3], -3.0f);
  for (float v : out) EXPECT_FALSE(std::isnan(v));
  for (float v : out) EXPECT_NE(v, kInf);
}

TEST(Contrastive, UnequalLengths) {
  // Ids past the amateur's vocabulary are never proposed; a longer amateur is cut to the expert's size.
  std::vector<float> out(3);
  ASSERT_TRUE(contrastive_logits(std::vector<float>{1, 2, 3}, std::vector<float>{0, 0}, {0.0f, 1.0f}, out).ok());
  EXPECT_FLOAT_EQ(out[0], 2.0f);
  EXPECT_FLOAT_EQ(out[1], 4.0f);
  EXPECT_EQ(out[2], -kInf);
  ASSERT_TRUE(contrastive_logits(std::vector<float>{1, 2, 3}, std::vector<float>{0, 0, 0, 9}, {0.0f, 1.0f}, out).ok());
  EXPECT_FLOAT_EQ(out[2], 6.0f);
}

TEST(Contrastive, Errors) {
  std::vector<float> out(2);
  const std::vector<float> ok{0.0f, 1.0f};
  EXPECT_FALSE(contrastive_logits(ok, ok, {.alpha = -0.1f, .beta = 0.5f}, out).ok());
  EXPECT_FALSE(contrastive_logits(ok, ok, {.alpha = 1.5f, .beta = 0.5f}, out).ok());
  EXPECT_FALSE(contrastive_logits(ok, ok, {.alpha = NAN, .beta = 0.5f}, out).ok());
  EXPECT_FALSE(contrastive_logits(ok, ok, {.alpha = 0.1f, .beta = -1.0f}, out).ok());
  EXPECT_FALSE(contrastive_logits(ok, ok, {.alpha = 0.1f, .beta = kInf}, out).ok());
  EXPECT_FALSE(contrastive_logits(std::vector<float>{0.0f, NAN}, ok, {}, out).ok());
  EXPECT_FALSE(contrastive_logits(ok, std::vector<float>{kInf, 0.0f}, {}, out).ok());
  EXPECT_FALSE(contrastive_logits(ok, std::vector<float>{-kInf, -kInf}, {}, out).ok());
  EXPECT_FALSE(contrastive_logits(std::vector<float>{-kInf, -kInf}, ok, {}, out).ok());
  EXPECT_FALSE(contrastive_logits(ok, ok, {}, std::span<float>(out.data(), 1)).ok());
  auto st = contrastive_logits(std::vector<float>{0.0f, NAN}, ok, {}, out);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("token 1"), std::string::npos) << st.error().message;
}

TEST(Proxy, ArithmeticIsBasePlusAlphaTimesTunedMinusSmallBase) {
  const std::vector<float> b{1.0f, 2.0f, 3.0f};
  const std::vector<float> t{0.0f, 5.0f, -1.0f};
  const std::vector<float> sb{1.0f, 1.0f, 1.0f};
  auto out = proxy(b, t, sb, 1.0f);
  EXPECT_FLOAT_EQ(out[0], 0.0f);
  EXPECT_FLOAT_EQ(out[1], 6.0f);
  EXPECT_FLOAT_EQ(out[2], 1.0f);
  out = proxy(b, t, sb, 0.5f);
  for (size_t i = 0; i < b.size(); ++i) EXPECT_FLOAT_EQ(out[i], b[i] + 0.5f * (t[i] - sb[i])) << i;
  out = proxy(b, t, sb, -1.0f);  // negative strength steers away from the tuning
  EXPECT_FLOAT_EQ(out[1], -2.0f);
}

TEST(Proxy, AlphaZeroIsTheBaseAndTunedEqualsBaseIsTheBase) {
  const std::vector<float> b{0.1f, -2.0f, 7.5f, -kInf};
  const std::vector<float> t{3.0f, 1.0f, -kInf, 2.0f};
  const std::vector<float> sb{-1.0f, 9.0f, 0.0f, 0.0f};
  EXPECT_EQ(proxy(b, t, sb, 0.0f), b);
  EXPECT_EQ(proxy(b, sb, sb, 1.0f), b);
  EXPECT_EQ(proxy(b, sb, sb, 3.0f), b);
}

TEST(Proxy, NegativeInfinity) {
  const std::vector<float> b{1.0f, -kInf, 2.0f, 3.0f, 0.0f};
  const std::vector<float> t{0.0f, 5.0f, -kInf, 1.0f, -kInf};
  const std::vector<float> sb{0.0f, 0.0f, 2.0f, -kInf, -kInf};
  auto out = proxy(b, t, sb, 1.0f);
  EXPECT_FLOAT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -kInf);                  // the large base rules it out
  EXPECT_FLOAT_EQ(out[2], 2.0f + (0.0f - 2.0f));  // tuned -inf -> tuned floor 0
  EXPECT_FLOAT_EQ(out[3], 3.0f + (1.0f - 0.0f));  // small base -inf -> its floor 0
  EXPECT_FLOAT_EQ(out[4], 0.0f);            // both -inf: no offset
  for (float v : out) EXPECT_FALSE(std::isnan(v));
  for (float v : out) EXPECT_NE(v, kInf);
}

TEST(Proxy, UnequalLengthsAndErrors) {
  std::vector<float> out(3);
  ASSERT_TRUE(proxy_tuned_logits(std::vector<float>{1, 2, 3}, std::vector<float>{1, 1},
                                 std::vector<float>{0, 0, 0}, {}, out).ok());
  EXPECT_EQ(out[2], -kInf);
  const std::vector<float> ok{0.0f, 1.0f, 2.0f};
  EXPECT_FALSE(proxy_tuned_logits(ok, ok, ok, {.alpha = NAN}, out).ok());
  EXPECT_FALSE(proxy_tuned_logits(ok, ok, ok, {.alpha = kInf}, out).ok());
  EXPECT_FALSE(proxy_tuned_logits(ok, std::vector<float>{0, NAN, 0}, ok, {}, out).ok());
  EXPECT_FALSE(proxy_tuned_logits(ok, ok, std::vector<float>{-kInf, -kInf, -kInf}, {}, out).ok());
  EXPECT_FALSE(proxy_tuned_logits(ok, ok, ok, {}, std::span<float>(out.data(), 2)).ok());
}

TEST(Combiner, WrapsTheFunctionsAndChecksTheRowCount) {
  const std::vector<float> e{1.0f, 2.0f}, a{0.0f, 1.0f};
  std::vector<float> out(2), ref(2);
  auto c = contrastive_combiner({.alpha = 0.0f, .beta = 0.5f});
  EXPECT_EQ(c.n_models, 2u);
  std::vector<std::span<const float>> rows{e, a};
  ASSERT_TRUE(c.combine(rows, out).ok());
  ASSERT_TRUE(contrastive_logits(e, a, {.alpha = 0.0f, .beta = 0.5f}, ref).ok());
  EXPECT_EQ(out, ref);
  EXPECT_FALSE(c.combine(std::span<const std::span<const float>>(rows.data(), 1), out).ok());
  auto p = proxy_combiner({.alpha = 1.0f});
  EXPECT_EQ(p.n_models, 3u);
  std::vector<std::span<const float>> prow{e, a, a};
  ASSERT_TRUE(p.combine(prow, out).ok());
  EXPECT_EQ(out, e);
  EXPECT_FALSE(p.combine(rows, out).ok());
}

}  // namespace
}  // namespace tandem

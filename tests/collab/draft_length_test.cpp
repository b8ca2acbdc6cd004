// The draft length policy: fixed K, and the adaptive rule (Leviathan et al.'s
// cost model) growing K while drafts are accepted and shrinking it when they
// are not.
#include "tandem/collab/draft_length.h"

#include <cmath>

#include <gtest/gtest.h>

namespace tandem {
namespace {

TEST(DraftLength, FixedIsAlwaysMax) {
  auto d = *DraftLength::create({.max = 5});
  EXPECT_EQ(d.next(), 5);
  d.update(5, 0);
  d.update(5, 0);
  EXPECT_EQ(d.next(), 5);
}

TEST(DraftLength, ExpectedSpeedupFormula) {
  // a = 0: one token per round whatever K; cost grows with K.
  EXPECT_DOUBLE_EQ(DraftLength::expected_speedup(0.0, 4, 0.25), 1.0 / 2.0);
  // a = 1: K + 1 tokens per round.
  EXPECT_DOUBLE_EQ(DraftLength::expected_speedup(1.0, 4, 0.25), 5.0 / 2.0);
  // (1 - a^(K+1)) / ((1 - a)(K c + 1)).
  const double a = 0.7;
  EXPECT_NEAR(DraftLength::expected_speedup(a, 3, 0.1), (1 - std::pow(a, 4)) / ((1 - a) * 1.3), 1e-12);
}

TEST(DraftLength, AdaptiveFollowsAcceptance) {
  auto d = *DraftLength::create({.max = 8, .min = 0, .adaptive = true, .cost_ratio = 0.1});
  const int32_t start = d.next();
  EXPECT_GE(start, 1);
  EXPECT_LE(start, 8);
  for (int i = 0; i < 30; ++i) d.update(d.next(), d.next());  // every draft accepted
  EXPECT_GT(d.acceptance(), 0.95);
  EXPECT_EQ(d.next(), 8);
  for (int i = 0; i < 80; ++i) d.update(d.next(), 0);  // every draft rejected
  EXPECT_LT(d.acceptance(), 0.05);
  EXPECT_EQ(d.next(), 1);  // never 0: a round without drafts would teach nothing
  auto m = *DraftLength::create({.max = 8, .min = 3, .adaptive = true, .cost_ratio = 0.1});
  for (int i = 0; i < 30; ++i) m.update(m.next(), 0);
  EXPECT_EQ(m.next(), 3);
  // Middling acceptance lands in between.
  auto mid = *DraftLength::create({.max = 8, .adaptive = true, .cost_ratio = 0.1});
  for (int i = 0; i < 50; ++i) mid.update(4, 1);  // 1 success in 2 trials per round
  EXPECT_NEAR(mid.acceptance(), 0.5, 0.01);
  EXPECT_GT(mid.next(), 1);
  EXPECT_LT(mid.next(), 8);
  // Free drafts (c = 0): always the longest.
  auto free = *DraftLength::create({.max = 6, .adaptive = true, .cost_ratio = 0.0});
  for (int i = 0; i < 10; ++i) free.update(6, 0);
  EXPECT_EQ(free.next(), 6);
}

TEST(DraftLength, RejectsBadParameters) {
  EXPECT_FALSE(DraftLength::create({.max = 0}).ok());
  EXPECT_FALSE(DraftLength::create({.max = 4, .min = 5}).ok());
  EXPECT_FALSE(DraftLength::create({.max = 4, .min = -1}).ok());
  EXPECT_FALSE(DraftLength::create({.max = 4, .cost_ratio = -1}).ok());
  EXPECT_FALSE(DraftLength::create({.max = 4, .decay = 1.0}).ok());
}

}  // namespace
}  // namespace tandem

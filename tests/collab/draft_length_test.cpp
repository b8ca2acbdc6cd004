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

// Runs the measured-cost rule against a simulated pair: verifying n tokens
// takes v0 + v1 n seconds, a draft token d seconds, and drafts are kept at
// acceptance about a (a deterministic low-discrepancy pattern).
DraftLength settle(double v0, double v1, double d, double a, int rounds) {
  auto len = *DraftLength::create({.max = 8, .adaptive = true, .cost_ratio = 0.05, .measure_costs = true});
  for (int r = 0; r < rounds; ++r) {
    const int32_t k = len.next();
    int32_t acc = 0;
    while (acc < k && std::fmod(r * 0.6180339887 + acc * 0.3819660113, 1.0) < a) ++acc;
    len.observe(k, k * d, k + 1, v0 + v1 * (k + 1));
    len.update(k, acc);
  }
  return len;
}

// The K that maximizes expected tokens per second for known costs.
int32_t best_k(double v0, double v1, double d, double a) {
  int32_t best = 1;
  double best_f = 0;
  for (int32_t k = 1; k <= 8; ++k) {
    const double tokens = (1 - std::pow(a, k + 1)) / (1 - a);
    const double f = tokens / (k * d + v0 + v1 * (k + 1));
    if (f > best_f) best = k, best_f = f;
  }
  return best;
}

TEST(DraftLength, MeasuredCostsExploreBothEndsFirst) {
  auto len = *DraftLength::create({.max = 6, .min = 2, .adaptive = true, .measure_costs = true});
  EXPECT_EQ(len.next(), 2);  // nothing timed: the shortest draft
  len.observe(2, 0.002, 3, 0.003);
  len.update(2, 2);
  EXPECT_EQ(len.next(), 6);  // one batch size timed: the other end
  len.observe(6, 0.006, 7, 0.007);
  len.update(6, 6);
  // Two sizes: the fitted line is exact, 0.001 s per token.
  EXPECT_NEAR(len.verify_seconds(5), 0.005, 1e-9);
  EXPECT_NEAR(len.draft_seconds_per_token(), 0.001, 1e-12);
}

TEST(DraftLength, MeasuredCostsFindTheBestLength) {
  // Memory-bound target: verification nearly flat, cheap drafts -> long drafts.
  const DraftLength mem = settle(1e-3, 2e-5, 1e-4, 0.8, 200);
  EXPECT_NEAR(mem.verify_seconds(4), 1e-3 + 4 * 2e-5, 1e-9);
  EXPECT_EQ(mem.next(), best_k(1e-3, 2e-5, 1e-4, mem.acceptance()));
  EXPECT_GE(mem.next(), 4);
  // Compute-bound target (verification grows with every token, as on a model
  // that stays in cache) -> short drafts, where the byte-ratio model (flat
  // verification) drafts long at the same acceptance.
  const DraftLength cpu = settle(1e-4, 3e-4, 1e-4, 0.8, 200);
  EXPECT_EQ(cpu.next(), best_k(1e-4, 3e-4, 1e-4, cpu.acceptance()));
  EXPECT_LE(cpu.next(), 2);
  auto flat = *DraftLength::create({.max = 8, .adaptive = true, .cost_ratio = 0.1});
  for (int i = 0; i < 200; ++i) flat.update(4, 3);  // acceptance 0.75
  EXPECT_GE(flat.next(), 4);
}

TEST(DraftLength, RejectsBadParameters) {
  EXPECT_FALSE(DraftLength::create({.max = 0}).ok());
  EXPECT_FALSE(DraftLength::create({.max = 4, .min = 5}).ok());
  EXPECT_FALSE(DraftLength::create({.max = 4, .min = -1}).ok());
  EXPECT_FALSE(DraftLength::create({.max = 4, .cost_ratio = -1}).ok());
  EXPECT_FALSE(DraftLength::create({.max = 4, .decay = 1.0}).ok());
  EXPECT_FALSE(DraftLength::create({.max = 4, .cost_decay = -0.1}).ok());
}

}  // namespace
}  // namespace tandem

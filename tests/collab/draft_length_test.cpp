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
  auto one = *DraftLength::create({.max = 8, .min = 1, .adaptive = true, .cost_ratio = 0.1});
  for (int i = 0; i < 80; ++i) one.update(one.next(), 0);  // every draft rejected
  EXPECT_LT(one.acceptance(), 0.05);
  EXPECT_EQ(one.next(), 1);  // min = 1: never plain decoding
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
  int32_t best = 0;
  double best_f = 0;
  for (int32_t k = 0; k <= 8; ++k) {
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
  const DraftLength cpu = settle(3e-4, 2e-4, 2e-5, 0.8, 200);
  EXPECT_EQ(cpu.next(), best_k(3e-4, 2e-4, 2e-5, cpu.acceptance()));
  EXPECT_GE(cpu.next(), 1);
  EXPECT_LE(cpu.next(), 2);
  auto flat = *DraftLength::create({.max = 8, .adaptive = true, .cost_ratio = 0.1});
  for (int i = 0; i < 200; ++i) flat.update(4, 3);  // acceptance 0.75
  EXPECT_GE(flat.next(), 4);
}

// min = 0: where drafting loses (f(K) < 1 for every K) the rule decodes
// plainly, drafts again every probe_interval plain rounds, and resumes drafting
// when the probes are accepted.
TEST(DraftLength, StopsDraftingWhereItLosesAndProbes) {
  auto d = *DraftLength::create({.max = 6, .adaptive = true, .cost_ratio = 0.3, .probe_interval = 4});
  int rounds = 0;
  while (d.next() > 0 && rounds < 100) d.update(d.next(), 0), ++rounds;
  ASSERT_EQ(d.next(), 0) << "still drafting after " << rounds << " rejected rounds";
  EXPECT_LT(DraftLength::expected_speedup(d.acceptance(), 1, 0.3), 1.0);
  // Four plain rounds, then one probe with the best K >= 1; each rejected
  // probe doubles the wait for the next.
  std::vector<int32_t> ks;
  for (int i = 0; i < 20; ++i) {
    ks.push_back(d.next());
    d.update(d.next(), 0);
  }
  EXPECT_EQ(ks, (std::vector<int32_t>{0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}));
  // Probes that are all accepted bring drafting back for good.
  for (int i = 0; i < 200 && d.next() == 0; ++i) d.update(0, 0);
  int plain = 0;
  for (int i = 0; i < 1000; ++i) plain += d.next() == 0, d.update(d.next(), d.next());
  EXPECT_LT(plain, 200);
  EXPECT_GT(d.next(), 1);
}

TEST(DraftLength, MeasuredCostsStopDraftingWhereItLoses) {
  // Verifying costs 1 ms + 0.6 ms per token and a draft token 0.3 ms: at
  // acceptance 0.3 every K costs more time per token than plain decoding
  // (K = 1 breaks even at 0.56).
  const double v0 = 1e-3, v1 = 6e-4, dt = 3e-4;
  auto len = *DraftLength::create({.max = 6, .adaptive = true, .measure_costs = true, .probe_interval = 8});
  double seconds = 0;
  int64_t tokens = 0, plain = 0;
  int32_t prev_k = -1;
  for (int r = 0; r < 400; ++r) {
    const int32_t k = len.next();
    int32_t acc = 0;
    while (acc < k && std::fmod(r * 0.6180339887 + acc * 0.3819660113, 1.0) < 0.3) ++acc;
    // A probe's draft model first catches up on the rounds it sat out.
    const double draft_s = k * dt + (k > 0 && prev_k == 0 ? 2e-3 : 0.0);
    prev_k = k;
    const double verify_s = v0 + v1 * (k + 1);
    len.observe(k, draft_s, k + 1, verify_s);
    len.update(k, acc);
    seconds += (k > 0 ? draft_s : 0.0) + verify_s;
    tokens += acc + 1;
    plain += k == 0;
  }
  EXPECT_GT(plain, 300);
  // Within a few percent of plain decoding's 1.6 ms per token.
  EXPECT_LT(seconds / static_cast<double>(tokens), 1.04 * (v0 + v1));
  // The catch-up in the probes' draft time did not make drafts look dearer.
  EXPECT_LT(len.draft_seconds_per_token(), 1.5 * dt);
}

// Verifications after a draft cost more than a plain pass would suggest
// (us: a plain pass 100, verifying n drafted-for tokens 20 + 60 n: the draft
// has just evicted the target's data), at acceptance 0.8 and 25 us a draft
// token: K = 1 (10.9 tokens/ms) beats plain decoding (10.0), but the line
// through the verifications puts V(1) at 80 us (12.5). Plain decoding is judged
// on a plain round's own time: one plain round, then drafting for good.
TEST(DraftLength, MeasuredCostsTimePlainDecodingBeforeChoosingIt) {
  auto len = *DraftLength::create({.max = 6, .adaptive = true, .measure_costs = true});
  int plain = 0;
  for (int r = 0; r < 300; ++r) {
    const int32_t k = len.next();
    int32_t acc = 0;
    while (acc < k && std::fmod(r * 0.6180339887 + acc * 0.3819660113, 1.0) < 0.8) ++acc;
    len.observe(k, k * 25e-6, k + 1, k == 0 ? 100e-6 : 20e-6 + 60e-6 * (k + 1));
    len.update(k, acc);
    plain += k == 0;
  }
  EXPECT_LE(plain, 2);
  EXPECT_EQ(len.next(), 1);
}

TEST(DraftLength, RejectsBadParameters) {
  EXPECT_FALSE(DraftLength::create({.max = 4, .probe_interval = 0}).ok());
  EXPECT_FALSE(DraftLength::create({.max = 0}).ok());
  EXPECT_FALSE(DraftLength::create({.max = 4, .min = 5}).ok());
  EXPECT_FALSE(DraftLength::create({.max = 4, .min = -1}).ok());
  EXPECT_FALSE(DraftLength::create({.max = 4, .cost_ratio = -1}).ok());
  EXPECT_FALSE(DraftLength::create({.max = 4, .decay = 1.0}).ok());
  EXPECT_FALSE(DraftLength::create({.max = 4, .cost_decay = -0.1}).ok());
}

}  // namespace
}  // namespace tandem

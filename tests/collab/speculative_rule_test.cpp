// The speculative acceptance rule (arXiv 2211.17192, 2302.01318) on hand-built
// distributions: the deterministic corners, and chi-square tests that the
// emitted token is distributed as p, with the same test rejecting two wrong
// rules (emitting the draft token uncorrected, and resampling from p instead
// of the residual), so the bound is shown to have power.
#include "tandem/collab/speculative_rule.h"

#include <cmath>
#include <functional>
#include <vector>

#include <gtest/gtest.h>

#include "tandem/sampling/sampler.h"

namespace tandem {
namespace {

// Chi-square quantile by the Wilson-Hilferty approximation at z = 5 (upper tail
// about 3e-7): a correct rule stays below it for any seed, all but surely.
double chi2_bound(int dof) {
  const double k = dof, z = 5.0;
  const double a = 2.0 / (9.0 * k);
  return k * std::pow(1.0 - a + z * std::sqrt(a), 3.0);
}

// Pearson's statistic of counts against p; cells where p is 0 must stay empty.
double chi2(const std::vector<int64_t>& counts, const std::vector<float>& p, int64_t n, int* dof) {
  double s = 0.0;
  int cells = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == 0.0f) {
      EXPECT_EQ(counts[i], 0) << "token " << i << " has p = 0 but was emitted";
      continue;
    }
    const double e = static_cast<double>(n) * p[i];
    s += (counts[i] - e) * (counts[i] - e) / e;
    ++cells;
  }
  *dof = cells - 1;
  return s;
}

// Emits n tokens: x drawn from q (or `fixed` when q is empty), then `rule`.
using Rule = std::function<int32_t(int32_t x, Rng& rng)>;
std::vector<int64_t> tally(const std::vector<float>& q, int32_t fixed, size_t n_vocab, int64_t n, const Rule& rule) {
  Rng draft_rng(11), target_rng(12);
  std::vector<int64_t> counts(n_vocab, 0);
  for (int64_t i = 0; i < n; ++i) {
    const int32_t x = q.empty() ? fixed : *sample_from_probs(q, draft_rng);
    ++counts[static_cast<size_t>(rule(x, target_rng))];
  }
  return counts;
}

Rule correct_rule(const std::vector<float>& p, const std::vector<float>& q) {
  return [&p, &q, residual = std::vector<float>()](int32_t x, Rng& rng) mutable {
    auto r = verify_draft_token(p, q, x, rng, residual);
    EXPECT_TRUE(r.ok());
    return r->token;
  };
}

// p and q overlap partly: tokens only p has (4), only q has (1), and tokens
// where each is larger, so both branches of the rule and the residual matter.
const std::vector<float> kP = {0.30f, 0.00f, 0.25f, 0.05f, 0.20f, 0.20f};
const std::vector<float> kQ = {0.10f, 0.35f, 0.40f, 0.15f, 0.00f, 0.00f};
constexpr int64_t kSamples = 200000;

TEST(SpeculativeRule, EmitsTargetDistribution) {
  const auto counts = tally(kQ, -1, kP.size(), kSamples, correct_rule(kP, kQ));
  int dof = 0;
  const double s = chi2(counts, kP, kSamples, &dof);
  EXPECT_LT(s, chi2_bound(dof)) << "dof " << dof;
}

TEST(SpeculativeRule, ChiSquareCatchesWrongRules) {
  int dof = 0;
  // Wrong 1: keep every draft token (sampling from q without correction).
  auto uncorrected = tally(kQ, -1, kP.size(), kSamples, [](int32_t x, Rng&) { return x; });
  double s = 0.0;
  for (size_t i = 0; i < kP.size(); ++i) {
    if (kP[i] == 0.0f) continue;
    const double e = kSamples * static_cast<double>(kP[i]);
    s += (uncorrected[i] - e) * (uncorrected[i] - e) / e;
  }
  EXPECT_GT(s, 10 * chi2_bound(4));
  // Wrong 2: the right acceptance test, but a rejection resamples from p
  // instead of norm(max(0, p - q)): over-weights tokens where q > p.
  Rule resample_p = [](int32_t x, Rng& rng) {
    const double px = static_cast<size_t>(x) < kP.size() ? kP[static_cast<size_t>(x)] : 0.0;
    if (rng.uniform_double() * kQ[static_cast<size_t>(x)] < px) return x;
    return *sample_from_probs(kP, rng);
  };
  auto biased = tally(kQ, -1, kP.size(), kSamples, resample_p);
  s = chi2(biased, kP, kSamples, &dof);
  EXPECT_GT(s, 10 * chi2_bound(dof)) << "dof " << dof;
}

TEST(SpeculativeRule, DeterministicProposalKeepsWithProbabilityP) {
  // Prompt lookup and greedy drafts: q one-hot (empty span).
  const std::vector<float> none;
  for (int32_t fixed : {0, 1, 3}) {
    SCOPED_TRACE(fixed);
    int64_t kept = 0;
    std::vector<float> residual;
    Rng rng(5);
    std::vector<int64_t> counts(kP.size(), 0);
    for (int64_t i = 0; i < kSamples; ++i) {
      auto r = verify_draft_token(kP, none, fixed, rng, residual);
      ASSERT_TRUE(r.ok());
      kept += r->accepted;
      ++counts[static_cast<size_t>(r->token)];
    }
    int dof = 0;
    const double s = chi2(counts, kP, kSamples, &dof);
    EXPECT_LT(s, chi2_bound(dof));
    EXPECT_NEAR(static_cast<double>(kept) / kSamples, kP[static_cast<size_t>(fixed)], 0.005);
  }
}

TEST(SpeculativeRule, Corners) {
  std::vector<float> residual;
  Rng rng(1);
  // p(x) >= q(x): always kept, whatever the draw.
  for (int i = 0; i < 1000; ++i) {
    auto r = verify_draft_token(kP, kQ, 0, rng, residual);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->accepted);
    EXPECT_EQ(r->token, 0);
  }
  // p(x) = 0: never kept, never emitted.
  for (int i = 0; i < 1000; ++i) {
    auto r = verify_draft_token(kP, kQ, 1, rng, residual);
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->accepted);
    EXPECT_NE(r->token, 1);
    // The residual max(0, p - q) is zero where q >= p: tokens 1, 2, 3.
    EXPECT_TRUE(r->token == 0 || r->token == 4 || r->token == 5) << r->token;
  }
  // Ids past q's end have q = 0; ids past p's end have p = 0.
  const std::vector<float> short_q = {0.5f, 0.5f};
  auto r = verify_draft_token(kP, short_q, 4, rng, residual);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->accepted);
  r = verify_draft_token(kP, kQ, 9, rng, residual);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->accepted);
  // p == q: the rule keeps everything.
  for (int i = 0; i < 1000; ++i) {
    auto s = verify_draft_token(kQ, kQ, 2, rng, residual);
    ASSERT_TRUE(s.ok());
    EXPECT_TRUE(s->accepted);
  }
  // Greedy is the one-hot case: kept iff x is the target's argmax.
  const std::vector<float> one_hot = {0.0f, 0.0f, 1.0f};
  EXPECT_TRUE(verify_draft_token(one_hot, {}, 2, rng, residual)->accepted);
  auto g = verify_draft_token(one_hot, {}, 1, rng, residual);
  EXPECT_FALSE(g->accepted);
  EXPECT_EQ(g->token, 2);
  EXPECT_FALSE(verify_draft_token({}, kQ, 0, rng, residual).ok());
  EXPECT_FALSE(verify_draft_token(kP, kQ, -1, rng, residual).ok());
}

TEST(SpeculativeRule, ConsumesOneDrawWhenKeptTwoWhenRejected) {
  std::vector<float> residual;
  Rng a(3), b(3);
  ASSERT_TRUE(verify_draft_token(kP, kQ, 0, a, residual)->accepted);
  b.uniform_double();
  EXPECT_EQ(a, b);
  ASSERT_FALSE(verify_draft_token(kP, kQ, 1, a, residual)->accepted);
  b.uniform_double();
  b.uniform_double();
  EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace tandem

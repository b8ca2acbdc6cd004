// AdamW against a plain double-precision transcription of the update rule, the
// decay mask (matrices decay, norm gains do not), the warmup + cosine schedule,
// and the gradient norm used for clipping.
#include "tandem/train/adamw.h"

#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "tandem/train/lr_schedule.h"

namespace tandem {
namespace {

DecoderConfig tiny() {
  return {.dim = 8, .n_layers = 1, .n_heads = 2, .n_kv_heads = 1, .ffn = 12, .vocab = 5, .ctx = 4};
}

TEST(AdamW, MatchesTheUpdateRuleAndDecaysOnlyMatrices) {
  const DecoderConfig c = tiny();
  const ParamLayout layout(c);
  const AdamWConfig cfg{.beta1 = 0.9f, .beta2 = 0.95f, .eps = 1e-8f, .weight_decay = 0.1f};
  AdamW opt(layout, cfg);
  ThreadPool pool(2);
  const size_t n = static_cast<size_t>(layout.total());
  std::vector<float> p(n), g(n);
  std::mt19937 rng(3);
  std::normal_distribution<float> d;
  for (auto& x : p) x = d(rng);
  std::vector<double> rp(p.begin(), p.end()), rm(n, 0.0), rv(n, 0.0);
  std::vector<bool> decay(n);
  for (const ParamTensor& t : layout.tensors())
    for (int64_t i = 0; i < t.size(); ++i) decay[static_cast<size_t>(t.offset + i)] = t.decay;
  for (int step = 1; step <= 4; ++step) {
    for (auto& x : g) x = d(rng);
    const float lr = 0.01f * static_cast<float>(step), scale = 0.5f;
    opt.update(pool, p, g, lr, scale);
    for (size_t i = 0; i < n; ++i) {
      const double gi = static_cast<double>(g[i]) * scale;
      rm[i] = 0.9 * rm[i] + 0.1 * gi;
      rv[i] = 0.95 * rv[i] + 0.05 * gi * gi;
      const double mh = rm[i] / (1 - std::pow(0.9, step)), vh = rv[i] / (1 - std::pow(0.95, step));
      if (decay[i]) rp[i] *= 1 - lr * 0.1;
      rp[i] -= lr * mh / (std::sqrt(vh) + 1e-8);
    }
    for (size_t i = 0; i < n; ++i) ASSERT_NEAR(p[i], rp[i], 2e-5 * (1 + std::fabs(rp[i]))) << "step " << step << " i " << i;
  }
  EXPECT_EQ(opt.step(), 4);

  // Zero gradient (moments reset): only decay moves parameters, and only matrices.
  AdamW fresh(layout, cfg);
  std::vector<float> q(n, 2.0f), zero(n, 0.0f);
  fresh.update(pool, q, zero, 0.5f, 1.0f);
  const ParamTensor* norm = layout.find("blk.0.attn_norm.weight");
  const ParamTensor* wq = layout.find("blk.0.attn_q.weight");
  ASSERT_TRUE(norm && wq);
  EXPECT_FALSE(norm->decay);
  EXPECT_TRUE(wq->decay);
  EXPECT_TRUE(layout.find("token_embd.weight")->decay);
  EXPECT_EQ(q[static_cast<size_t>(norm->offset)], 2.0f);
  EXPECT_FLOAT_EQ(q[static_cast<size_t>(wq->offset)], 2.0f * (1 - 0.5f * 0.1f));

  // Restoring moments checks sizes.
  EXPECT_FALSE(fresh.restore(std::span<const float>(q).first(3), q, 1).ok());
  EXPECT_TRUE(fresh.restore(q, q, 7).ok());
  EXPECT_EQ(fresh.step(), 7);
}

TEST(AdamW, GradNormIsExactAndIndependentOfThreads) {
  std::vector<float> g(200003);
  std::mt19937 rng(5);
  std::normal_distribution<float> d;
  for (auto& x : g) x = d(rng);
  double ref = 0;
  for (float x : g) ref += static_cast<double>(x) * x;
  ThreadPool one(1), two(2);
  const double a = global_grad_norm(one, g), b = global_grad_norm(two, g);
  EXPECT_EQ(a, b);  // bitwise: fixed chunks, fixed order
  EXPECT_NEAR(a, std::sqrt(ref), 1e-9 * std::sqrt(ref));
}

TEST(LrSchedule, WarmupThenCosineToTheFloor) {
  const LrSchedule s{.peak = 1e-3f, .floor = 1e-4f, .warmup_steps = 10, .total_steps = 110};
  ASSERT_TRUE(s.validate().ok());
  EXPECT_FLOAT_EQ(s.at(0), 1e-4f);
  EXPECT_FLOAT_EQ(s.at(4), 5e-4f);
  EXPECT_FLOAT_EQ(s.at(9), 1e-3f);
  EXPECT_FLOAT_EQ(s.at(10), 1e-3f);
  EXPECT_NEAR(s.at(60), 5.5e-4f, 1e-9);  // half way down the cosine
  EXPECT_FLOAT_EQ(s.at(110), 1e-4f);
  EXPECT_FLOAT_EQ(s.at(500), 1e-4f);
  for (int64_t i = 10; i < 110; ++i) EXPECT_LE(s.at(i + 1), s.at(i));
  const LrSchedule bad{.peak = 1e-3f, .floor = 1e-2f};
  EXPECT_FALSE(bad.validate().ok());
}

}  // namespace
}  // namespace tandem

// The multiversioned float kernels (whichever path this CPU selects) against
// plain double-precision transcriptions of the same formulas, on lengths that
// exercise the vector bodies and the scalar tails.
#include "tandem/train/elementwise.h"

#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace tandem {
namespace {

std::vector<float> randn(size_t n, uint32_t seed, float sd) {
  std::mt19937 g(seed);
  std::normal_distribution<float> d(0.0f, sd);
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

TEST(Elementwise, MatchesTheScalarReference) {
  for (int64_t n : {1, 7, 16, 33, 1000, 4096}) {
    const auto g = randn(n, 1, 3.0f), u = randn(n, 2, 1.0f), da = randn(n, 3, 1.0f);
    std::vector<float> a(n), dg(n), du(n);
    silu_mul_f32(g.data(), u.data(), a.data(), n);
    silu_mul_backward_f32(g.data(), u.data(), da.data(), dg.data(), du.data(), n);
    for (int64_t j = 0; j < n; ++j) {
      const double s = sigmoid(g[j]);
      EXPECT_NEAR(a[j], g[j] * s * u[j], 1e-6 * (1 + std::fabs(g[j] * u[j])));
      EXPECT_NEAR(du[j], da[j] * g[j] * s, 1e-6 * (1 + std::fabs(da[j] * g[j])));
      EXPECT_NEAR(dg[j], da[j] * u[j] * s * (1 + g[j] * (1 - s)), 1e-5 * (1 + std::fabs(da[j] * u[j] * g[j])));
    }
    auto x = randn(n, 4, 5.0f);
    double ref_sum = 0, ref_max = x[0];
    for (float v : x) ref_max = std::max(ref_max, static_cast<double>(v));
    EXPECT_EQ(max_f32(x.data(), n), static_cast<float>(ref_max));
    auto e = x;
    exp_sub_f32(e.data(), n, static_cast<float>(ref_max));
    for (int64_t j = 0; j < n; ++j) {
      const double r = std::exp(static_cast<double>(x[j] - static_cast<float>(ref_max)));  // the float difference
      EXPECT_NEAR(e[j], r, 3e-7 * r);
      ref_sum += e[j];
    }
    EXPECT_NEAR(sum_f32(e.data(), n), ref_sum, 1e-6 * ref_sum);
    scale_f32(e.data(), n, 0.5f);
    EXPECT_NEAR(sum_f32(e.data(), n), 0.5 * ref_sum, 1e-6 * ref_sum);
  }
}

TEST(Elementwise, SumIsAFixedFunctionOfTheInput) {
  const auto x = randn(1001, 5, 1.0f);
  const float a = sum_f32(x.data(), 1001), b = sum_f32(x.data(), 1001);
  EXPECT_EQ(a, b);
}

TEST(Elementwise, AdamWMatchesItsFormula) {
  const int64_t n = 37;
  auto p = randn(n, 6, 1.0f), g = randn(n, 7, 1.0f), m = randn(n, 8, 0.1f), v = randn(n, 9, 0.1f);
  for (auto& x : v) x = x * x;
  const auto p0 = p, m0 = m, v0 = v;
  const AdamWStep s{.beta1 = 0.9f, .beta2 = 0.95f, .eps = 1e-8f, .step_size = 0.01f, .inv_sqrt_bc2 = 1.5f,
                    .keep = 0.999f, .grad_scale = 0.5f};
  adamw_f32(p.data(), g.data(), m.data(), v.data(), n, s);
  for (int64_t i = 0; i < n; ++i) {
    const double gi = 0.5 * g[i], mi = 0.9 * m0[i] + 0.1 * gi, vi = 0.95 * v0[i] + 0.05 * gi * gi;
    EXPECT_NEAR(m[i], mi, 1e-7);
    EXPECT_NEAR(v[i], vi, 1e-7);
    EXPECT_NEAR(p[i], p0[i] * 0.999 - 0.01 * mi / (std::sqrt(vi) * 1.5 + 1e-8), 2e-6);
  }
}

}  // namespace
}  // namespace tandem

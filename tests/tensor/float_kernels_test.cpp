// The float kernels (attention over a transposed key cache, SwiGLU, RMS norm,
// rope, log-sum-exp) of every path this CPU can run against double-precision references,
// and each query head's result the same whatever number of heads one call takes.
#include "tandem/tensor/float_kernels.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tandem/tensor/float16.h"
#include "tandem/tensor/kernels.h"

namespace tandem {
namespace {

std::vector<float> uniform(size_t n, uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> x(n);
  for (auto& v : x) v = dist(rng);
  return x;
}

class FloatKernelPath : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    if (CpuFeatures::detect().best_isa() < GetParam()) GTEST_SKIP() << "this CPU has no " << isa_name(GetParam()) << " path";
    k_ = kernels_for_isa(GetParam());
  }
  Kernels k_;
};

// A KV layout like the decoder's: keys transposed in blocks of kKeyBlock
// positions with a block stride past hd * kKeyBlock, values as rows with a
// stride past hd; 3 query heads share them.
struct AttendCase {
  int64_t n_kv, hd, n_q, kt_stride, v_stride;
  std::vector<float> q, kt, v, out, scores;
  std::vector<uint16_t> kt16, v16;  // set by halve()

  AttendCase(int64_t n_kv_, int64_t hd_, uint32_t seed, float spread, int64_t n_q_ = 3)
      : n_kv(n_kv_), hd(hd_), n_q(n_q_), kt_stride(hd_ * kKeyBlock + 24), v_stride(hd_ + 5) {
    q = uniform(static_cast<size_t>(n_q * hd), seed, -spread, spread);
    kt = uniform(static_cast<size_t>((n_kv + kKeyBlock - 1) / kKeyBlock * kt_stride), seed + 1, -1, 1);
    v = uniform(static_cast<size_t>(n_kv * v_stride), seed + 2, -1, 1);
    out.assign(static_cast<size_t>(n_q * hd), NAN);
    scores.assign(static_cast<size_t>(n_q * n_kv), NAN);
  }
  // Keys and values as fp16 (an fp16 cache), the float copies rounded to match
  // so that the reference sees the same values.
  void halve() {
    kt16.resize(kt.size());
    v16.resize(v.size());
    for (size_t i = 0; i < kt.size(); ++i) kt[i] = fp16_to_fp32(kt16[i] = fp32_to_fp16(kt[i]));
    for (size_t i = 0; i < v.size(); ++i) v[i] = fp16_to_fp32(v16[i] = fp32_to_fp16(v[i]));
  }
  AttendArgs args(int64_t first_head, int64_t heads) {
    AttendArgs a;
    a.q = q.data() + first_head * hd;
    a.q_stride = hd;
    a.n_q = heads;
    a.kt = kt.data();
    a.kt_stride = kt_stride;
    a.v = v.data();
    a.v_stride = v_stride;
    a.n_kv = n_kv;
    a.hd = hd;
    a.scale = 1.0f / std::sqrt(static_cast<float>(hd));
    a.out = out.data() + first_head * hd;
    a.out_stride = hd;
    a.scores = scores.data();
    if (!kt16.empty()) {  // only the fp16 copies are read
      a.kt = a.v = nullptr;
      a.kt16 = kt16.data();
      a.v16 = v16.data();
    }
    return a;
  }
  float key(int64_t d, int64_t j) const { return kt[(j / kKeyBlock) * kt_stride + d * kKeyBlock + j % kKeyBlock]; }
  // Head i, component c, in double.
  double reference(int64_t i, int64_t c) const {
    std::vector<double> s(static_cast<size_t>(n_kv));
    double mx = -INFINITY;
    for (int64_t j = 0; j < n_kv; ++j) {
      double dot = 0;
      for (int64_t d = 0; d < hd; ++d) dot += static_cast<double>(q[i * hd + d]) * key(d, j);
      s[j] = dot / std::sqrt(static_cast<double>(hd));
      mx = std::max(mx, s[j]);
    }
    double sum = 0, acc = 0;
    for (int64_t j = 0; j < n_kv; ++j) {
      const double p = std::exp(s[j] - mx);
      sum += p;
      acc += p * v[j * v_stride + c];
    }
    return acc / sum;
  }
};

TEST_P(FloatKernelPath, AttendMatchesReference) {
  for (int64_t hd : {8, 20, 64, 128})
    for (int64_t n_kv : {1, 2, 5, 17, 64, 100, 300}) {
      for (float spread : {0.5f, 8.0f}) {  // flat and peaked softmax
        AttendCase c(n_kv, hd, static_cast<uint32_t>(hd * 1000 + n_kv), spread);
        k_.attend(c.args(0, c.n_q));
        for (int64_t i = 0; i < c.n_q; ++i)
          for (int64_t d = 0; d < hd; ++d)
            ASSERT_NEAR(c.out[i * hd + d], c.reference(i, d), 2e-5)
                << "head " << i << " component " << d << " hd " << hd << " n_kv " << n_kv << " spread " << spread;
      }
    }
}

// An fp16 cache: the same attention over the rounded keys and values.
TEST_P(FloatKernelPath, AttendReadsHalfKeysAndValues) {
  for (int64_t hd : {8, 20, 32, 64, 128})
    for (int64_t n_kv : {1, 5, 17, 100, 300}) {
      AttendCase c(n_kv, hd, static_cast<uint32_t>(hd * 1000 + n_kv + 5), 2.0f);
      c.halve();
      k_.attend(c.args(0, c.n_q));
      for (int64_t i = 0; i < c.n_q; ++i)
        for (int64_t d = 0; d < hd; ++d)
          ASSERT_NEAR(c.out[i * hd + d], c.reference(i, d), 2e-5)
              << "head " << i << " component " << d << " hd " << hd << " n_kv " << n_kv;
    }
}

// Heads share loads in groups of up to 4; any grouping gives each head the same bits.
TEST_P(FloatKernelPath, AttendHeadsAreIndependentOfTheirCall) {
  for (int64_t hd : {8, 32, 48, 64, 80, 128})
    for (int64_t n_kv : {3, 37, 130}) {
      AttendCase all(n_kv, hd, 7, 2.0f, 7), part(n_kv, hd, 7, 2.0f, 7);
      k_.attend(all.args(0, all.n_q));  // 4 + 3
      for (int64_t i = 0; i < 7; i += 2) k_.attend(part.args(i, std::min<int64_t>(2, 7 - i)));  // 2 + 2 + 2 + 1
      for (size_t j = 0; j < all.out.size(); ++j)
        ASSERT_EQ(all.out[j], part.out[j]) << "hd " << hd << " n_kv " << n_kv << " element " << j;
    }
}

TEST_P(FloatKernelPath, SwigluMatchesReference) {
  for (int64_t n : {1, 7, 16, 33, 1000}) {
    auto g = uniform(static_cast<size_t>(n), static_cast<uint32_t>(n), -30, 30);
    g[0] = -200.0f;  // exp(-g) overflows: silu -> -0
    if (n > 1) g[1] = 200.0f;
    const auto u = uniform(static_cast<size_t>(n), static_cast<uint32_t>(n + 1), -2, 2);
    std::vector<float> y(static_cast<size_t>(n));
    k_.swiglu(g.data(), u.data(), y.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      const double ref = g[i] / (1.0 + std::exp(-static_cast<double>(g[i]))) * u[i];
      ASSERT_NEAR(y[i], ref, 1e-6 * std::max(1.0, std::fabs(ref))) << "g " << g[i] << " u " << u[i];
    }
    std::vector<float> in_place = g;  // y may be g
    k_.swiglu(in_place.data(), u.data(), in_place.data(), n);
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(in_place[i], y[i]);
  }
}

TEST_P(FloatKernelPath, RmsNormMatchesReference) {
  for (int64_t n : {1, 7, 16, 33, 128, 1000})
    for (bool with_add : {false, true}) {
      const auto x0 = uniform(static_cast<size_t>(n), static_cast<uint32_t>(n), -3, 3);
      const auto add = uniform(static_cast<size_t>(n), static_cast<uint32_t>(n + 1), -1, 1);
      const auto w = uniform(static_cast<size_t>(n), static_cast<uint32_t>(n + 2), 0.5f, 2);
      std::vector<float> x = x0, y(static_cast<size_t>(n)), xs = x0, ys(static_cast<size_t>(n));
      const float eps = 1e-5f;
      k_.rms_norm(x.data(), with_add ? add.data() : nullptr, w.data(), y.data(), n, eps);
      rms_norm_scalar(xs.data(), with_add ? add.data() : nullptr, w.data(), ys.data(), n, eps);
      double ss = 0;
      for (int64_t i = 0; i < n; ++i) {
        const float xi = with_add ? x0[i] + add[i] : x0[i];
        ASSERT_EQ(x[i], xi) << "the residual stored back, n " << n << " element " << i;
        ss += static_cast<double>(xi) * xi;
      }
      const double scale = 1.0 / std::sqrt(ss / static_cast<double>(n) + eps);
      for (int64_t i = 0; i < n; ++i) {
        const double ref = x[i] * scale * w[i];
        ASSERT_NEAR(y[i], ref, 1e-6 * std::max(1.0, std::fabs(ref))) << "n " << n << " element " << i;
        // Only the order of exact double additions differs from the scalar path.
        ASSERT_NEAR(y[i], ys[i], 1e-7 * std::max(1.0f, std::fabs(ys[i]))) << "n " << n << " element " << i;
      }
    }
}

TEST_P(FloatKernelPath, RopeMatchesReference) {
  const int64_t n_heads = 3;
  for (bool halves : {false, true})
    for (int64_t hd : {8, 32, 64, 80, 128})
      for (int64_t n_rot : {hd, hd / 2, int64_t{2}}) {
        const float pos = 37;
        std::vector<float> cs(static_cast<size_t>(n_rot));
        for (int64_t i = 0; i < n_rot / 2; ++i) {
          const double theta = pos * std::pow(10000.0, -2.0 * static_cast<double>(i) / static_cast<double>(n_rot));
          cs[2 * i] = static_cast<float>(std::cos(theta));
          cs[2 * i + 1] = static_cast<float>(std::sin(theta));
        }
        const auto v0 = uniform(static_cast<size_t>(n_heads * hd), static_cast<uint32_t>(hd + n_rot), -2, 2);
        std::vector<float> v = v0, vs = v0;
        k_.rope(v.data(), n_heads, hd, n_rot, cs.data(), halves);
        rope_scalar(vs.data(), n_heads, hd, n_rot, cs.data(), halves);
        const int64_t half = n_rot / 2;
        for (int64_t h = 0; h < n_heads; ++h) {
          const float* in = v0.data() + h * hd;
          const float* out = v.data() + h * hd;
          for (int64_t i = 0; i < half; ++i) {
            const int64_t a = halves ? i : 2 * i, b = halves ? i + half : 2 * i + 1;
            const double c = cs[2 * i], s = cs[2 * i + 1];
            ASSERT_NEAR(out[a], in[a] * c - in[b] * s, 1e-6) << "hd " << hd << " n_rot " << n_rot << " pair " << i;
            ASSERT_NEAR(out[b], in[a] * s + in[b] * c, 1e-6) << "hd " << hd << " n_rot " << n_rot << " pair " << i;
          }
          for (int64_t d = n_rot; d < hd; ++d) ASSERT_EQ(out[d], in[d]) << "unrotated component " << d;
        }
        // The same products and sums as the scalar path, in the same order per component.
        for (size_t j = 0; j < v.size(); ++j) ASSERT_EQ(v[j], vs[j]) << "hd " << hd << " n_rot " << n_rot << " element " << j;
      }
}

TEST_P(FloatKernelPath, LogSumExpMatchesReference) {
  for (int64_t n : {1, 5, 16, 17, 100, 4096, 32001}) {
    auto x = uniform(static_cast<size_t>(n), static_cast<uint32_t>(n), -20, 20);
    if (n > 2) x[2] = -INFINITY;  // a masked-out logit adds nothing
    double mx = x[0];
    for (float v : x) mx = std::max(mx, static_cast<double>(v));
    long double sum = 0;
    for (float v : x) sum += std::exp(static_cast<long double>(v) - mx);
    const double ref = mx + std::log(static_cast<double>(sum));
    float max = 0;
    EXPECT_NEAR(k_.log_sum_exp(x.data(), n, &max), ref, 1e-6) << "n " << n;
    EXPECT_EQ(max, static_cast<float>(mx)) << "n " << n;
    EXPECT_NEAR(k_.log_sum_exp(x.data(), n, nullptr), ref, 1e-6) << "n " << n;
  }
  // Large logits do not overflow: the maximum is taken out first.
  const std::vector<float> big = {1000.0f, 999.0f, -1000.0f};
  EXPECT_NEAR(k_.log_sum_exp(big.data(), 3, nullptr), 1000.0 + std::log1p(std::exp(-1.0)), 1e-6);
  EXPECT_EQ(k_.log_sum_exp(big.data(), 0, nullptr), -INFINITY);
}

// Top-k's bound over a row: column maxima of the row as a w-column matrix, with
// a partial last row, and whether the row is finite; exact on every path.
TEST_P(FloatKernelPath, ColumnMaxAndIndicesAtLeastMatchTheDefinition) {
  for (int64_t n : {16, 17, 100, 160, 4096, 32001}) {
    for (int64_t w : {16, 32, 160}) {
      if (w > n) continue;
      auto x = uniform(static_cast<size_t>(n), static_cast<uint32_t>(n + w), -20, 20);
      std::vector<float> got(static_cast<size_t>(w)), want(static_cast<size_t>(w), -INFINITY);
      for (int64_t i = 0; i < n; ++i) {
        float& m = want[static_cast<size_t>(i % w)];
        m = std::max(m, x[static_cast<size_t>(i)]);
      }
      ASSERT_TRUE(k_.column_max(x.data(), n, w, got.data())) << "n " << n << " w " << w;
      ASSERT_EQ(got, want) << "n " << n << " w " << w;
      for (float bad : {NAN, INFINITY, -INFINITY}) {  // anywhere, the last (partial) row included
        for (int64_t at : {int64_t{0}, n / 2, n - 1}) {
          auto y = x;
          y[static_cast<size_t>(at)] = bad;
          EXPECT_FALSE(k_.column_max(y.data(), n, w, got.data())) << "n " << n << " w " << w << " at " << at;
        }
      }
    }
    auto x = uniform(static_cast<size_t>(n), static_cast<uint32_t>(3 * n), -20, 20);
    for (float bound : {-30.0f, 0.0f, 17.5f, 25.0f}) {
      std::vector<int32_t> want;
      for (int64_t i = 0; i < n; ++i)
        if (x[static_cast<size_t>(i)] >= bound) want.push_back(static_cast<int32_t>(i));
      std::vector<int32_t> got(static_cast<size_t>(n));
      got.resize(static_cast<size_t>(k_.indices_at_least(x.data(), n, bound, got.data())));
      EXPECT_EQ(got, want) << "n " << n << " bound " << bound;
    }
    // Equal to the bound counts; the last partial vector reads no lane past n.
    x.back() = 1.5f;
    std::vector<int32_t> got(static_cast<size_t>(n));
    const int64_t c = k_.indices_at_least(x.data(), n - 1, 1.5f, got.data());
    for (int64_t i = 0; i < c; ++i) EXPECT_LT(got[static_cast<size_t>(i)], n - 1);
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, FloatKernelPath, ::testing::Values(Isa::Scalar, Isa::Avx2, Isa::Avx512),
                         [](const ::testing::TestParamInfo<Isa>& info) { return std::string(isa_name(info.param)); });

}  // namespace
}  // namespace tandem

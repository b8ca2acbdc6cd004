// Reference quantizers, dequantizers and dot products: round-trip error within
// what each type's bits allow, the dot product equal to the dot of the
// dequantized rows, the affine view (affine.h) equal to the dequantizer, and
// shape errors as messages.
#include "tandem/tensor/quants.h"

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tandem/tensor/affine.h"
#include "tandem/tensor/float16.h"

namespace tandem {
namespace {

std::vector<float> gaussian(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> x(n);
  for (auto& v : x) v = dist(rng);
  return x;
}

std::vector<uint8_t> quantize(GgmlType t, const std::vector<float>& x) {
  std::vector<uint8_t> q(row_bytes(t, static_cast<int64_t>(x.size())));
  quantize_row(t, x.data(), q.data(), static_cast<int64_t>(x.size()));
  return q;
}

std::vector<float> dequantize(GgmlType t, const std::vector<uint8_t>& q, size_t n) {
  std::vector<float> y(n);
  dequantize_row(t, q.data(), y.data(), static_cast<int64_t>(n));
  return y;
}

double rel_rms(const std::vector<float>& a, const std::vector<float>& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    num += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    den += double(a[i]) * a[i];
  }
  return std::sqrt(num / den);
}

struct TypeBound {
  GgmlType type;
  double max_rel_rms;  // on N(0, 1) data; about 1.2x what the type's bits give
};

// Expected relative RMS error of round-to-nearest on Gaussian data: a uniform
// error of step/sqrt(12), the step being the block's range / levels.
const TypeBound kBounds[] = {
    {GgmlType::F16, 3.5e-4}, {GgmlType::BF16, 2.8e-3}, {GgmlType::Q8_0, 6.0e-3},
    {GgmlType::Q4_0, 0.110}, {GgmlType::Q4_1, 0.100},  {GgmlType::Q5_0, 0.055},
    {GgmlType::Q5_1, 0.050}, {GgmlType::Q4_K, 0.095},  {GgmlType::Q5_K, 0.048},
    {GgmlType::Q6_K, 0.024},
};

TEST(Quants, RoundTripErrorWithinTypeBound) {
  const size_t n = 16 * 256;
  const auto x = gaussian(n, 1);
  for (const auto& b : kBounds) {
    const auto y = dequantize(b.type, quantize(b.type, x), n);
    const double err = rel_rms(x, y);
    EXPECT_LT(err, b.max_rel_rms) << ggml_type_name(b.type);
    EXPECT_GT(err, b.type == GgmlType::F16 ? 1e-5 : 1e-4) << ggml_type_name(b.type) << ": suspiciously exact";
  }
  // F32 is the identity.
  EXPECT_EQ(dequantize(GgmlType::F32, quantize(GgmlType::F32, x), n), x);
}

TEST(Quants, ErrorScalesWithTheData) {
  // Block scales follow the data, so the relative error is the same at 1e-3 scale.
  const size_t n = 4 * 256;
  for (const auto& b : kBounds) {
    const auto x = gaussian(n, 2, 1e-3f);
    EXPECT_LT(rel_rms(x, dequantize(b.type, quantize(b.type, x), n)), b.max_rel_rms) << ggml_type_name(b.type);
  }
}

TEST(Quants, Q8_0ElementErrorIsHalfAStep) {
  const auto x = gaussian(1024, 3);
  const auto q = quantize(GgmlType::Q8_0, x);
  const auto y = dequantize(GgmlType::Q8_0, q, x.size());
  const auto* blocks = reinterpret_cast<const BlockQ8_0*>(q.data());
  for (size_t i = 0; i < x.size(); ++i) {
    const float d = fp16_to_fp32(blocks[i / 32].d);
    // half a step, plus the fp16 rounding of the scale times at most 127
    EXPECT_LE(std::fabs(x[i] - y[i]), 0.5f * d + 127 * d * 0x1p-11f) << i;
  }
}

TEST(Quants, ZeroAndConstantRows) {
  const size_t n = 512;
  for (const auto& b : kBounds) {
    const std::vector<float> zero(n, 0.0f);
    for (float v : dequantize(b.type, quantize(b.type, zero), n)) ASSERT_EQ(v, 0.0f) << ggml_type_name(b.type);
    const std::vector<float> c(n, 0.75f);
    for (float v : dequantize(b.type, quantize(b.type, c), n))
      ASSERT_NEAR(v, 0.75f, 0.75f * 0.02f) << ggml_type_name(b.type);
  }
}

TEST(Quants, Q8AActivations) {
  const auto x = gaussian(256, 4, 3.0f);
  std::vector<BlockQ8A> a(x.size() / 32);
  quantize_row_q8a(x.data(), a.data(), static_cast<int64_t>(x.size()));
  std::vector<float> y(x.size());
  dequantize_row_q8a(a.data(), y.data(), static_cast<int64_t>(x.size()));
  for (size_t b = 0; b < a.size(); ++b) {
    float amax = 0;
    int s0 = 0, s1 = 0, qmax = 0;
    for (int j = 0; j < 32; ++j) {
      amax = std::max(amax, std::fabs(x[b * 32 + j]));
      (j < 16 ? s0 : s1) += a[b].qs[j];
      qmax = std::max(qmax, std::abs(int(a[b].qs[j])));
      EXPECT_LE(std::fabs(x[b * 32 + j] - y[b * 32 + j]), 0.5001f * a[b].d);
    }
    EXPECT_EQ(a[b].d, amax / 127);
    EXPECT_EQ(qmax, 127);
    EXPECT_EQ(a[b].s[0], s0);
    EXPECT_EQ(a[b].s[1], s1);
  }
}

// Dot of the dequantized rows, in double: the reference dot must agree.
double dequantized_dot(GgmlType t, const std::vector<uint8_t>& w, const std::vector<float>& x,
                       const std::vector<BlockQ8A>& a, double& magnitude) {
  const size_t n = x.size();
  const auto wf = dequantize(t, w, n);
  std::vector<float> xf(n);
  if (uses_q8a_activations(t)) {
    dequantize_row_q8a(a.data(), xf.data(), static_cast<int64_t>(n));
  } else {
    xf = x;
  }
  double s = 0;
  magnitude = 0;
  for (size_t i = 0; i < n; ++i) {
    s += double(wf[i]) * xf[i];
    magnitude += std::fabs(double(wf[i]) * xf[i]);
  }
  return s;
}

TEST(Quants, DotEqualsDotOfDequantizedRows) {
  const size_t n = 8 * 256;
  const auto w = gaussian(n, 5);
  const auto x = gaussian(n, 6, 2.0f);
  std::vector<BlockQ8A> a(n / 32);
  quantize_row_q8a(x.data(), a.data(), static_cast<int64_t>(n));
  for (GgmlType t : {GgmlType::F32, GgmlType::F16, GgmlType::BF16, GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_1,
                     GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K}) {
    const auto q = quantize(t, w);
    double mag = 0;
    const double want = dequantized_dot(t, q, x, a, mag);
    const float got = vec_dot_row(t, static_cast<int64_t>(n), q.data(), x.data(), a.data());
    EXPECT_NEAR(got, want, 1e-6 * mag) << ggml_type_name(t);
  }
}

TEST(Quants, AffineViewMatchesDequantizer) {
  // w = d * q + m per block must reproduce dequantize_row (to float rounding).
  for (GgmlType t : {GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q4_K,
                     GgmlType::Q5_K, GgmlType::Q6_K}) {
    for (int64_t n : {int64_t{256}, int64_t{512}, int64_t{352}}) {
      if (n % ggml_traits(t).block_size != 0) continue;
      const auto x = gaussian(static_cast<size_t>(n), 7);
      const auto q = quantize(t, x);
      const auto want = dequantize(t, q, static_cast<size_t>(n));
      const int bs = affine_block_size(t);
      AffineGroup grp;
      for (bool q8_signed : {false, true}) {
        for (int64_t g = 0; g < affine_groups(t, n); ++g) {
          decode_affine_group(t, q.data(), n, g, q8_signed, grp);
          for (int b = 0; b < kGroupBlocks; ++b) {
            for (int i = 0; i < bs; ++i) {
              const int64_t e = (g * kGroupBlocks + b) * bs + i;
              const double code = (q8_signed && t == GgmlType::Q8_0) ? double(int8_t(grp.q[b * bs + i]))
                                                                      : double(grp.q[b * bs + i]);
              const double got = double(grp.d[b]) * code + grp.m[b];
              if (e >= n) {
                ASSERT_EQ(got, 0.0) << "padding of " << ggml_type_name(t);
              } else {
                ASSERT_NEAR(got, want[e], 1e-6 * (std::fabs(want[e]) + std::fabs(grp.m[b])))
                    << ggml_type_name(t) << " n=" << n << " element " << e;
              }
            }
          }
        }
      }
    }
  }
}

TEST(Quants, ShapeChecksAreMessages) {
  EXPECT_TRUE(check_row_shape(GgmlType::Q4_K, 512).ok());
  EXPECT_TRUE(check_row_shape(GgmlType::F32, 7).ok());
  const Status bad = check_row_shape(GgmlType::Q4_K, 352);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("Q4_K"), std::string::npos);
  EXPECT_NE(bad.error().message.find("256"), std::string::npos);
  const Status unsupported = check_row_shape(GgmlType::IQ2_XXS, 256);
  ASSERT_FALSE(unsupported.ok());
  EXPECT_NE(unsupported.error().message.find("IQ2_XXS"), std::string::npos);
  EXPECT_FALSE(check_row_shape(GgmlType::Q8_0, 0).ok());
  EXPECT_EQ(row_bytes(GgmlType::Q6_K, 512), 2 * sizeof(BlockQ6_K));
  EXPECT_EQ(row_bytes(GgmlType::BF16, 10), 20u);
}

}  // namespace
}  // namespace tandem

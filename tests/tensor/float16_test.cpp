// fp16 / bf16 conversions: exact on the edge cases (signed zeros, subnormals,
// the overflow threshold, ties to even, inf, NaN), lossless round trips of every
// half, and agreement with the CPU's own F16C rounding where the CPU has it.
#include "tandem/tensor/float16.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace tandem {
namespace {

float from_bits(uint32_t b) { return std::bit_cast<float>(b); }

TEST(Fp16, EdgeCasesRoundExactly) {
  EXPECT_EQ(fp32_to_fp16(0.0f), 0x0000);
  EXPECT_EQ(fp32_to_fp16(-0.0f), 0x8000);
  EXPECT_EQ(fp32_to_fp16(1.0f), 0x3C00);
  EXPECT_EQ(fp32_to_fp16(-2.0f), 0xC000);
  EXPECT_EQ(fp32_to_fp16(65504.0f), 0x7BFF);                 // largest half
  EXPECT_EQ(fp32_to_fp16(65519.996f), 0x7BFF);               // just under the midpoint to inf
  EXPECT_EQ(fp32_to_fp16(65520.0f), 0x7C00);                 // the midpoint ties to even: inf
  EXPECT_EQ(fp32_to_fp16(1e10f), 0x7C00);
  EXPECT_EQ(fp32_to_fp16(-1e10f), 0xFC00);
  EXPECT_EQ(fp32_to_fp16(std::numeric_limits<float>::infinity()), 0x7C00);
  EXPECT_EQ(fp32_to_fp16(-std::numeric_limits<float>::infinity()), 0xFC00);
  EXPECT_EQ(fp32_to_fp16(std::numeric_limits<float>::quiet_NaN()), 0x7E00);
  EXPECT_EQ(fp32_to_fp16(-std::numeric_limits<float>::quiet_NaN()), 0xFE00);
  EXPECT_EQ(fp32_to_fp16(from_bits(0x7F800001)), 0x7E00);  // signaling NaN comes out quiet
  // Ties to even in the normal range: 1 + 2^-11 lies halfway between 1 and 1 + 2^-10.
  EXPECT_EQ(fp32_to_fp16(1.0f + std::ldexp(1.0f, -11)), 0x3C00);
  EXPECT_EQ(fp32_to_fp16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3C02);
  EXPECT_EQ(fp32_to_fp16(std::nextafter(1.0f + std::ldexp(1.0f, -11), 2.0f)), 0x3C01);
  // Mantissa carry into the exponent: just below 2 rounds up to 2.
  EXPECT_EQ(fp32_to_fp16(std::nextafter(2.0f, 0.0f)), 0x4000);
  // Subnormal halves (units of 2^-24).
  EXPECT_EQ(fp32_to_fp16(std::ldexp(1.0f, -24)), 0x0001);
  EXPECT_EQ(fp32_to_fp16(std::ldexp(1.0f, -25)), 0x0000);   // tie -> even 0
  EXPECT_EQ(fp32_to_fp16(std::nextafter(std::ldexp(1.0f, -25), 1.0f)), 0x0001);
  EXPECT_EQ(fp32_to_fp16(3 * std::ldexp(1.0f, -25)), 0x0002);  // 1.5 units ties to 2
  EXPECT_EQ(fp32_to_fp16(5 * std::ldexp(1.0f, -25)), 0x0002);  // 2.5 units ties to 2
  EXPECT_EQ(fp32_to_fp16(-1023 * std::ldexp(1.0f, -24)), 0x83FF);
  EXPECT_EQ(fp32_to_fp16(std::ldexp(1.0f, -14)), 0x0400);   // smallest normal
  EXPECT_EQ(fp32_to_fp16(std::ldexp(1023.5f, -24)), 0x0400);  // largest subnormal + half ulp: tie up to even
  EXPECT_EQ(fp32_to_fp16(from_bits(0x00000001)), 0x0000);    // fp32 subnormal underflows
}

TEST(Fp16, WideningIsExact) {
  EXPECT_EQ(fp16_to_fp32(0x0000), 0.0f);
  EXPECT_TRUE(std::signbit(fp16_to_fp32(0x8000)));
  EXPECT_EQ(fp16_to_fp32(0x3C00), 1.0f);
  EXPECT_EQ(fp16_to_fp32(0x7BFF), 65504.0f);
  EXPECT_EQ(fp16_to_fp32(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(fp16_to_fp32(0x03FF), std::ldexp(1023.0f, -24));
  EXPECT_EQ(fp16_to_fp32(0x0400), std::ldexp(1.0f, -14));
  EXPECT_EQ(fp16_to_fp32(0x7C00), std::numeric_limits<float>::infinity());
  EXPECT_EQ(fp16_to_fp32(0xFC00), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(fp16_to_fp32(0x7E00)));
  EXPECT_TRUE(std::isnan(fp16_to_fp32(0x7C01)));
}

TEST(Fp16, EveryHalfRoundTrips) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = fp16_to_fp32(static_cast<uint16_t>(h));
    if (std::isnan(f)) {
      EXPECT_EQ(fp32_to_fp16(f), (h & 0x8000) | 0x7E00) << h;
    } else {
      ASSERT_EQ(fp32_to_fp16(f), h) << h;
    }
  }
}

#if defined(__x86_64__)
__attribute__((target("f16c"))) uint16_t hw_fp32_to_fp16(float f) {
  return static_cast<uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
}
__attribute__((target("f16c"))) float hw_fp16_to_fp32(uint16_t h) { return _cvtsh_ss(h); }

TEST(Fp16, AgreesWithF16cHardware) {
  if (!__builtin_cpu_supports("f16c")) GTEST_SKIP() << "CPU has no F16C";
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = hw_fp16_to_fp32(static_cast<uint16_t>(h));
    if (!std::isnan(f)) {
      ASSERT_EQ(std::bit_cast<uint32_t>(fp16_to_fp32(static_cast<uint16_t>(h))), std::bit_cast<uint32_t>(f)) << h;
    }
  }
  // Random fp32 bit patterns over the whole range, and values near each half's
  // rounding boundaries (the midpoints and their neighbours).
  std::mt19937 rng(7);
  for (int i = 0; i < 1 << 20; ++i) {
    const float f = from_bits(rng());
    if (!std::isnan(f)) {
      ASSERT_EQ(fp32_to_fp16(f), hw_fp32_to_fp16(f)) << std::bit_cast<uint32_t>(f);
    }
  }
  for (uint32_t h = 0; h < 0x7BFF; ++h) {
    const float a = fp16_to_fp32(static_cast<uint16_t>(h)), b = fp16_to_fp32(static_cast<uint16_t>(h + 1));
    const float mid = static_cast<float>((double(a) + double(b)) / 2);
    for (float f : {mid, std::nextafter(mid, 0.0f), std::nextafter(mid, 1e9f), -mid})
      ASSERT_EQ(fp32_to_fp16(f), hw_fp32_to_fp16(f)) << h;
  }
}
#endif

TEST(Bf16, EdgeCasesRoundExactly) {
  EXPECT_EQ(fp32_to_bf16(0.0f), 0x0000);
  EXPECT_EQ(fp32_to_bf16(-0.0f), 0x8000);
  EXPECT_EQ(fp32_to_bf16(1.0f), 0x3F80);
  EXPECT_EQ(fp32_to_bf16(from_bits(0x3F808000)), 0x3F80);  // tie -> even
  EXPECT_EQ(fp32_to_bf16(from_bits(0x3F818000)), 0x3F82);  // tie -> even (up)
  EXPECT_EQ(fp32_to_bf16(from_bits(0x3F808001)), 0x3F81);
  EXPECT_EQ(fp32_to_bf16(from_bits(0x3F807FFF)), 0x3F80);
  EXPECT_EQ(fp32_to_bf16(std::numeric_limits<float>::max()), 0x7F80);  // rounds to inf
  EXPECT_EQ(fp32_to_bf16(std::numeric_limits<float>::infinity()), 0x7F80);
  EXPECT_EQ(fp32_to_bf16(-std::numeric_limits<float>::infinity()), 0xFF80);
  EXPECT_EQ(fp32_to_bf16(from_bits(0x7FC00001)), 0x7FC0);
  EXPECT_EQ(fp32_to_bf16(from_bits(0x7F800001)), 0x7FC0);  // signaling NaN forced quiet, not inf
  EXPECT_EQ(fp32_to_bf16(from_bits(0xFF800001)), 0xFFC0);
  // Subnormals are rounded, not flushed.
  EXPECT_EQ(fp32_to_bf16(from_bits(0x00010000)), 0x0001);
  EXPECT_EQ(fp32_to_bf16(from_bits(0x00008000)), 0x0000);  // tie -> even 0
  EXPECT_EQ(fp32_to_bf16(from_bits(0x00018000)), 0x0002);  // tie -> even 2
  EXPECT_EQ(fp32_to_bf16(from_bits(0x807FFFFF)), 0x8080);  // carries into the smallest normal
}

TEST(Bf16, EveryBf16RoundTrips) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = bf16_to_fp32(static_cast<uint16_t>(h));
    EXPECT_EQ(std::bit_cast<uint32_t>(f), h << 16);
    if (std::isnan(f)) {
      EXPECT_EQ(fp32_to_bf16(f), h | 64) << h;
    } else {
      ASSERT_EQ(fp32_to_bf16(f), h) << h;
    }
  }
}

TEST(Bf16, RowsConvert) {
  const std::vector<float> x = {1.0f, -2.5f, 3.14159f, 1e-40f, 65504.0f};
  std::vector<uint16_t> h(x.size()), b(x.size());
  std::vector<float> back(x.size());
  fp32_to_fp16_row(x.data(), h.data(), static_cast<int64_t>(x.size()));
  fp32_to_bf16_row(x.data(), b.data(), static_cast<int64_t>(x.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(h[i], fp32_to_fp16(x[i]));
    EXPECT_EQ(b[i], fp32_to_bf16(x[i]));
  }
  bf16_to_fp32_row(b.data(), back.data(), static_cast<int64_t>(x.size()));
  EXPECT_EQ(back[1], -2.5f);
  fp16_to_fp32_row(h.data(), back.data(), static_cast<int64_t>(x.size()));
  EXPECT_EQ(back[4], 65504.0f);
}

}  // namespace
}  // namespace tandem

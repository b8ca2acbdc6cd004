// exp for the trainer's elementwise loops (softmax, sigmoid): branch-free float
// arithmetic the compiler vectorizes, unlike a libm call. Range reduction
// x = n ln2 + r with |r| <= ln2/2 (ln2 split in two for accuracy), then Cephes'
// degree-6 minimax polynomial for e^r (relative error about 1e-7, the same order
// as float rounding), scaled by 2^n through the exponent bits. Inputs are
// clamped to [-87.3, 88.3], where 2^n stays a normal, finite float. The double overload
// is std::exp, so the gradient checks in double are unaffected.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

namespace tandem {

inline float fast_exp(float x) {
  x = x < -87.3f ? -87.3f : (x > 88.3f ? 88.3f : x);
  // Round x / ln2 to the nearest integer by adding and removing 1.5 * 2^23.
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  const float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float er = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  return er * std::bit_cast<float>(bits);
}

inline double fast_exp(double x) { return std::exp(x); }

}  // namespace tandem

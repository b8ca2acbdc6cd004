// Half-precision scalars: IEEE binary16 (fp16) and bfloat16 (bf16) <-> fp32.
// Bit-exact with IEEE round-to-nearest-even and with ggml's conventions, because
// GGUF scales are fp16 and a quantizer that rounds one scale differently writes a
// different file: fp32 -> fp16 rounds to nearest even (subnormals kept, overflow
// to inf, NaN becomes the quiet NaN 0x7E00 with its sign); fp32 -> bf16 rounds to
// nearest even and forces NaNs quiet (ggml_compute_fp32_to_bf16). Widening is exact.
#pragma once

#include <bit>
#include <cstdint>

namespace tandem {

inline float fp16_to_fp32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000 | (mant << 13);  // inf, NaN (payload kept)
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);  // rebias 15 -> 127
  } else if (mant == 0) {
    bits = sign;  // +-0
  } else {
    // Subnormal half: normalize the mantissa into an fp32 normal.
    int e = 113;  // exponent of 2^-14 (the half subnormal scale) in fp32 bias
    while ((mant & 0x400) == 0) {
      mant <<= 1;
      --e;
    }
    bits = sign | (static_cast<uint32_t>(e) << 23) | ((mant & 0x3ff) << 13);
  }
  return std::bit_cast<float>(bits);
}

inline uint16_t fp32_to_fp16(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000);
  const uint32_t ax = x & 0x7fffffff;
  if (ax > 0x7f800000) return sign | 0x7e00;       // NaN -> quiet NaN
  if (ax >= 0x477ff000) return sign | 0x7c00;      // >= 65520 rounds to inf (65504 is odd)
  if (ax >= 0x38800000) {                          // normal half (>= 2^-14)
    const uint32_t r = ax - 0x38000000 + 0xfff + ((ax >> 13) & 1);  // rebias, round half even
    return sign | static_cast<uint16_t>(r >> 13);  // a mantissa carry bumps the exponent
  }
  // Subnormal half: value / 2^-24 rounded to nearest even; may round up to 0x0400.
  const int e = static_cast<int>(ax >> 23);
  const int shift = 126 - e;  // value = m * 2^(e-150) = (m >> shift) units of 2^-24
  if (shift > 24) return sign;  // < 2^-25 (or exactly, a tie to even 0)
  const uint32_t m = (ax & 0x7fffff) | 0x800000;
  uint32_t q = m >> shift;
  const uint32_t rem = m & ((1u << shift) - 1);
  const uint32_t half = 1u << (shift - 1);
  if (rem > half || (rem == half && (q & 1))) ++q;
  return sign | static_cast<uint16_t>(q);
}

inline float bf16_to_fp32(uint16_t h) { return std::bit_cast<float>(static_cast<uint32_t>(h) << 16); }

inline uint16_t fp32_to_bf16(float f) {
  const uint32_t u = std::bit_cast<uint32_t>(f);
  if ((u & 0x7fffffff) > 0x7f800000) return static_cast<uint16_t>((u >> 16) | 64);  // quiet NaN
  return static_cast<uint16_t>((u + 0x7fff + ((u >> 16) & 1)) >> 16);
}

// Row conversions (n elements).
void fp16_to_fp32_row(const uint16_t* x, float* y, int64_t n);
void fp32_to_fp16_row(const float* x, uint16_t* y, int64_t n);
void bf16_to_fp32_row(const uint16_t* x, float* y, int64_t n);
void fp32_to_bf16_row(const float* x, uint16_t* y, int64_t n);

}  // namespace tandem

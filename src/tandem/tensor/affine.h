// The one form every integer kernel computes with. Each quantized weight block b
// of a row is read as unsigned codes and two floats, w = d[b] * q + m[b]:
//   Q8_0  q = code + 128, m = -128 d      Q4_0  q = nibble,   m = -8 d
//   Q5_0  q = 5-bit code, m = -16 d       Q4_1/Q5_1  m = the stored min
//   Q4_K/Q5_K  d = d * sc, m = -dmin * mn (per sub-block of 32)
//   Q6_K  d = d * sc, m = -32 d * sc (per sub-block of 16, so the block size is 16)
// With BlockQ8A activations (x = da * qa, S = sum qa) a block's dot product is
//   da * (d * sum(q * qa) + m * S)
// where sum(q * qa) is one u8 x s8 integer dot (VNNI's vpdpbusd). Blocks are
// taken four at a time ("groups": 128 elements, 64 for Q6_K) so that SIMD lanes
// can hold (row, block) pairs; a row whose length is not a multiple of the
// group is padded with zero blocks (q = 0, d = m = 0), which add exactly 0.
#pragma once

#include <cstdint>

#include "tandem/gguf/ggml_type.h"
#include "tandem/tensor/quant_blocks.h"

namespace tandem {

inline constexpr int kGroupBlocks = 4;

// Block size of the affine view: 16 for Q6_K, 32 for the other quantized types.
constexpr int affine_block_size(GgmlType t) { return t == GgmlType::Q6_K ? 16 : kQK; }

// The types whose m is a fixed multiple of d, m = -z * d with z a power of two
// (Q8_0 128, Q4_0 8, Q5_0 16, Q6_K 32): log2(z), so that kernels can take the
// offset as z * S in integers; -1 for the types with a stored min.
constexpr int code_offset_shift(GgmlType t) {
  switch (t) {
    case GgmlType::Q8_0: return 7;
    case GgmlType::Q4_0: return 3;
    case GgmlType::Q5_0: return 4;
    case GgmlType::Q6_K: return 5;
    default: return -1;
  }
}
// Bits the codes q of a quantized type take: 4 (Q4_0, Q4_1, Q4_K), 5 (Q5_0,
// Q5_1, Q5_K), 6 (Q6_K), 8 (Q8_0).
constexpr int code_bits(GgmlType t) {
  switch (t) {
    case GgmlType::Q4_0:
    case GgmlType::Q4_1:
    case GgmlType::Q4_K: return 4;
    case GgmlType::Q5_0:
    case GgmlType::Q5_1:
    case GgmlType::Q5_K: return 5;
    case GgmlType::Q6_K: return 6;
    default: return 8;
  }
}
template <GgmlType T>
inline constexpr int affine_block_size_v = affine_block_size(T);

// Number of groups of a row of n elements.
int64_t affine_groups(GgmlType t, int64_t n);

struct AffineGroup {
  alignas(64) uint8_t q[kGroupBlocks * kQK];  // block b at q + b * block_size
  float d[kGroupBlocks];
  float m[kGroupBlocks];
};

// Decodes group g of one weight row of n elements (GGUF bytes). q8_signed keeps
// Q8_0 codes as signed bytes with m = 0 (for kernels whose u8 x s8 product
// saturates, AVX2's vpmaddubsw) instead of code + 128 with m = -128 d.
void decode_affine_group(GgmlType t, const uint8_t* row, int64_t n, int64_t g, bool q8_signed,
                         AffineGroup& out);

// K-quant 6-bit scale j (0..7) and min of the 12 packed bytes (ggml's layout:
// j < 4 in the low 6 bits of bytes j and j+4; j >= 4 split over byte j+4 and the
// top bits of bytes j-4 and j).
inline void k_scale_min(int j, const uint8_t* s, uint8_t& sc, uint8_t& mn) {
  if (j < 4) {
    sc = s[j] & 63;
    mn = s[j + 4] & 63;
  } else {
    sc = static_cast<uint8_t>((s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4));
    mn = static_cast<uint8_t>((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
  }
}

}  // namespace tandem

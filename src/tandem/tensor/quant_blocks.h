// Byte layouts of the GGUF block types tandem computes with, and of its own 8-bit
// activation block. A row of n weights of a block type is n / block_size blocks
// laid end to end; these structs are those bytes exactly (static_asserts pin the
// sizes to the GGUF type table). Scales are fp16 bit patterns (see float16.h).
#pragma once

#include <cstdint>

namespace tandem {

inline constexpr int kQK = 32;    // elements per block of the legacy types and of BlockQ8A
inline constexpr int kQK_K = 256;  // elements per K-quant super-block
inline constexpr int kKScaleBytes = 12;  // packed 6-bit scales and mins of Q4_K / Q5_K

// Q8_0: w = d * q, q in [-127, 127] (-128 never written, but read correctly).
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[kQK];
};

// Q4_0: w = d * (q - 8); qs[j] holds element j (low nibble) and j + 16 (high).
struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[kQK / 2];
};

// Q4_1: w = d * q + m, q in [0, 15]; nibbles as Q4_0.
struct BlockQ4_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qs[kQK / 2];
};

// Q5_0: w = d * (q - 16), q = nibble | (bit j of qh) << 4.
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];  // little-endian u32: bit j is the fifth bit of element j
  uint8_t qs[kQK / 2];
};

// Q5_1: w = d * q + m, q in [0, 31]; bits as Q5_0.
struct BlockQ5_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};

// Q4_K: 8 sub-blocks of 32; w = d * sc[j] * q - dmin * mn[j], q in [0, 15], sc/mn
// 6-bit. Sub-blocks 2i and 2i+1 share qs[32i .. 32i+31] (low and high nibble).
struct BlockQ4_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleBytes];
  uint8_t qs[kQK_K / 2];
};

// Q5_K: as Q4_K with a fifth bit: bit j of qh[l] belongs to element l of sub-block j.
struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleBytes];
  uint8_t qh[kQK_K / 8];
  uint8_t qs[kQK_K / 2];
};

// Q6_K: 16 sub-blocks of 16; w = d * sc[j] * (q - 32), q in [0, 63] split into
// 4 low bits (ql) and 2 high bits (qh), sc signed 8-bit.
struct BlockQ6_K {
  uint8_t ql[kQK_K / 2];
  uint8_t qh[kQK_K / 4];
  int8_t scales[kQK_K / 16];
  uint16_t d;
};

// tandem's activation block for integer dot products: x ~= d * q, q in
// [-127, 127] by round-to-nearest-even, with the sums of q over each half (16
// elements). The sums let an unsigned weight code q_w with w = dw * q_w + mw be
// dotted as dw * d * sum(q_w * q) + mw * d * sum(q): one u8 x s8 product for
// every weight type. Unlike ggml's Q8_0/Q8_K the scale is fp32, one per 32
// elements for every weight type, so all types share one activation format.
struct BlockQ8A {
  float d;
  int16_t s[2];
  int8_t qs[kQK];
};

static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ8A) == 40);

}  // namespace tandem

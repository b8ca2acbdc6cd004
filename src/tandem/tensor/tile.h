// Byte layouts the SIMD integer kernels work in (see affine.h for the math).
//
// Weight tile group: 4 weight rows x one group (4 blocks). SIMD lane r*4+b
// (a 32-bit lane of a 512-bit register) owns block b of row r, so one u8 x s8
// dot instruction advances 16 (row, block) pairs by 4 elements ("a quad"):
//   uint8 q[Q][4 rows][4 blocks][4]   Q = block_size / 4 quads (8, or 4 for Q6_K)
//   float d[16], m[16]                lane r*4+b
// Activation group (one token, same 4 blocks): the 16 bytes of quad i are
// broadcast to the 4 row slots, so each lane meets its own block:
//   int8 q[Q][4 blocks][4]; float d[4], dS[4]; int32 S[4]
// (S = sum of the block's codes, dS = d * S). Kernels accumulate per lane, in
// group order,
//   acc = fma(float(sum q*qa) * d, da, acc);  acc = fma(m, dS, acc)
// or, for the types whose m is -z * d (Q8_0, Q4_0, Q5_0, Q6_K: affine.h), with
// the offset taken in integers, exactly, and one float operation fewer (AVX-512):
//   acc = fma(float(sum q*qa - z * S) * d, da, acc)
// and finish each row with ((b0 + b1) + (b2 + b3)). The same per-lane
// operations run whatever the number of tokens or the row range, so a token's
// result does not depend on the batch it came in (speculative verification
// relies on that).
//
// Wide tile (the AVX-512 path's packed weights, Kernels::pack_rows = 16): the
// 4-row tiles of rows 4j..4j+3 (j = 0..3) rearranged so that lane R is row R.
// Per group, for each block b = 0..3 (wide_block_bytes each):
//   uint8 q[Q][16 rows][4]; float d[16], m[16]      lane R = row R's block b
// where m is left out for the types whose m is -z * d (the kernels take that
// offset from the activations' code sums). Types with narrower codes keep them
// in fewer bits (code_bits), so that their tiles stay near the size of their
// GGUF rows: 4-bit codes (Q4_0, Q4_1, Q4_K) two quads per byte,
//   uint8 q[Q / 2][16 rows][4]      low nibble quad i, high nibble quad i + Q / 2
// (for Q4_0 and Q4_1 that is the GGUF block's own pairing of element e with
// e + 16), and 5- and 6-bit codes (Q5_0, Q5_1, Q5_K, Q6_K) as those nibbles of
// their low 4 bits, then the bits above 4 of 8 / (bits - 4) quads per byte,
//   uint8 h[Q / 8][16 rows][4]      5-bit: bit k = quad 8j + k's bit 4
//   uint8 h[Q / 4][16 rows][4]      6-bit: bits 2k..2k+1 = quad 4j + k's bits 4-5
// K-quants keep their scales as the GGUF super-block has them ("k-scales"): a
// block is its codes only, and after the group's four blocks come the
// super-block's fp16 d[16] and dmin[16] (Q4_K, Q5_K; 32 bytes of padding for Q6_K),
// lane = row, then per block the scales and mins as bytes, sc[16], mn[16]
// (Q6_K: sc[16] only), so that every code vector stays 64-byte aligned. The
// kernels form d = d * sc and m = -(dmin * mn) as the decoders do (one rounding
// each, so the same floats). Tiles then take 1.04-1.17x their GGUF bytes
// (Q5_K 1.05x, Q6_K 1.07x) instead of up to 1.64x.
// One dot instruction then advances 16 rows of one block by 4 elements against
// the activations' dword (quad i, block b), broadcast to every lane, which costs
// no shuffle (a 128-bit broadcast does). Per row and block the kernels run the
// float operations above into one accumulator per block b, so each row ends
// with the same ((b0 + b1) + (b2 + b3)), bit for bit.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tandem/tensor/affine.h"

namespace tandem::tile {

inline constexpr int kRows = 4;
inline constexpr int kWideRows = 16;

constexpr int quads(int bs) { return bs / 4; }
constexpr size_t weight_group_bytes(int bs) { return static_cast<size_t>(quads(bs)) * 64 + 2 * 16 * sizeof(float); }
constexpr size_t act_group_bytes(int bs) { return static_cast<size_t>(quads(bs)) * 16 + 3 * 4 * sizeof(float); }
// One token's activations of n elements in this layout (the SIMD paths' act_token_bytes).
inline size_t act_row_bytes(int64_t n, int bs) {
  const int64_t span = int64_t{kGroupBlocks} * bs;
  return static_cast<size_t>((n + span - 1) / span) * act_group_bytes(bs);
}

// Bytes of one 4-row tile of a whole weight row range (packed_tile_bytes in
// matmul.h picks this or wide_tile_bytes per path): affine_groups(t, n_in)
// weight groups; 0 for types without this layout (floats).
size_t packed_tile_bytes(GgmlType t, int64_t n_in);
// AVX2's 4-row Q8_0 tiles are compact: a group's 16 d (lanes r * 4 + b) in
// fp16 ahead of its 8 quads (exact: GGUF stores d so), and no m (that path
// keeps Q8_0's codes signed, m = 0). 544 bytes a group, the GGUF bytes of its
// 16 blocks, instead of 640. compact_q8_group writes one from a group of
// pack_weight_group's layout.
constexpr size_t kCompactQ8GroupBytes = 16 * 2 + 8 * 64;
void compact_q8_group(const uint8_t* group, uint8_t* out);
// Whether a type's m is -z * d (code_offset_shift in affine.h), so that wide
// tiles leave it out.
constexpr bool offset_only(GgmlType t) { return code_offset_shift(t) >= 0; }
// How a type's wide tile stores a block: m kept (not offset_only), bits per
// code (8, 6, 5 or 4), scales as k-scales, or d and m as fp16 ahead of the
// group's codes (half_scales) instead of floats after each block's. A type's
// narrow form keeps the fewest bytes; its plain one 8-bit codes, except for
// 4-bit codes, whose narrow form also decodes fastest (kernels_bench packed1
// Q4_K 21.7 -> 16.6 us, packed5 unchanged), while 5- and 6-bit ones cost more
// instructions (packed1 Q6_K 22.1 -> 27.5 us) and pay only when streamed.
// Scales take the fewest bytes that are exact in both forms: the K-quants
// their k-scales (fp16 d and dmin, byte sc and mn), the legacy types d and m
// in fp16 (half_scales; GGUF stores them so). The legacy types' narrow tiles
// then take exactly their GGUF bytes. A token of a cache-resident model reads
// fewer bytes too: house-large (Q8_0) T(1) 109-118 -> 105-108 us; a 22M model
// (dim 512, 6 layers) in Q6_K T(1) 343-479 -> 247-342 us and in Q5_K 276-292 ->
// 251-260, against float scales. The scratch tiles of unpacked batches keep
// floats.
struct WideForm {
  int bs = 0;
  bool with_min = true;
  int code_bits = 8;
  bool k_scales = false;
  bool half_scales = false;
  friend constexpr bool operator==(const WideForm&, const WideForm&) = default;
};
constexpr WideForm wide_form(GgmlType t, bool narrow) {
  // The K-quants' d * sc is a float product: exact as k-scales, not in fp16.
  const bool k = t == GgmlType::Q4_K || t == GgmlType::Q5_K || t == GgmlType::Q6_K;
  if (!narrow && code_bits(t) != 4) return {affine_block_size(t), !offset_only(t), 8, k, !k};
  return {affine_block_size(t), !offset_only(t), code_bits(t), k, !k};
}
constexpr size_t wide_codes_bytes(WideForm f) { return static_cast<size_t>(quads(f.bs)) * 8 * f.code_bits; }
constexpr size_t wide_block_bytes(WideForm f) {
  return wide_codes_bytes(f) + (f.k_scales || f.half_scales ? 0 : (f.with_min ? 2 : 1) * 16 * sizeof(float));
}
// The bytes before a group's four blocks: the k-scales (d, dmin, then sc and mn
// per block), or the half scales (d of blocks 0-3, then m: 16 rows of fp16
// each). Ahead of the codes, so that a tile streams in the order the kernel
// reads it: the scales come first, and the hardware prefetcher, which follows
// that order, has them in time (after the codes they were a miss per group).
constexpr size_t wide_scale_stride(WideForm f) { return f.with_min ? 32 : 16; }  // per block
constexpr size_t kHalfScaleBytes = 16 * 2;                                        // one block's d (or m)
constexpr size_t wide_group_head(WideForm f) {
  if (f.k_scales) return 64 + kGroupBlocks * wide_scale_stride(f);
  return f.half_scales ? (f.with_min ? 2 : 1) * kGroupBlocks * kHalfScaleBytes : 0;
}
constexpr size_t wide_group_bytes(WideForm f) { return wide_group_head(f) + kGroupBlocks * wide_block_bytes(f); }
// Bytes of one wide tile (16 rows) of a whole weight row range; 0 for floats.
size_t wide_tile_bytes(GgmlType t, int64_t n_in, bool narrow);

// Scalar packers: the definition of the layouts, the SIMD packers' oracle, and
// the path for a row's last, partial group.
// rows[r]: the decoded group of row r (rows past the end may repeat a row).
void pack_weight_group(const AffineGroup* const rows[kRows], int bs, uint8_t* out);
// The wide tile of 16 rows from their four 4-row tiles (tiles4: tile j of G
// groups at tiles4 + j * G * weight_group_bytes(f.bs)), G groups, in form f;
// for k-scales, all but the scales (pack_wide_k_scales).
void interleave_wide(const uint8_t* tiles4, int64_t G, WideForm f, uint8_t* out);
// The k-scales of a wide Q4_K, Q5_K or Q6_K tile (out, as interleave_wide wrote it)
// from its 16 GGUF rows of n_in elements.
void pack_wide_k_scales(GgmlType t, WideForm f, const uint8_t* const rows[kWideRows], int64_t n_in, uint8_t* out);
// One token's activations (n elements, quantize_row_q8a blocks) for weight
// block size bs: affine_groups(n) groups of act_group_bytes(bs).
void pack_act_row(const BlockQ8A* a, int64_t n, int bs, uint8_t* out);

}  // namespace tandem::tile

// AVX-512 path (F/BW/VL + VNNI). Integer types: weights decoded into the tile
// layouts of tile.h (u8 codes). Against GGUF rows, one token to kMaxTokens
// decode each group of 4 rows in registers and dot it with every token at once
// (lane = (row, block)); larger batches decode 16 rows into one wide tile (lane
// = row) and run a microkernel over the tokens 4 at a time, so decoding is paid
// once per weight and shared by all tokens. Packed weights (Kernels::pack_rows
// = 16) are wide tiles, and every batch size runs that microkernel. Float
// weights: matmul_float_avx512.cpp.
// Every function carries TANDEM_TARGET_AVX512, so the file is safe to link into
// a binary that runs on AVX2-only CPUs (the table is only selected when the CPU
// has these features).
#include "tandem/tensor/kernels_impl.h"

#if TANDEM_X86

// GCC 12's intrinsics fill "undefined" vectors by self-initialization, which
// -Wmaybe-uninitialized reports at every inlined use (GCC bug 105593).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "tandem/tensor/affine.h"
#include "tandem/tensor/quants.h"
#include "tandem/tensor/prefetch.h"
#include "tandem/tensor/tile.h"

namespace tandem {
namespace {

constexpr int kMaxTokens = 8;  // the most tokens the fused kernels take (larger batches: wide tiles)

uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

// Four 16-byte pieces into the four 128-bit lanes of one register.
T512_INLINE __m512i load_4x128(const uint8_t* p0, const uint8_t* p1, const uint8_t* p2, const uint8_t* p3) {
  __m512i v = _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p0)));
  v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p1)), 1);
  v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p2)), 2);
  return _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p3)), 3);
}

// (block b, quad i) dwords -> (quad i, block b): 128-bit lane i becomes the 16
// bytes the tile stores for quad i.
T512_INLINE __m512i lanes_to_quads(__m512i v) {
  return _mm512_permutexvar_epi32(_mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), v);
}

// a[r] lane i = quad i's 16 bytes of row r -> q[i] lane r: a 4x4 transpose of
// 128-bit lanes, giving the tile's quad registers (tile.h) without a store.
T512_INLINE void transpose_4x128(__m512i a0, __m512i a1, __m512i a2, __m512i a3, __m512i* q) {
  const __m512i t0 = _mm512_shuffle_i64x2(a0, a1, 0x44), t1 = _mm512_shuffle_i64x2(a0, a1, 0xEE);
  const __m512i t2 = _mm512_shuffle_i64x2(a2, a3, 0x44), t3 = _mm512_shuffle_i64x2(a2, a3, 0xEE);
  q[0] = _mm512_shuffle_i64x2(t0, t2, 0x88);
  q[1] = _mm512_shuffle_i64x2(t0, t2, 0xDD);
  q[2] = _mm512_shuffle_i64x2(t1, t3, 0x88);
  q[3] = _mm512_shuffle_i64x2(t1, t3, 0xDD);
}

// The same transpose stored at out[i*64 + r*16].
T512_INLINE void transpose_store(__m512i a0, __m512i a1, __m512i a2, __m512i a3, uint8_t* out) {
  __m512i q[4];
  transpose_4x128(a0, a1, a2, a3, q);
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) _mm512_store_si512(out + i * 64, q[i]);
}

// ---------------------------------------------------------------------------
// The 4 rows of a tile. Rows past the range's end repeat its last row (their
// results are dropped).

struct Rows {
  const uint8_t* p[4];
};

T512_INLINE Rows tile_rows(const WeightView& w, int64_t rt, int64_t r1) {
  Rows rs;
  for (int r = 0; r < 4; ++r) rs.p[r] = w.row(std::min<int64_t>(rt + r, r1 - 1));
  return rs;
}

// Lanes (r, b) <- value of row r: [v0 v0 v0 v0 v1 v1 ...].
T512_INLINE __m512 per_row(__m128 v) {
  return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3),
                               _mm512_castps128_ps512(v));
}

// The four rows' fp16 at byte offset `at`.
T512_INLINE __m128 row_halves(const Rows& rs, size_t at) {
  const __m128i h = _mm_setr_epi16(static_cast<short>(load_u16(rs.p[0] + at)), static_cast<short>(load_u16(rs.p[1] + at)),
                                   static_cast<short>(load_u16(rs.p[2] + at)), static_cast<short>(load_u16(rs.p[3] + at)),
                                   0, 0, 0, 0);
  return _mm_cvtph_ps(h);
}

// ---------------------------------------------------------------------------
// Codes<W>::run: group g of one row in "lane form": lo lane b = quads 0..3 of
// block b (elements 0..15), hi lane b = quads 4..7 (16..31); Q6_K (blocks of
// 16) fills lo only. Scales<W>::run: d and m (affine.h) of the 4 rows in lanes (r, b).

template <GgmlType W>
struct Codes;
template <GgmlType W>
struct Scales;

// Codes of the 4 rows of a tile; types with per-tile work override run4.
template <typename C>
struct PerRow {
  T512_INLINE static void run4(const Rows& rs, int64_t g, __m512i* lo, __m512i* hi) {
#pragma GCC unroll 4
    for (int r = 0; r < 4; ++r) C::run(rs.p[r], g, lo[r], hi[r]);
  }
};

// Legacy blocks (stride S): the 16-bit words at byte At of each of the group's
// 4 blocks, for the 4 rows, in lanes (r, b). Each row's words come out of one
// or two loads of its group by a word permute (no gathers: they are slow).
template <int S, int At, int Words>
T512_INLINE __m128i row_fields(const uint8_t* p) {
  static_assert(At % 2 == 0 && S % 2 == 0);
  constexpr int w0 = At / 2, w = S / 2;
  constexpr int last = w0 + 3 * w + Words - 1;  // the last word needed
  const __m512i idx = Words == 1 ? _mm512_setr_epi32(w0 | ((w0 + w) << 16), (w0 + 2 * w) | ((w0 + 3 * w) << 16), 0, 0,
                                                     0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
                                 : _mm512_setr_epi32(w0 | ((w0 + 1) << 16), (w0 + w) | ((w0 + w + 1) << 16),
                                                     (w0 + 2 * w) | ((w0 + 2 * w + 1) << 16),
                                                     (w0 + 3 * w) | ((w0 + 3 * w + 1) << 16), 0, 0, 0, 0, 0, 0, 0, 0,
                                                     0, 0, 0, 0);
  const __m512i z0 = _mm512_loadu_si512(p);
  if constexpr (last < 32) {
    return _mm512_castsi512_si128(_mm512_permutexvar_epi16(idx, z0));
  } else {  // words 32..last from a masked load: never past the group's end
    const __m512i z1 = _mm512_maskz_loadu_epi16(static_cast<__mmask32>((1ull << (last - 31)) - 1), p + 64);
    return _mm512_castsi512_si128(_mm512_permutex2var_epi16(z0, idx, z1));
  }
}

// 16-bit fields (scales) of the 4 rows' group blocks, lanes (r, b).
template <int S, int At>
T512_INLINE __m256i group_words(const Rows& rs, int64_t g) {
  __m128i h[4];
#pragma GCC unroll 4
  for (int r = 0; r < 4; ++r) h[r] = row_fields<S, At, 1>(rs.p[r] + g * 4 * S);
  return _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_unpacklo_epi64(h[0], h[1])),
                                 _mm_unpacklo_epi64(h[2], h[3]), 1);
}

// 32-bit fields (Q5 high bits) of the 4 rows' group blocks, lanes (r, b).
template <int S, int At>
T512_INLINE __m512i group_dwords(const Rows& rs, int64_t g) {
  __m512i v = _mm512_castsi128_si512(row_fields<S, At, 2>(rs.p[0] + g * 4 * S));
  v = _mm512_inserti32x4(v, row_fields<S, At, 2>(rs.p[1] + g * 4 * S), 1);
  v = _mm512_inserti32x4(v, row_fields<S, At, 2>(rs.p[2] + g * 4 * S), 2);
  return _mm512_inserti32x4(v, row_fields<S, At, 2>(rs.p[3] + g * 4 * S), 3);
}

template <int S, int At>
T512_INLINE __m512 group_halves(const Rows& rs, int64_t g) {
  return _mm512_cvtph_ps(group_words<S, At>(rs, g));
}

template <>
struct Codes<GgmlType::Q8_0> : PerRow<Codes<GgmlType::Q8_0>> {
  T512_INLINE static void run(const uint8_t* row, int64_t g, __m512i& lo, __m512i& hi) {
    constexpr int S = sizeof(BlockQ8_0);
    const uint8_t* p = row + g * 4 * S;
    const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));  // code + 128: unsigned for vpdpbusd
    lo = _mm512_xor_si512(load_4x128(p + 2, p + S + 2, p + 2 * S + 2, p + 3 * S + 2), flip);
    hi = _mm512_xor_si512(load_4x128(p + 18, p + S + 18, p + 2 * S + 18, p + 3 * S + 18), flip);
  }
};
template <>
struct Scales<GgmlType::Q8_0> {
  T512_INLINE static void run(const Rows& rs, int64_t g, __m512& d, __m512& m) {
    d = group_halves<sizeof(BlockQ8_0), 0>(rs, g);
    m = _mm512_mul_ps(d, _mm512_set1_ps(-128.0f));
  }
};

// 16 bytes of nibbles per block at offset QS.
template <int S, int QS>
T512_INLINE void legacy_nibbles(const uint8_t* p, __m512i& lo, __m512i& hi) {
  const __m512i v = load_4x128(p + QS, p + S + QS, p + 2 * S + QS, p + 3 * S + QS);
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  lo = _mm512_and_si512(v, m4);
  hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
}

// Adds the fifth bits of 4 rows (qh, a u32 at offset QH of each block: bit j
// for element j) as 16: the 16 words in lanes (r, b); per row, each block's word
// goes to its 128-bit lane, byte j takes the qh byte holding bit j, and a
// per-byte bit test makes the mask.
template <int S, int QH>
T512_INLINE void legacy_fifth_bits(const Rows& rs, int64_t g, __m512i* lo, __m512i* hi) {
  const __m512i qh = group_dwords<S, QH>(rs, g);
  const __m512i spread = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
  const __m512i pick_lo = _mm512_set4_epi32(0x01010101, 0x01010101, 0, 0);  // bytes 0..7 <- byte 0, 8..15 <- 1
  const __m512i pick_hi = _mm512_set4_epi32(0x03030303, 0x03030303, 0x02020202, 0x02020202);
  const __m512i bit = _mm512_set1_epi64(static_cast<long long>(0x8040201008040201ull));
  const __m512i sixteen = _mm512_set1_epi8(16);
#pragma GCC unroll 4
  for (int r = 0; r < 4; ++r) {
    const __m512i v = _mm512_permutexvar_epi32(_mm512_add_epi32(spread, _mm512_set1_epi32(4 * r)), qh);
    lo[r] = _mm512_mask_add_epi8(lo[r], _mm512_test_epi8_mask(_mm512_shuffle_epi8(v, pick_lo), bit), lo[r], sixteen);
    hi[r] = _mm512_mask_add_epi8(hi[r], _mm512_test_epi8_mask(_mm512_shuffle_epi8(v, pick_hi), bit), hi[r], sixteen);
  }
}

template <>
struct Codes<GgmlType::Q4_0> : PerRow<Codes<GgmlType::Q4_0>> {
  T512_INLINE static void run(const uint8_t* row, int64_t g, __m512i& lo, __m512i& hi) {
    legacy_nibbles<sizeof(BlockQ4_0), 2>(row + g * 4 * sizeof(BlockQ4_0), lo, hi);
  }
};
template <>
struct Scales<GgmlType::Q4_0> {
  T512_INLINE static void run(const Rows& rs, int64_t g, __m512& d, __m512& m) {
    d = group_halves<sizeof(BlockQ4_0), 0>(rs, g);
    m = _mm512_mul_ps(d, _mm512_set1_ps(-8.0f));
  }
};

template <>
struct Codes<GgmlType::Q4_1> : PerRow<Codes<GgmlType::Q4_1>> {
  T512_INLINE static void run(const uint8_t* row, int64_t g, __m512i& lo, __m512i& hi) {
    legacy_nibbles<sizeof(BlockQ4_1), 4>(row + g * 4 * sizeof(BlockQ4_1), lo, hi);
  }
};
template <>
struct Scales<GgmlType::Q4_1> {
  T512_INLINE static void run(const Rows& rs, int64_t g, __m512& d, __m512& m) {
    d = group_halves<sizeof(BlockQ4_1), 0>(rs, g);
    m = group_halves<sizeof(BlockQ4_1), 2>(rs, g);
  }
};

template <>
struct Codes<GgmlType::Q5_0> {
  T512_INLINE static void run4(const Rows& rs, int64_t g, __m512i* lo, __m512i* hi) {
    constexpr int S = sizeof(BlockQ5_0);
#pragma GCC unroll 4
    for (int r = 0; r < 4; ++r) legacy_nibbles<S, 6>(rs.p[r] + g * 4 * S, lo[r], hi[r]);
    legacy_fifth_bits<S, 2>(rs, g, lo, hi);
  }
};
template <>
struct Scales<GgmlType::Q5_0> {
  T512_INLINE static void run(const Rows& rs, int64_t g, __m512& d, __m512& m) {
    d = group_halves<sizeof(BlockQ5_0), 0>(rs, g);
    m = _mm512_mul_ps(d, _mm512_set1_ps(-16.0f));
  }
};

template <>
struct Codes<GgmlType::Q5_1> {
  T512_INLINE static void run4(const Rows& rs, int64_t g, __m512i* lo, __m512i* hi) {
    constexpr int S = sizeof(BlockQ5_1);
#pragma GCC unroll 4
    for (int r = 0; r < 4; ++r) legacy_nibbles<S, 8>(rs.p[r] + g * 4 * S, lo[r], hi[r]);
    legacy_fifth_bits<S, 4>(rs, g, lo, hi);
  }
};
template <>
struct Scales<GgmlType::Q5_1> {
  T512_INLINE static void run(const Rows& rs, int64_t g, __m512& d, __m512& m) {
    d = group_halves<sizeof(BlockQ5_1), 0>(rs, g);
    m = group_halves<sizeof(BlockQ5_1), 2>(rs, g);
  }
};

// Q4_K / Q5_K: a group is half a super-block (sub-blocks 4h..4h+3). Its 64 qs
// bytes hold sub-blocks (s0, s1) in bytes 0..31 (low, high nibble) and (s2, s3)
// in bytes 32..63; two qword permutes put each sub-block's halves in place.
template <bool Five>
T512_INLINE void k_quant_codes(const uint8_t* row, int64_t g, __m512i& lo, __m512i& hi) {
  constexpr size_t S = Five ? sizeof(BlockQ5_K) : sizeof(BlockQ4_K);
  const uint8_t* p = row + (g / 2) * S;
  const int half = static_cast<int>(g % 2);
  const __m512i v = _mm512_loadu_si512(p + (Five ? 48 : 16) + 64 * half);
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  const __m512i ln = _mm512_and_si512(v, m4);                         // s0 a | s0 b | s2 a | s2 b
  const __m512i hn = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);  // s1 a | s1 b | s3 a | s3 b
  lo = _mm512_permutex2var_epi64(ln, _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13), hn);
  hi = _mm512_permutex2var_epi64(ln, _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15), hn);
  if constexpr (Five) {
    // Bit j of qh[l] is the fifth bit of element l of sub-block j.
    const uint8_t* qh = p + 16;
    const __m512i qlo = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qh)));
    const __m512i qhi = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qh + 16)));
    const __m512i bit = _mm512_setr_epi32(0x01010101, 0x01010101, 0x01010101, 0x01010101, 0x02020202, 0x02020202,
                                          0x02020202, 0x02020202, 0x04040404, 0x04040404, 0x04040404, 0x04040404,
                                          0x08080808, 0x08080808, 0x08080808, 0x08080808);
    const __m512i sel = half ? _mm512_slli_epi32(bit, 4) : bit;
    const __m512i sixteen = _mm512_set1_epi8(16);
    lo = _mm512_mask_add_epi8(lo, _mm512_test_epi8_mask(qlo, sel), lo, sixteen);
    hi = _mm512_mask_add_epi8(hi, _mm512_test_epi8_mask(qhi, sel), hi, sixteen);
  }
}

// The group's 6-bit scales and mins (k_scale_min) for the 4 rows at once: the
// first 16 bytes of each row's super-block (d, dmin, scales[12]) transposed to
// dwords [d|dmin], A = scales[0..3], B = [4..7], C = [8..11] across rows; for
// sub-blocks 4..7 the top two bits of A / B bytes come down as bits 4-5.
template <size_t S>
T512_INLINE void k_quant_scales(const Rows& rs, int64_t g, __m512& d, __m512& m) {
  const int half = static_cast<int>(g % 2);
  const size_t base = static_cast<size_t>(g / 2) * S;
  __m128i x[4];
#pragma GCC unroll 4
  for (int r = 0; r < 4; ++r) x[r] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(rs.p[r] + base));
  const __m128i t0 = _mm_unpacklo_epi32(x[0], x[1]), t1 = _mm_unpacklo_epi32(x[2], x[3]);
  const __m128i t2 = _mm_unpackhi_epi32(x[0], x[1]), t3 = _mm_unpackhi_epi32(x[2], x[3]);
  const __m128i dd = _mm_unpacklo_epi64(t0, t1), va = _mm_unpackhi_epi64(t0, t1);
  const __m128i vb = _mm_unpacklo_epi64(t2, t3), vc = _mm_unpackhi_epi64(t2, t3);
  const __m128i m6 = _mm_set1_epi32(0x3F3F3F3F), m4 = _mm_set1_epi32(0x0F0F0F0F), top = _mm_set1_epi32(0x30303030);
  __m128i sc, mn;
  if (half == 0) {
    sc = _mm_and_si128(va, m6);
    mn = _mm_and_si128(vb, m6);
  } else {
    sc = _mm_or_si128(_mm_and_si128(vc, m4), _mm_and_si128(_mm_srli_epi32(va, 2), top));
    mn = _mm_or_si128(_mm_and_si128(_mm_srli_epi32(vc, 4), m4), _mm_and_si128(_mm_srli_epi32(vb, 2), top));
  }
  const __m512 f = _mm512_castps256_ps512(_mm256_cvtph_ps(dd));  // d0 dmin0 d1 dmin1 ...
  const __m512 drow = _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 0, 0, 2, 2, 2, 2, 4, 4, 4, 4, 6, 6, 6, 6), f);
  const __m512 mrow = _mm512_permutexvar_ps(_mm512_setr_epi32(1, 1, 1, 1, 3, 3, 3, 3, 5, 5, 5, 5, 7, 7, 7, 7), f);
  d = _mm512_mul_ps(drow, _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(sc)));
  // -(dmin * mn), as the scalar decoder rounds it
  m = _mm512_xor_ps(_mm512_mul_ps(mrow, _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(mn))), _mm512_set1_ps(-0.0f));
}

template <>
struct Codes<GgmlType::Q4_K> : PerRow<Codes<GgmlType::Q4_K>> {
  T512_INLINE static void run(const uint8_t* row, int64_t g, __m512i& lo, __m512i& hi) {
    k_quant_codes<false>(row, g, lo, hi);
  }
};
template <>
struct Scales<GgmlType::Q4_K> {
  T512_INLINE static void run(const Rows& rs, int64_t g, __m512& d, __m512& m) {
    k_quant_scales<sizeof(BlockQ4_K)>(rs, g, d, m);
  }
};
template <>
struct Codes<GgmlType::Q5_K> : PerRow<Codes<GgmlType::Q5_K>> {
  T512_INLINE static void run(const uint8_t* row, int64_t g, __m512i& lo, __m512i& hi) {
    k_quant_codes<true>(row, g, lo, hi);
  }
};
template <>
struct Scales<GgmlType::Q5_K> {
  T512_INLINE static void run(const Rows& rs, int64_t g, __m512& d, __m512& m) {
    k_quant_scales<sizeof(BlockQ5_K)>(rs, g, d, m);
  }
};

// Q6_K: a group is a quarter super-block (64 elements, sub-blocks of 16): half
// h = c/2 of the block, low (c even) or high nibbles of ql[64h .. 64h+63], two
// bits of qh[32h + l] at shift 4*(c odd) (elements < 32) or that + 2.
template <>
struct Codes<GgmlType::Q6_K> : PerRow<Codes<GgmlType::Q6_K>> {
  // The two high bits move straight to bits 4-5 (left by 4 - shift, or right by
  // 2 for shift 6, per 16-bit word; other bits are masked off) and join the
  // nibbles in one ternary-logic operation.
  T512_INLINE static void run(const uint8_t* row, int64_t g, __m512i& lo, __m512i& /*hi*/) {
    const uint8_t* p = row + (g / 4) * sizeof(BlockQ6_K);
    const int c = static_cast<int>(g % 4), h = c / 2, upper = c % 2;
    const __m512i l = _mm512_loadu_si512(p + 64 * h);
    const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 128 + 32 * h)));
    __m512i nib, two;
    if (upper) {  // high nibbles; qh bits 4-5 (first 32 codes) stay, bits 6-7 (next 32) move right by 2
      nib = _mm512_srli_epi16(l, 4);
      two = _mm512_srlv_epi16(qh, _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1));
    } else {  // low nibbles; qh bits 0-1 move left by 4, bits 2-3 left by 2
      nib = l;
      two = _mm512_sllv_epi16(qh, _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1));
    }
    // Bits 0-3 from the nibbles, 4-5 from the high bits, 6-7 zero: two masked to
    // 0x30, then a bit select by 0x0F (C ? A : B is ternary-logic 0xE4).
    lo = _mm512_ternarylogic_epi32(nib, _mm512_and_si512(two, _mm512_set1_epi8(0x30)), _mm512_set1_epi8(0x0F), 0xE4);
  }
};
template <>
struct Scales<GgmlType::Q6_K> {
  // The group's 4 int8 scales are dword c of each row's scales[16], gathered
  // with one dword insert per row.
  T512_INLINE static void run(const Rows& rs, int64_t g, __m512& d, __m512& m) {
    const size_t base = static_cast<size_t>(g / 4) * sizeof(BlockQ6_K);
    const size_t at = base + 192 + 4 * static_cast<size_t>(g % 4);
    int32_t v[4];
#pragma GCC unroll 4
    for (int r = 0; r < 4; ++r) std::memcpy(&v[r], rs.p[r] + at, 4);
    const __m128i sc = _mm_setr_epi32(v[0], v[1], v[2], v[3]);
    d = _mm512_mul_ps(per_row(row_halves(rs, base + 208)), _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(sc)));
    m = _mm512_mul_ps(d, _mm512_set1_ps(-32.0f));
  }
};

// Group g of the 4 rows in quad form: 128-bit lane i of lo[r] (hi[r]) holds
// quad i (4 + i) of row r's 4 blocks, dword 4i + b = block b (lanes_to_quads of
// Codes' lane form; the activations' group layout has the same form).
template <GgmlType W>
struct QuadForm {
  static constexpr bool kDirect = false;  // built from Codes: lane form plus a permute per register
  T512_INLINE static void run(const Rows& rs, int64_t g, __m512i* lo, __m512i* hi) {
    Codes<W>::run4(rs, g, lo, hi);
#pragma GCC unroll 4
    for (int r = 0; r < 4; ++r) {
      lo[r] = lanes_to_quads(lo[r]);
      if constexpr (tile::quads(affine_block_size_v<W>) == 8) hi[r] = lanes_to_quads(hi[r]);
    }
  }
};

// 32 bytes at p and 32 at p + S in one register (one 256-bit insert; a masked
// load measured no faster).
T512_INLINE __m512i block_pair(const uint8_t* p, int S) {
  const __m512i first = _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  return _mm512_inserti64x4(first, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + S)), 1);
}

// Q8_0 straight into quad form: a row's blocks come two per register (32 codes
// each, 256-bit pieces) and a two-source dword permute per half picks dword
// 4i + b, instead of Codes' three 128-bit inserts per register plus a permute.
// Inserts and permutes compete for the shuffle unit, which bounds decoding, and
// decoding is the fixed per-group cost of every kernel (a small batch's largest).
template <>
struct QuadForm<GgmlType::Q8_0> {
  static constexpr bool kDirect = true;
  T512_INLINE static void run(const Rows& rs, int64_t g, __m512i* lo, __m512i* hi) {
    constexpr int S = sizeof(BlockQ8_0);
    const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));  // code + 128: unsigned for vpdpbusd
    const __m512i pick_lo = _mm512_setr_epi32(0, 8, 16, 24, 1, 9, 17, 25, 2, 10, 18, 26, 3, 11, 19, 27);
    const __m512i pick_hi = _mm512_add_epi32(pick_lo, _mm512_set1_epi32(4));
#pragma GCC unroll 4
    for (int r = 0; r < 4; ++r) {
      const uint8_t* p = rs.p[r] + g * 4 * S + 2;  // block 0's codes
      const __m512i x = _mm512_xor_si512(block_pair(p, S), flip), y = _mm512_xor_si512(block_pair(p + 2 * S, S), flip);
      lo[r] = _mm512_permutex2var_epi32(x, pick_lo, y);
      hi[r] = _mm512_permutex2var_epi32(x, pick_hi, y);
    }
  }
};

// Legacy 4-bit codes (16 bytes at QS of each block, stride S) straight into quad
// form: one two-source word permute puts bytes 4i..4i+3 of block b at dword
// 4i + b (blocks start an even number of bytes apart, so words suffice, and no
// VBMI is needed); the low nibbles are then quads 0..3 and the high ones 4..7.
template <int S, int QS>
struct NibbleQuads {
  static constexpr int kLast = (3 * S + 15) / 2;  // the last word needed, from the first block's codes
  struct Index {
    alignas(64) uint16_t w[32];
  };
  static constexpr Index index() {
    Index x{};
    for (int i = 0; i < 4; ++i)
      for (int b = 0; b < 4; ++b)
        for (int k = 0; k < 2; ++k) x.w[2 * (4 * i + b) + k] = static_cast<uint16_t>(b * S / 2 + 2 * i + k);
    return x;
  }
  static_assert(S % 2 == 0 && QS % 2 == 0 && kLast >= 32 && kLast < 64);

  T512_INLINE static void run(const uint8_t* group, __m512i& lo, __m512i& hi) {
    static constexpr Index kIndex = index();
    const uint8_t* q = group + QS;
    const __m512i z0 = _mm512_loadu_si512(q);
    // Words 32..kLast from a masked load: never past the group's end.
    const __m512i z1 = _mm512_maskz_loadu_epi16(static_cast<__mmask32>((1ull << (kLast - 31)) - 1), q + 64);
    const __m512i v = _mm512_permutex2var_epi16(z0, _mm512_load_si512(kIndex.w), z1);
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    lo = _mm512_and_si512(v, m4);
    hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
  }
};

template <>
struct QuadForm<GgmlType::Q4_0> {
  static constexpr bool kDirect = true;
  T512_INLINE static void run(const Rows& rs, int64_t g, __m512i* lo, __m512i* hi) {
    constexpr int S = sizeof(BlockQ4_0);
#pragma GCC unroll 4
    for (int r = 0; r < 4; ++r) NibbleQuads<S, 2>::run(rs.p[r] + g * 4 * S, lo[r], hi[r]);
  }
};

template <>
struct QuadForm<GgmlType::Q4_1> {
  static constexpr bool kDirect = true;
  T512_INLINE static void run(const Rows& rs, int64_t g, __m512i* lo, __m512i* hi) {
    constexpr int S = sizeof(BlockQ4_1);
#pragma GCC unroll 4
    for (int r = 0; r < 4; ++r) NibbleQuads<S, 4>::run(rs.p[r] + g * 4 * S, lo[r], hi[r]);
  }
};

// Group g of the 4 rows as the tile's quad registers (wq[i] = tile.h's quad i).
template <GgmlType W>
T512_INLINE void tile_quads(const Rows& rs, int64_t g, __m512i* wq) {
  __m512i lo[4], hi[4];
  QuadForm<W>::run(rs, g, lo, hi);
  transpose_4x128(lo[0], lo[1], lo[2], lo[3], wq);
  if constexpr (tile::quads(affine_block_size_v<W>) == 8) transpose_4x128(hi[0], hi[1], hi[2], hi[3], wq + 4);
}

// Decodes group g of 4 rows into one tile group (tile.h layout).
template <GgmlType W>
T512_INLINE void unpack_group(const Rows& rs, int64_t g, uint8_t* out) {
  constexpr int Q = tile::quads(affine_block_size_v<W>);
  __m512i wq[Q];
  tile_quads<W>(rs, g, wq);
#pragma GCC unroll 8
  for (int i = 0; i < Q; ++i) _mm512_store_si512(out + i * 64, wq[i]);
  __m512 d, m;
  Scales<W>::run(rs, g, d, m);
  _mm512_store_ps(reinterpret_cast<float*>(out + Q * 64), d);
  _mm512_store_ps(reinterpret_cast<float*>(out + Q * 64 + 64), m);
}

// ---------------------------------------------------------------------------
// Microkernels. Per group and token: integer sums I in lanes (r, b), then
//   acc = fma(float(I) * d, da, acc);  acc = fma(m, dS, acc)
// and at the end ((b0 + b1) + (b2 + b3)) per row. The tile kernel (many tokens)
// and the fused one-token kernel run exactly these float operations.

// da, ds: the token's block scales in lanes (r, b) (each block's value for every row).
T512_INLINE __m512 group_epilogue(__m512 acc, __m512i isum, __m512 dw, __m512 mw, __m512 da, __m512 ds) {
  acc = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(isum), dw), da, acc);
  return _mm512_fmadd_ps(mw, ds, acc);
}

// The types whose m is -z * d (affine.h's code_offset_shift) take the offset
// in integers: isum - z * S is exact, and one fma replaces two float
// operations (tile.h). ZS = log2(z), or -1 for the types with a stored min.
template <GgmlType W>
inline constexpr int kOffsetShift = code_offset_shift(W);

template <int ZS>
T512_INLINE __m512 offset_epilogue(__m512 acc, __m512i isum, __m512i sums, __m512 dw, __m512 da) {
  isum = _mm512_sub_epi32(isum, _mm512_slli_epi32(sums, ZS));
  return _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(isum), dw), da, acc);
}

// One group of one token from its activation group's scales (ag_scales: d[4],
// dS[4], S[4], each broadcast to the 4 rows).
template <int ZS>
T512_INLINE __m512 group_epilogue(__m512 acc, __m512i isum, __m512 dw, __m512 mw, const uint8_t* ag_scales) {
  const float* af = reinterpret_cast<const float*>(ag_scales);
  const __m512 da = _mm512_broadcast_f32x4(_mm_loadu_ps(af));
  if constexpr (ZS >= 0) {
    const __m512i sums = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(ag_scales + 32)));
    return offset_epilogue<ZS>(acc, isum, sums, dw, da);
  } else {
    return group_epilogue(acc, isum, dw, mw, da, _mm512_broadcast_f32x4(_mm_loadu_ps(af + 4)));
  }
}

T512_INLINE void store_rows(__m512 v, float* y, int nr) {
  v = _mm512_add_ps(v, _mm512_permute_ps(v, 0xB1));  // b0+b1, b2+b3
  v = _mm512_add_ps(v, _mm512_permute_ps(v, 0x4E));  // (b0+b1)+(b2+b3)
  const __m512i pick = _mm512_setr_epi32(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  _mm_mask_storeu_ps(y, static_cast<__mmask8>((1u << nr) - 1), _mm512_castps512_ps128(_mm512_permutexvar_ps(pick, v)));
}

template <int Q, int ZS, int T>
T512_INLINE void tile_group(__m512* accf, const uint8_t* wg, const uint8_t* ag, size_t astride) {
  __m512i acci[T];
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) acci[t] = _mm512_setzero_si512();
#pragma GCC unroll 8
  for (int i = 0; i < Q; ++i) {
    const __m512i w = _mm512_load_si512(wg + i * 64);
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(ag + t * astride + i * 16));
      acci[t] = _mm512_dpbusd_epi32(acci[t], w, _mm512_broadcast_i32x4(a));
    }
  }
  const __m512 dw = _mm512_load_ps(reinterpret_cast<const float*>(wg + Q * 64));
  const __m512 mw = _mm512_load_ps(reinterpret_cast<const float*>(wg + Q * 64 + 64));
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) accf[t] = group_epilogue<ZS>(accf[t], acci[t], dw, mw, ag + t * astride + Q * 16);
}

// The zero-padded last group of a legacy-type row whose length is not a
// multiple of 128, decoded by the scalar decoder into tile layout.
template <GgmlType W>
T512_INLINE void pack_partial_group(const Rows& rs, int64_t n_in, int64_t g, uint8_t* out) {
  AffineGroup grp[tile::kRows];
  const AffineGroup* gp[tile::kRows];
  for (int r = 0; r < tile::kRows; ++r) {
    decode_affine_group(W, rs.p[r], n_in, g, false, grp[r]);
    gp[r] = &grp[r];
  }
  tile::pack_weight_group(gp, affine_block_size_v<W>, out);
}

// All groups of 4 rows into tile.h layout.
template <GgmlType W>
T512 void pack_tile(const Rows& rs, int64_t n_in, uint8_t* tile) {
  constexpr int bs = affine_block_size_v<W>;
  constexpr size_t wgb = tile::weight_group_bytes(bs);
  const int64_t G = affine_groups(W, n_in);
  const int64_t g_full = n_in / (int64_t{kGroupBlocks} * bs);
  for (int64_t g = 0; g < g_full; ++g) unpack_group<W>(rs, g, tile + g * wgb);
  if (g_full < G) pack_partial_group<W>(rs, n_in, g_full, tile + g_full * wgb);
}

// Sums each row's 4 quads per block: s[r] lane (b, i) -> lanes (r, b).
T512_INLINE __m512i sum_quads(const __m512i* s) {
  const __m512i t01 = _mm512_add_epi32(_mm512_unpacklo_epi32(s[0], s[1]), _mm512_unpackhi_epi32(s[0], s[1]));
  const __m512i t23 = _mm512_add_epi32(_mm512_unpacklo_epi32(s[2], s[3]), _mm512_unpackhi_epi32(s[2], s[3]));
  const __m512i u = _mm512_add_epi32(_mm512_unpacklo_epi64(t01, t23), _mm512_unpackhi_epi64(t01, t23));  // (b, r)
  return lanes_to_quads(u);  // the same 4x4 transpose: (b, r) -> (r, b)
}

// Sums each row's 4 quads per block from quad form: s[r] 128-bit lane i, dword
// b -> lanes (r, b), by 128-bit lane shuffles (a 4x4 transpose with adds).
T512_INLINE __m512i sum_quad_lanes(const __m512i* s) {
  const __m512i u01 = _mm512_add_epi32(_mm512_shuffle_i64x2(s[0], s[1], 0x44), _mm512_shuffle_i64x2(s[0], s[1], 0xEE));
  const __m512i u23 = _mm512_add_epi32(_mm512_shuffle_i64x2(s[2], s[3], 0x44), _mm512_shuffle_i64x2(s[2], s[3], 0xEE));
  return _mm512_add_epi32(_mm512_shuffle_i64x2(u01, u23, 0x88), _mm512_shuffle_i64x2(u01, u23, 0xDD));
}

// One token, fused: decode each group in registers and dot it at once (no tile
// round trip), with the tile kernel's float operations, so results are equal.
template <GgmlType W>
T512_INLINE void gen_tile(const Rows& rs, int64_t n_in, const uint8_t* act, float* y, int nr, WeightPrefetch pf) {
  constexpr int bs = affine_block_size_v<W>;
  constexpr int Q = tile::quads(bs);
  constexpr size_t agb = tile::act_group_bytes(bs);
  const int64_t G = affine_groups(W, n_in);
  const int64_t g_full = n_in / (int64_t{kGroupBlocks} * bs);
  __m512 acc = _mm512_setzero_ps();
  pf.spread_over(g_full);
  for (int64_t g = 0; g < g_full; ++g) {
    pf.next();
    const uint8_t* ag = act + g * agb;
    __m512i lo[4], hi[4], s[4], isum;
    if constexpr (QuadForm<W>::kDirect) {
      // Weights in quad form meet the activations as stored.
      QuadForm<W>::run(rs, g, lo, hi);
      const __m512i a_lo = _mm512_loadu_si512(ag);
#pragma GCC unroll 4
      for (int r = 0; r < 4; ++r) s[r] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), lo[r], a_lo);
      if constexpr (Q == 8) {
        const __m512i a_hi = _mm512_loadu_si512(ag + 64);
#pragma GCC unroll 4
        for (int r = 0; r < 4; ++r) s[r] = _mm512_dpbusd_epi32(s[r], hi[r], a_hi);
      }
      isum = sum_quad_lanes(s);
    } else {
      Codes<W>::run4(rs, g, lo, hi);
      // Activations back from (quad, block) to lane form (block, quad).
      const __m512i a_lo = lanes_to_quads(_mm512_loadu_si512(ag));
#pragma GCC unroll 4
      for (int r = 0; r < 4; ++r) s[r] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), lo[r], a_lo);
      if constexpr (Q == 8) {
        const __m512i a_hi = lanes_to_quads(_mm512_loadu_si512(ag + 64));
#pragma GCC unroll 4
        for (int r = 0; r < 4; ++r) s[r] = _mm512_dpbusd_epi32(s[r], hi[r], a_hi);
      }
      isum = sum_quads(s);
    }
    __m512 d, m;
    Scales<W>::run(rs, g, d, m);
    acc = group_epilogue<kOffsetShift<W>>(acc, isum, d, m, ag + Q * 16);
  }
  if (g_full < G) {
    alignas(64) uint8_t wg[tile::weight_group_bytes(bs)];
    pack_partial_group<W>(rs, n_in, g_full, wg);
    tile_group<Q, kOffsetShift<W>, 1>(&acc, wg, act + g_full * agb, 0);
  }
  store_rows(acc, y, nr);
}

// A small batch's activations with every broadcast done once per matmul call
// instead of once per 4 weight rows: per token and group (the first n_groups),
// the 16 bytes of each quad repeated to 64 (the register the tile kernel builds
// with a 128-bit broadcast), then the block scales d and dS likewise. A broadcast from memory
// costs a shuffle-unit operation besides its load (0.37 cycle measured per
// VNNI pair), while a VNNI instruction takes a full 64-byte operand from memory
// at full rate.
constexpr size_t expanded_group_bytes(int bs) { return (static_cast<size_t>(tile::quads(bs)) + 3) * 64; }

template <int bs>
T512 void expand_acts(const Activations& a, int64_t n_groups, uint8_t* out, size_t ostride) {
  constexpr int Q = tile::quads(bs);
  constexpr size_t agb = tile::act_group_bytes(bs);
  for (int64_t t = 0; t < a.n_tokens; ++t)
    for (int64_t g = 0; g < n_groups; ++g) {
      const uint8_t* ag = a.token(t) + g * agb;
      uint8_t* o = out + t * ostride + g * expanded_group_bytes(bs);
#pragma GCC unroll 8
      for (int i = 0; i < Q + 3; ++i)
        _mm512_store_si512(o + i * 64,
                           _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(ag + i * 16))));
    }
}

// A few tokens (2..kMaxTokens), fused: each group of the 4 rows is decoded once
// into the tile's quad registers (unpack_group without its stores) and dotted
// with every token at once, from the expanded activations (xact, one token per
// xstride bytes). Small batches (speculative verification) then stream the
// weights with the one-token kernel's prefetching and skip the tile's store and
// reload. Per token the float operations are tile_group's (integer sums are
// exact, so their grouping does not matter), so results equal the other
// kernels' bit for bit.
template <GgmlType W, int T>
T512_INLINE void gen_tile_tokens(const Rows& rs, int64_t n_in, const uint8_t* act, size_t astride, const uint8_t* xact,
                          size_t xstride, float* y, int64_t ldy, int nr, WeightPrefetch pf) {
  constexpr int bs = affine_block_size_v<W>;
  constexpr int Q = tile::quads(bs);
  constexpr size_t agb = tile::act_group_bytes(bs);
  const int64_t G = affine_groups(W, n_in);
  const int64_t g_full = n_in / (int64_t{kGroupBlocks} * bs);
  __m512 acc[T];
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  pf.spread_over(g_full);
  for (int64_t g = 0; g < g_full; ++g) {
    pf.next();
    __m512i wq[Q];
    tile_quads<W>(rs, g, wq);
    __m512 d, m;
    Scales<W>::run(rs, g, d, m);
    const uint8_t* xg = xact + g * expanded_group_bytes(bs);
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const uint8_t* xt = xg + t * xstride;
      __m512i s = _mm512_setzero_si512();
#pragma GCC unroll 8
      for (int i = 0; i < Q; ++i) s = _mm512_dpbusd_epi32(s, wq[i], _mm512_load_si512(xt + i * 64));
      const __m512 da = _mm512_load_ps(reinterpret_cast<const float*>(xt + Q * 64));
      if constexpr (kOffsetShift<W> >= 0)
        acc[t] = offset_epilogue<kOffsetShift<W>>(acc[t], s, _mm512_load_si512(xt + Q * 64 + 128), d, da);
      else
        acc[t] = group_epilogue(acc[t], s, d, m, da, _mm512_load_ps(reinterpret_cast<const float*>(xt + Q * 64 + 64)));
    }
  }
  if (g_full < G) {
    alignas(64) uint8_t wg[tile::weight_group_bytes(bs)];
    pack_partial_group<W>(rs, n_in, g_full, wg);
    tile_group<Q, kOffsetShift<W>, T>(acc, wg, act + g_full * agb, astride);
  }
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) store_rows(acc[t], y + t * ldy, nr);
}

// Batches of up to kMaxTokens take the fused kernels. Larger ones take the wide-tile
// path: fused runs of 8 would decode each group once per run, which measured
// slower than one tile decode shared by all tokens.
template <GgmlType W>
T512_INLINE void gen_tile_run(const Rows& rs, int64_t n_in, const uint8_t* act, size_t astride, const uint8_t* xact,
                       size_t xstride, float* y, int64_t ldy, int nr, int64_t n, WeightPrefetch pf) {
  switch (n) {
    case 1: gen_tile<W>(rs, n_in, act, y, nr, pf); break;
    case 2: gen_tile_tokens<W, 2>(rs, n_in, act, astride, xact, xstride, y, ldy, nr, pf); break;
    case 3: gen_tile_tokens<W, 3>(rs, n_in, act, astride, xact, xstride, y, ldy, nr, pf); break;
    case 4: gen_tile_tokens<W, 4>(rs, n_in, act, astride, xact, xstride, y, ldy, nr, pf); break;
    case 5: gen_tile_tokens<W, 5>(rs, n_in, act, astride, xact, xstride, y, ldy, nr, pf); break;
    case 6: gen_tile_tokens<W, 6>(rs, n_in, act, astride, xact, xstride, y, ldy, nr, pf); break;
    case 7: gen_tile_tokens<W, 7>(rs, n_in, act, astride, xact, xstride, y, ldy, nr, pf); break;
    default: gen_tile_tokens<W, kMaxTokens>(rs, n_in, act, astride, xact, xstride, y, ldy, nr, pf); break;
  }
}

// Scratch for one tile or a call's expanded activations: on the stack up to
// kStackTile bytes, else on the heap. A local of the function that uses it.
constexpr size_t kStackTile = 48 * 1024;
class Scratch {
 public:
  explicit Scratch(size_t bytes) {
    if (bytes > kStackTile) {
      heap_.reset(new Activations::Line[(bytes + 63) / 64]);
      p_ = heap_[0].b;
    }
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  uint8_t* data() { return p_; }

 private:
  alignas(64) uint8_t stack_[kStackTile];
  std::unique_ptr<Activations::Line[]> heap_;
  uint8_t* p_ = stack_;
};
constexpr int kPrefetchTiles = 2;
// Long rows are plain streams the hardware prefetcher follows; only their
// starts need a push.
constexpr size_t kPrefetchRowBytes = 2048;

// Touches the bytes of rows [r, r + 4) so the next tiles stream in while this
// one computes (the hardware prefetcher loses track of 4 interleaved rows).
T512_INLINE void prefetch_rows(const WeightView& w, int64_t r, int64_t r1, size_t bytes) {
  for (int64_t i = r; i < std::min(r + 4, r1); ++i)
    for (size_t off = 0; off < std::min(bytes, kPrefetchRowBytes); off += 64)
      _mm_prefetch(reinterpret_cast<const char*>(w.row(i) + off), _MM_HINT_T1);
}

// Rows [r0, r1) against 1..kMaxTokens tokens, streaming the weights once
// (xact: the expanded activations when there are several tokens).
template <GgmlType W>
T512 void gen_row_range(const WeightView& w, const Activations& a, const uint8_t* xact, size_t xstride, float* y,
                        int64_t ldy, int64_t r0, int64_t r1) {
  const size_t rb = row_bytes(W, w.n_in);
  const int64_t ahead = WeightPrefetch::rows_ahead(rb, tile::kRows);
  for (int64_t rt = r0; rt < r1; rt += tile::kRows) {
    WeightPrefetch pf;
    if (w.row_stride == rb) {
      pf = WeightPrefetch::rows(w, rt + ahead, std::min(rt + ahead + tile::kRows, r1));
    } else {
      prefetch_rows(w, rt + kPrefetchTiles * tile::kRows, r1, rb);
    }
    gen_tile_run<W>(tile_rows(w, rt, r1), w.n_in, a.token(0), a.token_bytes, xact, xstride, y + rt, ldy,
                    static_cast<int>(std::min<int64_t>(tile::kRows, r1 - rt)), a.n_tokens, pf);
  }
}

// 2..kMaxTokens tokens: expands the activations once, then streams the rows.
// Kept out of line so that the one-token path's frame does not carry the buffer
// (inlined, one-token generation of house-large measured 10% slower).
template <GgmlType W>
T512 __attribute__((noinline)) void gen_small_batch(const WeightView& w, const Activations& a, float* y, int64_t ldy,
                                                    int64_t r0, int64_t r1) {
  constexpr int bs = affine_block_size_v<W>;
  const int64_t g_full = w.n_in / (int64_t{kGroupBlocks} * bs);
  const size_t xstride = static_cast<size_t>(g_full) * expanded_group_bytes(bs);
  Scratch x(xstride * static_cast<size_t>(a.n_tokens));
  uint8_t* xact = x.data();
  expand_acts<bs>(a, g_full, xact, xstride);
  gen_row_range<W>(w, a, xact, xstride, y, ldy, r0, r1);
}

// ---------------------------------------------------------------------------
// Wide tiles (tile.h): 16 rows, lane R = row R, so the activations' dword of
// (quad i, block b) is a plain 32-bit broadcast, which VNNI takes from memory
// at full rate; the 4-row tile needs a 128-bit broadcast per dot instead, a
// shuffle measured at +37% per VNNI. Every batch size against packed weights,
// and batches over kMaxTokens against GGUF rows, run here.

// Four 4-row tiles (tile j at tiles4 + j * G * wgb) into one wide tile of form
// F (tile.h): per group, each of the Q + 2 vectors (quads, then d and m; lanes
// (r, b); m left out without F.with_min) of the four tiles goes through a dword
// transpose (lane form (b, r)) and a 128-bit transpose across the tiles, giving
// block b's vector with lane 4j + r; narrower codes (F.code_bits) are then
// packed as tile.h describes.
// Vector v of a group (src) of the four 4-row tiles (tb bytes apart), as the
// four blocks' vectors with lane R = row R.
T512_INLINE void wide_by_block(const uint8_t* src, size_t tb, int v, __m512i* byb) {
  transpose_4x128(lanes_to_quads(_mm512_load_si512(src + v * 64)), lanes_to_quads(_mm512_load_si512(src + tb + v * 64)),
                  lanes_to_quads(_mm512_load_si512(src + 2 * tb + v * 64)),
                  lanes_to_quads(_mm512_load_si512(src + 3 * tb + v * 64)), byb);
}

template <tile::WideForm F>
T512_INLINE void interleave_wide(const uint8_t* tiles4, int64_t G, uint8_t* out) {
  constexpr int Q = tile::quads(F.bs);
  constexpr size_t wgb = tile::weight_group_bytes(F.bs), wbb = tile::wide_block_bytes(F);
  constexpr size_t codes = tile::wide_codes_bytes(F);
  const size_t tb = static_cast<size_t>(G) * wgb;
  for (int64_t g = 0; g < G; ++g) {
    const uint8_t* src = tiles4 + static_cast<size_t>(g) * wgb;
    uint8_t* dst = out + static_cast<size_t>(g) * tile::wide_group_bytes(F);  // head (scales), then the blocks
    uint8_t* blocks = dst + tile::wide_group_head(F);
    if constexpr (F.code_bits == 8) {
#pragma GCC unroll 8
      for (int i = 0; i < Q; ++i) {
        __m512i byb[4];
        wide_by_block(src, tb, i, byb);
#pragma GCC unroll 4
        for (int b = 0; b < 4; ++b) _mm512_store_si512(blocks + b * wbb + i * 64, byb[b]);
      }
    } else {
      const __m512i m4 = _mm512_set1_epi8(0x0F);
#pragma GCC unroll 4
      for (int i = 0; i < Q / 2; ++i) {  // low 4 bits: quad i + Q / 2 into the high nibbles of quad i
        __m512i lo[4], hi[4];
        wide_by_block(src, tb, i, lo);
        wide_by_block(src, tb, i + Q / 2, hi);
#pragma GCC unroll 4
        for (int b = 0; b < 4; ++b)  // each masked to 4 bits: the shift moves no bit across a byte
          _mm512_store_si512(blocks + b * wbb + i * 64, _mm512_or_si512(_mm512_and_si512(lo[b], m4),
                                                                     _mm512_slli_epi16(_mm512_and_si512(hi[b], m4), 4)));
      }
      if constexpr (F.code_bits > 4) {
        constexpr int extra = F.code_bits - 4, per = 8 / extra;  // bits above 4; quads per byte
        const __m512i mx = _mm512_set1_epi8(static_cast<char>((1 << extra) - 1));
#pragma GCC unroll 2
        for (int j = 0; j < Q / per; ++j) {  // those bits of quads per*j.. at bits extra*q..
          __m512i h[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(),
                          _mm512_setzero_si512()};
#pragma GCC unroll 8
          for (int q = 0; q < per; ++q) {
            __m512i byb[4];
            wide_by_block(src, tb, per * j + q, byb);
#pragma GCC unroll 4
            for (int b = 0; b < 4; ++b)
              h[b] = _mm512_or_si512(h[b],
                                     _mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(byb[b], 4), mx), extra * q));
          }
#pragma GCC unroll 4
          for (int b = 0; b < 4; ++b) _mm512_store_si512(blocks + b * wbb + (Q / 2 + j) * 64, h[b]);
        }
      }
    }
    if constexpr (F.k_scales) continue;  // pack_wide_k_scales writes them
#pragma GCC unroll 2
    for (int v = 0; v < (F.with_min ? 2 : 1); ++v) {
      __m512i byb[4];
      wide_by_block(src, tb, Q + v, byb);
#pragma GCC unroll 4
      for (int b = 0; b < 4; ++b) {
        if constexpr (F.half_scales)  // exact: the legacy types' d and m are fp16 values
          _mm256_store_si256(reinterpret_cast<__m256i*>(dst + (v * 4 + b) * tile::kHalfScaleBytes),
                             _mm512_cvtps_ph(_mm512_castsi512_ps(byb[b]), _MM_FROUND_TO_NEAREST_INT));
        else
          _mm512_store_si512(blocks + b * wbb + codes + v * 64, byb[b]);
      }
    }
  }
}

// The wide forms of W's packed weights (per PackFor), and the plain (8-bit) one
// its scratch tiles take.
template <GgmlType W>
inline constexpr tile::WideForm kStreamForm = tile::wide_form(W, true);
template <GgmlType W>
inline constexpr tile::WideForm kCacheForm = tile::wide_form(W, false);
template <GgmlType W>
inline constexpr tile::WideForm kScratchForm{affine_block_size_v<W>, !tile::offset_only(W), 8, false};

// 16 rows, as four 4-row quarters, into one wide tile of form F through `tiles4`
// (4 * G * wgb bytes of scratch).
template <GgmlType W, tile::WideForm F>
T512_INLINE void pack_wide(const Rows (&quarters)[tile::kWideRows / tile::kRows], int64_t n_in, uint8_t* tiles4,
                           uint8_t* out) {
  constexpr int bs = affine_block_size_v<W>;
  const int64_t G = affine_groups(W, n_in);
  const size_t tb = static_cast<size_t>(G) * tile::weight_group_bytes(bs);
  for (int j = 0; j < tile::kWideRows / tile::kRows; ++j) pack_tile<W>(quarters[j], n_in, tiles4 + j * tb);
  interleave_wide<F>(tiles4, G, out);
}

T512_INLINE __m512i bcast_dword(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

// One wide tile of form F (G groups) against T tokens (T <= 5: 4T float + T
// integer accumulators fit the registers). Per token and block the float
// operations of group_epilogue, into one accumulator per block position b,
// summed at the end as store_rows does: results equal the 4-row kernels' bit for
// bit. One or two tokens split each block's integer sum over two dependency
// chains (exact, so the result is the same), since one chain of Q dots waits on
// latency. Nibble codes come out with an AND (low) and a shift and an AND (high).
// 16 signed bytes (k-scales) as floats.
T512_INLINE __m512 scale_bytes(const uint8_t* p) {
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(p))));
}

// One quad of 16 rows (wq) against T tokens' activation dwords (at a, astride
// apart), into integer chain k % C.
template <int T, int C>
T512_INLINE void wide_dots(__m512i (&s)[T][C], int k, __m512i wq, const uint8_t* a, size_t astride) {
#pragma GCC unroll 5
  for (int t = 0; t < T; ++t) s[t][k % C] = _mm512_dpbusd_epi32(s[t][k % C], wq, bcast_dword(a + t * astride));
}

// NB < 4: only the blocks [B0, B0 + NB) of each group, whose partial sums (NB
// = 1) go to y unreduced, 16 floats per token (see run_wide).
template <tile::WideForm F, int ZS, int T, int B0 = 0, int NB = 4>
T512 void wide_kernel(const uint8_t* wt, int64_t G, const uint8_t* act, size_t astride, float* y, int64_t ldy,
                      int nr, WeightPrefetch& pf) {
  static_assert(NB == 4 || NB == 1);
  constexpr int Q = tile::quads(F.bs);
  constexpr size_t wbb = tile::wide_block_bytes(F), agb = tile::act_group_bytes(F.bs);
  constexpr size_t codes = tile::wide_codes_bytes(F);
  constexpr int C = T <= 2 ? 2 : 1;  // integer chains per token
  static_assert(F.with_min == (ZS < 0));
  static_assert(F.code_bits == 8 || F.code_bits == 4 || (F.code_bits == 5 && Q == 8) || (F.code_bits == 6 && Q == 4));
  __m512 acc[T][NB];
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t)
#pragma GCC unroll 4
    for (int b = 0; b < NB; ++b) acc[t][b] = _mm512_setzero_ps();
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  for (int64_t g = 0; g < G; ++g) {
    pf.next();
    const uint8_t* ag = act + g * agb;
    const uint8_t* wg = wt + g * tile::wide_group_bytes(F);
    const uint8_t* head = wg;  // k-scales or half scales; then the blocks
    wg += tile::wide_group_head(F);
    __m512 dsup = _mm512_setzero_ps(), msup = _mm512_setzero_ps();  // k-scales: the rows' d and dmin
    if constexpr (F.k_scales) {
      dsup = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(head)));
      if constexpr (F.with_min) msup = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(head + 32)));
    }
#pragma GCC unroll 4
    for (int bi = 0; bi < NB; ++bi) {
      const int b = B0 + bi;
      const uint8_t* wb = wg + b * wbb;
      __m512i s[T][C];
#pragma GCC unroll 5
      for (int t = 0; t < T; ++t)
#pragma GCC unroll 2
        for (int c = 0; c < C; ++c) s[t][c] = _mm512_setzero_si512();
      if constexpr (F.code_bits == 4) {
#pragma GCC unroll 4
        for (int i = 0; i < Q / 2; ++i) {
          const __m512i v = _mm512_load_si512(wb + i * 64);
          wide_dots<T, C>(s, 2 * i, _mm512_and_si512(v, m4), ag + i * 16 + b * 4, astride);  // chains as quads 2i, 2i + 1
          wide_dots<T, C>(s, 2 * i + 1, _mm512_and_si512(_mm512_srli_epi16(v, 4), m4), ag + (i + Q / 2) * 16 + b * 4,
                          astride);
        }
      } else if constexpr (F.code_bits == 5) {  // Q = 8: nibbles of quads (i, i + 4), then bit 4 of all eight
        const __m512i h = _mm512_load_si512(wb + 4 * 64), m5 = _mm512_set1_epi8(0x10);
#pragma GCC unroll 4
        for (int i = 0; i < 4; ++i) {
          const __m512i v = _mm512_load_si512(wb + i * 64);
          // Bits i and 4 + i of h to bit 4 (16-bit shifts; bits crossing into the other byte are masked off).
          const __m512i hi_lo = _mm512_slli_epi16(h, 4 - i), hi_hi = _mm512_srli_epi16(h, i);
          wide_dots<T, C>(s, 2 * i, _mm512_ternarylogic_epi32(v, _mm512_and_si512(hi_lo, m5), m4, 0xEC),
                          ag + i * 16 + b * 4, astride);
          wide_dots<T, C>(s, 2 * i + 1,
                          _mm512_ternarylogic_epi32(_mm512_srli_epi16(v, 4), _mm512_and_si512(hi_hi, m5), m4, 0xEC),
                          ag + (i + 4) * 16 + b * 4, astride);
        }
      } else if constexpr (F.code_bits == 6) {  // Q = 4: nibbles of quads (0, 2) and (1, 3), then bits 4-5 of all four
        const __m512i v0 = _mm512_load_si512(wb), v1 = _mm512_load_si512(wb + 64), h = _mm512_load_si512(wb + 128);
        const __m512i m45 = _mm512_set1_epi8(0x30);
        // (a & 0x0F) | (b & 0x30), b's other bits dropped: one ternary-logic operation after the mask.
        const __m512i q0 = _mm512_ternarylogic_epi32(v0, _mm512_and_si512(_mm512_slli_epi16(h, 4), m45), m4, 0xEC);
        const __m512i q1 = _mm512_ternarylogic_epi32(v1, _mm512_and_si512(_mm512_slli_epi16(h, 2), m45), m4, 0xEC);
        const __m512i q2 = _mm512_ternarylogic_epi32(_mm512_srli_epi16(v0, 4), _mm512_and_si512(h, m45), m4, 0xEC);
        const __m512i q3 =
            _mm512_ternarylogic_epi32(_mm512_srli_epi16(v1, 4), _mm512_and_si512(_mm512_srli_epi16(h, 2), m45), m4, 0xEC);
        wide_dots<T, C>(s, 0, q0, ag + b * 4, astride);
        wide_dots<T, C>(s, 1, q1, ag + 16 + b * 4, astride);
        wide_dots<T, C>(s, 2, q2, ag + 32 + b * 4, astride);
        wide_dots<T, C>(s, 3, q3, ag + 48 + b * 4, astride);
      } else {
#pragma GCC unroll 8
        for (int i = 0; i < Q; ++i) wide_dots<T, C>(s, i, _mm512_load_si512(wb + i * 64), ag + i * 16 + b * 4, astride);
      }
      if constexpr (C == 2) {
#pragma GCC unroll 2
        for (int t = 0; t < T; ++t) s[t][0] = _mm512_add_epi32(s[t][0], s[t][1]);
      }
      __m512 dw, mw;
      if constexpr (F.k_scales) {  // d * sc and -(dmin * mn), as k_quant_scales rounds them
        // Scales are signed (Q6_K) or below 64 (Q4_K): a signed widening fits both.
        const uint8_t* sc = head + 64 + b * tile::wide_scale_stride(F);
        dw = _mm512_mul_ps(dsup, scale_bytes(sc));
        mw = F.with_min ? _mm512_xor_ps(_mm512_mul_ps(msup, scale_bytes(sc + 16)), _mm512_set1_ps(-0.0f))
                        : _mm512_setzero_ps();
      } else if constexpr (F.half_scales) {
        const __m256i* h = reinterpret_cast<const __m256i*>(head + b * tile::kHalfScaleBytes);
        dw = _mm512_cvtph_ps(_mm256_load_si256(h));
        mw = F.with_min ? _mm512_cvtph_ps(_mm256_load_si256(h + 4)) : _mm512_setzero_ps();  // 4 x 32 bytes on
      } else {
        dw = _mm512_load_ps(reinterpret_cast<const float*>(wb + codes));
        mw = F.with_min ? _mm512_load_ps(reinterpret_cast<const float*>(wb + codes + 64)) : _mm512_setzero_ps();
      }
      if constexpr (ZS >= 0) {
#pragma GCC unroll 5
        for (int t = 0; t < T; ++t) {
          const uint8_t* as = ag + t * astride + Q * 16;
          acc[t][bi] = offset_epilogue<ZS>(acc[t][bi], s[t][0], bcast_dword(as + 32 + b * 4), dw,
                                          _mm512_set1_ps(reinterpret_cast<const float*>(as)[b]));
        }
      } else {
#pragma GCC unroll 5
        for (int t = 0; t < T; ++t) {
          const float* af = reinterpret_cast<const float*>(ag + t * astride + Q * 16);
          acc[t][bi] = group_epilogue(acc[t][bi], s[t][0], dw, mw, _mm512_set1_ps(af[b]), _mm512_set1_ps(af[4 + b]));
        }
      }
    }
  }
  if constexpr (NB == 1) {
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) _mm512_store_ps(y + t * tile::kWideRows, acc[t][0]);
  } else {
    const __mmask16 keep = static_cast<__mmask16>((1u << nr) - 1);
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t)
      _mm512_mask_storeu_ps(y + t * ldy, keep,
                            _mm512_add_ps(_mm512_add_ps(acc[t][0], acc[t][1]), _mm512_add_ps(acc[t][2], acc[t][3])));
  }
}

// T tokens against a hot tile one block position at a time: four passes of T
// accumulators instead of one of 4T (which spill from T = 5 on), and the
// partial sums added in wide_kernel's order, so the bits are the same.
template <tile::WideForm F, int ZS, int T>
T512 void wide_kernel_by_block(const uint8_t* wt, int64_t G, const uint8_t* act, size_t astride, float* y,
                               int64_t ldy, int nr, WeightPrefetch& pf) {
  alignas(64) float part[4][T][tile::kWideRows];
  wide_kernel<F, ZS, T, 0, 1>(wt, G, act, astride, part[0][0], 0, nr, pf);
  wide_kernel<F, ZS, T, 1, 1>(wt, G, act, astride, part[1][0], 0, nr, pf);
  wide_kernel<F, ZS, T, 2, 1>(wt, G, act, astride, part[2][0], 0, nr, pf);
  wide_kernel<F, ZS, T, 3, 1>(wt, G, act, astride, part[3][0], 0, nr, pf);
  const __mmask16 keep = static_cast<__mmask16>((1u << nr) - 1);
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t)
    _mm512_mask_storeu_ps(y + t * ldy, keep,
                          _mm512_add_ps(_mm512_add_ps(_mm512_load_ps(part[0][t]), _mm512_load_ps(part[1][t])),
                                        _mm512_add_ps(_mm512_load_ps(part[2][t]), _mm512_load_ps(part[3][t]))));
}

// Every token against one wide tile (which stays in L1): runs of 4 while more
// than 5 remain, then the rest in one call. pf: bytes to pull in over the first
// run's groups. hot: the tile is read from cache (a cache-resident model), where
// five tokens go block by block. One thread, a 512 x 1024 Q8_0 matrix from L2
// (cycles per 512 weights per token): 5 tokens 11.6-14.0 -> 10.7-10.9, against
// 10.7 for runs of 4 and 18-19 for one token. A 5-token batch, 2 threads
// (`Sequence::eval`, min of 5 alternating runs): the 1.6M draft shape 52.4 ->
// 46.9 us, house-small 66.0 -> 60.5; house-large and the 12.6M shape, whose
// tiles come from L3, unchanged (290 and 293 us). 6 to 8 tokens by block (for
// runs of 8) spilled and ran at 28-34 cycles.
template <tile::WideForm F, int ZS>
T512 void run_wide(const uint8_t* wt, int64_t G, const Activations& a, float* y, int64_t ldy, int nr,
                   WeightPrefetch pf = {}, bool hot = false) {
  int64_t t = 0;
  for (; a.n_tokens - t > 5; t += 4)
    wide_kernel<F, ZS, 4>(wt, G, a.token(t), a.token_bytes, y + t * ldy, ldy, nr, pf);
  const uint8_t* at = a.token(t);
  float* yt = y + t * ldy;
  switch (a.n_tokens - t) {
    case 1: wide_kernel<F, ZS, 1>(wt, G, at, a.token_bytes, yt, ldy, nr, pf); break;
    case 2: wide_kernel<F, ZS, 2>(wt, G, at, a.token_bytes, yt, ldy, nr, pf); break;
    case 3: wide_kernel<F, ZS, 3>(wt, G, at, a.token_bytes, yt, ldy, nr, pf); break;
    case 4: wide_kernel<F, ZS, 4>(wt, G, at, a.token_bytes, yt, ldy, nr, pf); break;
    case 5:
      // 20 float accumulators spill; a hot tile (in cache) can afford four passes instead.
      if (hot)
        wide_kernel_by_block<F, ZS, 5>(wt, G, at, a.token_bytes, yt, ldy, nr, pf);
      else
        wide_kernel<F, ZS, 5>(wt, G, at, a.token_bytes, yt, ldy, nr, pf);
      break;
    default: break;
  }
}

// Rows [r0, r1) of w's packed wide tiles of form F (r0 a multiple of 16), every token.
template <GgmlType W, tile::WideForm F>
T512 void run_packed(const WeightView& w, const Activations& a, float* y, int64_t ldy, int64_t r0, int64_t r1) {
  const int64_t G = affine_groups(W, w.n_in);
  const size_t tile_bytes = static_cast<size_t>(G) * tile::wide_group_bytes(F);
  // A streamed matrix pulls the tile about 16 KiB ahead in over each tile's
  // groups once a batch computes long enough per tile that the hardware
  // prefetcher alone falls behind: from 5 token-weights per tile byte (Q8_0
  // from 6 tokens, Q4_0 and Q4_K from 3, Q5_0 from 4, Q6_K from 5). Sooner it
  // costs more than it brings. 125M, 2 threads, ms per batch (min of 6
  // alternating runs), without -> with it:
  //   Q8_0, 1..5 tokens: 3.1 3.0 3.0 3.4 4.0 -> 3.1 3.7 3.8 3.8 4.0
  //   Q8_0, 6 and 8 tokens: 6.6 7.0 -> 4.5 4.9
  //   Q4_0, 1..4 tokens: 1.2 1.5 1.7 1.9 -> 1.4 1.6 1.6 1.8
  //   Q4_K_M, 1..4 tokens: 1.8 1.9 2.1 2.6 -> 1.7 2.0 2.1 2.1
  // One token keeps the hardware's prefetching alone (with it, Q8_0 tg 380 -> 289 t/s).
  const bool prefetch = w.pack_for == PackFor::kStream &&
                        a.n_tokens * tile::kWideRows * w.n_in >= 5 * static_cast<int64_t>(tile_bytes);
  const int64_t n_tiles = (w.n_out + tile::kWideRows - 1) / tile::kWideRows;
  for (int64_t rt = r0; rt < r1; rt += tile::kWideRows) {
    const int64_t i = rt / tile::kWideRows;
    WeightPrefetch pf;
    if (prefetch) pf = WeightPrefetch::tile_ahead(w.packed, tile_bytes, i, n_tiles, G);
    run_wide<F, kOffsetShift<W>>(w.packed + static_cast<size_t>(i) * tile_bytes, G, a, y + rt, ldy,
                                 static_cast<int>(std::min<int64_t>(tile::kWideRows, r1 - rt)), pf,
                                 w.pack_for == PackFor::kCache);
  }
}

template <GgmlType W>
T512 void matmul_q(const WeightView& w, const Activations& a, float* y, int64_t ldy, int64_t r0, int64_t r1) {
  const int64_t G = affine_groups(W, w.n_in);
  if (w.packed && r0 % tile::kWideRows == 0) {
    // Decoded once at load: every batch size runs the wide kernel.
    if (w.pack_for == PackFor::kStream && kStreamForm<W> != kCacheForm<W>)
      run_packed<W, kStreamForm<W>>(w, a, y, ldy, r0, r1);
    else
      run_packed<W, kCacheForm<W>>(w, a, y, ldy, r0, r1);
    return;
  }
  if (a.n_tokens == 1) {
    gen_row_range<W>(w, a, nullptr, 0, y, ldy, r0, r1);
    return;
  }
  if (a.n_tokens <= kMaxTokens) {
    gen_small_batch<W>(w, a, y, ldy, r0, r1);
    return;
  }
  // Many tokens: each wide tile decoded once (in the plain form, which the
  // kernel reads without unpacking nibbles) and shared by all of them.
  const size_t wide_bytes = static_cast<size_t>(G) * kGroupBlocks * tile::wide_block_bytes(kScratchForm<W>);
  const size_t tiles4_bytes = tile::kWideRows / tile::kRows * tile::packed_tile_bytes(W, w.n_in);
  const size_t rb = row_bytes(W, w.n_in);
  Scratch scratch(tiles4_bytes + wide_bytes);
  uint8_t* tiles4 = scratch.data();
  uint8_t* wide = tiles4 + tiles4_bytes;
  for (int64_t rt = r0; rt < r1; rt += tile::kWideRows) {
    for (int64_t p = rt + tile::kWideRows; p < rt + 2 * tile::kWideRows; p += tile::kRows) prefetch_rows(w, p, r1, rb);
    Rows quarters[tile::kWideRows / tile::kRows];  // past r1: its last row repeated
    for (int j = 0; j < tile::kWideRows / tile::kRows; ++j)
      quarters[j] = tile_rows(w, std::min(rt + j * tile::kRows, r1 - 1), r1);
    pack_wide<W, kScratchForm<W>>(quarters, w.n_in, tiles4, wide);
    run_wide<kScratchForm<W>, kOffsetShift<W>>(wide, G, a, y + rt, ldy,
                                               static_cast<int>(std::min<int64_t>(tile::kWideRows, r1 - rt)), {},
                                               true);  // the scratch tile is in L1
  }
}

// 16 rows into one wide tile (Kernels::pack_tile of this path).
template <GgmlType W, tile::WideForm F>
T512 void pack_wide_rows(const uint8_t* const* rows, int64_t n_in, uint8_t* out) {
  Rows quarters[tile::kWideRows / tile::kRows];
  for (int j = 0; j < tile::kWideRows / tile::kRows; ++j)
    for (int r = 0; r < tile::kRows; ++r) quarters[j].p[r] = rows[j * tile::kRows + r];
  Scratch scratch(tile::kWideRows / tile::kRows * tile::packed_tile_bytes(W, n_in));
  pack_wide<W, F>(quarters, n_in, scratch.data(), out);
  if constexpr (F.k_scales) tile::pack_wide_k_scales(W, F, rows, n_in, out);
}

void pack_wide_any(GgmlType t, const uint8_t* const* rows, int64_t n_in, PackFor pf, uint8_t* out) {
  with_quant_type(t, [&]<GgmlType W>() {
    if (pf == PackFor::kStream)
      pack_wide_rows<W, kStreamForm<W>>(rows, n_in, out);
    else
      pack_wide_rows<W, kCacheForm<W>>(rows, n_in, out);
  });
}

// ---------------------------------------------------------------------------
// Activations: quantize_row_q8a's arithmetic (amax / 127, 1 / d, x * id rounded
// to nearest even by cvtps2dq) written straight into the tile's group layout.

T512_INLINE __m512i join_4x128(__m128i a, __m128i b, __m128i c, __m128i d) {
  __m512i v = _mm512_castsi128_si512(a);
  v = _mm512_inserti32x4(v, b, 1);
  v = _mm512_inserti32x4(v, c, 2);
  return _mm512_inserti32x4(v, d, 3);
}

// Four consecutive blocks of 32 (nb of them present, the rest zero), each
// quantity of block k in the k-th 128-bit lane: the blocks' quantized halves
// (lo: elements 0-15, hi: 16-31, int8), d, and the halves' integer sums (in
// all four dwords of the lane).
struct Blocks4 {
  __m512i lo, hi;
  __m512 d;
  __m512i s_lo, s_hi;
};

// Per 128-bit lane k: the maximum of v[k]'s 16 lanes, in all four of its lanes.
T512_INLINE __m512 lane_max4(const __m512 (&v)[4]) {
  const __m512 x01 = _mm512_max_ps(_mm512_shuffle_f32x4(v[0], v[1], 0x44), _mm512_shuffle_f32x4(v[0], v[1], 0xEE));
  const __m512 x23 = _mm512_max_ps(_mm512_shuffle_f32x4(v[2], v[3], 0x44), _mm512_shuffle_f32x4(v[2], v[3], 0xEE));
  __m512 y = _mm512_max_ps(_mm512_shuffle_f32x4(x01, x23, 0x88), _mm512_shuffle_f32x4(x01, x23, 0xDD));
  y = _mm512_max_ps(y, _mm512_permute_ps(y, 0xB1));
  return _mm512_max_ps(y, _mm512_permute_ps(y, 0x4E));
}

// Sums of each 128-bit lane's 16 signed bytes, in all four of its dwords.
T512_INLINE __m512i lane_byte_sums(__m512i q) {
  __m512i s = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_set1_epi8(1), q);
  s = _mm512_add_epi32(s, _mm512_shuffle_epi32(s, _MM_PERM_CDAB));
  return _mm512_add_epi32(s, _mm512_shuffle_epi32(s, _MM_PERM_BADC));
}

// quantize_row_q8a's arithmetic for four blocks at once: the maxima, d and
// 1 / d as vectors (the same IEEE operations as one block at a time).
T512_INLINE Blocks4 quantize_blocks4(const float* x, int nb) {
  __m512 v[8], m[4];
#pragma GCC unroll 4
  for (int k = 0; k < 4; ++k) {
    v[2 * k] = k < nb ? _mm512_loadu_ps(x + 32 * k) : _mm512_setzero_ps();
    v[2 * k + 1] = k < nb ? _mm512_loadu_ps(x + 32 * k + 16) : _mm512_setzero_ps();
    m[k] = _mm512_max_ps(_mm512_abs_ps(v[2 * k]), _mm512_abs_ps(v[2 * k + 1]));
  }
  Blocks4 b;
  b.d = _mm512_div_ps(lane_max4(m), _mm512_set1_ps(127.0f));
  const __m512 id =
      _mm512_maskz_div_ps(_mm512_cmp_ps_mask(b.d, _mm512_setzero_ps(), _CMP_NEQ_UQ), _mm512_set1_ps(1.0f), b.d);
  const __m512 ids[4] = {_mm512_shuffle_f32x4(id, id, 0x00), _mm512_shuffle_f32x4(id, id, 0x55),
                         _mm512_shuffle_f32x4(id, id, 0xAA), _mm512_shuffle_f32x4(id, id, 0xFF)};
  __m128i lo[4], hi[4];
#pragma GCC unroll 4
  for (int k = 0; k < 4; ++k) {
    lo[k] = _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(v[2 * k], ids[k])));
    hi[k] = _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(v[2 * k + 1], ids[k])));
  }
  b.lo = join_4x128(lo[0], lo[1], lo[2], lo[3]);
  b.hi = join_4x128(hi[0], hi[1], hi[2], hi[3]);
  b.s_lo = lane_byte_sums(b.lo);
  b.s_hi = lane_byte_sums(b.hi);
  return b;
}

// Lanes idx[0..3] of v to 16 bytes at p (a store of vpcompress is microcoded
// and slow on some cores).
T512_INLINE void store_4_lanes(uint8_t* p, __m512i v, __m512i idx) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm512_castsi512_si128(_mm512_permutexvar_epi32(idx, v)));
}

T512_INLINE void quantize_token(const float* x, int64_t n, int bs, uint8_t* out) {
  // Blocks of 32 are whole (check_row_shape); four at a time.
  for (int64_t start = 0; start < n; start += 4 * kQK) {
    const Blocks4 b = quantize_blocks4(x + start, static_cast<int>(std::min<int64_t>(4, (n - start) / kQK)));
    if (bs == kQK) {  // one group: quads, d[4], d * S[4], S[4]
      _mm512_storeu_si512(out, lanes_to_quads(b.lo));
      _mm512_storeu_si512(out + 64, lanes_to_quads(b.hi));
      const __m512i sums = _mm512_add_epi32(b.s_lo, b.s_hi);
      const __m512 ds = _mm512_mul_ps(b.d, _mm512_cvtepi32_ps(sums));
      const __m512i firsts = _mm512_setr_epi32(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);  // one per block
      store_4_lanes(out + 128, _mm512_castps_si512(b.d), firsts);
      store_4_lanes(out + 144, _mm512_castps_si512(ds), firsts);
      store_4_lanes(out + 160, sums, firsts);
      out += tile::act_group_bytes(kQK);
    } else {  // bs 16: two groups (blocks 0-1, 2-3), each block's halves its sub-blocks
      // Per group: the quads of lo0, hi0, lo1, hi1; d0, d0, d1, d1; their d * S; S.
      const __m512i q01 = _mm512_shuffle_i64x2(b.lo, b.hi, 0x44), q23 = _mm512_shuffle_i64x2(b.lo, b.hi, 0xEE);
      const __m512i sums = _mm512_permutex2var_epi32(
          b.s_lo, _mm512_setr_epi32(0, 16, 4, 20, 8, 24, 12, 28, 0, 0, 0, 0, 0, 0, 0, 0), b.s_hi);
      const __m512 d = _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 4, 4, 8, 8, 12, 12, 0, 0, 0, 0, 0, 0, 0, 0), b.d);
      const __m512 ds = _mm512_mul_ps(d, _mm512_cvtepi32_ps(sums));
      const int groups = static_cast<int>(std::min<int64_t>(2, (n - start + 2 * kQK - 1) / (2 * kQK)));
      for (int g = 0; g < groups; ++g) {
        const __m512i q = g == 0 ? q01 : q23;
        const __m512i four = _mm512_add_epi32(_mm512_set1_epi32(4 * g), _mm512_setr_epi32(0, 1, 2, 3, 0, 0, 0, 0, 0, 0,
                                                                                          0, 0, 0, 0, 0, 0));
        _mm512_storeu_si512(out, lanes_to_quads(_mm512_shuffle_i64x2(q, q, 0xD8)));
        store_4_lanes(out + 64, _mm512_castps_si512(d), four);
        store_4_lanes(out + 80, _mm512_castps_si512(ds), four);
        store_4_lanes(out + 96, sums, four);
        out += tile::act_group_bytes(16);
      }
    }
  }
}

T512 void quantize_acts(const float* x, int64_t n_tokens, int64_t n_in, int64_t ldx, int bs, uint8_t* out,
                        size_t token_bytes) {
  for (int64_t t = 0; t < n_tokens; ++t) quantize_token(x + t * ldx, n_in, bs, out + t * token_bytes);
}

}  // namespace

PackTileFn avx512_pack_tile() { return pack_wide_any; }

Kernels make_avx512_kernels() {
  Kernels k;
  k.pack_tile = pack_wide_any;
  k.pack_rows = tile::kWideRows;
  k.tile_bytes = [](GgmlType t, int64_t n_in, PackFor pf) {
    return tile::wide_tile_bytes(t, n_in, pf == PackFor::kStream);
  };
  k.isa = Isa::Avx512;
  k.quantize_acts = quantize_acts;
  k.act_token_bytes = tile::act_row_bytes;
  k.matmul_q8_0_q8a = matmul_q<GgmlType::Q8_0>;
  k.matmul_q4_0_q8a = matmul_q<GgmlType::Q4_0>;
  k.matmul_q4_1_q8a = matmul_q<GgmlType::Q4_1>;
  k.matmul_q5_0_q8a = matmul_q<GgmlType::Q5_0>;
  k.matmul_q5_1_q8a = matmul_q<GgmlType::Q5_1>;
  k.matmul_q4_k_q8a = matmul_q<GgmlType::Q4_K>;
  k.matmul_q5_k_q8a = matmul_q<GgmlType::Q5_K>;
  k.matmul_q6_k_q8a = matmul_q<GgmlType::Q6_K>;
  set_avx512_float_matmuls(k);
  set_avx512_float_kernels(k);
  return k;
}

}  // namespace tandem

#endif  // TANDEM_X86

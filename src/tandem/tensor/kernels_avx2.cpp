// AVX2 path (AVX2 + FMA + F16C), for CPUs without AVX-512 VNNI. Same tile layout
// and loop structure as the AVX-512 path (tile.h): a 512-bit tile row is two
// 256-bit halves (rows 0-1, rows 2-3). The u8 x s8 dot is vpmaddubsw + vpmaddwd;
// vpmaddubsw saturates at 16 bits, so Q8_0 keeps signed codes (m = 0) and uses
// the sign trick |w| x sign(a, w), and the other types (codes <= 63) add two
// quads in 16 bits before widening. Every function carries TANDEM_TARGET_AVX2.
#include "tandem/tensor/kernels_impl.h"
#include "tandem/tensor/prefetch.h"

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
#include "tandem/tensor/tile.h"

namespace tandem {
namespace {

constexpr int kMaxTokens = 4;

uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

T256_INLINE float half_to_float(const uint8_t* p) { return _cvtsh_ss(load_u16(p)); }
T256_INLINE __m128i load128(const uint8_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }

// Byte j of the result is 16 when bit j of `bits` (16 bits) is set.
T256_INLINE __m128i bits_to_sixteens(uint32_t bits) {
  const __m128i v = _mm_shuffle_epi8(_mm_cvtsi32_si128(static_cast<int>(bits)),
                                     _mm_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1));
  const __m128i sel = _mm_setr_epi8(1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128);
  return _mm_and_si128(_mm_cmpeq_epi8(_mm_and_si128(v, sel), sel), _mm_set1_epi8(16));
}

// Byte j is 16 when byte j of v has any bit of `sel` set.
T256_INLINE __m128i test_to_sixteens(__m128i v, __m128i sel) {
  return _mm_and_si128(_mm_cmpeq_epi8(_mm_and_si128(v, sel), sel), _mm_set1_epi8(16));
}

// ---------------------------------------------------------------------------
// Decoders into lane form, one 128-bit register per block: lo[b] = elements
// 0..15 of block b (quads 0..3), hi[b] = elements 16..31; Q6_K fills lo only.

template <GgmlType W>
struct Decoder;

template <>
struct Decoder<GgmlType::Q8_0> {  // signed codes, m = 0 (see the file comment)
  T256_INLINE static void run(const uint8_t* row, int64_t g, __m128i* lo, __m128i* hi, float* d, float* m) {
    constexpr int S = sizeof(BlockQ8_0);
    const uint8_t* p = row + g * 4 * S;
    for (int b = 0; b < 4; ++b) {
      lo[b] = load128(p + b * S + 2);
      hi[b] = load128(p + b * S + 18);
      d[b] = half_to_float(p + b * S);
      m[b] = 0.0f;
    }
  }
};

template <int S, int QS>
T256_INLINE void legacy_nibbles(const uint8_t* p, __m128i* lo, __m128i* hi) {
  const __m128i m4 = _mm_set1_epi8(0x0F);
  for (int b = 0; b < 4; ++b) {
    const __m128i v = load128(p + b * S + QS);
    lo[b] = _mm_and_si128(v, m4);
    hi[b] = _mm_and_si128(_mm_srli_epi16(v, 4), m4);
  }
}

template <int S, int QH>
T256_INLINE void legacy_fifth_bits(const uint8_t* p, __m128i* lo, __m128i* hi) {
  for (int b = 0; b < 4; ++b) {
    const uint32_t qh = load_u32(p + b * S + QH);
    lo[b] = _mm_or_si128(lo[b], bits_to_sixteens(qh & 0xFFFF));
    hi[b] = _mm_or_si128(hi[b], bits_to_sixteens(qh >> 16));
  }
}

template <>
struct Decoder<GgmlType::Q4_0> {
  T256_INLINE static void run(const uint8_t* row, int64_t g, __m128i* lo, __m128i* hi, float* d, float* m) {
    constexpr int S = sizeof(BlockQ4_0);
    const uint8_t* p = row + g * 4 * S;
    legacy_nibbles<S, 2>(p, lo, hi);
    for (int b = 0; b < 4; ++b) {
      d[b] = half_to_float(p + b * S);
      m[b] = -8.0f * d[b];
    }
  }
};

template <>
struct Decoder<GgmlType::Q4_1> {
  T256_INLINE static void run(const uint8_t* row, int64_t g, __m128i* lo, __m128i* hi, float* d, float* m) {
    constexpr int S = sizeof(BlockQ4_1);
    const uint8_t* p = row + g * 4 * S;
    legacy_nibbles<S, 4>(p, lo, hi);
    for (int b = 0; b < 4; ++b) {
      d[b] = half_to_float(p + b * S);
      m[b] = half_to_float(p + b * S + 2);
    }
  }
};

template <>
struct Decoder<GgmlType::Q5_0> {
  T256_INLINE static void run(const uint8_t* row, int64_t g, __m128i* lo, __m128i* hi, float* d, float* m) {
    constexpr int S = sizeof(BlockQ5_0);
    const uint8_t* p = row + g * 4 * S;
    legacy_nibbles<S, 6>(p, lo, hi);
    legacy_fifth_bits<S, 2>(p, lo, hi);
    for (int b = 0; b < 4; ++b) {
      d[b] = half_to_float(p + b * S);
      m[b] = -16.0f * d[b];
    }
  }
};

template <>
struct Decoder<GgmlType::Q5_1> {
  T256_INLINE static void run(const uint8_t* row, int64_t g, __m128i* lo, __m128i* hi, float* d, float* m) {
    constexpr int S = sizeof(BlockQ5_1);
    const uint8_t* p = row + g * 4 * S;
    legacy_nibbles<S, 8>(p, lo, hi);
    legacy_fifth_bits<S, 4>(p, lo, hi);
    for (int b = 0; b < 4; ++b) {
      d[b] = half_to_float(p + b * S);
      m[b] = half_to_float(p + b * S + 2);
    }
  }
};

// Q4_K / Q5_K half super-block: qs bytes 0..31 hold sub-blocks 0 (low nibbles)
// and 1 (high), bytes 32..63 sub-blocks 2 and 3; bit j of qh[l] is the fifth
// bit of element l of sub-block j.
template <bool Five>
T256_INLINE void k_quant_decode(const uint8_t* row, int64_t g, __m128i* lo, __m128i* hi, float* d, float* m) {
  constexpr size_t S = Five ? sizeof(BlockQ5_K) : sizeof(BlockQ4_K);
  const uint8_t* p = row + (g / 2) * S;
  const int half = static_cast<int>(g % 2);
  const uint8_t* qs = p + (Five ? 48 : 16) + 64 * half;
  const __m128i m4 = _mm_set1_epi8(0x0F);
  for (int pair = 0; pair < 2; ++pair) {
    const __m128i a = load128(qs + 32 * pair), b = load128(qs + 32 * pair + 16);
    lo[2 * pair] = _mm_and_si128(a, m4);
    hi[2 * pair] = _mm_and_si128(b, m4);
    lo[2 * pair + 1] = _mm_and_si128(_mm_srli_epi16(a, 4), m4);
    hi[2 * pair + 1] = _mm_and_si128(_mm_srli_epi16(b, 4), m4);
  }
  if constexpr (Five) {
    const __m128i qlo = load128(p + 16), qhi = load128(p + 32);
    for (int k = 0; k < 4; ++k) {
      const __m128i sel = _mm_set1_epi8(static_cast<char>(1 << (4 * half + k)));
      lo[k] = _mm_or_si128(lo[k], test_to_sixteens(qlo, sel));
      hi[k] = _mm_or_si128(hi[k], test_to_sixteens(qhi, sel));
    }
  }
  // k_scale_min for sub-blocks 4 * half .. + 3 at once, 4 bytes per u32:
  // A = scales[0..3], B = [4..7], C = [8..11]; sub-blocks 4..7 take their top
  // two bits from the top bits of A (scale) and B (min).
  const uint32_t A = load_u32(p + 4), B = load_u32(p + 8), C = load_u32(p + 12);
  const uint32_t sc4 = half == 0 ? A & 0x3F3F3F3Fu : (C & 0x0F0F0F0Fu) | ((A >> 2) & 0x30303030u);
  const uint32_t mn4 = half == 0 ? B & 0x3F3F3F3Fu : ((C >> 4) & 0x0F0F0F0Fu) | ((B >> 2) & 0x30303030u);
  const __m128 scf = _mm_cvtepi32_ps(_mm_cvtepu8_epi32(_mm_cvtsi32_si128(static_cast<int>(sc4))));
  const __m128 mnf = _mm_cvtepi32_ps(_mm_cvtepu8_epi32(_mm_cvtsi32_si128(static_cast<int>(mn4))));
  _mm_storeu_ps(d, _mm_mul_ps(_mm_set1_ps(half_to_float(p)), scf));
  _mm_storeu_ps(m, _mm_xor_ps(_mm_mul_ps(_mm_set1_ps(half_to_float(p + 2)), mnf), _mm_set1_ps(-0.0f)));
}

template <>
struct Decoder<GgmlType::Q4_K> {
  T256_INLINE static void run(const uint8_t* row, int64_t g, __m128i* lo, __m128i* hi, float* d, float* m) {
    k_quant_decode<false>(row, g, lo, hi, d, m);
  }
};

template <>
struct Decoder<GgmlType::Q5_K> {
  T256_INLINE static void run(const uint8_t* row, int64_t g, __m128i* lo, __m128i* hi, float* d, float* m) {
    k_quant_decode<true>(row, g, lo, hi, d, m);
  }
};

// Q6_K quarter super-block c: sub-block k reads ql[64h + 32(k/2) + 16(k%2) ..]
// (low or high nibbles) and qh[32h + 16(k%2) ..] at shift 2(k/2) + 4(c odd).
template <>
struct Decoder<GgmlType::Q6_K> {
  T256_INLINE static void run(const uint8_t* row, int64_t g, __m128i* lo, __m128i* /*hi*/, float* d, float* m) {
    const uint8_t* p = row + (g / 4) * sizeof(BlockQ6_K);
    const int c = static_cast<int>(g % 4), h = c / 2, upper = c % 2;
    const __m128i m4 = _mm_set1_epi8(0x0F), m2 = _mm_set1_epi8(3);
    for (int k = 0; k < 4; ++k) {
      const __m128i l = load128(p + 64 * h + 32 * (k / 2) + 16 * (k % 2));
      const __m128i qh = load128(p + 128 + 32 * h + 16 * (k % 2));
      const __m128i nib = upper ? _mm_and_si128(_mm_srli_epi16(l, 4), m4) : _mm_and_si128(l, m4);
      const __m128i two = _mm_and_si128(_mm_srl_epi16(qh, _mm_cvtsi32_si128(2 * (k / 2) + 4 * upper)), m2);
      lo[k] = _mm_or_si128(nib, _mm_slli_epi16(two, 4));
    }
    const __m128 sc = _mm_cvtepi32_ps(_mm_cvtepi8_epi32(_mm_cvtsi32_si128(static_cast<int>(load_u32(p + 192 + 4 * c)))));
    const __m128 dv = _mm_mul_ps(_mm_set1_ps(half_to_float(p + 208)), sc);
    _mm_storeu_ps(d, dv);
    _mm_storeu_ps(m, _mm_mul_ps(_mm_set1_ps(-32.0f), dv));
  }
};

// v[b] dword i (quad i of block b) -> store chunk i = [v0.i v1.i v2.i v3.i] at out + i * stride.
T256_INLINE void transpose_store4(const __m128i* v, uint8_t* out, size_t stride) {
  const __m128i t0 = _mm_unpacklo_epi32(v[0], v[1]), t1 = _mm_unpacklo_epi32(v[2], v[3]);
  const __m128i t2 = _mm_unpackhi_epi32(v[0], v[1]), t3 = _mm_unpackhi_epi32(v[2], v[3]);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_unpacklo_epi64(t0, t1));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out + stride), _mm_unpackhi_epi64(t0, t1));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 2 * stride), _mm_unpacklo_epi64(t2, t3));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 3 * stride), _mm_unpackhi_epi64(t2, t3));
}

// Q8_0's tiles are compact on this path (tile::kCompactQ8GroupBytes): d in
// fp16 ahead of the codes, no m.
template <GgmlType W>
inline constexpr bool kCompact = W == GgmlType::Q8_0;
template <GgmlType W>
inline constexpr size_t kGroupBytes =
    kCompact<W> ? tile::kCompactQ8GroupBytes : tile::weight_group_bytes(affine_block_size_v<W>);

template <GgmlType W>
T256_INLINE void unpack_group(const uint8_t* const rows[4], int64_t g, uint8_t* out) {
  constexpr int Q = tile::quads(affine_block_size_v<W>);
  alignas(32) float dm[32];  // d, m in lanes r * 4 + b
  uint8_t* codes = kCompact<W> ? out + 32 : out;
  float* d = kCompact<W> ? dm : reinterpret_cast<float*>(out + Q * 64);
  float* m = d + 16;
  for (int r = 0; r < 4; ++r) {
    __m128i lo[4], hi[4];
    Decoder<W>::run(rows[r], g, lo, hi, d + 4 * r, m + 4 * r);
    transpose_store4(lo, codes + r * 16, 64);
    if constexpr (Q == 8) transpose_store4(hi, codes + 256 + r * 16, 64);
  }
  if constexpr (kCompact<W>) {  // exact: d is GGUF's fp16 value
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm256_cvtps_ph(_mm256_load_ps(d), _MM_FROUND_TO_NEAREST_INT));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16),
                     _mm256_cvtps_ph(_mm256_load_ps(d + 8), _MM_FROUND_TO_NEAREST_INT));
  }
}

template <GgmlType W>
T256 void pack_tile(const uint8_t* const rows[4], int64_t n_in, uint8_t* tile) {
  constexpr int bs = affine_block_size_v<W>;
  constexpr size_t wgb = kGroupBytes<W>;
  const int64_t G = affine_groups(W, n_in);
  const int64_t g_full = n_in / (int64_t{kGroupBlocks} * bs);
  for (int64_t g = 0; g < g_full; ++g) unpack_group<W>(rows, g, tile + g * wgb);
  if (g_full < G) {
    AffineGroup grp[tile::kRows];
    const AffineGroup* gp[tile::kRows];
    for (int r = 0; r < tile::kRows; ++r) {
      decode_affine_group(W, rows[r], n_in, g_full, W == GgmlType::Q8_0, grp[r]);
      gp[r] = &grp[r];
    }
    if constexpr (kCompact<W>) {
      alignas(64) uint8_t full[tile::weight_group_bytes(bs)];
      tile::pack_weight_group(gp, bs, full);
      tile::compact_q8_group(full, tile + g_full * wgb);
    } else {
      tile::pack_weight_group(gp, bs, tile + g_full * wgb);
    }
  }
}

// ---------------------------------------------------------------------------
// Microkernel: one tile (4 rows, G groups) against T tokens. Per token the
// integer sums live in two registers (rows 0-1, 2-3), weights reload from L1.

template <bool Signed>
T256_INLINE __m256i dot_quad(__m256i w, __m256i a) {
  if constexpr (Signed) return _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(a, w));
  return _mm256_maddubs_epi16(w, a);
}

// Per group and token, lanes (r, b) of two rows: acc = fma(float(I) * d, da, acc); acc = fma(m, dS, acc).
T256_INLINE __m256 group_epilogue(__m256 acc, __m256i isum, __m256 dw, __m256 mw, __m256 da, __m256 ds) {
  acc = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(isum), dw), da, acc);
  return _mm256_fmadd_ps(mw, ds, acc);
}

// Finishes rows 0-1 (v0) and 2-3 (v1) with ((b0 + b1) + (b2 + b3)) and stores the first nr.
T256_INLINE void store_rows(__m256 v0, __m256 v1, float* y, int nr) {
  float out[4];
  v0 = _mm256_add_ps(v0, _mm256_permute_ps(v0, 0xB1));  // b0+b1, b2+b3
  v0 = _mm256_add_ps(v0, _mm256_permute_ps(v0, 0x4E));  // (b0+b1)+(b2+b3)
  v1 = _mm256_add_ps(v1, _mm256_permute_ps(v1, 0xB1));
  v1 = _mm256_add_ps(v1, _mm256_permute_ps(v1, 0x4E));
  out[0] = _mm256_cvtss_f32(v0);
  out[1] = _mm_cvtss_f32(_mm256_extractf128_ps(v0, 1));
  out[2] = _mm256_cvtss_f32(v1);
  out[3] = _mm_cvtss_f32(_mm256_extractf128_ps(v1, 1));
  for (int r = 0; r < nr; ++r) y[r] = out[r];
}

// Signed: Q8_0, whose tiles are compact (kCompact): d in fp16 ahead of the
// codes and m = 0, so the m term (which adds an exact zero) is left out.
template <int Q, bool Signed, int T>
T256 void tile_kernel(const uint8_t* wt, int64_t G, const uint8_t* act, size_t astride, float* y, int64_t ldy,
                      int nr, WeightPrefetch& pf) {
  constexpr size_t wgb = Signed ? tile::kCompactQ8GroupBytes : tile::weight_group_bytes(4 * Q);
  constexpr size_t agb = tile::act_group_bytes(4 * Q);
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc0[T], acc1[T];
#pragma GCC unroll 4
  for (int t = 0; t < T; ++t) acc0[t] = acc1[t] = _mm256_setzero_ps();
  for (int64_t g = 0; g < G; ++g) {
    pf.next();
    const uint8_t* wg = wt + g * wgb;
    __m256 dw0, dw1, mw0 = _mm256_setzero_ps(), mw1 = _mm256_setzero_ps();
    if constexpr (Signed) {
      dw0 = _mm256_cvtph_ps(load128(wg));
      dw1 = _mm256_cvtph_ps(load128(wg + 16));
      wg += 32;
    } else {
      dw0 = _mm256_load_ps(reinterpret_cast<const float*>(wg + Q * 64));
      dw1 = _mm256_load_ps(reinterpret_cast<const float*>(wg + Q * 64 + 32));
      mw0 = _mm256_load_ps(reinterpret_cast<const float*>(wg + Q * 64 + 64));
      mw1 = _mm256_load_ps(reinterpret_cast<const float*>(wg + Q * 64 + 96));
    }
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) {
      const uint8_t* ag = act + t * astride + g * agb;
      __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
#pragma GCC unroll 8
      for (int i = 0; i < Q; i += 2) {
        const __m256i a0 = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(ag + i * 16)));
        const __m256i a1 =
            _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(ag + i * 16 + 16)));
        const __m256i w00 = _mm256_load_si256(reinterpret_cast<const __m256i*>(wg + i * 64));
        const __m256i w01 = _mm256_load_si256(reinterpret_cast<const __m256i*>(wg + i * 64 + 32));
        const __m256i w10 = _mm256_load_si256(reinterpret_cast<const __m256i*>(wg + i * 64 + 64));
        const __m256i w11 = _mm256_load_si256(reinterpret_cast<const __m256i*>(wg + i * 64 + 96));
        if constexpr (Signed) {  // |w| x a <= 128 * 127 * 2: one quad per widening
          s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(dot_quad<true>(w00, a0), ones));
          s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(dot_quad<true>(w01, a0), ones));
          s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(dot_quad<true>(w10, a1), ones));
          s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(dot_quad<true>(w11, a1), ones));
        } else {  // codes <= 63: two quads sum to <= 32004 in 16 bits
          s0 = _mm256_add_epi32(
              s0, _mm256_madd_epi16(_mm256_add_epi16(dot_quad<false>(w00, a0), dot_quad<false>(w10, a1)), ones));
          s1 = _mm256_add_epi32(
              s1, _mm256_madd_epi16(_mm256_add_epi16(dot_quad<false>(w01, a0), dot_quad<false>(w11, a1)), ones));
        }
      }
      const float* af = reinterpret_cast<const float*>(ag + Q * 16);
      const __m256 da = _mm256_broadcast_ps(reinterpret_cast<const __m128*>(af));
      if constexpr (Signed) {
        acc0[t] = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(s0), dw0), da, acc0[t]);
        acc1[t] = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(s1), dw1), da, acc1[t]);
      } else {
        const __m256 ds = _mm256_broadcast_ps(reinterpret_cast<const __m128*>(af + 4));
        acc0[t] = group_epilogue(acc0[t], s0, dw0, mw0, da, ds);
        acc1[t] = group_epilogue(acc1[t], s1, dw1, mw1, da, ds);
      }
    }
  }
#pragma GCC unroll 4
  for (int t = 0; t < T; ++t) store_rows(acc0[t], acc1[t], y + t * ldy, nr);
}

// pf: bytes to pull in over the first pass's groups.
template <int Q, bool Signed>
T256 void run_tokens(const uint8_t* wt, int64_t G, const Activations& a, float* y, int64_t ldy, int nr,
                     WeightPrefetch pf = {}) {
  int64_t t = 0;
  for (; t + kMaxTokens <= a.n_tokens; t += kMaxTokens)
    tile_kernel<Q, Signed, kMaxTokens>(wt, G, a.token(t), a.token_bytes, y + t * ldy, ldy, nr, pf);
  const uint8_t* at = a.token(t);
  float* yt = y + t * ldy;
  switch (a.n_tokens - t) {
    case 1: tile_kernel<Q, Signed, 1>(wt, G, at, a.token_bytes, yt, ldy, nr, pf); break;
    case 2: tile_kernel<Q, Signed, 2>(wt, G, at, a.token_bytes, yt, ldy, nr, pf); break;
    case 3: tile_kernel<Q, Signed, 3>(wt, G, at, a.token_bytes, yt, ldy, nr, pf); break;
    default: break;
  }
}

constexpr size_t kStackTile = 48 * 1024;
constexpr int kPrefetchTiles = 2;
// Long rows are plain streams the hardware prefetcher follows; only their
// starts need a push.
constexpr size_t kPrefetchRowBytes = 2048;

// Touches rows [r, r + 4) ahead of use, into L2: the hardware prefetcher loses
// track of 4 interleaved rows, and one token's work per byte is too small to
// hide DRAM latency without it.
T256_INLINE void prefetch_rows(const WeightView& w, int64_t r, int64_t r1, size_t bytes) {
  for (int64_t i = r; i < std::min(r + 4, r1); ++i)
    for (size_t off = 0; off < std::min(bytes, kPrefetchRowBytes); off += 64)
      _mm_prefetch(reinterpret_cast<const char*>(w.row(i) + off), _MM_HINT_T1);
}

// ---------------------------------------------------------------------------
// One token, fused (no tile): packing a tile costs more than dotting it once.
// Each row's blocks are decoded in lane form (Decoder) and dotted with the
// token's activations in natural block order; the (row, block) integer sums are
// reduced into the tile kernel's lanes (r * 4 + b) and finished with its float
// operations, so results equal tile_kernel<Q, Signed, 1> bit for bit.

// One token's activation groups (quad form, tile.h) in natural order: block
// b of group g at out + g * 4 * bs + b * bs. n_in a multiple of 4 * bs.
template <int bs>
T256 void natural_acts(const uint8_t* act, int64_t G, uint8_t* out) {
  constexpr int Q = tile::quads(bs);
  constexpr size_t agb = tile::act_group_bytes(bs);
  for (int64_t g = 0; g < G; ++g) {
    __m128i q[Q];
    for (int i = 0; i < Q; ++i) q[i] = load128(act + g * agb + i * 16);
    transpose_store4(q, out + g * 4 * bs, bs);  // quads 0..3: elements 0..15 of each block
    if constexpr (Q == 8) transpose_store4(q + 4, out + g * 4 * bs + 16, bs);  // quads 4..7: 16..31
  }
}

// Lane k of the result = the sum of v[k]'s 8 dwords.
T256_INLINE __m256i sum8x8(const __m256i* v) {
  const __m256i h01 = _mm256_hadd_epi32(v[0], v[1]), h23 = _mm256_hadd_epi32(v[2], v[3]);
  const __m256i h45 = _mm256_hadd_epi32(v[4], v[5]), h67 = _mm256_hadd_epi32(v[6], v[7]);
  const __m256i h0123 = _mm256_hadd_epi32(h01, h23), h4567 = _mm256_hadd_epi32(h45, h67);
  return _mm256_add_epi32(_mm256_permute2x128_si256(h0123, h4567, 0x20), _mm256_permute2x128_si256(h0123, h4567, 0x31));
}

// Blocks of 16 (Q6_K): v = (row 0 blocks 0|1, row 0 blocks 2|3, row 1 ..., row 1 ...),
// 4 dwords per block -> lanes (r, b) of the two rows.
T256_INLINE __m256i sum4x8(const __m256i* v) {
  const __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]));
  return _mm256_permutevar8x32_epi32(h, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));  // (b0 b2 | b1 b3) -> b0..b3
}

template <GgmlType W>
T256 void gen_rows(const uint8_t* const rows[4], int64_t G, const uint8_t* act, const uint8_t* nat, float* y, int nr) {
  constexpr bool Signed = W == GgmlType::Q8_0;
  constexpr int bs = affine_block_size_v<W>;
  constexpr size_t agb = tile::act_group_bytes(bs);
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  for (int64_t g = 0; g < G; ++g) {
    alignas(32) float d[16], m[16];
    const uint8_t* ng = nat + g * 4 * bs;
    __m256i s[2];  // rows 0-1, rows 2-3
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      __m256i sums[8];  // blocks of 32: (row, block) of the pair; of 16: (row, block pair)
#pragma GCC unroll 2
      for (int rr = 0; rr < 2; ++rr) {
        const int r = 2 * h + rr;
        __m128i lo[4], hi[4];
        Decoder<W>::run(rows[r], g, lo, hi, d + 4 * r, m + 4 * r);
        if constexpr (bs == 32) {
#pragma GCC unroll 4
          for (int b = 0; b < 4; ++b) {
            const __m256i wv = _mm256_set_m128i(hi[b], lo[b]);
            const __m256i av = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ng + b * 32));
            sums[rr * 4 + b] = _mm256_madd_epi16(dot_quad<Signed>(wv, av), ones);
          }
        } else {
#pragma GCC unroll 2
          for (int b = 0; b < 4; b += 2) {
            const __m256i wv = _mm256_set_m128i(lo[b + 1], lo[b]);
            const __m256i av = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ng + b * 16));
            sums[rr * 2 + b / 2] = _mm256_madd_epi16(dot_quad<Signed>(wv, av), ones);
          }
        }
      }
      if constexpr (bs == 32)
        s[h] = sum8x8(sums);
      else
        s[h] = sum4x8(sums);
    }
    const __m256i s0 = s[0], s1 = s[1];
    const float* af = reinterpret_cast<const float*>(act + g * agb + tile::quads(bs) * 16);
    const __m256 da = _mm256_broadcast_ps(reinterpret_cast<const __m128*>(af));
    const __m256 ds = _mm256_broadcast_ps(reinterpret_cast<const __m128*>(af + 4));
    acc0 = group_epilogue(acc0, s0, _mm256_load_ps(d), _mm256_load_ps(m), da, ds);
    acc1 = group_epilogue(acc1, s1, _mm256_load_ps(d + 8), _mm256_load_ps(m + 8), da, ds);
  }
  store_rows(acc0, acc1, y, nr);
}

template <GgmlType W>
T256 void matmul_q(const WeightView& w, const Activations& a, float* y, int64_t ldy, int64_t r0, int64_t r1) {
  constexpr int bs = affine_block_size_v<W>;
  constexpr size_t wgb = kGroupBytes<W>;
  const int64_t G = affine_groups(W, w.n_in);
  if (w.packed && r0 % tile::kRows == 0) {
    // Decoded once at load: every batch size runs the tile kernel. A streamed
    // matrix with several tokens prefetches about 16 KiB ahead, as the AVX-512
    // wide tiles do. 125M Q8_0 --isa avx2, 2 threads, ms per batch of 1, 2, 3,
    // 4, 5, 6, 8 tokens (min of 3 alternating runs): 3.1 3.9 4.9 6.0 7.9 9.7
    // 11.9 -> 3.2 3.4 3.7 4.7 5.8 6.9 8.6.
    const size_t tile_bytes = static_cast<size_t>(G) * wgb;
    const int64_t n_tiles = (w.n_out + tile::kRows - 1) / tile::kRows;
    const bool prefetch = w.pack_for == PackFor::kStream && a.n_tokens >= 2;
    for (int64_t rt = r0; rt < r1; rt += tile::kRows) {
      const int64_t i = rt / tile::kRows;
      WeightPrefetch pf;
      if (prefetch) pf = WeightPrefetch::tile_ahead(w.packed, tile_bytes, i, n_tiles, G);
      run_tokens<tile::quads(bs), W == GgmlType::Q8_0>(w.packed + static_cast<size_t>(i) * tile_bytes, G, a, y + rt,
                                                       ldy, static_cast<int>(std::min<int64_t>(tile::kRows, r1 - rt)),
                                                       pf);
    }
    return;
  }
  {
    if (a.n_tokens == 1 && w.n_in % (4 * bs) == 0) {
      alignas(32) uint8_t stack_nat[8192];
      std::unique_ptr<Activations::Line[]> heap_nat;
      uint8_t* nat = stack_nat;
      if (static_cast<size_t>(w.n_in) > sizeof(stack_nat)) {
        heap_nat.reset(new Activations::Line[(w.n_in + 63) / 64]);
        nat = heap_nat[0].b;
      }
      natural_acts<bs>(a.token(0), G, nat);
      const size_t rb = row_bytes(W, w.n_in);
      for (int64_t rt = r0; rt < r1; rt += tile::kRows) {
        prefetch_rows(w, rt + kPrefetchTiles * tile::kRows, r1, rb);
        const uint8_t* rows[tile::kRows];
        for (int r = 0; r < tile::kRows; ++r) rows[r] = w.row(std::min<int64_t>(rt + r, r1 - 1));
        gen_rows<W>(rows, G, a.token(0), nat, y + rt, static_cast<int>(std::min<int64_t>(tile::kRows, r1 - rt)));
      }
      return;
    }
  }
  alignas(64) uint8_t stack_tile[kStackTile];
  std::unique_ptr<Activations::Line[]> heap;
  uint8_t* tile = stack_tile;
  if (G * wgb > kStackTile) {
    heap.reset(new Activations::Line[(G * wgb + 63) / 64]);
    tile = heap[0].b;
  }
  const size_t rb = row_bytes(W, w.n_in);
  for (int64_t rt = r0; rt < r1; rt += tile::kRows) {
    prefetch_rows(w, rt + kPrefetchTiles * tile::kRows, r1, rb);
    const int nr = static_cast<int>(std::min<int64_t>(tile::kRows, r1 - rt));
    const uint8_t* rows[tile::kRows];
    for (int r = 0; r < tile::kRows; ++r) rows[r] = w.row(std::min<int64_t>(rt + r, r1 - 1));
    pack_tile<W>(rows, w.n_in, tile);
    run_tokens<tile::quads(bs), W == GgmlType::Q8_0>(tile, G, a, y + rt, ldy, nr);
  }
}

void pack_tile_any(GgmlType t, const uint8_t* const* rows, int64_t n_in, PackFor /*one 4-row layout*/, uint8_t* out) {
  with_quant_type(t, [&]<GgmlType W>() { pack_tile<W>(rows, n_in, out); });
}

size_t tile_bytes(GgmlType t, int64_t n_in, PackFor /*one 4-row layout*/) {
  size_t bytes = 0;
  with_quant_type(t, [&]<GgmlType W>() { bytes = static_cast<size_t>(affine_groups(W, n_in)) * kGroupBytes<W>; });
  return bytes;
}

// ---------------------------------------------------------------------------
// Activations (quantize_row_q8a's arithmetic, then the tile's group layout).

struct Block32 {
  __m128i q_lo, q_hi;
  float d;
  int s_lo, s_hi;
};

T256_INLINE float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

T256_INLINE int hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}

T256_INLINE Block32 quantize_block32(const float* x) {
  __m256 v[4];
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 amax = _mm256_setzero_ps();
  for (int k = 0; k < 4; ++k) {
    v[k] = _mm256_loadu_ps(x + 8 * k);
    amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, v[k]));
  }
  Block32 b;
  b.d = hmax(amax) / 127;
  const float id = b.d != 0.0f ? 1.0f / b.d : 0.0f;
  const __m256 vid = _mm256_set1_ps(id);
  __m256i q[4];
  for (int k = 0; k < 4; ++k) q[k] = _mm256_cvtps_epi32(_mm256_mul_ps(v[k], vid));
  b.s_lo = hsum_i32(_mm256_add_epi32(q[0], q[1]));
  b.s_hi = hsum_i32(_mm256_add_epi32(q[2], q[3]));
  // packs interleave 128-bit lanes; the permute restores element order.
  const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
  const __m256i bytes = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  b.q_lo = _mm256_castsi256_si128(bytes);
  b.q_hi = _mm256_extracti128_si256(bytes, 1);
  return b;
}

T256 void quantize_token(const float* x, int64_t n, int bs, uint8_t* out) {
  const int64_t span = int64_t{kGroupBlocks} * bs;
  const int64_t n_groups = (n + span - 1) / span;
  const Block32 zero{_mm_setzero_si128(), _mm_setzero_si128(), 0.0f, 0, 0};
  for (int64_t g = 0; g < n_groups; ++g) {
    const int64_t start = g * span;
    if (bs == kQK) {
      Block32 b[4];
      for (int k = 0; k < 4; ++k) b[k] = start + 32 * k < n ? quantize_block32(x + start + 32 * k) : zero;
      const __m128i lo[4] = {b[0].q_lo, b[1].q_lo, b[2].q_lo, b[3].q_lo};
      const __m128i hi[4] = {b[0].q_hi, b[1].q_hi, b[2].q_hi, b[3].q_hi};
      transpose_store4(lo, out, 16);
      transpose_store4(hi, out + 64, 16);
      float* f = reinterpret_cast<float*>(out + 128);
      int32_t sums[4];
      for (int k = 0; k < 4; ++k) {
        sums[k] = b[k].s_lo + b[k].s_hi;
        f[k] = b[k].d;
        f[4 + k] = b[k].d * static_cast<float>(sums[k]);
      }
      std::memcpy(out + 160, sums, sizeof sums);
      out += tile::act_group_bytes(kQK);
    } else {
      const Block32 b0 = start < n ? quantize_block32(x + start) : zero;
      const Block32 b1 = start + 32 < n ? quantize_block32(x + start + 32) : zero;
      const __m128i sub[4] = {b0.q_lo, b0.q_hi, b1.q_lo, b1.q_hi};
      transpose_store4(sub, out, 16);
      float* f = reinterpret_cast<float*>(out + 64);
      f[0] = f[1] = b0.d;
      f[2] = f[3] = b1.d;
      f[4] = b0.d * static_cast<float>(b0.s_lo);
      f[5] = b0.d * static_cast<float>(b0.s_hi);
      f[6] = b1.d * static_cast<float>(b1.s_lo);
      f[7] = b1.d * static_cast<float>(b1.s_hi);
      const int32_t sums[4] = {b0.s_lo, b0.s_hi, b1.s_lo, b1.s_hi};
      std::memcpy(out + 96, sums, sizeof sums);
      out += tile::act_group_bytes(16);
    }
  }
}

T256 void quantize_acts(const float* x, int64_t n_tokens, int64_t n_in, int64_t ldx, int bs, uint8_t* out,
                        size_t token_bytes) {
  for (int64_t t = 0; t < n_tokens; ++t) quantize_token(x + t * ldx, n_in, bs, out + t * token_bytes);
}

// ---------------------------------------------------------------------------
// Float weights: 4 rows x up to 2 tokens of 8-lane FMAs (13 of 16 registers).

enum class FloatKind { F32, F16, BF16 };

template <FloatKind K>
T256_INLINE __m256 load_w(const uint8_t* row, int64_t k) {
  if constexpr (K == FloatKind::F32) {
    return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + k);
  } else {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(reinterpret_cast<const uint16_t*>(row) + k));
    if constexpr (K == FloatKind::F16) return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
}

T256_INLINE float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

template <FloatKind K, int T>
T256 void float_kernel(const uint8_t* const rows[4], int64_t n, const float* x, int64_t ldx, float* y, int64_t ldy,
                       int nr, WeightPrefetch& pf) {
  constexpr size_t esize = K == FloatKind::F32 ? 4 : 2;
  __m256 acc[4][T];
#pragma GCC unroll 4
  for (int r = 0; r < 4; ++r)
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
  const int64_t n8 = n - n % 8;
  for (int64_t k = 0; k < n8; k += 8) {
    __m256 wv[4];
#pragma GCC unroll 4
    for (int r = 0; r < 4; ++r) wv[r] = load_w<K>(rows[r], k);
    pf.next();
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) {
      const __m256 xv = _mm256_loadu_ps(x + t * ldx + k);
#pragma GCC unroll 4
      for (int r = 0; r < 4; ++r) acc[r][t] = _mm256_fmadd_ps(wv[r], xv, acc[r][t]);
    }
  }
  if (n8 < n) {  // the last n % 8 elements, zero-padded copies
    alignas(32) uint8_t wtail[4][32] = {};
    alignas(32) float xtail[T][8] = {};
    const int64_t rem = n - n8;
    for (int r = 0; r < 4; ++r) std::memcpy(wtail[r], rows[r] + n8 * esize, rem * esize);
    for (int t = 0; t < T; ++t) std::memcpy(xtail[t], x + t * ldx + n8, rem * sizeof(float));
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) {
      const __m256 xv = _mm256_load_ps(xtail[t]);
#pragma GCC unroll 4
      for (int r = 0; r < 4; ++r) acc[r][t] = _mm256_fmadd_ps(load_w<K>(wtail[r], 0), xv, acc[r][t]);
    }
  }
#pragma GCC unroll 4
  for (int t = 0; t < T; ++t)
#pragma GCC unroll 4
    for (int r = 0; r < 4; ++r)
      if (r < nr) y[t * ldy + r] = hsum(acc[r][t]);
}

template <FloatKind K>
T256 void matmul_float(const WeightView& w, const Activations& a, float* y, int64_t ldy, int64_t r0, int64_t r1) {
  const size_t rb = row_bytes(w.type, w.n_in);
  for (int64_t rt = r0; rt < r1; rt += 4) {
    // As the AVX-512 float kernel: rows about 16 KiB ahead, spread over the first pass.
    WeightPrefetch pf = WeightPrefetch::float_tile(w, rt, r1, rb, (w.n_in + 7) / 8);
    const int nr = static_cast<int>(std::min<int64_t>(4, r1 - rt));
    const uint8_t* rows[4];
    for (int r = 0; r < 4; ++r) rows[r] = w.row(std::min<int64_t>(rt + r, r1 - 1));
    int64_t t = 0;
    for (; t + 2 <= a.n_tokens; t += 2)
      float_kernel<K, 2>(rows, w.n_in, a.x + t * a.ldx, a.ldx, y + t * ldy + rt, ldy, nr, pf);
    if (t < a.n_tokens) float_kernel<K, 1>(rows, w.n_in, a.x + t * a.ldx, a.ldx, y + t * ldy + rt, ldy, nr, pf);
  }
}

}  // namespace

PackTileFn avx2_pack_tile() { return pack_tile_any; }

Kernels make_avx2_kernels() {
  Kernels k;
  k.isa = Isa::Avx2;
  k.pack_tile = pack_tile_any;
  k.tile_bytes = tile_bytes;
  k.quantize_acts = quantize_acts;
  k.act_token_bytes = tile::act_row_bytes;
  k.matmul_f32_f32 = matmul_float<FloatKind::F32>;
  k.matmul_f16_f32 = matmul_float<FloatKind::F16>;
  k.matmul_bf16_f32 = matmul_float<FloatKind::BF16>;
  k.matmul_q8_0_q8a = matmul_q<GgmlType::Q8_0>;
  k.matmul_q4_0_q8a = matmul_q<GgmlType::Q4_0>;
  k.matmul_q4_1_q8a = matmul_q<GgmlType::Q4_1>;
  k.matmul_q5_0_q8a = matmul_q<GgmlType::Q5_0>;
  k.matmul_q5_1_q8a = matmul_q<GgmlType::Q5_1>;
  k.matmul_q4_k_q8a = matmul_q<GgmlType::Q4_K>;
  k.matmul_q5_k_q8a = matmul_q<GgmlType::Q5_K>;
  k.matmul_q6_k_q8a = matmul_q<GgmlType::Q6_K>;
  set_avx2_float_kernels(k);
  return k;
}

}  // namespace tandem

#endif  // TANDEM_X86

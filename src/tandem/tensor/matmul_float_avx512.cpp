// AVX-512 matmuls of float weights (F32, F16, BF16) against float
// activations: 4 rows x up to 6 tokens of 16-lane FMAs straight from the GGUF
// rows (f16/bf16 widened once per load); lanes hold k mod 16 and are summed by
// the same reduction for every batch size, so a token's outputs do not depend
// on its batch. Like kernels_avx512.cpp, every function carries
// TANDEM_TARGET_AVX512.
#include "tandem/tensor/kernels_impl.h"

#if TANDEM_X86

// GCC 12's intrinsics fill "undefined" vectors by self-initialization, which
// -Wmaybe-uninitialized reports at every inlined use (GCC bug 105593).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <immintrin.h>

#include <algorithm>

#include "tandem/tensor/prefetch.h"
#include "tandem/tensor/quants.h"

namespace tandem {
namespace {

enum class FloatKind { F32, F16, BF16 };

template <FloatKind K>
T512_INLINE __m512 load_w(const uint8_t* row, int64_t k) {
  if constexpr (K == FloatKind::F32) {
    return _mm512_loadu_ps(reinterpret_cast<const float*>(row) + k);
  } else {
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(reinterpret_cast<const uint16_t*>(row) + k));
    if constexpr (K == FloatKind::F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
}

template <FloatKind K>
T512_INLINE __m512 load_w_masked(const uint8_t* row, int64_t k, __mmask16 mask) {
  if constexpr (K == FloatKind::F32) {
    return _mm512_maskz_loadu_ps(mask, reinterpret_cast<const float*>(row) + k);
  } else {
    const __m256i h = _mm256_maskz_loadu_epi16(mask, reinterpret_cast<const uint16_t*>(row) + k);
    if constexpr (K == FloatKind::F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
}

// Tokens per pass over a tile: 4 x 6 accumulators, 4 weight vectors and one
// token's vector take 29 of the 32 registers.
constexpr int64_t kFloatTokens = 6;

// Lane r of the result: the sum of the 16 lanes of v_r. One tree for the four
// (halves, then pairs within each 128-bit quarter), 14 operations instead of
// four separate reductions' 32.
T512_INLINE __m128 sum4(__m512 v0, __m512 v1, __m512 v2, __m512 v3) {
  // Quarters: [v0.0 + v0.2, v0.1 + v0.3, v1.0 + v1.2, v1.1 + v1.3], and the same for v2, v3.
  const __m512 a = _mm512_add_ps(_mm512_shuffle_f32x4(v0, v1, 0x44), _mm512_shuffle_f32x4(v0, v1, 0xEE));
  const __m512 b = _mm512_add_ps(_mm512_shuffle_f32x4(v2, v3, 0x44), _mm512_shuffle_f32x4(v2, v3, 0xEE));
  // Quarter r: v_r's four partial vectors summed, four lanes left.
  const __m512 q = _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x88), _mm512_shuffle_f32x4(a, b, 0xDD));
  const __m512 p = _mm512_add_ps(q, _mm512_shuffle_ps(q, q, _MM_SHUFFLE(2, 3, 0, 1)));
  const __m512 s = _mm512_add_ps(p, _mm512_shuffle_ps(p, p, _MM_SHUFFLE(1, 0, 3, 2)));
  const __m512i firsts = _mm512_setr_epi32(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  return _mm512_castps512_ps128(_mm512_permutexvar_ps(firsts, s));
}

template <FloatKind K, int T>
T512 void float_kernel(const uint8_t* const rows[4], int64_t n, const float* x, int64_t ldx, float* y, int64_t ldy,
                       int nr, WeightPrefetch& pf) {
  __m512 acc[4][T];
#pragma GCC unroll 4
  for (int r = 0; r < 4; ++r)
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + 16 <= n; k += 16) {
    __m512 wv[4];
#pragma GCC unroll 4
    for (int r = 0; r < 4; ++r) wv[r] = load_w<K>(rows[r], k);
    pf.next();
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const __m512 xv = _mm512_loadu_ps(x + t * ldx + k);
#pragma GCC unroll 4
      for (int r = 0; r < 4; ++r) acc[r][t] = _mm512_fmadd_ps(wv[r], xv, acc[r][t]);
    }
  }
  if (k < n) {
    const __mmask16 mask = static_cast<__mmask16>((1u << (n - k)) - 1);
    __m512 wv[4];
#pragma GCC unroll 4
    for (int r = 0; r < 4; ++r) wv[r] = load_w_masked<K>(rows[r], k, mask);
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const __m512 xv = _mm512_maskz_loadu_ps(mask, x + t * ldx + k);
#pragma GCC unroll 4
      for (int r = 0; r < 4; ++r) acc[r][t] = _mm512_fmadd_ps(wv[r], xv, acc[r][t]);
    }
  }
  const __mmask8 rows_mask = static_cast<__mmask8>((1u << nr) - 1);
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t)
    _mm_mask_storeu_ps(y + t * ldy, rows_mask, sum4(acc[0][t], acc[1][t], acc[2][t], acc[3][t]));
}

template <FloatKind K>
T512 void matmul_float(const WeightView& w, const Activations& a, float* y, int64_t ldy, int64_t r0, int64_t r1) {
  const size_t rb = row_bytes(w.type, w.n_in);
  for (int64_t rt = r0; rt < r1; rt += 4) {
    // The rows about 16 KiB ahead, spread over the first pass's steps (the
    // passes after it find the range done).
    WeightPrefetch pf = WeightPrefetch::float_tile(w, rt, r1, rb, (w.n_in + 15) / 16);
    const int nr = static_cast<int>(std::min<int64_t>(4, r1 - rt));
    const uint8_t* rows[4];
    for (int r = 0; r < 4; ++r) rows[r] = w.row(std::min<int64_t>(rt + r, r1 - 1));
    // Passes of at most kFloatTokens tokens, as even as they can be (7 = 3 + 4, not 6 + 1).
    const int64_t passes = (a.n_tokens + kFloatTokens - 1) / kFloatTokens;
    for (int64_t i = 0, t = 0; i < passes; ++i) {
      const int64_t nt = (a.n_tokens - t) / (passes - i);
      const float* x = a.x + t * a.ldx;
      float* yt = y + t * ldy + rt;
      switch (nt) {
        case 1: float_kernel<K, 1>(rows, w.n_in, x, a.ldx, yt, ldy, nr, pf); break;
        case 2: float_kernel<K, 2>(rows, w.n_in, x, a.ldx, yt, ldy, nr, pf); break;
        case 3: float_kernel<K, 3>(rows, w.n_in, x, a.ldx, yt, ldy, nr, pf); break;
        case 4: float_kernel<K, 4>(rows, w.n_in, x, a.ldx, yt, ldy, nr, pf); break;
        case 5: float_kernel<K, 5>(rows, w.n_in, x, a.ldx, yt, ldy, nr, pf); break;
        default: float_kernel<K, kFloatTokens>(rows, w.n_in, x, a.ldx, yt, ldy, nr, pf); break;
      }
      t += nt;
    }
  }
}

}  // namespace

void set_avx512_float_matmuls(Kernels& k) {
  k.matmul_f32_f32 = matmul_float<FloatKind::F32>;
  k.matmul_f16_f32 = matmul_float<FloatKind::F16>;
  k.matmul_bf16_f32 = matmul_float<FloatKind::BF16>;
}

}  // namespace tandem

#endif  // TANDEM_X86

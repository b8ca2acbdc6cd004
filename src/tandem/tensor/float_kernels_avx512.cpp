// AVX-512 float kernels (float_kernels_simd.h over 16-float vectors).
#include "tandem/tensor/kernels_impl.h"

#if TANDEM_X86

// GCC 12's intrinsics fill "undefined" vectors by self-initialization, which
// -Wmaybe-uninitialized reports at every inlined use (GCC bug 105593).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")

#include "tandem/tensor/float_kernels_simd.h"

namespace tandem {
namespace {

struct Ops512 {
  using V = __m512;
  using M = __mmask16;
  static constexpr int W = 16;
  static constexpr int kRegs = 32;  // vector registers
  static V zero() { return _mm512_setzero_ps(); }
  static V set1(float f) { return _mm512_set1_ps(f); }
  static M mask(int n) { return static_cast<M>((1u << n) - 1u); }
  static V loadm(const float* p, M m) { return _mm512_maskz_loadu_ps(m, p); }
  static V loadm(const uint16_t* p, M m) { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p)); }
  static void storem(float* p, V v, M m) { _mm512_mask_storeu_ps(p, m, v); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V sub(V a, V b) { return _mm512_sub_ps(a, b); }
  static V div(V a, V b) { return _mm512_div_ps(a, b); }
  static V max(V a, V b) { return _mm512_max_ps(a, b); }
  static V min(V a, V b) { return _mm512_min_ps(a, b); }
  static V select(M m, V a, V b) { return _mm512_mask_blend_ps(m, b, a); }
  static V round(V x) { return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static V scale2(V p, V n) { return _mm512_scalef_ps(p, n); }
  static float reduce_add(V v) { return _mm512_reduce_add_ps(v); }
  static float reduce_max(V v) { return _mm512_reduce_max_ps(v); }
  // Lanes where a >= b, as the low W bits.
  static unsigned ge_bits(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
  static V neg(V v) {
    return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(v), _mm512_set1_epi32(INT32_MIN)));
  }
  // Lane pairs (2i, 2i + 1): both to lane 2i's value, both to 2i + 1's, swapped, lane 2i negated.
  static V dup_even(V v) { return _mm512_moveldup_ps(v); }
  static V dup_odd(V v) { return _mm512_movehdup_ps(v); }
  static V swap_pairs(V v) { return _mm512_permute_ps(v, 0xB1); }
  static V neg_even(V v) {
    return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(v), _mm512_set1_epi64(0x80000000LL)));
  }
  // The even and the odd lanes of a then b.
  static V evens(V a, V b) {
    return _mm512_permutex2var_ps(a, _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), b);
  }
  static V odds(V a, V b) {
    return _mm512_permutex2var_ps(a, _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), b);
  }
  // Sums in double (of squares, or of values): lanes 0-7 and 8-15 of each vector.
  struct DA {
    __m512d lo, hi;
  };
  static DA da_zero() { return {_mm512_setzero_pd(), _mm512_setzero_pd()}; }
  static void add_squares(V v, DA& a) {
    const __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
    const __m512d hi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
    a.lo = _mm512_fmadd_pd(lo, lo, a.lo);
    a.hi = _mm512_fmadd_pd(hi, hi, a.hi);
  }
  static void add_wide(V v, DA& a) {
    a.lo = _mm512_add_pd(a.lo, _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
    a.hi = _mm512_add_pd(a.hi, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))));
  }
  static double da_total(const DA& a) { return _mm512_reduce_add_pd(_mm512_add_pd(a.lo, a.hi)); }
};

void attend(const AttendArgs& a) { simd_attend<Ops512>(a); }
void swiglu(const float* g, const float* u, float* y, int64_t n) { simd_swiglu<Ops512>(g, u, y, n); }
void rms_norm(float* x, const float* add, const float* w, float* y, int64_t n, float eps) {
  simd_rms_norm<Ops512>(x, add, w, y, n, eps);
}
double log_sum_exp(const float* x, int64_t n, float* max) { return simd_log_sum_exp<Ops512>(x, n, max); }
bool column_max(const float* x, int64_t n, int64_t w, float* out) { return simd_column_max<Ops512>(x, n, w, out); }
int64_t indices_at_least(const float* x, int64_t n, float bound, int32_t* out) {
  return simd_indices_at_least<Ops512>(x, n, bound, out);
}
void rope(float* v, int64_t n_heads, int64_t hd, int64_t n_rot, const float* cs, bool halves) {
  simd_rope<Ops512>(v, n_heads, hd, n_rot, cs, halves);
}

}  // namespace

void set_avx512_float_kernels(Kernels& k) {
  k.attend = attend;
  k.swiglu = swiglu;
  k.rms_norm = rms_norm;
  k.rope = rope;
  k.log_sum_exp = log_sum_exp;
  k.column_max = column_max;
  k.indices_at_least = indices_at_least;
}

}  // namespace tandem

#pragma GCC pop_options

#endif  // TANDEM_X86

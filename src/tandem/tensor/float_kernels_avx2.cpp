// AVX2 float kernels (float_kernels_simd.h over 8-float vectors).
#include "tandem/tensor/kernels_impl.h"

#if TANDEM_X86

#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")

#include "tandem/tensor/float_kernels_simd.h"

namespace tandem {
namespace {

struct Ops256 {
  using V = __m256;
  // A lane mask, and whether it is all lanes: full vectors then load plainly
  // (AVX2's masked loads are slow on some CPUs; the branch is predictable).
  struct M {
    __m256i m;
    bool full;
  };
  static constexpr int W = 8;
  static constexpr int kRegs = 16;  // vector registers
  static V zero() { return _mm256_setzero_ps(); }
  static V set1(float f) { return _mm256_set1_ps(f); }
  static M mask(int n) {
    return {_mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)), n == W};
  }
  static V loadm(const float* p, M m) { return m.full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, m.m); }
  // fp16: no masked 16-bit load in AVX2, so a partial vector goes through a zeroed copy.
  static V loadm(const uint16_t* p, M m) {
    if (m.full) return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    alignas(16) uint16_t b[8] = {};
    const int n = __builtin_popcount(static_cast<unsigned>(_mm256_movemask_ps(_mm256_castsi256_ps(m.m))));
    for (int i = 0; i < n; ++i) b[i] = p[i];
    return _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(b)));
  }
  static void storem(float* p, V v, M m) {
    if (m.full)
      _mm256_storeu_ps(p, v);
    else
      _mm256_maskstore_ps(p, m.m, v);
  }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V div(V a, V b) { return _mm256_div_ps(a, b); }
  static V max(V a, V b) { return _mm256_max_ps(a, b); }
  static V min(V a, V b) { return _mm256_min_ps(a, b); }
  static V select(M m, V a, V b) { return _mm256_blendv_ps(b, a, _mm256_castsi256_ps(m.m)); }
  static V round(V x) { return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  // p * 2^n by adding n to p's exponent field (p near 1, n integral in [-126, 127]).
  static V scale2(V p, V n) {
    const __m256i e = _mm256_slli_epi32(_mm256_cvtps_epi32(n), 23);
    return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p), e));
  }
  static float reduce_add(V v) {
    __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    return _mm_cvtss_f32(_mm_add_ss(x, _mm_movehdup_ps(x)));
  }
  static float reduce_max(V v) {
    __m128 x = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_max_ps(x, _mm_movehl_ps(x, x));
    return _mm_cvtss_f32(_mm_max_ss(x, _mm_movehdup_ps(x)));
  }
  // Lanes where a >= b, as the low W bits.
  static unsigned ge_bits(V a, V b) {
    return static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(a, b, _CMP_GE_OQ)));
  }
  static V neg(V v) { return _mm256_xor_ps(v, _mm256_set1_ps(-0.0f)); }
  // Lane pairs (2i, 2i + 1): both to lane 2i's value, both to 2i + 1's, swapped, lane 2i negated.
  static V dup_even(V v) { return _mm256_moveldup_ps(v); }
  static V dup_odd(V v) { return _mm256_movehdup_ps(v); }
  static V swap_pairs(V v) { return _mm256_permute_ps(v, 0xB1); }
  static V neg_even(V v) { return _mm256_xor_ps(v, _mm256_setr_ps(-0.0f, 0, -0.0f, 0, -0.0f, 0, -0.0f, 0)); }
  // The even and the odd lanes of a then b.
  static V evens(V a, V b) {
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xD8));
  }
  static V odds(V a, V b) {
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0xDD)), 0xD8));
  }
  // Sums in double (of squares, or of values): lanes 0-3 and 4-7 of each vector.
  struct DA {
    __m256d lo, hi;
  };
  static DA da_zero() { return {_mm256_setzero_pd(), _mm256_setzero_pd()}; }
  static void add_squares(V v, DA& a) {
    const __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v)), hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
    a.lo = _mm256_fmadd_pd(lo, lo, a.lo);
    a.hi = _mm256_fmadd_pd(hi, hi, a.hi);
  }
  static void add_wide(V v, DA& a) {
    a.lo = _mm256_add_pd(a.lo, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    a.hi = _mm256_add_pd(a.hi, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
  }
  static double da_total(const DA& a) {
    const __m256d s = _mm256_add_pd(a.lo, a.hi);
    const __m128d t = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
    return _mm_cvtsd_f64(_mm_add_sd(t, _mm_unpackhi_pd(t, t)));
  }
};

void attend(const AttendArgs& a) { simd_attend<Ops256>(a); }
void swiglu(const float* g, const float* u, float* y, int64_t n) { simd_swiglu<Ops256>(g, u, y, n); }
void rms_norm(float* x, const float* add, const float* w, float* y, int64_t n, float eps) {
  simd_rms_norm<Ops256>(x, add, w, y, n, eps);
}
double log_sum_exp(const float* x, int64_t n, float* max) { return simd_log_sum_exp<Ops256>(x, n, max); }
bool column_max(const float* x, int64_t n, int64_t w, float* out) { return simd_column_max<Ops256>(x, n, w, out); }
int64_t indices_at_least(const float* x, int64_t n, float bound, int32_t* out) {
  return simd_indices_at_least<Ops256>(x, n, bound, out);
}
void rope(float* v, int64_t n_heads, int64_t hd, int64_t n_rot, const float* cs, bool halves) {
  simd_rope<Ops256>(v, n_heads, hd, n_rot, cs, halves);
}

}  // namespace

void set_avx2_float_kernels(Kernels& k) {
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

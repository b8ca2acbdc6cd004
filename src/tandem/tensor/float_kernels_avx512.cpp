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
};

void attend(const AttendArgs& a) { simd_attend<Ops512>(a); }
void swiglu(const float* g, const float* u, float* y, int64_t n) { simd_swiglu<Ops512>(g, u, y, n); }

}  // namespace

void set_avx512_float_kernels(Kernels& k) {
  k.attend = attend;
  k.swiglu = swiglu;
}

}  // namespace tandem

#pragma GCC pop_options

#endif  // TANDEM_X86

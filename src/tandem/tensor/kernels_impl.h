// Internal to the tensor layer: the per-path kernel tables and the target
// attributes the SIMD files compile their functions with.
#pragma once

#include "tandem/tensor/kernels.h"

#if defined(__x86_64__) || defined(_M_X64)
#define TANDEM_X86 1
// AVX2 path: Haswell and later, Zen 1 and later.
#define TANDEM_TARGET_AVX2 __attribute__((target("avx2,fma,f16c,bmi,bmi2,popcnt")))
// AVX-512 path: Ice Lake / Sapphire Rapids, Zen 4 and later.
#define TANDEM_TARGET_AVX512 \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c,bmi,bmi2,popcnt")))
// T256 / T512: a function of the AVX2 / AVX-512 kernel files; _INLINE: one always inlined.
#define T256 TANDEM_TARGET_AVX2
#define T256_INLINE TANDEM_TARGET_AVX2 inline __attribute__((always_inline))
#define T512 TANDEM_TARGET_AVX512
#define T512_INLINE TANDEM_TARGET_AVX512 inline __attribute__((always_inline))
#else
#define TANDEM_X86 0
#endif

namespace tandem {

Kernels make_scalar_kernels();

// Calls f.template operator()<W>() with W = t for the quantized types that
// have integer kernels (Q8_0 ... Q6_K); does nothing for the others.
template <class F>
void with_quant_type(GgmlType t, F&& f) {
  switch (t) {
    case GgmlType::Q8_0: return f.template operator()<GgmlType::Q8_0>();
    case GgmlType::Q4_0: return f.template operator()<GgmlType::Q4_0>();
    case GgmlType::Q4_1: return f.template operator()<GgmlType::Q4_1>();
    case GgmlType::Q5_0: return f.template operator()<GgmlType::Q5_0>();
    case GgmlType::Q5_1: return f.template operator()<GgmlType::Q5_1>();
    case GgmlType::Q4_K: return f.template operator()<GgmlType::Q4_K>();
    case GgmlType::Q5_K: return f.template operator()<GgmlType::Q5_K>();
    case GgmlType::Q6_K: return f.template operator()<GgmlType::Q6_K>();
    default: return;
  }
}
#if TANDEM_X86
Kernels make_avx2_kernels();
Kernels make_avx512_kernels();
// The float kernels (float_kernels.h) of each SIMD path, set into a table.
void set_avx2_float_kernels(Kernels& k);
void set_avx512_float_kernels(Kernels& k);
// The AVX-512 matmuls of float weights (matmul_float_avx512.cpp), set into a table.
void set_avx512_float_matmuls(Kernels& k);

// Test hooks: a path's SIMD decoding of 4 weight rows into one tile, to compare
// with the scalar packer.
PackTileFn avx512_pack_tile();
PackTileFn avx2_pack_tile();
#endif

}  // namespace tandem

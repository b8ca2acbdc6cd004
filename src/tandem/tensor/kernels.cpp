// CPU feature detection, kernel-table selection, and the Scalar path's table
// (the reference dot products, one (row, token) at a time).
#include "tandem/tensor/kernels.h"

#include <algorithm>

#include "tandem/tensor/kernels_impl.h"
#include "tandem/tensor/quants.h"

namespace tandem {

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
  }
  return "?";
}

CpuFeatures CpuFeatures::detect() {
  CpuFeatures f;
#if TANDEM_X86
  // libgcc's checks include the OS's XSAVE support for the wide registers.
  __builtin_cpu_init();
  f.avx2 = __builtin_cpu_supports("avx2");
  f.fma = __builtin_cpu_supports("fma");
  f.f16c = __builtin_cpu_supports("f16c");
  f.avx512f = __builtin_cpu_supports("avx512f");
  f.avx512bw = __builtin_cpu_supports("avx512bw");
  f.avx512vl = __builtin_cpu_supports("avx512vl");
  f.avx512vnni = __builtin_cpu_supports("avx512vnni");
#endif
  return f;
}

Isa CpuFeatures::best_isa() const {
  const bool avx2_ok = avx2 && fma && f16c;
  if (avx2_ok && avx512f && avx512bw && avx512vl && avx512vnni) return Isa::Avx512;
  if (avx2_ok) return Isa::Avx2;
  return Isa::Scalar;
}

CpuFeatures CpuFeatures::limited_to(Isa isa) const {
  CpuFeatures f = *this;
  if (isa < Isa::Avx512) f.avx512f = f.avx512bw = f.avx512vl = f.avx512vnni = false;
  if (isa < Isa::Avx2) f.avx2 = f.fma = f.f16c = false;
  return f;
}

MatmulFn Kernels::matmul_for(GgmlType t) const {
  switch (t) {
    case GgmlType::F32: return matmul_f32_f32;
    case GgmlType::F16: return matmul_f16_f32;
    case GgmlType::BF16: return matmul_bf16_f32;
    case GgmlType::Q8_0: return matmul_q8_0_q8a;
    case GgmlType::Q4_0: return matmul_q4_0_q8a;
    case GgmlType::Q4_1: return matmul_q4_1_q8a;
    case GgmlType::Q5_0: return matmul_q5_0_q8a;
    case GgmlType::Q5_1: return matmul_q5_1_q8a;
    case GgmlType::Q4_K: return matmul_q4_k_q8a;
    case GgmlType::Q5_K: return matmul_q5_k_q8a;
    case GgmlType::Q6_K: return matmul_q6_k_q8a;
    default: return nullptr;
  }
}

Kernels kernels_for_isa(Isa isa) {
#if TANDEM_X86
  if (isa == Isa::Avx512) return make_avx512_kernels();
  if (isa == Isa::Avx2) return make_avx2_kernels();
#endif
  (void)isa;
  return make_scalar_kernels();
}

Kernels select_kernels(const CpuFeatures& features) { return kernels_for_isa(features.best_isa()); }

const Kernels& host_kernels() {
  static const Kernels k = select_kernels(CpuFeatures::detect());
  return k;
}

// --- Scalar path ---

namespace {

// Scalar activations are plain BlockQ8A rows.
size_t scalar_act_token_bytes(int64_t n_in, int /*bs*/) {
  return static_cast<size_t>(n_in / kQK) * sizeof(BlockQ8A);
}

void scalar_quantize_acts(const float* x, int64_t n_tokens, int64_t n_in, int64_t ldx, int /*bs*/,
                          uint8_t* out, size_t token_bytes) {
  for (int64_t t = 0; t < n_tokens; ++t)
    quantize_row_q8a(x + t * ldx, reinterpret_cast<BlockQ8A*>(out + t * token_bytes), n_in);
}

void scalar_matmul(const WeightView& w, const Activations& a, float* y, int64_t ldy, int64_t r0,
                   int64_t r1) {
  const bool quantized = uses_q8a_activations(w.type);
  for (int64_t t = 0; t < a.n_tokens; ++t) {
    const float* x = quantized ? nullptr : a.x + t * a.ldx;
    const auto* q = quantized ? reinterpret_cast<const BlockQ8A*>(a.token(t)) : nullptr;
    for (int64_t r = r0; r < r1; ++r) y[t * ldy + r] = vec_dot_row(w.type, w.n_in, w.row(r), x, q);
  }
}

}  // namespace

Kernels make_scalar_kernels() {
  Kernels k;
  k.isa = Isa::Scalar;
  k.quantize_acts = scalar_quantize_acts;
  k.act_token_bytes = scalar_act_token_bytes;
  k.matmul_f32_f32 = k.matmul_f16_f32 = k.matmul_bf16_f32 = scalar_matmul;
  k.matmul_q8_0_q8a = k.matmul_q4_0_q8a = k.matmul_q4_1_q8a = k.matmul_q5_0_q8a = scalar_matmul;
  k.matmul_q5_1_q8a = k.matmul_q4_k_q8a = k.matmul_q5_k_q8a = k.matmul_q6_k_q8a = scalar_matmul;
  return k;
}

}  // namespace tandem

// Reference dot products and the by-type-id entry points of quants.h, and the
// affine decoding of affine.h that the reference dots and the kernels share.
#include "tandem/tensor/quants.h"

#include <algorithm>
#include <cstring>

#include "tandem/tensor/affine.h"
#include "tandem/tensor/float16.h"

namespace tandem {

// Defined in quants_legacy.cpp / quants_k.cpp.
void decode_affine_legacy_block(GgmlType t, const uint8_t* blk, bool q8_signed, uint8_t* q, float& d,
                                float& m);
void decode_affine_k_group(GgmlType t, const uint8_t* row, int64_t g, AffineGroup& out);

bool is_compute_type(GgmlType t) {
  switch (t) {
    case GgmlType::F32:
    case GgmlType::F16:
    case GgmlType::BF16:
    case GgmlType::Q8_0:
    case GgmlType::Q4_0:
    case GgmlType::Q4_1:
    case GgmlType::Q5_0:
    case GgmlType::Q5_1:
    case GgmlType::Q4_K:
    case GgmlType::Q5_K:
    case GgmlType::Q6_K:
      return true;
    default:
      return false;
  }
}

bool uses_q8a_activations(GgmlType t) {
  return is_compute_type(t) && t != GgmlType::F32 && t != GgmlType::F16 && t != GgmlType::BF16;
}

size_t row_bytes(GgmlType t, int64_t n) {
  const GgmlTypeTraits tr = ggml_traits(t);
  return static_cast<size_t>(n / tr.block_size) * tr.type_size;
}

Status check_row_shape(GgmlType t, int64_t n) {
  if (!is_compute_type(t))
    return make_error("tensor type ", ggml_type_name(t),
                      " has no kernels (supported: F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q4_K Q5_K Q6_K)");
  const uint32_t bs = ggml_traits(t).block_size;
  if (n <= 0 || n % bs != 0)
    return make_error("row of ", n, " elements is not a positive multiple of the ", ggml_type_name(t),
                      " block size ", bs);
  return ok_status();
}

void dequantize_row(GgmlType t, const void* x, float* y, int64_t n) {
  switch (t) {
    case GgmlType::F32: return dequantize_row_f32(static_cast<const float*>(x), y, n);
    case GgmlType::F16: return dequantize_row_f16(static_cast<const uint16_t*>(x), y, n);
    case GgmlType::BF16: return dequantize_row_bf16(static_cast<const uint16_t*>(x), y, n);
    case GgmlType::Q8_0: return dequantize_row_q8_0(static_cast<const BlockQ8_0*>(x), y, n);
    case GgmlType::Q4_0: return dequantize_row_q4_0(static_cast<const BlockQ4_0*>(x), y, n);
    case GgmlType::Q4_1: return dequantize_row_q4_1(static_cast<const BlockQ4_1*>(x), y, n);
    case GgmlType::Q5_0: return dequantize_row_q5_0(static_cast<const BlockQ5_0*>(x), y, n);
    case GgmlType::Q5_1: return dequantize_row_q5_1(static_cast<const BlockQ5_1*>(x), y, n);
    case GgmlType::Q4_K: return dequantize_row_q4_k(static_cast<const BlockQ4_K*>(x), y, n);
    case GgmlType::Q5_K: return dequantize_row_q5_k(static_cast<const BlockQ5_K*>(x), y, n);
    case GgmlType::Q6_K: return dequantize_row_q6_k(static_cast<const BlockQ6_K*>(x), y, n);
    default: std::fill(y, y + n, 0.0f);
  }
}

void quantize_row(GgmlType t, const float* x, void* y, int64_t n) {
  switch (t) {
    case GgmlType::F32: return quantize_row_f32(x, static_cast<float*>(y), n);
    case GgmlType::F16: return quantize_row_f16(x, static_cast<uint16_t*>(y), n);
    case GgmlType::BF16: return quantize_row_bf16(x, static_cast<uint16_t*>(y), n);
    case GgmlType::Q8_0: return quantize_row_q8_0(x, static_cast<BlockQ8_0*>(y), n);
    case GgmlType::Q4_0: return quantize_row_q4_0(x, static_cast<BlockQ4_0*>(y), n);
    case GgmlType::Q4_1: return quantize_row_q4_1(x, static_cast<BlockQ4_1*>(y), n);
    case GgmlType::Q5_0: return quantize_row_q5_0(x, static_cast<BlockQ5_0*>(y), n);
    case GgmlType::Q5_1: return quantize_row_q5_1(x, static_cast<BlockQ5_1*>(y), n);
    case GgmlType::Q4_K: return quantize_row_q4_k(x, static_cast<BlockQ4_K*>(y), n);
    case GgmlType::Q5_K: return quantize_row_q5_k(x, static_cast<BlockQ5_K*>(y), n);
    case GgmlType::Q6_K: return quantize_row_q6_k(x, static_cast<BlockQ6_K*>(y), n);
    default: break;
  }
}

// --- affine view ---

int64_t affine_groups(GgmlType t, int64_t n) {
  const int64_t span = int64_t{kGroupBlocks} * affine_block_size(t);
  return (n + span - 1) / span;
}

void decode_affine_group(GgmlType t, const uint8_t* row, int64_t n, int64_t g, bool q8_signed,
                         AffineGroup& out) {
  if (t == GgmlType::Q4_K || t == GgmlType::Q5_K || t == GgmlType::Q6_K) {
    decode_affine_k_group(t, row, g, out);  // K-quant rows are whole groups
    return;
  }
  const size_t type_size = ggml_traits(t).type_size;
  const int64_t n_blocks = n / kQK;
  for (int b = 0; b < kGroupBlocks; ++b) {
    const int64_t blk = g * kGroupBlocks + b;
    if (blk < n_blocks) {
      decode_affine_legacy_block(t, row + blk * type_size, q8_signed, out.q + kQK * b, out.d[b], out.m[b]);
    } else {
      std::memset(out.q + kQK * b, 0, kQK);
      out.d[b] = out.m[b] = 0.0f;
    }
  }
}

// --- reference dot products ---

namespace {

// sum over blocks of da * (d * sum(q * qa) + m * S), in double. The integer sums
// are exact; only the float scales round.
float dot_affine(GgmlType t, int64_t n, const void* w, const BlockQ8A* a, bool q8_signed) {
  const auto* row = static_cast<const uint8_t*>(w);
  const int bs = affine_block_size(t);
  const int64_t n_blocks = n / bs;
  AffineGroup grp;
  double sum = 0.0;
  for (int64_t g = 0; g < affine_groups(t, n); ++g) {
    decode_affine_group(t, row, n, g, q8_signed, grp);
    for (int b = 0; b < kGroupBlocks; ++b) {
      const int64_t blk = g * kGroupBlocks + b;  // in units of bs
      if (blk >= n_blocks) break;
      const BlockQ8A& ab = a[blk * bs / kQK];
      const int off = static_cast<int>((blk * bs) % kQK);  // 0, or 16 for Q6_K's odd sub-blocks
      const uint8_t* q = grp.q + b * bs;
      int64_t qdot = 0;
      for (int i = 0; i < bs; ++i) {
        const int qw = q8_signed ? static_cast<int8_t>(q[i]) : q[i];
        qdot += qw * ab.qs[off + i];
      }
      const int64_t s = bs == kQK ? ab.s[0] + ab.s[1] : ab.s[off / 16];
      sum += double(ab.d) * (double(grp.d[b]) * double(qdot) + double(grp.m[b]) * double(s));
    }
  }
  return static_cast<float>(sum);
}

}  // namespace

float vec_dot_f32_f32(int64_t n, const float* w, const float* x) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += double(w[i]) * double(x[i]);
  return static_cast<float>(sum);
}

float vec_dot_f16_f32(int64_t n, const uint16_t* w, const float* x) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += double(fp16_to_fp32(w[i])) * double(x[i]);
  return static_cast<float>(sum);
}

float vec_dot_bf16_f32(int64_t n, const uint16_t* w, const float* x) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += double(bf16_to_fp32(w[i])) * double(x[i]);
  return static_cast<float>(sum);
}

// Q8_0 is dotted with its signed codes (m = 0), the textbook form.
float vec_dot_q8_0_q8a(int64_t n, const BlockQ8_0* w, const BlockQ8A* a) {
  return dot_affine(GgmlType::Q8_0, n, w, a, true);
}
float vec_dot_q4_0_q8a(int64_t n, const BlockQ4_0* w, const BlockQ8A* a) {
  return dot_affine(GgmlType::Q4_0, n, w, a, false);
}
float vec_dot_q4_1_q8a(int64_t n, const BlockQ4_1* w, const BlockQ8A* a) {
  return dot_affine(GgmlType::Q4_1, n, w, a, false);
}
float vec_dot_q5_0_q8a(int64_t n, const BlockQ5_0* w, const BlockQ8A* a) {
  return dot_affine(GgmlType::Q5_0, n, w, a, false);
}
float vec_dot_q5_1_q8a(int64_t n, const BlockQ5_1* w, const BlockQ8A* a) {
  return dot_affine(GgmlType::Q5_1, n, w, a, false);
}
float vec_dot_q4_k_q8a(int64_t n, const BlockQ4_K* w, const BlockQ8A* a) {
  return dot_affine(GgmlType::Q4_K, n, w, a, false);
}
float vec_dot_q5_k_q8a(int64_t n, const BlockQ5_K* w, const BlockQ8A* a) {
  return dot_affine(GgmlType::Q5_K, n, w, a, false);
}
float vec_dot_q6_k_q8a(int64_t n, const BlockQ6_K* w, const BlockQ8A* a) {
  return dot_affine(GgmlType::Q6_K, n, w, a, false);
}

float vec_dot_row(GgmlType t, int64_t n, const void* w, const float* x, const BlockQ8A* a) {
  switch (t) {
    case GgmlType::F32: return vec_dot_f32_f32(n, static_cast<const float*>(w), x);
    case GgmlType::F16: return vec_dot_f16_f32(n, static_cast<const uint16_t*>(w), x);
    case GgmlType::BF16: return vec_dot_bf16_f32(n, static_cast<const uint16_t*>(w), x);
    case GgmlType::Q8_0: return dot_affine(t, n, w, a, true);
    default: return uses_q8a_activations(t) ? dot_affine(t, n, w, a, false) : 0.0f;
  }
}

}  // namespace tandem

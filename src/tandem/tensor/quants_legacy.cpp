// Reference (de)quantizers of the float types and the 32-element legacy block
// types Q8_0 Q4_0 Q4_1 Q5_0 Q5_1, plus tandem's BlockQ8A activations. The
// quantizers reproduce ggml's reference arithmetic step for step (same float
// operations in the same order, roundf / truncation where it uses them), since
// a different rounding of one value writes a different file.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "tandem/tensor/float16.h"
#include "tandem/tensor/quants.h"

namespace tandem {

void fp16_to_fp32_row(const uint16_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = fp16_to_fp32(x[i]);
}
void fp32_to_fp16_row(const float* x, uint16_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = fp32_to_fp16(x[i]);
}
void bf16_to_fp32_row(const uint16_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = bf16_to_fp32(x[i]);
}
void fp32_to_bf16_row(const float* x, uint16_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = fp32_to_bf16(x[i]);
}

void dequantize_row_f32(const float* x, float* y, int64_t n) { std::memcpy(y, x, n * sizeof(float)); }
void dequantize_row_f16(const uint16_t* x, float* y, int64_t n) { fp16_to_fp32_row(x, y, n); }
void dequantize_row_bf16(const uint16_t* x, float* y, int64_t n) { bf16_to_fp32_row(x, y, n); }
void quantize_row_f32(const float* x, float* y, int64_t n) { std::memcpy(y, x, n * sizeof(float)); }
void quantize_row_f16(const float* x, uint16_t* y, int64_t n) { fp32_to_fp16_row(x, y, n); }
void quantize_row_bf16(const float* x, uint16_t* y, int64_t n) { fp32_to_bf16_row(x, y, n); }

// --- Q8_0 ---

void dequantize_row_q8_0(const BlockQ8_0* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float d = fp16_to_fp32(x[i].d);
    for (int j = 0; j < kQK; ++j) y[i * kQK + j] = x[i].qs[j] * d;
  }
}

void quantize_row_q8_0(const float* x, BlockQ8_0* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float* xb = x + i * kQK;
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(xb[j]));
    const float d = amax / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    for (int j = 0; j < kQK; ++j) y[i].qs[j] = static_cast<int8_t>(std::round(xb[j] * id));
  }
}

// --- Q4_0 / Q5_0: symmetric, scale from the signed value of largest magnitude ---

namespace {

// The value of largest magnitude (its sign kept), first one on ties.
float signed_absmax(const float* x) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < kQK; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

void min_max(const float* x, float& mn, float& mx) {
  mn = FLT_MAX;
  mx = -FLT_MAX;
  for (int j = 0; j < kQK; ++j) {
    if (x[j] < mn) mn = x[j];
    if (x[j] > mx) mx = x[j];
  }
}

uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

}  // namespace

void dequantize_row_q4_0(const BlockQ4_0* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float d = fp16_to_fp32(x[i].d);
    for (int j = 0; j < kQK / 2; ++j) {
      y[i * kQK + j] = ((x[i].qs[j] & 0x0F) - 8) * d;
      y[i * kQK + j + kQK / 2] = ((x[i].qs[j] >> 4) - 8) * d;
    }
  }
}

void quantize_row_q4_0(const float* x, BlockQ4_0* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float* xb = x + i * kQK;
    const float d = signed_absmax(xb) / -8;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    for (int j = 0; j < kQK / 2; ++j) {
      // x * id lies in [-8, 8]; + 8.5 and truncation round to the nearest code.
      const int q0 = std::min(15, static_cast<int>(xb[j] * id + 8.5f));
      const int q1 = std::min(15, static_cast<int>(xb[j + kQK / 2] * id + 8.5f));
      y[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

void dequantize_row_q5_0(const BlockQ5_0* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float d = fp16_to_fp32(x[i].d);
    const uint32_t qh = load_u32(x[i].qh);
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = (x[i].qs[j] & 0x0F) | (((qh >> j) & 1) << 4);
      const int q1 = (x[i].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
      y[i * kQK + j] = (q0 - 16) * d;
      y[i * kQK + j + kQK / 2] = (q1 - 16) * d;
    }
  }
}

void quantize_row_q5_0(const float* x, BlockQ5_0* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float* xb = x + i * kQK;
    const float d = signed_absmax(xb) / -16;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    uint32_t qh = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = std::min(31, static_cast<int>(xb[j] * id + 16.5f));
      const int q1 = std::min(31, static_cast<int>(xb[j + kQK / 2] * id + 16.5f));
      y[i].qs[j] = static_cast<uint8_t>((q0 & 0x0F) | ((q1 & 0x0F) << 4));
      qh |= static_cast<uint32_t>((q0 >> 4) & 1) << j;
      qh |= static_cast<uint32_t>((q1 >> 4) & 1) << (j + kQK / 2);
    }
    std::memcpy(y[i].qh, &qh, 4);
  }
}

// --- Q4_1 / Q5_1: asymmetric, min and (max - min) / levels ---

void dequantize_row_q4_1(const BlockQ4_1* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float d = fp16_to_fp32(x[i].d);
    const float m = fp16_to_fp32(x[i].m);
    for (int j = 0; j < kQK / 2; ++j) {
      y[i * kQK + j] = (x[i].qs[j] & 0x0F) * d + m;
      y[i * kQK + j + kQK / 2] = (x[i].qs[j] >> 4) * d + m;
    }
  }
}

void quantize_row_q4_1(const float* x, BlockQ4_1* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float* xb = x + i * kQK;
    float mn, mx;
    min_max(xb, mn, mx);
    const float d = (mx - mn) / 15;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    y[i].m = fp32_to_fp16(mn);
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = std::min(15, static_cast<int>((xb[j] - mn) * id + 0.5f));
      const int q1 = std::min(15, static_cast<int>((xb[j + kQK / 2] - mn) * id + 0.5f));
      y[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

void dequantize_row_q5_1(const BlockQ5_1* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float d = fp16_to_fp32(x[i].d);
    const float m = fp16_to_fp32(x[i].m);
    const uint32_t qh = load_u32(x[i].qh);
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = (x[i].qs[j] & 0x0F) | (((qh >> j) & 1) << 4);
      const int q1 = (x[i].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
      y[i * kQK + j] = q0 * d + m;
      y[i * kQK + j + kQK / 2] = q1 * d + m;
    }
  }
}

void quantize_row_q5_1(const float* x, BlockQ5_1* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float* xb = x + i * kQK;
    float mn, mx;
    min_max(xb, mn, mx);
    const float d = (mx - mn) / 31;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    y[i].m = fp32_to_fp16(mn);
    uint32_t qh = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      // (x - min) * id is at most 31 (+ rounding), so no clamp: as the reference.
      const int q0 = static_cast<uint8_t>((xb[j] - mn) * id + 0.5f);
      const int q1 = static_cast<uint8_t>((xb[j + kQK / 2] - mn) * id + 0.5f);
      y[i].qs[j] = static_cast<uint8_t>((q0 & 0x0F) | ((q1 & 0x0F) << 4));
      qh |= static_cast<uint32_t>((q0 >> 4) & 1) << j;
      qh |= static_cast<uint32_t>((q1 >> 4) & 1) << (j + kQK / 2);
    }
    std::memcpy(y[i].qh, &qh, 4);
  }
}

// --- BlockQ8A activations ---

void quantize_row_q8a(const float* x, BlockQ8A* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float* xb = x + i * kQK;
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(xb[j]));
    const float d = amax / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = d;
    int s[2] = {0, 0};
    for (int j = 0; j < kQK; ++j) {
      // Nearest even (the SIMD quantizers' cvtps2dq) so every path agrees bit for bit.
      const int q = static_cast<int>(std::nearbyint(xb[j] * id));
      y[i].qs[j] = static_cast<int8_t>(q);
      s[j / 16] += q;
    }
    y[i].s[0] = static_cast<int16_t>(s[0]);
    y[i].s[1] = static_cast<int16_t>(s[1]);
  }
}

void dequantize_row_q8a(const BlockQ8A* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i)
    for (int j = 0; j < kQK; ++j) y[i * kQK + j] = x[i].qs[j] * x[i].d;
}

// --- affine decoding of the legacy types (see affine.h) ---

namespace {

// The 32 codes of a Q4 block: element j is the low nibble of qs[j], j + 16 the high one.
void nibbles(const uint8_t* qs, uint8_t* q) {
  for (int j = 0; j < kQK / 2; ++j) {
    q[j] = qs[j] & 0x0F;
    q[j + kQK / 2] = qs[j] >> 4;
  }
}

void fifth_bits(const uint8_t* qh4, uint8_t* q) {
  const uint32_t qh = load_u32(qh4);
  for (int j = 0; j < kQK; ++j) q[j] |= static_cast<uint8_t>(((qh >> j) & 1) << 4);
}

}  // namespace

// Decodes one legacy block (type t, 32 elements) into codes and (d, m).
void decode_affine_legacy_block(GgmlType t, const uint8_t* blk, bool q8_signed, uint8_t* q, float& d,
                                float& m) {
  switch (t) {
    case GgmlType::Q8_0: {
      const auto* b = reinterpret_cast<const BlockQ8_0*>(blk);
      d = fp16_to_fp32(b->d);
      for (int j = 0; j < kQK; ++j)
        q[j] = static_cast<uint8_t>(q8_signed ? b->qs[j] : b->qs[j] + 128);
      m = q8_signed ? 0.0f : -128.0f * d;
      return;
    }
    case GgmlType::Q4_0: {
      const auto* b = reinterpret_cast<const BlockQ4_0*>(blk);
      d = fp16_to_fp32(b->d);
      m = -8.0f * d;
      nibbles(b->qs, q);
      return;
    }
    case GgmlType::Q4_1: {
      const auto* b = reinterpret_cast<const BlockQ4_1*>(blk);
      d = fp16_to_fp32(b->d);
      m = fp16_to_fp32(b->m);
      nibbles(b->qs, q);
      return;
    }
    case GgmlType::Q5_0: {
      const auto* b = reinterpret_cast<const BlockQ5_0*>(blk);
      d = fp16_to_fp32(b->d);
      m = -16.0f * d;
      nibbles(b->qs, q);
      fifth_bits(b->qh, q);
      return;
    }
    case GgmlType::Q5_1: {
      const auto* b = reinterpret_cast<const BlockQ5_1*>(blk);
      d = fp16_to_fp32(b->d);
      m = fp16_to_fp32(b->m);
      nibbles(b->qs, q);
      fifth_bits(b->qh, q);
      return;
    }
    default:
      d = m = 0.0f;
      std::fill(q, q + kQK, uint8_t{0});
  }
}

}  // namespace tandem

// Reference (de)quantizers of the K-quants Q4_K, Q5_K and Q6_K (256-element
// super-blocks with per-sub-block scales). The quantizers follow ggml's
// reference search (make_qkx2_quants for the scale/min types, make_qx_quants
// for Q6_K) float operation for float operation, so that tandem writes the same
// bytes as llama-quantize without an importance matrix.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "tandem/tensor/affine.h"
#include "tandem/tensor/float16.h"
#include "tandem/tensor/quants.h"

namespace tandem {
namespace {

constexpr float kGroupMaxEps = 1e-15f;

// Round to nearest (ties to even) for |f| < 2^22 by adding 1.5 * 2^23: the sum's
// low mantissa bits are the integer. ggml rounds this way; so must we.
int nearest_int(float f) {
  const float v = f + 12582912.0f;
  int32_t i;
  std::memcpy(&i, &v, 4);
  return (i & 0x007fffff) - 0x00400000;
}

// Fits x[i] ~= scale * L[i] - min with L in [0, nmax], min >= 0, minimizing the
// weighted squared error: start from the min/max grid, then try nstep+1 other
// grid spacings and solve the 2x2 least squares for each. Returns the scale,
// stores the min (as a positive number to subtract) in the_min.
float fit_scale_min(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* the_min,
                    uint8_t* Laux, float rmin, float rdelta, int nstep) {
  float min = x[0];
  float max = x[0];
  float sum_w = weights[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    const float w = weights[i];
    sum_w += w;
    sum_x += w * x[i];
  }
  if (min > 0) min = 0;
  if (max == min) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    *the_min = -min;
    return 0.0f;
  }
  float iscale = nmax / (max - min);
  float scale = 1 / iscale;
  float best_error = 0;
  for (int i = 0; i < n; ++i) {
    const int l = nearest_int(iscale * (x[i] - min));
    L[i] = static_cast<uint8_t>(std::max(0, std::min(nmax, l)));
    float diff = scale * L[i] + min - x[i];
    diff = diff * diff;
    best_error += weights[i] * diff;
  }
  for (int is = 0; is <= nstep; ++is) {
    iscale = (rmin + rdelta * is + nmax) / (max - min);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      int l = nearest_int(iscale * (x[i] - min));
      l = std::max(0, std::min(nmax, l));
      Laux[i] = static_cast<uint8_t>(l);
      const float w = weights[i];
      sum_l += w * l;
      sum_l2 += w * l * l;
      sum_xl += w * l * x[i];
    }
    const float D = sum_w * sum_l2 - sum_l * sum_l;
    if (D > 0) {
      float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
      float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
      if (this_min > 0) {
        this_min = 0;
        this_scale = sum_xl / sum_l2;
      }
      float cur_error = 0;
      for (int i = 0; i < n; ++i) {
        float diff = this_scale * Laux[i] + this_min - x[i];
        diff = diff * diff;
        cur_error += weights[i] * diff;
      }
      if (cur_error < best_error) {
        for (int i = 0; i < n; ++i) L[i] = Laux[i];
        best_error = cur_error;
        scale = this_scale;
        min = this_min;
      }
    }
  }
  *the_min = -min;
  return scale;
}

// Symmetric fit x[i] ~= scale * (L[i] - nmax), L in [0, 2 nmax - 1], weighted by
// x^2, trying 18 grid spacings around nmax / max|x| (ggml's rmse_type 1).
float fit_scale_symmetric(int n, int nmax, const float* x, int8_t* L) {
  float max = 0, amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0.0f;
  }
  float iscale = -nmax / max;
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; ++i) {
    int l = nearest_int(iscale * x[i]);
    l = std::max(-nmax, std::min(nmax - 1, l));
    L[i] = static_cast<int8_t>(l + nmax);
    const float w = x[i] * x[i];
    sumlx += w * x[i] * l;
    suml2 += w * l * l;
  }
  float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    iscale = -(nmax + 0.1f * is) / max;
    sumlx = suml2 = 0;
    for (int i = 0; i < n; ++i) {
      int l = nearest_int(iscale * x[i]);
      l = std::max(-nmax, std::min(nmax - 1, l));
      const float w = x[i] * x[i];
      sumlx += w * x[i] * l;
      suml2 += w * l * l;
    }
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      for (int i = 0; i < n; ++i) {
        const int l = nearest_int(iscale * x[i]);
        L[i] = static_cast<int8_t>(nmax + std::max(-nmax, std::min(nmax - 1, l)));
      }
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

// Q4_K and Q5_K share everything but the code width (nmax 15 / 31) and the
// search grid; L receives the 256 codes, the block its d, dmin and scales.
void quantize_k_scales(const float* x, uint8_t* L, int nmax, float rmin, float rdelta, int nstep,
                       uint16_t& d_out, uint16_t& dmin_out, uint8_t* scales_out) {
  float mins[kQK_K / 32];
  float scales[kQK_K / 32];
  float weights[32];
  uint8_t Laux[32];
  float max_scale = 0, max_min = 0;
  for (int j = 0; j < kQK_K / 32; ++j) {
    const float* xs = x + 32 * j;
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += xs[l] * xs[l];
    const float av_x = std::sqrt(sum_x2 / 32);
    for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(xs[l]);
    scales[j] = fit_scale_min(32, nmax, xs, weights, L + 32 * j, &mins[j], Laux, rmin, rdelta, nstep);
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }
  const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  for (int j = 0; j < kQK_K / 32; ++j) {
    uint8_t ls = static_cast<uint8_t>(nearest_int(inv_scale * scales[j]));
    uint8_t lm = static_cast<uint8_t>(nearest_int(inv_min * mins[j]));
    ls = std::min<uint8_t>(63, ls);
    lm = std::min<uint8_t>(63, lm);
    if (j < 4) {
      scales_out[j] = ls;
      scales_out[j + 4] = lm;
    } else {
      scales_out[j + 4] = static_cast<uint8_t>((ls & 0xF) | ((lm & 0xF) << 4));
      scales_out[j - 4] |= static_cast<uint8_t>((ls >> 4) << 6);
      scales_out[j - 0] |= static_cast<uint8_t>((lm >> 4) << 6);
    }
  }
  d_out = fp32_to_fp16(max_scale / 63.f);
  dmin_out = fp32_to_fp16(max_min / 63.f);
  // Requantize against the scales as stored (6-bit, fp16), which the decoder sees.
  for (int j = 0; j < kQK_K / 32; ++j) {
    uint8_t sc, mn;
    k_scale_min(j, scales_out, sc, mn);
    const float d = fp16_to_fp32(d_out) * sc;
    if (d == 0.0f) continue;
    const float dm = fp16_to_fp32(dmin_out) * mn;
    for (int ii = 0; ii < 32; ++ii) {
      const int l = nearest_int((x[32 * j + ii] + dm) / d);
      L[32 * j + ii] = static_cast<uint8_t>(std::max(0, std::min(nmax, l)));
    }
  }
}

}  // namespace

// --- Q4_K ---

void quantize_row_q4_k(const float* x, BlockQ4_K* y, int64_t n) {
  uint8_t L[kQK_K];
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    std::memset(y[i].scales, 0, kKScaleBytes);
    quantize_k_scales(x, L, 15, -1.0f, 0.1f, 20, y[i].d, y[i].dmin, y[i].scales);
    uint8_t* q = y[i].qs;
    for (int j = 0; j < kQK_K; j += 64, q += 32)
      for (int l = 0; l < 32; ++l) q[l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 4));
  }
}

void dequantize_row_q4_k(const BlockQ4_K* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = fp16_to_fp32(x[i].d);
    const float dmin = fp16_to_fp32(x[i].dmin);
    const uint8_t* q = x[i].qs;
    for (int j = 0; j < kQK_K / 32; j += 2, q += 32) {
      uint8_t sc, mn;
      k_scale_min(j, x[i].scales, sc, mn);
      const float d1 = d * sc, m1 = dmin * mn;
      k_scale_min(j + 1, x[i].scales, sc, mn);
      const float d2 = d * sc, m2 = dmin * mn;
      for (int l = 0; l < 32; ++l) *y++ = d1 * (q[l] & 0xF) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * (q[l] >> 4) - m2;
    }
  }
}

// --- Q5_K ---

void quantize_row_q5_k(const float* x, BlockQ5_K* y, int64_t n) {
  uint8_t L[kQK_K];
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    std::memset(y[i].scales, 0, kKScaleBytes);
    quantize_k_scales(x, L, 31, -0.5f, 0.1f, 15, y[i].d, y[i].dmin, y[i].scales);
    uint8_t* qh = y[i].qh;
    uint8_t* ql = y[i].qs;
    std::memset(qh, 0, kQK_K / 8);
    uint8_t m1 = 1, m2 = 2;
    for (int j = 0; j < kQK_K; j += 64, ql += 32) {
      for (int l = 0; l < 32; ++l) {
        int l1 = L[j + l];
        if (l1 > 15) {
          l1 -= 16;
          qh[l] |= m1;
        }
        int l2 = L[j + l + 32];
        if (l2 > 15) {
          l2 -= 16;
          qh[l] |= m2;
        }
        ql[l] = static_cast<uint8_t>(l1 | (l2 << 4));
      }
      m1 = static_cast<uint8_t>(m1 << 2);
      m2 = static_cast<uint8_t>(m2 << 2);
    }
  }
}

void dequantize_row_q5_k(const BlockQ5_K* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = fp16_to_fp32(x[i].d);
    const float dmin = fp16_to_fp32(x[i].dmin);
    const uint8_t* ql = x[i].qs;
    const uint8_t* qh = x[i].qh;
    for (int j = 0; j < kQK_K / 32; j += 2, ql += 32) {
      uint8_t sc, mn;
      k_scale_min(j, x[i].scales, sc, mn);
      const float d1 = d * sc, m1 = dmin * mn;
      k_scale_min(j + 1, x[i].scales, sc, mn);
      const float d2 = d * sc, m2 = dmin * mn;
      for (int l = 0; l < 32; ++l) *y++ = d1 * ((ql[l] & 0xF) + (((qh[l] >> j) & 1) << 4)) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * ((ql[l] >> 4) + (((qh[l] >> (j + 1)) & 1) << 4)) - m2;
    }
  }
}

// --- Q6_K ---

void quantize_row_q6_k(const float* x, BlockQ6_K* y, int64_t n) {
  int8_t L[kQK_K];
  float scales[kQK_K / 16];
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    float max_scale = 0, max_abs_scale = 0;
    for (int ib = 0; ib < kQK_K / 16; ++ib) {
      const float scale = fit_scale_symmetric(16, 32, x + 16 * ib, L + 16 * ib);
      scales[ib] = scale;
      if (std::fabs(scale) > max_abs_scale) {
        max_abs_scale = std::fabs(scale);
        max_scale = scale;
      }
    }
    if (max_abs_scale < kGroupMaxEps) {
      std::memset(&y[i], 0, sizeof(BlockQ6_K));
      continue;
    }
    const float iscale = -128.f / max_scale;
    y[i].d = fp32_to_fp16(1 / iscale);
    for (int ib = 0; ib < kQK_K / 16; ++ib)
      y[i].scales[ib] = static_cast<int8_t>(std::min(127, nearest_int(iscale * scales[ib])));
    for (int j = 0; j < kQK_K / 16; ++j) {
      const float d = fp16_to_fp32(y[i].d) * y[i].scales[j];
      if (d == 0.0f) continue;
      for (int ii = 0; ii < 16; ++ii) {
        const int l = nearest_int(x[16 * j + ii] / d);
        L[16 * j + ii] = static_cast<int8_t>(std::max(-32, std::min(31, l)) + 32);
      }
    }
    uint8_t* ql = y[i].ql;
    uint8_t* qh = y[i].qh;
    for (int j = 0; j < kQK_K; j += 128, ql += 64, qh += 32) {
      for (int l = 0; l < 32; ++l) {
        const int q1 = L[j + l] & 0xF, q2 = L[j + l + 32] & 0xF;
        const int q3 = L[j + l + 64] & 0xF, q4 = L[j + l + 96] & 0xF;
        ql[l] = static_cast<uint8_t>(q1 | (q3 << 4));
        ql[l + 32] = static_cast<uint8_t>(q2 | (q4 << 4));
        qh[l] = static_cast<uint8_t>((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) |
                                     ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6));
      }
    }
  }
}

namespace {

// The 64 six-bit codes (0..63) of elements [64c, 64c + 64) of a Q6_K block:
// elements 128h + l (l < 32) live in ql[64h + l] low nibble and qh[32h + l] bits
// 0-1, +32 in ql[64h + 32 + l] low / bits 2-3, +64 high nibbles / bits 4-5, +96 bits 6-7.
void q6_codes(const BlockQ6_K& b, int c, uint8_t* q) {
  const int h = c / 2, upper = c % 2;
  const uint8_t* ql = b.ql + 64 * h;
  const uint8_t* qh = b.qh + 32 * h;
  for (int e = 0; e < 64; ++e) {
    const int l = e % 32, part = e / 32;  // part 0: ql[l], part 1: ql[32 + l]
    const int lo = upper ? ql[32 * part + l] >> 4 : ql[32 * part + l] & 0xF;
    const int shift = 2 * part + 4 * upper;
    q[e] = static_cast<uint8_t>(lo | (((qh[l] >> shift) & 3) << 4));
  }
}

}  // namespace

void dequantize_row_q6_k(const BlockQ6_K* x, float* y, int64_t n) {
  uint8_t q[64];
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = fp16_to_fp32(x[i].d);
    for (int c = 0; c < 4; ++c) {
      q6_codes(x[i], c, q);
      for (int e = 0; e < 64; ++e) *y++ = d * x[i].scales[4 * c + e / 16] * (q[e] - 32);
    }
  }
}

// --- affine decoding of the K-quants (see affine.h) ---

// Group g of a K-quant row: Q4_K/Q5_K groups are half super-blocks (4 sub-blocks
// of 32), Q6_K groups a quarter (4 sub-blocks of 16).
void decode_affine_k_group(GgmlType t, const uint8_t* row, int64_t g, AffineGroup& out) {
  if (t == GgmlType::Q6_K) {
    const auto& b = reinterpret_cast<const BlockQ6_K*>(row)[g / 4];
    const int c = static_cast<int>(g % 4);
    q6_codes(b, c, out.q);
    const float d = fp16_to_fp32(b.d);
    for (int k = 0; k < 4; ++k) {
      out.d[k] = d * b.scales[4 * c + k];
      out.m[k] = -32.0f * out.d[k];
    }
    return;
  }
  const bool five = t == GgmlType::Q5_K;
  const int64_t sb = g / 2;
  const int half = static_cast<int>(g % 2);
  const uint8_t* base = row + sb * (five ? sizeof(BlockQ5_K) : sizeof(BlockQ4_K));
  // Both layouts start with d, dmin, scales[12]; qs follows qh in Q5_K.
  uint16_t dh, dminh;
  std::memcpy(&dh, base, 2);
  std::memcpy(&dminh, base + 2, 2);
  const uint8_t* scales = base + 4;
  const uint8_t* qh = five ? base + 16 : nullptr;
  const uint8_t* qs = base + (five ? 48 : 16) + 64 * half;
  const float d = fp16_to_fp32(dh), dmin = fp16_to_fp32(dminh);
  for (int k = 0; k < 4; ++k) {
    const int j = 4 * half + k;  // sub-block within the super-block
    uint8_t sc, mn;
    k_scale_min(j, scales, sc, mn);
    out.d[k] = d * sc;
    out.m[k] = -(dmin * mn);
    const uint8_t* src = qs + 32 * (k / 2);  // sub-blocks 2i, 2i+1 share 32 bytes
    for (int l = 0; l < 32; ++l) {
      int v = (k % 2) ? src[l] >> 4 : src[l] & 0xF;
      if (five) v |= ((qh[l] >> j) & 1) << 4;
      out.q[32 * k + l] = static_cast<uint8_t>(v);
    }
  }
}

}  // namespace tandem

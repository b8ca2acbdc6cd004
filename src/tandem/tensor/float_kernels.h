// The float kernels of the forward pass besides the matrix products: attention
// of query heads over a KV cache, the SwiGLU gate, RMS norm and rope; and the
// log-sum-exp of a row of logits (log-probabilities, perplexity). Like the matmuls they come
// in a scalar reference and AVX2 / AVX-512 versions held in the Kernels table.
//
// Attention reads keys transposed (one row per key component, positions along
// the row), so that a vector of W positions' scores is hd FMAs with no
// horizontal sums, and values as rows (one row per position).
// Each query head's result depends only on its own query, the keys and values
// and n_kv: never on how many heads or tokens one call or one batch holds.
#pragma once

#include <cstdint>

namespace tandem {

inline constexpr int64_t kKeyBlock = 16;

struct AttendArgs {
  const float* q = nullptr;  // n_q query heads of hd floats, head i at q + i * q_stride
  int64_t q_stride = 0;
  int64_t n_q = 0;
  // Keys in blocks of kKeyBlock positions, each block hd rows of kKeyBlock:
  // component d of position j at kt[(j / kKeyBlock) * kt_stride + d * kKeyBlock + j % kKeyBlock]
  // (kt_stride >= hd * kKeyBlock). A vector of positions per component, as the
  // transposed layout gives, with a block's keys contiguous for the prefetcher.
  const float* kt = nullptr;
  int64_t kt_stride = 0;
  const float* v = nullptr;  // values: position j at v + j * v_stride (hd floats)
  int64_t v_stride = 0;
  // fp16 keys and values in the same layouts, read instead of kt and v where set.
  const uint16_t* kt16 = nullptr;
  const uint16_t* v16 = nullptr;
  int64_t n_kv = 0;  // positions attended to: [0, n_kv), n_kv >= 1
  int64_t hd = 0;    // head dimension
  float scale = 1;   // multiplies the dot products before the softmax
  float* out = nullptr;  // head i's result at out + i * out_stride (hd floats)
  int64_t out_stride = 0;
  float* scores = nullptr;  // scratch of n_q * n_kv floats
};

// out_i = sum_j softmax_j(scale * q_i . k_j) v_j for every query head i.
using AttendFn = void (*)(const AttendArgs& a);
// y[i] = silu(g[i]) * u[i] = g[i] / (1 + exp(-g[i])) * u[i], i in [0, n); y may be g or u.
using SwigluFn = void (*)(const float* g, const float* u, float* y, int64_t n);

// RMS norm of one row: x += add first where add is not null (the residual,
// stored back into x), then y[i] = x[i] * scale * w[i] with scale = 1 /
// sqrt(mean of x^2 + eps), the squares summed in double. y must not overlap x
// (it may be add).
using RmsNormFn = void (*)(float* x, const float* add, const float* w, float* y, int64_t n, float eps);
// Rotary embedding of n_heads heads in place (head h at v + h * hd), the first
// n_rot components of each, by the angles cs of one position (cos, sin of pair
// i at cs[2i], cs[2i + 1]): pairs (2i, 2i + 1), or (i, i + n_rot / 2) with
// halves (NeoX style). x0' = x0 cos - x1 sin, x1' = x0 sin + x1 cos.
using RopeFn = void (*)(float* v, int64_t n_heads, int64_t hd, int64_t n_rot, const float* cs, bool halves);
// log(sum_i exp(x[i])) of a row of logits, as m + log(sum_i exp(x[i] - m)) with
// m = max x (the exponentials summed in double), m also stored at *max where
// max is not null; -inf for an empty row (*max untouched). The SIMD paths take
// exp in single precision (about 1 ulp a term).
using LogSumExpFn = double (*)(const float* x, int64_t n, float* max);
// Maxima of a row taken as a matrix of w columns (the last row partial):
// out[j] = max(x[j], x[j + w], x[j + 2w], ...) for j in [0, w), with
// 16 <= w <= n and w a multiple of 16. Returns whether every x[i] is finite
// (no NaN, no infinity); out is meaningful only then. Top-k's bound over a
// vocabulary row (sampling/candidates.h).
using ColumnMaxFn = bool (*)(const float* x, int64_t n, int64_t w, float* out);
// The indices i of x[0, n) with x[i] >= bound, ascending, into out (room for
// n); returns how many.
using IndicesAtLeastFn = int64_t (*)(const float* x, int64_t n, float bound, int32_t* out);

// The scalar references.
void attend_scalar(const AttendArgs& a);
void swiglu_scalar(const float* g, const float* u, float* y, int64_t n);
void rms_norm_scalar(float* x, const float* add, const float* w, float* y, int64_t n, float eps);
void rope_scalar(float* v, int64_t n_heads, int64_t hd, int64_t n_rot, const float* cs, bool halves);
double log_sum_exp_scalar(const float* x, int64_t n, float* max);
bool column_max_scalar(const float* x, int64_t n, int64_t w, float* out);
int64_t indices_at_least_scalar(const float* x, int64_t n, float bound, int32_t* out);

}  // namespace tandem

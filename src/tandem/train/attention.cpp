// Causal GQA attention forward and backward through per-head GEMMs (see attention.h).
#include "tandem/train/attention.h"

#include <algorithm>
#include <cmath>

#include <type_traits>

#include "tandem/train/elementwise.h"
#include "tandem/train/fast_exp.h"
#include "tandem/train/gemm.h"

namespace tandem {

template <class Real>
void attention_forward(ThreadPool& pool, const AttentionDims& a, const Real* qkv, int64_t ld_qkv, Real* probs,
                       Real* out, int64_t ld_out) {
  const int64_t T = a.seq, hd = a.head_dim, H = a.n_heads, group = a.n_heads / a.n_kv_heads;
  const int64_t k_col = a.q_width(), v_col = a.q_width() + a.kv_width();
  // The engine's scale: 1 / sqrtf(head_dim) in float.
  const Real scale = static_cast<Real>(1.0f / std::sqrt(static_cast<float>(hd)));
  const int64_t n_jobs = a.batch * H;
  pool.run([&](int ith, int nth) {
    for (int64_t job = ith; job < n_jobs; job += nth) {
      const int64_t b = job / H, h = job % H, kvh = h / group;
      const Real* base = qkv + b * T * ld_qkv;
      const Real* Q = base + h * hd;             // (T, hd), ld_qkv
      const Real* K = base + k_col + kvh * hd;   // (T, hd), ld_qkv
      const Real* V = base + v_col + kvh * hd;   // (T, hd), ld_qkv
      Real* P = probs + job * T * T;             // (T, T)
      gemm(false, true, T, T, hd, scale, Q, ld_qkv, K, ld_qkv, Real(0), P, T);
      for (int64_t i = 0; i < T; ++i) {
        Real* row = P + i * T;
        if constexpr (std::is_same_v<Real, float>) {
          exp_sub_f32(row, i + 1, max_f32(row, i + 1));
          scale_f32(row, i + 1, 1.0f / sum_f32(row, i + 1));
        } else {
          Real mx = row[0];
          for (int64_t j = 1; j <= i; ++j) mx = std::max(mx, row[j]);
          for (int64_t j = 0; j <= i; ++j) row[j] = fast_exp(row[j] - mx);
          Real sum = 0;
          for (int64_t j = 0; j <= i; ++j) sum += row[j];
          const Real inv = Real(1) / sum;
          for (int64_t j = 0; j <= i; ++j) row[j] *= inv;
        }
        std::fill(row + i + 1, row + T, Real(0));
      }
      gemm(false, false, T, hd, T, Real(1), P, T, V, ld_qkv, Real(0), out + b * T * ld_out + h * hd, ld_out);
    }
  });
}

template <class Real>
void attention_backward(ThreadPool& pool, const AttentionDims& a, const Real* qkv, int64_t ld_qkv, const Real* probs,
                        const Real* dout, int64_t ld_out, Real* dqkv, Real* scratch) {
  const int64_t T = a.seq, hd = a.head_dim, H = a.n_heads, group = a.n_heads / a.n_kv_heads;
  const int64_t k_col = a.q_width(), v_col = a.q_width() + a.kv_width();
  const Real scale = static_cast<Real>(1.0f / std::sqrt(static_cast<float>(hd)));
  const int64_t n_jobs = a.batch * a.n_kv_heads;
  pool.run([&](int ith, int nth) {
    Real* dP = scratch + static_cast<int64_t>(ith) * T * T;  // (T, T)
    for (int64_t job = ith; job < n_jobs; job += nth) {
      const int64_t b = job / a.n_kv_heads, kvh = job % a.n_kv_heads;
      const Real* base = qkv + b * T * ld_qkv;
      Real* dbase = dqkv + b * T * ld_qkv;
      const Real* K = base + k_col + kvh * hd;
      const Real* V = base + v_col + kvh * hd;
      Real* dK = dbase + k_col + kvh * hd;
      Real* dV = dbase + v_col + kvh * hd;
      for (int64_t g = 0; g < group; ++g) {
        const int64_t h = kvh * group + g;
        const Real beta = g == 0 ? Real(0) : Real(1);  // the group's first head initializes dK, dV
        const Real* Q = base + h * hd;
        Real* dQ = dbase + h * hd;
        const Real* dO = dout + b * T * ld_out + h * hd;
        const Real* P = probs + (b * H + h) * T * T;
        gemm(false, true, T, T, hd, Real(1), dO, ld_out, V, ld_qkv, Real(0), dP, T);
        gemm(true, false, T, hd, T, Real(1), P, T, dO, ld_out, beta, dV, ld_qkv);
        for (int64_t i = 0; i < T; ++i) {
          const Real* p = P + i * T;
          Real* d = dP + i * T;
          Real dot = 0;
          for (int64_t j = 0; j <= i; ++j) dot += p[j] * d[j];
          for (int64_t j = 0; j <= i; ++j) d[j] = p[j] * (d[j] - dot) * scale;
          std::fill(d + i + 1, d + T, Real(0));
        }
        gemm(false, false, T, hd, T, Real(1), dP, T, K, ld_qkv, Real(0), dQ, ld_qkv);
        gemm(true, false, T, hd, T, Real(1), dP, T, Q, ld_qkv, beta, dK, ld_qkv);
      }
    }
  });
}

template void attention_forward<float>(ThreadPool&, const AttentionDims&, const float*, int64_t, float*, float*,
                                       int64_t);
template void attention_forward<double>(ThreadPool&, const AttentionDims&, const double*, int64_t, double*, double*,
                                        int64_t);
template void attention_backward<float>(ThreadPool&, const AttentionDims&, const float*, int64_t, const float*,
                                        const float*, int64_t, float*, float*);
template void attention_backward<double>(ThreadPool&, const AttentionDims&, const double*, int64_t, const double*,
                                         const double*, int64_t, double*, double*);

}  // namespace tandem

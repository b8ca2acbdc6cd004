// The SIMD algorithms of float_kernels.h, written once over a vector-operations
// class O (W floats per vector, masked loads and stores, exp) and compiled by
// each ISA's file under its own `#pragma GCC target`. Include only from those
// files: everything here has internal linkage, so the two compilations never
// meet at link time (and no std:: template is instantiated under a target).
#pragma once

#include <cstdint>

#include "tandem/tensor/float_kernels.h"

namespace tandem {
namespace {

// exp(x) in single precision, about 1 ulp on [-87.3, 88.3] (inputs are clamped
// there): x = n ln2 + r with |r| <= ln2 / 2, e^r by the degree-7 polynomial of
// Cephes' expf (1 + r + r^2 P(r)), then scaled by 2^n.
template <class O>
inline __attribute__((always_inline)) typename O::V simd_exp(typename O::V x) {
  x = O::max(O::min(x, O::set1(88.3762626647949f)), O::set1(-87.3365447504019f));
  const typename O::V n = O::round(O::mul(x, O::set1(1.44269504088896341f)));
  typename O::V r = O::fma(n, O::set1(-0.693359375f), x);
  r = O::fma(n, O::set1(2.12194440e-4f), r);
  typename O::V p = O::set1(1.9875691500e-4f);
  p = O::fma(p, r, O::set1(1.3981999507e-3f));
  p = O::fma(p, r, O::set1(8.3334519073e-3f));
  p = O::fma(p, r, O::set1(4.1665795894e-2f));
  p = O::fma(p, r, O::set1(1.6666665459e-1f));
  p = O::fma(p, r, O::set1(5.0000001201e-1f));
  p = O::fma(p, O::mul(r, r), O::add(r, O::set1(1.0f)));
  return O::scale2(p, n);
}

template <class O>
inline __attribute__((always_inline)) typename O::M block_mask(int64_t left) {
  return O::mask(left <= 0 ? 0 : left >= O::W ? O::W : static_cast<int>(left));
}

// One query head (the AttendArgs layout, n_q ignored) into out.
template <class O>
void attend_head(const AttendArgs& a, const float* q, float* out) {
  using V = typename O::V;
  using M = typename O::M;
  constexpr int W = O::W;
  constexpr int B = 4;  // vectors of positions (scores) or of components (output) per pass
  const int64_t n = a.n_kv;
  float* s = a.scores;

  // Scores, B * W positions per pass: sum over d of q[d] * (row d of the keys).
  V vmax = O::set1(-__builtin_inff());
  for (int64_t j0 = 0; j0 < n; j0 += B * W) {
    V acc[B];
    M m[B];
    for (int b = 0; b < B; ++b) {
      acc[b] = O::zero();
      m[b] = block_mask<O>(n - j0 - b * W);
    }
    const float* kd = a.kt + j0;
    for (int64_t d = 0; d < a.hd; ++d, kd += a.kt_stride) {
      const V qd = O::set1(q[d]);
      for (int b = 0; b < B; ++b) acc[b] = O::fma(qd, O::loadm(kd + b * W, m[b]), acc[b]);
    }
    for (int b = 0; b < B && j0 + b * W < n; ++b) {
      const V sc = O::mul(acc[b], O::set1(a.scale));
      O::storem(s + j0 + b * W, sc, m[b]);
      vmax = O::select(m[b], O::max(vmax, sc), vmax);
    }
  }
  const V mx = O::set1(O::reduce_max(vmax));

  V vsum = O::zero();
  for (int64_t j0 = 0; j0 < n; j0 += W) {
    const M m = block_mask<O>(n - j0);
    const V e = simd_exp<O>(O::sub(O::loadm(s + j0, m), mx));
    O::storem(s + j0, e, m);
    vsum = O::add(vsum, O::select(m, e, O::zero()));
  }
  const V inv = O::set1(1.0f / O::reduce_add(vsum));

  // Output, B * W components per pass; even and odd positions in separate
  // accumulators (two dependency chains), summed at the end.
  for (int64_t c0 = 0; c0 < a.hd; c0 += B * W) {
    V acc0[B], acc1[B];
    M m[B];
    for (int b = 0; b < B; ++b) {
      acc0[b] = acc1[b] = O::zero();
      m[b] = block_mask<O>(a.hd - c0 - b * W);
    }
    const float* vr = a.v + c0;
    int64_t j = 0;
    for (; j + 1 < n; j += 2, vr += 2 * a.v_stride) {
      const V p0 = O::set1(s[j]), p1 = O::set1(s[j + 1]);
      for (int b = 0; b < B; ++b) {
        acc0[b] = O::fma(p0, O::loadm(vr + b * W, m[b]), acc0[b]);
        acc1[b] = O::fma(p1, O::loadm(vr + a.v_stride + b * W, m[b]), acc1[b]);
      }
    }
    if (j < n) {
      const V p0 = O::set1(s[j]);
      for (int b = 0; b < B; ++b) acc0[b] = O::fma(p0, O::loadm(vr + b * W, m[b]), acc0[b]);
    }
    for (int b = 0; b < B && c0 + b * W < a.hd; ++b)
      O::storem(out + c0 + b * W, O::mul(O::add(acc0[b], acc1[b]), inv), m[b]);
  }
}

template <class O>
void simd_attend(const AttendArgs& a) {
  for (int64_t i = 0; i < a.n_q; ++i) attend_head<O>(a, a.q + i * a.q_stride, a.out + i * a.out_stride);
}

template <class O>
void simd_swiglu(const float* g, const float* u, float* y, int64_t n) {
  using V = typename O::V;
  for (int64_t i = 0; i < n; i += O::W) {
    const typename O::M m = block_mask<O>(n - i);
    const V gv = O::loadm(g + i, m), uv = O::loadm(u + i, m);
    const V e = simd_exp<O>(O::sub(O::zero(), gv));
    O::storem(y + i, O::div(O::mul(gv, uv), O::add(O::set1(1.0f), e)), m);
  }
}

}  // namespace
}  // namespace tandem

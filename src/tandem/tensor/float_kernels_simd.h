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

// H query heads (H <= 4) from head h0 on, sharing each load of a key or value
// vector (E: float, or uint16_t for fp16 keys and values, widened on load).
// Every head runs the same operations as it would alone (positions and
// components are only partitioned differently), so results do not depend on
// how heads are grouped. NV: vectors per head (ceil(hd / W)) where under 4, else
// 4, so that a short head (hd 32 in 16-float vectors) runs no all-masked passes.
template <class O, int H, class E, int NV>
void attend_heads(const AttendArgs& a, int64_t h0) {
  using V = typename O::V;
  using M = typename O::M;
  constexpr int W = O::W;
  static_assert(kKeyBlock % W == 0);
  // Accumulators in use at once: H * B for the scores, H * C * 2 for the output.
  constexpr int B = (O::kRegs / 2) / H < 4 ? (O::kRegs / 2) / H : 4;
  constexpr int C0 = (O::kRegs / 2) / (2 * H) < 4 ? ((O::kRegs / 2) / (2 * H) > 0 ? (O::kRegs / 2) / (2 * H) : 1) : 4;
  constexpr int C = C0 < NV ? C0 : NV;
  const int64_t n = a.n_kv, hd = a.hd, kt_stride = a.kt_stride, v_stride = a.v_stride;
  const E* kt;
  const E* vv;
  if constexpr (sizeof(E) == 2) {
    kt = a.kt16;
    vv = a.v16;
  } else {
    kt = a.kt;
    vv = a.v;
  }
  const float* q[H];
  float* s[H];
  for (int h = 0; h < H; ++h) {
    q[h] = a.q + (h0 + h) * a.q_stride;
    s[h] = a.scores + h * n;
  }

  // Scores, B * W positions per pass: sum over d of q[d] * (row d of the keys).
  V vmax[H];
  for (int h = 0; h < H; ++h) vmax[h] = O::set1(-__builtin_inff());
  for (int64_t j0 = 0; j0 < n; j0 += B * W) {
    V acc[H][B];
    M m[B];
#pragma GCC unroll 16
    for (int b = 0; b < B; ++b) {
      m[b] = block_mask<O>(n - j0 - b * W);
#pragma GCC unroll 16
      for (int h = 0; h < H; ++h) acc[h][b] = O::zero();
    }
    // Vector b: positions j0 + b W.., inside one key block (W divides kKeyBlock).
    const E* kb[B];
#pragma GCC unroll 16
    for (int b = 0; b < B; ++b) {
      const int64_t j = j0 + b * W;
      kb[b] = kt + (j / kKeyBlock) * kt_stride + j % kKeyBlock;
    }
    for (int64_t d = 0; d < hd; ++d) {
      V k[B];
#pragma GCC unroll 16
      for (int b = 0; b < B; ++b) k[b] = O::loadm(kb[b] + d * kKeyBlock, m[b]);
#pragma GCC unroll 16
      for (int h = 0; h < H; ++h) {
        const V qd = O::set1(q[h][d]);
#pragma GCC unroll 16
        for (int b = 0; b < B; ++b) acc[h][b] = O::fma(qd, k[b], acc[h][b]);
      }
    }
#pragma GCC unroll 16
    for (int h = 0; h < H; ++h)
#pragma GCC unroll 16
      for (int b = 0; b < B; ++b) {  // blocks past n: mask 0, nothing stored
        const V sc = O::mul(acc[h][b], O::set1(a.scale));
        O::storem(s[h] + j0 + b * W, sc, m[b]);
        vmax[h] = O::select(m[b], O::max(vmax[h], sc), vmax[h]);
      }
  }

  V inv[H];
  for (int h = 0; h < H; ++h) {
    const V mx = O::set1(O::reduce_max(vmax[h]));
    V vsum = O::zero();
    for (int64_t j0 = 0; j0 < n; j0 += W) {
      const M m = block_mask<O>(n - j0);
      const V e = simd_exp<O>(O::sub(O::loadm(s[h] + j0, m), mx));
      O::storem(s[h] + j0, e, m);
      vsum = O::add(vsum, O::select(m, e, O::zero()));
    }
    inv[h] = O::set1(1.0f / O::reduce_add(vsum));
  }

  // Output, C * W components per pass; per head and component, even and odd
  // positions in separate accumulators (two dependency chains), summed at the end.
  // Values of a long context come from memory: prefetched a few rows ahead
  // (short ones sit in cache, where the prefetches would only cost).
  const bool far = n > 512;
  for (int64_t c0 = 0; c0 < hd; c0 += C * W) {
    V acc0[H][C], acc1[H][C];
    M m[C];
#pragma GCC unroll 16
    for (int c = 0; c < C; ++c) {
      m[c] = block_mask<O>(hd - c0 - c * W);
#pragma GCC unroll 16
      for (int h = 0; h < H; ++h) acc0[h][c] = acc1[h][c] = O::zero();
    }
    const E* vr = vv + c0;
    int64_t j = 0;
    for (; j + 1 < n; j += 2, vr += 2 * v_stride) {
      if (far) {  // rows v_stride apart: a few ahead (past the end is harmless)
        __builtin_prefetch(vr + 8 * v_stride);
        __builtin_prefetch(vr + 9 * v_stride);
      }
#pragma GCC unroll 16
      for (int c = 0; c < C; ++c) {
        const V v0 = O::loadm(vr + c * W, m[c]), v1 = O::loadm(vr + v_stride + c * W, m[c]);
#pragma GCC unroll 16
        for (int h = 0; h < H; ++h) {
          acc0[h][c] = O::fma(O::set1(s[h][j]), v0, acc0[h][c]);
          acc1[h][c] = O::fma(O::set1(s[h][j + 1]), v1, acc1[h][c]);
        }
      }
    }
    if (j < n) {
#pragma GCC unroll 16
      for (int c = 0; c < C; ++c) {
        const V v0 = O::loadm(vr + c * W, m[c]);
#pragma GCC unroll 16
        for (int h = 0; h < H; ++h) acc0[h][c] = O::fma(O::set1(s[h][j]), v0, acc0[h][c]);
      }
    }
#pragma GCC unroll 16
    for (int h = 0; h < H; ++h)
#pragma GCC unroll 16
      for (int c = 0; c < C; ++c)
        O::storem(a.out + (h0 + h) * a.out_stride + c0 + c * W, O::mul(O::add(acc0[h][c], acc1[h][c]), inv[h]), m[c]);
  }
}

template <class O, class E, int NV>
void simd_attend_as(const AttendArgs& a) {
  int64_t h = 0;
  for (; h + 4 <= a.n_q; h += 4) attend_heads<O, 4, E, NV>(a, h);
  switch (a.n_q - h) {
    case 3: attend_heads<O, 3, E, NV>(a, h); break;
    case 2: attend_heads<O, 2, E, NV>(a, h); break;
    case 1: attend_heads<O, 1, E, NV>(a, h); break;
    default: break;
  }
}

template <class O, class E>
void simd_attend_nv(const AttendArgs& a) {
  switch ((a.hd + O::W - 1) / O::W) {
    case 1: simd_attend_as<O, E, 1>(a); break;
    case 2: simd_attend_as<O, E, 2>(a); break;
    case 3: simd_attend_as<O, E, 3>(a); break;
    default: simd_attend_as<O, E, 4>(a); break;
  }
}

template <class O>
void simd_attend(const AttendArgs& a) {
  if (a.kt16)
    simd_attend_nv<O, uint16_t>(a);
  else
    simd_attend_nv<O, float>(a);
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

// float_kernels.h's rms_norm: squares summed in double vectors (O::DA; exact
// products, so only the order of the additions differs from the reference).
template <class O>
void simd_rms_norm(float* x, const float* add, const float* w, float* y, int64_t n, float eps) {
  using V = typename O::V;
  typename O::DA acc = O::da_zero();
  for (int64_t i = 0; i < n; i += O::W) {
    const typename O::M m = block_mask<O>(n - i);
    V v = O::loadm(x + i, m);
    if (add) {
      v = O::add(v, O::loadm(add + i, m));
      O::storem(x + i, v, m);
    }
    O::add_squares(v, acc);
  }
  const V scale = O::set1(static_cast<float>(1.0 / __builtin_sqrt(O::da_total(acc) / static_cast<double>(n) + eps)));
  for (int64_t i = 0; i < n; i += O::W) {
    const typename O::M m = block_mask<O>(n - i);
    O::storem(y + i, O::mul(O::mul(O::loadm(x + i, m), scale), O::loadm(w + i, m)), m);
  }
}

// float_kernels.h's log_sum_exp: the maximum, then simd_exp of each x - max,
// added in double (O::DA). A masked lane would give exp(-max): zeroed.
template <class O>
double simd_log_sum_exp(const float* x, int64_t n, float* max) {
  using V = typename O::V;
  if (n <= 0) return -__builtin_inf();
  V vmax = O::set1(-__builtin_inff());
  for (int64_t i = 0; i < n; i += O::W) {
    const typename O::M m = block_mask<O>(n - i);
    vmax = O::select(m, O::max(vmax, O::loadm(x + i, m)), vmax);
  }
  const float mx = O::reduce_max(vmax);
  if (max) *max = mx;
  const V vmx = O::set1(mx);
  typename O::DA acc = O::da_zero();
  for (int64_t i = 0; i < n; i += O::W) {
    const typename O::M m = block_mask<O>(n - i);
    O::add_wide(O::select(m, simd_exp<O>(O::sub(O::loadm(x + i, m), vmx)), O::zero()), acc);
  }
  return static_cast<double>(mx) + __builtin_log(O::da_total(acc));
}

// float_kernels.h's column_max: a vector of columns at a time down the rows.
// Finiteness from x - x, which is 0 for finite x and NaN otherwise (masked-off
// lanes load 0).
template <class O>
bool simd_column_max(const float* x, int64_t n, int64_t w, float* out) {
  using V = typename O::V;
  V bad = O::zero();
  for (int64_t j = 0; j < w; j += O::W) {
    V m = O::loadm(x + j, block_mask<O>(O::W));
    for (int64_t i = j; i < n; i += w) {
      const typename O::M k = block_mask<O>(n - i);
      const V v = O::loadm(x + i, k);
      m = O::select(k, O::max(m, v), m);
      bad = O::add(bad, O::sub(v, v));
    }
    O::storem(out + j, m, block_mask<O>(O::W));
  }
  return O::reduce_add(bad) == 0.0f;
}

// float_kernels.h's indices_at_least: a lane mask per vector, its set bits in order.
template <class O>
int64_t simd_indices_at_least(const float* x, int64_t n, float bound, int32_t* out) {
  const typename O::V b = O::set1(bound);
  int64_t c = 0;
  for (int64_t i = 0; i < n; i += O::W) {
    const int64_t left = n - i;
    unsigned bits = O::ge_bits(O::loadm(x + i, block_mask<O>(left)), b);
    if (left < O::W) bits &= (1u << left) - 1u;
    for (; bits != 0; bits &= bits - 1u) out[c++] = static_cast<int32_t>(i + __builtin_ctz(bits));
  }
  return c;
}

// a * b + c * d with both products rounded, as the scalar reference computes
// it: the empty asm keeps the compiler from fusing a product into the add.
template <class O>
inline __attribute__((always_inline)) typename O::V sum_of_products(typename O::V a, typename O::V b,
                                                                    typename O::V c, typename O::V d) {
  typename O::V p = O::mul(a, b), q = O::mul(c, d);
  asm("" : "+v"(p), "+v"(q));
  return O::add(p, q);
}

// float_kernels.h's rope. Adjacent pairs: x * (c, c) + swap(x) * (-s, s);
// halves: each vector of pair angles deinterleaved from two of cs.
template <class O>
void simd_rope(float* v, int64_t n_heads, int64_t hd, int64_t n_rot, const float* cs, bool halves) {
  using V = typename O::V;
  using M = typename O::M;
  constexpr int W = O::W;
  if (!halves) {
    for (int64_t i = 0; i < n_rot; i += W) {
      const M m = block_mask<O>(n_rot - i);
      const V a = O::loadm(cs + i, m);
      const V c = O::dup_even(a), s = O::neg_even(O::dup_odd(a));
      for (int64_t h = 0; h < n_heads; ++h) {
        float* p = v + h * hd + i;
        const V x = O::loadm(p, m);
        O::storem(p, sum_of_products<O>(x, c, O::swap_pairs(x), s), m);
      }
    }
    return;
  }
  const int64_t half = n_rot / 2;
  for (int64_t i = 0; i < half; i += W) {
    const M m = block_mask<O>(half - i);
    const V a = O::loadm(cs + 2 * i, block_mask<O>(2 * (half - i))),
            b = O::loadm(cs + 2 * i + W, block_mask<O>(2 * (half - i) - W));
    const V c = O::evens(a, b), s = O::odds(a, b);
    for (int64_t h = 0; h < n_heads; ++h) {
      float* p = v + h * hd + i;
      const V x0 = O::loadm(p, m), x1 = O::loadm(p + half, m);
      O::storem(p, sum_of_products<O>(x0, c, x1, O::neg(s)), m);
      O::storem(p + half, sum_of_products<O>(x0, s, x1, c), m);
    }
  }
}

}  // namespace
}  // namespace tandem

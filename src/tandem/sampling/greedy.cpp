// Single-pass argmax with validation, and its penalized variant.
#include "tandem/sampling/greedy.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace tandem {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

Error bad_logit(std::span<const float> logits) {
  for (size_t i = 0; i < logits.size(); ++i) {
    if (std::isnan(logits[i])) return make_error("sampling: logits[", i, "] is NaN (expected a finite value or -inf)");
    if (logits[i] == kInf) return make_error("sampling: logits[", i, "] is +inf (expected a finite value or -inf)");
  }
  return make_error("sampling: all ", logits.size(), " logits are -inf (no token can be drawn)");
}

// True when (va, a) ranks before (vb, b): higher value, ties to the lower id.
bool ranks_before(float va, int32_t a, float vb, int32_t b) { return va > vb || (va == vb && a < b); }

}  // namespace

Result<int32_t> argmax_reference(std::span<const float> logits) {
  if (logits.empty()) return make_error("sampling: empty logits (expected one value per vocabulary token)");
  if (logits.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    return make_error("sampling: ", logits.size(), " logits exceed the int32 token id range");
  float best = -kInf;
  size_t best_i = 0;
  bool bad = false;
  for (size_t i = 0; i < logits.size(); ++i) {
    const float x = logits[i];
    bad |= std::isnan(x) || x == kInf;
    if (x > best) {
      best = x;
      best_i = i;
    }
  }
  if (bad || best == -kInf) return bad_logit(logits);
  return static_cast<int32_t>(best_i);
}

Result<int32_t> argmax(std::span<const float> logits) {
  if (logits.empty()) return make_error("sampling: empty logits (expected one value per vocabulary token)");
  // Lane indices are int32 and step by 8 past the end of the row.
  if (logits.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max()) - 16)
    return make_error("sampling: ", logits.size(), " logits exceed the int32 token id range");
  // GCC/Clang vector extensions (SSE2 on any x86-64, NEON on arm64): 8 lanes,
  // each keeping its first maximum and its index, about 4x the scalar loop.
  // Lanes are merged with ties to the lower index, so the result is the scalar
  // loop's (argmax_reference; tested against it).
  using f32x4 = float __attribute__((vector_size(16)));
  using i32x4 = int32_t __attribute__((vector_size(16)));
  const float* x = logits.data();
  const size_t n = logits.size();
  f32x4 m0 = f32x4{} - kInf, m1 = m0;
  i32x4 i0 = {}, i1 = {}, bad = {};
  i32x4 c0 = {0, 1, 2, 3}, c1 = {4, 5, 6, 7};
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    f32x4 a, b;
    std::memcpy(&a, x + i, sizeof a);
    std::memcpy(&b, x + i + 4, sizeof b);
    const i32x4 ga = a > m0, gb = b > m1;
    m0 = ga ? a : m0;
    i0 = ga ? c0 : i0;
    m1 = gb ? b : m1;
    i1 = gb ? c1 : i1;
    // NaN fails every comparison, so it is caught by `a != a`, not by the max.
    bad |= (a != a) | (a == kInf) | (b != b) | (b == kInf);
    c0 += 8;
    c1 += 8;
  }
  float best = -kInf;
  int32_t best_i = 0;
  bool any_bad = false;
  auto merge = [&](float v, int32_t id) {
    if (v > best || (v == best && id < best_i)) {
      best = v;
      best_i = id;
    }
  };
  for (int j = 0; j < 4; ++j) {
    merge(m0[j], i0[j]);
    merge(m1[j], i1[j]);
    any_bad |= bad[j] != 0;
  }
  for (; i < n; ++i) {
    any_bad |= std::isnan(x[i]) || x[i] == kInf;
    if (x[i] > best) {
      best = x[i];
      best_i = static_cast<int32_t>(i);
    }
  }
  // The rare failures get a second pass that names the first bad index.
  if (any_bad || best == -kInf) return bad_logit(logits);
  return best_i;
}

Result<int32_t> argmax_penalized(std::span<const float> logits, const PenaltyWindow& window,
                                 const PenaltyParams& p, std::vector<uint8_t>& scratch) {
  auto raw = argmax(logits);
  if (!raw.ok() || !p.active()) return raw;
  // Sized on the first call, not the first that needs it, so later calls never allocate.
  if (scratch.size() < logits.size()) scratch.resize(logits.size(), 0);
  if (window.size() == 0) return raw;
  const int32_t n = static_cast<int32_t>(logits.size());
  const int32_t r = *raw;

  // Best among the penalized tokens, and whether the raw winner is one of them.
  int32_t best_pen = -1;
  float best_pen_v = -kInf;
  bool raw_penalized = false;
  for (const TokenCount& tc : window.counts()) {
    if (tc.token < 0 || tc.token >= n) continue;
    raw_penalized |= tc.token == r;
    const float v = penalized_logit(logits[static_cast<size_t>(tc.token)], tc.count, p);
    if (best_pen < 0 || ranks_before(v, tc.token, best_pen_v, best_pen)) {
      best_pen = tc.token;
      best_pen_v = v;
    }
  }
  if (best_pen < 0) return r;  // no window token is in this vocabulary

  int32_t best_free = r;
  float best_free_v = logits[static_cast<size_t>(r)];
  if (raw_penalized) {
    // The raw winner was rescored; find the best token outside the window.
    for (const TokenCount& tc : window.counts())
      if (tc.token >= 0 && tc.token < n) scratch[static_cast<size_t>(tc.token)] = 1;
    best_free = -1;
    best_free_v = -kInf;
    for (int32_t i = 0; i < n; ++i) {
      const float x = logits[static_cast<size_t>(i)];
      if (x > best_free_v && !scratch[static_cast<size_t>(i)]) {
        best_free_v = x;
        best_free = i;
      }
    }
    for (const TokenCount& tc : window.counts())
      if (tc.token >= 0 && tc.token < n) scratch[static_cast<size_t>(tc.token)] = 0;
  }
  if (best_free < 0 || ranks_before(best_pen_v, best_pen, best_free_v, best_free)) return best_pen;
  return best_free;
}

}  // namespace tandem

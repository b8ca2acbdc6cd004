// Gradient checks of each training layer against central finite differences in
// double precision: RMSNorm, RoPE, causal GQA attention, SwiGLU, cross-entropy
// and the distillation losses. Each layer's output y is reduced to a scalar
// L = sum(r * y) with fixed random r, so dL/dy = r feeds the backward pass.
#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "tandem/train/attention.h"
#include "tandem/train/cross_entropy.h"
#include "tandem/train/distill_loss.h"
#include "tandem/train/rms_norm.h"
#include "tandem/train/rope.h"
#include "tandem/train/swiglu.h"

namespace tandem {
namespace {

std::vector<double> randn(size_t n, uint32_t seed, double scale = 1.0) {
  std::mt19937 g(seed);
  std::normal_distribution<double> d(0.0, scale);
  std::vector<double> v(n);
  for (auto& x : v) x = d(g);
  return v;
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// Compares analytic[i] with the central difference of f at x[i], for every i.
void expect_grad(const char* what, std::vector<double>& x, const std::vector<double>& analytic,
                 const std::function<double()>& f, double h = 1e-5, double tol = 1e-7) {
  ASSERT_EQ(x.size(), analytic.size());
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double keep = x[i];
    x[i] = keep + h;
    const double fp = f();
    x[i] = keep - h;
    const double fm = f();
    x[i] = keep;
    const double num = (fp - fm) / (2 * h);
    const double err = std::fabs(num - analytic[i]) / std::max(1.0, std::fabs(num));
    worst = std::max(worst, err);
    EXPECT_LT(err, tol) << what << "[" << i << "]: analytic " << analytic[i] << " numeric " << num;
  }
  ::testing::Test::RecordProperty(what, std::to_string(worst));
}

TEST(LayerGrad, RmsNorm) {
  ThreadPool pool(2);
  const int64_t n = 3, d = 8;
  auto x = randn(n * d, 1), w = randn(d, 2), r = randn(n * d, 3);
  for (auto& v : w) v += 1.0;
  std::vector<double> y(n * d), rstd(n);
  auto loss = [&] {
    rms_norm_forward(pool, x.data(), w.data(), y.data(), rstd.data(), n, d, 1e-5f);
    return dot(r, y);
  };
  loss();
  std::vector<double> dx(n * d, 0.0), dw(d, 0.0);
  rms_norm_backward(pool, r.data(), x.data(), w.data(), rstd.data(), dx.data(), dw.data(), n, d);
  expect_grad("dx", x, dx, loss);
  expect_grad("dw", w, dw, loss);
  // The backward pass adds into dx (the residual stream's gradient).
  std::vector<double> dx2(n * d, 1.0), dw2(d, 0.0);
  rms_norm_backward(pool, r.data(), x.data(), w.data(), rstd.data(), dx2.data(), dw2.data(), n, d);
  for (int64_t i = 0; i < n * d; ++i) EXPECT_DOUBLE_EQ(dx2[i], dx[i] + 1.0);
}

TEST(LayerGrad, RopeIsTheEnginesRotationAndItsAdjoint) {
  ThreadPool pool(2);
  const int64_t seq = 5, heads = 2, hd = 6, rows = 2 * seq;
  RopeTable table(seq, hd, 10000.0f);
  auto x = randn(rows * heads * hd, 4), y = randn(rows * heads * hd, 5);
  auto rx = x;
  rope_apply(pool, table, rx.data(), heads * hd, rows, seq, heads, hd, false);
  // Adjacent pairs (2i, 2i+1) turn by pos * base^(-2i/hd); row r is position r % seq.
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < hd / 2; ++i) {
        const float f = static_cast<float>(std::pow(10000.0, -2.0 * i / hd));
        const float th = static_cast<float>(r % seq) * f;
        const double c = std::cos(th), s = std::sin(th);
        const size_t o = static_cast<size_t>(r * heads * hd + h * hd + 2 * i);
        EXPECT_NEAR(rx[o], x[o] * c - x[o + 1] * s, 1e-12);
        EXPECT_NEAR(rx[o + 1], x[o] * s + x[o + 1] * c, 1e-12);
      }
  // <R x, y> == <x, R^T y>: the inverse rotation is the exact adjoint.
  auto ry = y;
  rope_apply(pool, table, ry.data(), heads * hd, rows, seq, heads, hd, true);
  EXPECT_NEAR(dot(rx, y), dot(x, ry), 1e-12);
  // Strided rows: a wider buffer with the heads at an offset is rotated the same.
  const int64_t ld = heads * hd + 3;
  std::vector<double> wide(static_cast<size_t>(rows * ld), 7.0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < heads * hd; ++j) wide[r * ld + 2 + j] = x[r * heads * hd + j];
  rope_apply(pool, table, wide.data() + 2, ld, rows, seq, heads, hd, false);
  for (int64_t r = 0; r < rows; ++r) {
    EXPECT_EQ(wide[r * ld], 7.0);
    for (int64_t j = 0; j < heads * hd; ++j) EXPECT_EQ(wide[r * ld + 2 + j], rx[r * heads * hd + j]);
  }
}

TEST(LayerGrad, CausalGqaAttention) {
  for (int threads : {1, 2}) {
    ThreadPool pool(threads);
    const AttentionDims a{.batch = 2, .seq = 5, .n_heads = 4, .n_kv_heads = 2, .head_dim = 4};
    const int64_t N = a.batch * a.seq, ld = a.q_width() + 2 * a.kv_width(), QW = a.q_width();
    auto qkv = randn(N * ld, 6), r = randn(N * QW, 7);
    std::vector<double> probs(a.probs_size()), out(N * QW);
    auto loss = [&] {
      attention_forward(pool, a, qkv.data(), ld, probs.data(), out.data(), QW);
      return dot(r, out);
    };
    loss();
    std::vector<double> dqkv(N * ld, -99.0), scratch(threads * a.seq * a.seq);
    attention_backward(pool, a, qkv.data(), ld, probs.data(), r.data(), QW, dqkv.data(), scratch.data());
    expect_grad("dqkv", qkv, dqkv, loss);
    // Causality: token t's output does not depend on later tokens' keys and values.
    loss();  // out again at the unperturbed inputs
    const auto ref = out;
    for (int64_t j = a.q_width(); j < ld; ++j) qkv[4 * ld + j] += 1.0;  // token 4 of sequence 0
    loss();
    for (int64_t t = 0; t < N; ++t)
      for (int64_t j = 0; j < QW; ++j) {
        if (t < 4 || t >= a.seq) {
          EXPECT_EQ(out[t * QW + j], ref[t * QW + j]) << "token " << t;
        }
      }
  }
}

TEST(LayerGrad, SwiGlu) {
  ThreadPool pool(2);
  const int64_t n = 3, f = 5;
  auto gu = randn(n * 2 * f, 8, 2.0), r = randn(n * f, 9);
  std::vector<double> a(n * f);
  auto loss = [&] {
    swiglu_forward(pool, gu.data(), a.data(), n, f);
    return dot(r, a);
  };
  loss();
  std::vector<double> dgu(n * 2 * f);
  swiglu_backward(pool, gu.data(), r.data(), dgu.data(), n, f);
  expect_grad("dgu", gu, dgu, loss);
}

TEST(LayerGrad, CrossEntropy) {
  ThreadPool pool(2);
  const int64_t n = 4, V = 7;
  auto z = randn(n * V, 10, 2.0);
  std::vector<int32_t> targets = {3, 0, -1, 6};  // row 2 is ignored
  std::vector<double> rows(n), work(n * V);
  auto loss = [&] {
    work = z;
    return cross_entropy(pool, work.data(), targets.data(), n, V, 1.0, false, rows.data());
  };
  const double l = loss();
  // Against the definition, row by row.
  double expect = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (targets[i] < 0) continue;
    double s = 0;
    for (int64_t j = 0; j < V; ++j) s += std::exp(z[i * V + j]);
    expect += std::log(s) - z[i * V + targets[i]];
  }
  EXPECT_NEAR(l, expect, 1e-12);
  work = z;
  cross_entropy(pool, work.data(), targets.data(), n, V, 1.0, true, rows.data());
  const auto grad = work;
  expect_grad("dlogits", z, grad, loss);
  // grad_scale scales the gradient, not the loss.
  auto w2 = z;
  EXPECT_NEAR(cross_entropy(pool, w2.data(), targets.data(), n, V, 0.25, true, rows.data()), expect, 1e-12);
  for (int64_t i = 0; i < n * V; ++i) EXPECT_NEAR(w2[i], 0.25 * grad[i], 1e-15);
}

class DistillGrad : public ::testing::TestWithParam<DistillMode> {};

TEST_P(DistillGrad, MatchesFiniteDifferences) {
  ThreadPool pool(2);
  const int64_t n = 3, V = 9;
  auto z = randn(n * V, 11, 2.0);
  auto t64 = randn(n * V, 12, 2.0);
  std::vector<float> teacher(t64.begin(), t64.end());
  std::vector<int32_t> targets = {2, -1, 8};
  for (float ce_weight : {0.0f, 0.3f}) {
    DistillOptions opt{.mode = GetParam(), .temperature = 2.0f, .top_k = 4, .ce_weight = ce_weight};
    ASSERT_TRUE(opt.validate(V).ok());
    std::vector<double> scratch(3 * n), work(n * V);
    auto loss = [&] {
      work = z;
      return distill_loss(pool, work.data(), teacher.data(), targets.data(), n, V, opt, 1.0, false, scratch.data()).loss;
    };
    work = z;
    DistillSums sums = distill_loss(pool, work.data(), teacher.data(), targets.data(), n, V, opt, 1.0, true, scratch.data());
    EXPECT_GE(sums.kd, 0.0);  // a KL divergence
    EXPECT_NEAR(sums.loss, ce_weight * sums.ce + (1 - ce_weight) * 4.0 * sums.kd, 1e-9);
    auto grad = work;
    expect_grad("dlogits", z, grad, loss);
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, DistillGrad,
                         ::testing::Values(DistillMode::kForwardKl, DistillMode::kReverseKl, DistillMode::kTopK));

TEST(Distill, KlIsZeroWhenTheStudentIsTheTeacherAndTopKOfAllIsForwardKl) {
  ThreadPool pool(1);
  const int64_t n = 2, V = 6;
  auto z = randn(n * V, 13);
  std::vector<float> teacher(z.begin(), z.end());
  std::vector<double> zz(z.begin(), z.end());
  for (auto& v : zz) v = static_cast<float>(v);  // exactly the teacher's floats
  std::vector<int32_t> targets = {1, 2};
  std::vector<double> scratch(3 * n);
  for (DistillMode m : {DistillMode::kForwardKl, DistillMode::kReverseKl}) {
    auto w = zz;
    auto s = distill_loss(pool, w.data(), teacher.data(), targets.data(), n, V, {.mode = m}, 1.0, true, scratch.data());
    EXPECT_NEAR(s.kd, 0.0, 1e-12);
    for (double g : w) EXPECT_NEAR(g, 0.0, 1e-12);
  }
  auto other = randn(n * V, 14);
  auto a = other, b = other;
  auto fkl = distill_loss(pool, a.data(), teacher.data(), targets.data(), n, V, {.mode = DistillMode::kForwardKl}, 1.0,
                          true, scratch.data());
  auto topk = distill_loss(pool, b.data(), teacher.data(), targets.data(), n, V,
                           {.mode = DistillMode::kTopK, .top_k = V}, 1.0, true, scratch.data());
  EXPECT_NEAR(fkl.kd, topk.kd, 1e-12);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-12);
  EXPECT_TRUE(parse_distill_mode("rkl").ok());
  EXPECT_FALSE(parse_distill_mode("jsd").ok());
  const DistillOptions bad{.mode = DistillMode::kTopK, .top_k = 0};
  EXPECT_FALSE(bad.validate(V).ok());
}

}  // namespace
}  // namespace tandem

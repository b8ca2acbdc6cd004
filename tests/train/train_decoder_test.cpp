// The trainer's whole decoder against central finite differences in double
// precision (every parameter, tied and untied heads, GQA), and the properties
// training relies on: float agrees with double, a run is bit-for-bit
// repeatable, bad input is an error.
#include "tandem/train/train_decoder.h"

#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "tandem/train/cross_entropy.h"

namespace tandem {
namespace {

DecoderConfig tiny(bool tied) {
  return {.dim = 16, .n_layers = 2, .n_heads = 4, .n_kv_heads = 2, .ffn = 24, .vocab = 11, .ctx = 6,
          .rope_base = 10000.0f, .rms_eps = 1e-5f, .tied = tied};
}

// Weights large enough that every nonlinearity is exercised (the training init
// of N(0, 0.02) would leave attention nearly uniform).
template <class Real>
void random_params(const DecoderConfig& c, std::span<Real> p, uint32_t seed) {
  ParamLayout layout(c);
  std::mt19937 g(seed);
  std::normal_distribution<double> d(0.0, 1.0);
  for (const ParamTensor& t : layout.tensors()) {
    const bool vec = t.shape.size() == 1;
    const double sd = vec ? 0.2 : 1.0 / std::sqrt(static_cast<double>(t.shape[1]));
    for (int64_t i = 0; i < t.size(); ++i)
      p[t.offset + i] = static_cast<Real>(static_cast<float>((vec ? 1.0 : 0.0) + sd * d(g)));
  }
}

std::vector<int32_t> random_tokens(int64_t n, int64_t vocab, uint32_t seed) {
  std::mt19937 g(seed);
  std::vector<int32_t> t(static_cast<size_t>(n));
  for (auto& x : t) x = static_cast<int32_t>(g() % static_cast<uint32_t>(vocab));
  return t;
}

class WholeModelGrad : public ::testing::TestWithParam<bool> {};

TEST_P(WholeModelGrad, EveryParameterMatchesFiniteDifferences) {
  const DecoderConfig c = tiny(GetParam());
  ASSERT_TRUE(c.validate().ok());
  ThreadPool pool(1);  // thousands of tiny forward passes: dispatch would dominate
  TrainDecoder<double> m(c, pool);
  random_params<double>(c, m.params(), 21);
  const int64_t B = 2, T = 5, N = B * T;
  const auto tokens = random_tokens(N + 1, c.vocab, 22);
  std::vector<int32_t> inputs(tokens.begin(), tokens.begin() + N), targets(tokens.begin() + 1, tokens.end());
  targets[3] = -1;  // an ignored position
  std::vector<double> rows(N);
  auto loss = [&] {
    EXPECT_TRUE(m.forward(inputs, B, T).ok());
    return cross_entropy(pool, m.logits().data(), targets.data(), N, c.vocab, 0.0, false, rows.data()) / N;
  };
  ASSERT_TRUE(m.forward(inputs, B, T).ok());
  cross_entropy(pool, m.logits().data(), targets.data(), N, c.vocab, 1.0 / N, true, rows.data());
  m.zero_grads();
  m.backward();
  std::vector<double> grad(m.grads().begin(), m.grads().end());
  ASSERT_EQ(static_cast<int64_t>(grad.size()), c.n_params());

  const double h = 1e-5;
  double worst = 0;
  auto params = m.params();
  for (const ParamTensor& t : m.layout().tensors()) {
    for (int64_t i = 0; i < t.size(); ++i) {
      double& p = params[t.offset + i];
      const double keep = p;
      p = keep + h;
      const double fp = loss();
      p = keep - h;
      const double fm = loss();
      p = keep;
      const double num = (fp - fm) / (2 * h), an = grad[t.offset + i];
      const double err = std::fabs(num - an) / std::max(1e-2, std::fabs(num));
      worst = std::max(worst, err);
      ASSERT_LT(err, 1e-6) << t.name << "[" << i << "]: analytic " << an << " numeric " << num;
    }
  }
  RecordProperty("worst_relative_error", std::to_string(worst));
}

INSTANTIATE_TEST_SUITE_P(TiedAndUntied, WholeModelGrad, ::testing::Values(false, true));

TEST(TrainDecoder, FloatMatchesDoubleAndRunsRepeatBitForBit) {
  const DecoderConfig c = tiny(false);
  ThreadPool pool(2);
  TrainDecoder<float> f(c, pool);
  TrainDecoder<double> d(c, pool);
  random_params<float>(c, f.params(), 31);
  random_params<double>(c, d.params(), 31);
  const int64_t B = 3, T = 6, N = B * T;
  auto tokens = random_tokens(N, c.vocab, 32);
  ASSERT_TRUE(f.forward(tokens, B, T).ok());
  ASSERT_TRUE(d.forward(tokens, B, T).ok());
  for (int64_t i = 0; i < N * c.vocab; ++i) ASSERT_NEAR(f.logits()[i], d.logits()[i], 2e-5) << i;

  std::vector<int32_t> targets(tokens.begin() + 1, tokens.end());
  targets.push_back(0);
  std::vector<double> rows(N);
  auto grads_of = [&](TrainDecoder<float>& m) {
    EXPECT_TRUE(m.forward(tokens, B, T).ok());
    cross_entropy(pool, m.logits().data(), targets.data(), N, c.vocab, 1.0 / N, true, rows.data());
    m.zero_grads();
    m.backward();
    return std::vector<float>(m.grads().begin(), m.grads().end());
  };
  const auto g1 = grads_of(f), g2 = grads_of(f);
  ASSERT_EQ(g1, g2);  // bitwise
  // backward(accumulate = false) overwrites what was there: no zeroing pass needed.
  for (bool tied : {false, true}) {
    const DecoderConfig ct = tiny(tied);
    TrainDecoder<float> m(ct, pool);
    random_params<float>(ct, m.params(), 33);
    ASSERT_TRUE(m.forward(tokens, B, T).ok());
    cross_entropy(pool, m.logits().data(), targets.data(), N, ct.vocab, 1.0 / N, true, rows.data());
    m.zero_grads();
    m.backward();
    const std::vector<float> ref(m.grads().begin(), m.grads().end());
    std::fill(m.grads().begin(), m.grads().end(), 123.0f);
    ASSERT_TRUE(m.forward(tokens, B, T).ok());
    cross_entropy(pool, m.logits().data(), targets.data(), N, ct.vocab, 1.0 / N, true, rows.data());
    m.backward(/*accumulate=*/false);
    ASSERT_TRUE(std::equal(ref.begin(), ref.end(), m.grads().begin())) << "tied " << tied;
  }
  // A shorter sequence reuses the buffers; forward still matches a fresh model.
  TrainDecoder<float> f2(c, pool);
  random_params<float>(c, f2.params(), 31);
  std::vector<int32_t> short_tokens(tokens.begin(), tokens.begin() + 8);
  ASSERT_TRUE(f.forward(short_tokens, 2, 4).ok());
  ASSERT_TRUE(f2.forward(short_tokens, 2, 4).ok());
  for (int64_t i = 0; i < 8 * c.vocab; ++i) ASSERT_EQ(f.logits()[i], f2.logits()[i]);
}

TEST(TrainDecoder, BadInputIsAnError) {
  const DecoderConfig c = tiny(true);
  ThreadPool pool(1);
  TrainDecoder<float> m(c, pool);
  std::vector<int32_t> t(14, 1);
  EXPECT_FALSE(m.forward(t, 2, 7).ok());  // longer than ctx
  EXPECT_FALSE(m.forward(t, 3, 5).ok());  // size mismatch
  t[5] = 11;
  auto r = m.forward(std::span<const int32_t>(t).first(12), 2, 6);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("outside the vocabulary"), std::string::npos) << r.error().message;
  DecoderConfig bad = c;
  bad.n_kv_heads = 3;
  EXPECT_FALSE(bad.validate().ok());
  bad = c;
  bad.dim = 12;  // head size 3: odd
  EXPECT_FALSE(bad.validate().ok());
}

}  // namespace
}  // namespace tandem

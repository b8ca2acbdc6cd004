// Log-probabilities of a row of logits on hand-computed distributions: the
// log-softmax at a target, the log-sum-exp, the top probability, and large or
// masked (-inf) logits.
#include "tandem/sampling/log_softmax.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

namespace tandem {
namespace {

TEST(LogSoftmax, LogProbIsLogSoftmax) {
  std::vector<float> l = {1.0f, 2.0f, 3.0f};
  const double z = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  EXPECT_NEAR(log_sum_exp(l), z, 1e-6);
  EXPECT_NEAR(log_prob(l, 0), 1.0 - z, 1e-6);
  EXPECT_NEAR(log_prob(l, 2), 3.0 - z, 1e-6);
  EXPECT_NEAR(top_probability(l), std::exp(3.0 - z), 1e-6);
  std::vector<float> big = {1000.0f, 0.0f};  // stable for large logits
  EXPECT_NEAR(log_prob(big, 0), 0.0, 1e-9);
  EXPECT_NEAR(top_probability(big), 1.0, 1e-9);
}

TEST(LogSoftmax, MaskedLogitsTakeNoMass) {
  const std::vector<float> l = {0.0f, -INFINITY, 0.0f, -INFINITY};
  EXPECT_NEAR(log_prob(l, 0), std::log(0.5), 1e-6);
  EXPECT_NEAR(top_probability(l), 0.5, 1e-6);
}

TEST(LogSoftmax, UniformRowOfAVocabulary) {
  const std::vector<float> l(32000, 2.5f);
  EXPECT_NEAR(log_prob(l, 31999), -std::log(32000.0), 1e-6);
  EXPECT_NEAR(top_probability(l), 1.0 / 32000, 1e-9);
  EXPECT_EQ(log_sum_exp(std::span<const float>()), -INFINITY);
  EXPECT_EQ(top_probability(std::span<const float>()), 0.0);
}

}  // namespace
}  // namespace tandem

// The trainer's vectorizable exp against libm over the whole float range it
// is used on (softmax and sigmoid arguments), and at its clamps.
#include "tandem/train/fast_exp.h"

#include <cmath>

#include <gtest/gtest.h>

namespace tandem {
namespace {

TEST(FastExp, MatchesLibmWithinTwoUlpsOfRelativeError) {
  double worst = 0;
  for (float x = -87.0f; x < 88.3f; x += 0.00137f) {
    const double e = std::exp(static_cast<double>(x));
    worst = std::max(worst, std::fabs(fast_exp(x) - e) / e);
  }
  EXPECT_LT(worst, 2.4e-7);  // float epsilon is 1.19e-7
  EXPECT_EQ(fast_exp(0.0f), 1.0f);
  EXPECT_GT(fast_exp(-1000.0f), 0.0f);  // clamped: tiny but normal, never NaN
  EXPECT_LT(fast_exp(-1000.0f), 1e-37f);
  EXPECT_TRUE(std::isfinite(fast_exp(1000.0f)));
  EXPECT_EQ(fast_exp(0.5), std::exp(0.5));  // double: libm itself
}

}  // namespace
}  // namespace tandem

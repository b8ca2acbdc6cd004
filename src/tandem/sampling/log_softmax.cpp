#include "tandem/sampling/log_softmax.h"

#include <cmath>

#include "tandem/tensor/kernels.h"

namespace tandem {

double log_sum_exp(std::span<const float> row) {
  return host_kernels().log_sum_exp(row.data(), static_cast<int64_t>(row.size()), nullptr);
}

double log_prob(std::span<const float> row, int32_t target) {
  return static_cast<double>(row[static_cast<size_t>(target)]) - log_sum_exp(row);
}

double top_probability(std::span<const float> row) {
  if (row.empty()) return 0.0;
  float max = 0;
  const double lse = host_kernels().log_sum_exp(row.data(), static_cast<int64_t>(row.size()), &max);
  return std::exp(static_cast<double>(max) - lse);
}

}  // namespace tandem

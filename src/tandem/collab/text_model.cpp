// Confidence summaries over the log-probs a TextModel returns.
#include "tandem/collab/text_model.h"

#include <algorithm>

namespace tandem {

double mean_logprob(std::span<const float> logprobs) {
  if (logprobs.empty()) return 0.0;
  double sum = 0;
  for (float v : logprobs) sum += v;
  return sum / static_cast<double>(logprobs.size());
}

double min_logprob(std::span<const float> logprobs) {
  if (logprobs.empty()) return 0.0;
  return *std::min_element(logprobs.begin(), logprobs.end());
}

}  // namespace tandem

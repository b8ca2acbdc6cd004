// The router's training data: run both models on a labeled dev set, score each
// answer against its reference with a task metric, and label the prompt
// "small sufficed" when small's score >= large's score - margin (RouteLLM's
// labels from preference data, here from measured quality). The metric comes
// in as a function, so this layer does not depend on eval's metrics.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/result.h"
#include "tandem/collab/router.h"
#include "tandem/collab/text_model.h"

namespace tandem {

struct DevExample {
  std::string prompt;
  std::string reference;
};

// Quality of an answer against a reference, higher is better (e.g. token F1).
using AnswerMetric = std::function<double(std::string_view answer, std::string_view reference)>;

struct RouterPairParams {
  CompletionRequest request{};  // the prompt is set per example
  double margin = 0.0;          // small sufficed when small >= large - margin
};

struct RouterPair {
  std::string prompt;
  std::string small_answer, large_answer;
  double small_quality = 0, large_quality = 0;
  bool small_sufficed = false;
  std::vector<double> dense;  // router_dense_features of the prompt
  int64_t large_tokens = 0;   // what asking the large model cost
};

// Called after each example with (done, total).
using PairProgressFn = std::function<void(size_t done, size_t total)>;

// Errors: a model's error, naming the example's index.
Result<std::vector<RouterPair>> make_router_pairs(TextModel& small, TextModel& large,
                                                  const std::vector<DevExample>& dev, const AnswerMetric& metric,
                                                  const RouterPairParams& params, const PairProgressFn& progress = {});

// The router's training examples from pairs (label: needs large = !small_sufficed).
std::vector<RouterExample> router_examples(const std::vector<RouterPair>& pairs);

}  // namespace tandem

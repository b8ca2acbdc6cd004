// Model routing (survey branch "SMs enhance LLMs"): a small classifier reads
// the prompt, before any model answers, and predicts whether the small model
// will not suffice. Logistic regression over hashed word n-grams of the prompt
// plus cheap dense features from the small model (its mean log-prob of the
// prompt: text it finds surprising is text it answers badly). The decision
// threshold is calibrated to a target share of large-model calls, as RouteLLM
// (Ong et al. 2024, arXiv 2406.18665) does: the quantile of router scores on a
// calibration set. Trainer written here: plain SGD, seeded, deterministic.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/base/result.h"
#include "tandem/collab/text_model.h"

namespace tandem {

struct RouterFeatureParams {
  int32_t n_buckets = 4096;  // hashed n-gram features
  int32_t max_ngram = 2;     // word n-grams of length 1..max_ngram
};

struct RouterExample {
  std::string prompt;
  std::vector<double> dense;  // the same dense features for every example
  bool needs_large = false;   // label: the small model did not suffice
};

struct RouterTrainParams {
  int32_t epochs = 100;
  double learning_rate = 0.5;
  double l2 = 1e-4;
  uint64_t seed = 1;  // shuffling order of SGD
  RouterFeatureParams features{};
};

// The hashed n-gram features of a prompt: (bucket, value) pairs, counts scaled
// to unit L2 norm so long prompts do not dominate. Lowercased ASCII words.
std::vector<std::pair<int32_t, float>> hashed_ngrams(std::string_view prompt, const RouterFeatureParams& p);

// Dense features the router reads from the small model: its mean log-prob of
// the prompt and log(1 + prompt tokens). Names in router_dense_feature_names().
Result<std::vector<double>> router_dense_features(TextModel& small, std::string_view prompt);
std::vector<std::string> router_dense_feature_names();

// The threshold at which `target_share` of `scores` lie at or above it (the
// share is rounded to whole requests): halfway between the k-th and (k+1)-th
// highest scores. Errors: no scores, share outside [0, 1].
Result<double> calibrate_threshold(std::vector<double> scores, double target_share);

class Router {
 public:
  // Errors: no examples, inconsistent dense sizes, bad parameters.
  static Result<Router> train(const std::vector<RouterExample>& examples, const RouterTrainParams& params);

  // P(needs large) for a prompt and its dense features. Errors: wrong dense size.
  Result<double> score(std::string_view prompt, std::span<const double> dense) const;
  bool to_large(double score) const { return score >= threshold_; }

  double threshold() const { return threshold_; }
  void set_threshold(double t) { threshold_ = t; }
  size_t n_dense() const { return dense_w_.size(); }

  nlohmann::json to_json() const;
  // Errors name the field and what was expected.
  static Result<Router> from_json(const nlohmann::json& j);
  Status save(const std::string& path) const;
  static Result<Router> load(const std::string& path);

 private:
  double logit(const std::vector<std::pair<int32_t, float>>& sparse, std::span<const double> dense_std) const;

  RouterFeatureParams features_;
  std::vector<double> w_;  // (n_buckets)
  std::vector<double> dense_w_, dense_mean_, dense_scale_;  // (n_dense): standardized on the training set
  double bias_ = 0;
  double threshold_ = 0.5;
};

}  // namespace tandem

// The router's features, trainer (logistic regression by SGD), calibration and
// JSON form.
#include "tandem/collab/router.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <map>
#include <numeric>
#include <random>

#include "tandem/tokenizer/words.h"

namespace tandem {
namespace {

// FNV-1a, 64 bit: a fixed, documented hash so a saved router means the same on every machine.
uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

double sigmoid(double z) { return z >= 0 ? 1.0 / (1.0 + std::exp(-z)) : std::exp(z) / (1.0 + std::exp(z)); }

}  // namespace

std::vector<std::pair<int32_t, float>> hashed_ngrams(std::string_view prompt, const RouterFeatureParams& p) {
  const std::vector<std::string> words = normalized_words(prompt);
  std::map<int32_t, float> counts;  // ordered: the output is deterministic
  for (int32_t n = 1; n <= p.max_ngram; ++n) {
    for (size_t i = 0; i + static_cast<size_t>(n) <= words.size(); ++i) {
      std::string g = std::to_string(n);
      for (int32_t k = 0; k < n; ++k) g += '\x1f' + words[i + static_cast<size_t>(k)];
      counts[static_cast<int32_t>(fnv1a(g) % static_cast<uint64_t>(p.n_buckets))] += 1.0f;
    }
  }
  double norm = 0;
  for (const auto& [b, c] : counts) norm += static_cast<double>(c) * c;
  norm = std::sqrt(norm);
  std::vector<std::pair<int32_t, float>> out;
  for (const auto& [b, c] : counts) out.emplace_back(b, static_cast<float>(c / norm));
  return out;
}

std::vector<std::string> router_dense_feature_names() { return {"small_prompt_mean_logprob", "log1p_prompt_tokens"}; }

Result<std::vector<double>> router_dense_features(TextModel& small, std::string_view prompt) {
  auto s = small.score("", prompt);
  if (!s) return make_error("router features from ", small.name(), ": ", s.error().message);
  return std::vector<double>{mean_logprob(s->logprobs), std::log1p(static_cast<double>(s->logprobs.size()))};
}

Result<double> calibrate_threshold(std::vector<double> scores, double target_share) {
  if (scores.empty()) return make_error("calibrate: no calibration scores");
  if (!(target_share >= 0.0 && target_share <= 1.0))
    return make_error("calibrate: target large share is ", target_share, " (expected 0..1)");
  std::sort(scores.begin(), scores.end(), std::greater<>());
  const size_t n = scores.size();
  const size_t k = static_cast<size_t>(std::lround(target_share * static_cast<double>(n)));
  if (k == 0) return std::nextafter(scores.front(), std::numeric_limits<double>::infinity());
  if (k >= n) return scores.back();
  return 0.5 * (scores[k - 1] + scores[k]);
}

Result<Router> Router::train(const std::vector<RouterExample>& examples, const RouterTrainParams& params) {
  if (examples.empty()) return make_error("router: no training examples");
  if (params.features.n_buckets < 1 || params.features.max_ngram < 1)
    return make_error("router: n_buckets and max_ngram must be >= 1");
  if (params.epochs < 1 || !(params.learning_rate > 0) || params.l2 < 0)
    return make_error("router: epochs >= 1, learning_rate > 0 and l2 >= 0 expected");
  const size_t n_dense = examples.front().dense.size();
  for (size_t i = 0; i < examples.size(); ++i)
    if (examples[i].dense.size() != n_dense)
      return make_error("router: example ", i, " has ", examples[i].dense.size(), " dense features, expected ", n_dense);

  Router r;
  r.features_ = params.features;
  r.w_.assign(static_cast<size_t>(params.features.n_buckets), 0.0);
  r.dense_w_.assign(n_dense, 0.0);
  r.dense_mean_.assign(n_dense, 0.0);
  r.dense_scale_.assign(n_dense, 1.0);
  // Standardize the dense features so one learning rate fits them and the n-grams.
  const double n = static_cast<double>(examples.size());
  for (size_t d = 0; d < n_dense; ++d) {
    double m = 0, v = 0;
    for (const auto& e : examples) m += e.dense[d];
    m /= n;
    for (const auto& e : examples) v += (e.dense[d] - m) * (e.dense[d] - m);
    const double sd = std::sqrt(v / n);
    r.dense_mean_[d] = m;
    r.dense_scale_[d] = sd > 1e-12 ? 1.0 / sd : 0.0;  // a constant feature carries nothing
  }
  std::vector<std::vector<std::pair<int32_t, float>>> sparse;
  std::vector<std::vector<double>> dense;
  for (const auto& e : examples) {
    sparse.push_back(hashed_ngrams(e.prompt, params.features));
    std::vector<double> z(n_dense);
    for (size_t d = 0; d < n_dense; ++d) z[d] = (e.dense[d] - r.dense_mean_[d]) * r.dense_scale_[d];
    dense.push_back(std::move(z));
  }
  // Start the bias at the log-odds of the base rate, so an uninformative router
  // still predicts the right share.
  double pos = 0;
  for (const auto& e : examples) pos += e.needs_large ? 1 : 0;
  const double rate = std::clamp(pos / n, 1e-3, 1 - 1e-3);
  r.bias_ = std::log(rate / (1 - rate));

  std::vector<size_t> order(examples.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(params.seed);
  for (int32_t epoch = 0; epoch < params.epochs; ++epoch) {
    // Fisher-Yates with mt19937_64 (fully specified by the standard, unlike std::shuffle).
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
    const double lr = params.learning_rate / std::sqrt(1.0 + epoch);
    for (size_t i : order) {
      const double g = sigmoid(r.logit(sparse[i], dense[i])) - (examples[i].needs_large ? 1.0 : 0.0);
      for (const auto& [b, v] : sparse[i]) {
        double& w = r.w_[static_cast<size_t>(b)];
        w -= lr * (g * v + params.l2 * w);
      }
      for (size_t d = 0; d < n_dense; ++d) r.dense_w_[d] -= lr * (g * dense[i][d] + params.l2 * r.dense_w_[d]);
      r.bias_ -= lr * g;
    }
  }
  return r;
}

double Router::logit(const std::vector<std::pair<int32_t, float>>& sparse, std::span<const double> dense_std) const {
  double z = bias_;
  for (const auto& [b, v] : sparse) z += w_[static_cast<size_t>(b)] * v;
  for (size_t d = 0; d < dense_w_.size(); ++d) z += dense_w_[d] * dense_std[d];
  return z;
}

Result<double> Router::score(std::string_view prompt, std::span<const double> dense) const {
  if (dense.size() != dense_w_.size())
    return make_error("router: ", dense.size(), " dense features given, the router was trained on ", dense_w_.size());
  std::vector<double> z(dense.size());
  for (size_t d = 0; d < dense.size(); ++d) z[d] = (dense[d] - dense_mean_[d]) * dense_scale_[d];
  return sigmoid(logit(hashed_ngrams(prompt, features_), z));
}

nlohmann::json Router::to_json() const {
  // Only nonzero n-gram weights are stored: most buckets stay untouched.
  nlohmann::json ng = nlohmann::json::array();
  for (size_t b = 0; b < w_.size(); ++b)
    if (w_[b] != 0.0) ng.push_back({b, w_[b]});
  return {{"format", "tandem-router-v1"},
          {"n_buckets", features_.n_buckets},
          {"max_ngram", features_.max_ngram},
          {"bias", bias_},
          {"threshold", threshold_},
          {"ngram_weights", ng},
          {"dense_features", router_dense_feature_names()},
          {"dense_weights", dense_w_},
          {"dense_mean", dense_mean_},
          {"dense_scale", dense_scale_}};
}

Result<Router> Router::from_json(const nlohmann::json& j) {
  try {
    if (!j.is_object() || j.value("format", "") != "tandem-router-v1")
      return make_error("router: field 'format' is not \"tandem-router-v1\"");
    Router r;
    r.features_.n_buckets = j.at("n_buckets").get<int32_t>();
    r.features_.max_ngram = j.at("max_ngram").get<int32_t>();
    if (r.features_.n_buckets < 1 || r.features_.max_ngram < 1)
      return make_error("router: n_buckets and max_ngram must be >= 1");
    r.bias_ = j.at("bias").get<double>();
    r.threshold_ = j.at("threshold").get<double>();
    r.w_.assign(static_cast<size_t>(r.features_.n_buckets), 0.0);
    for (const auto& e : j.at("ngram_weights")) {
      const auto b = e.at(0).get<int64_t>();
      if (b < 0 || b >= r.features_.n_buckets)
        return make_error("router: ngram_weights bucket ", b, " outside 0..", r.features_.n_buckets - 1);
      r.w_[static_cast<size_t>(b)] = e.at(1).get<double>();
    }
    r.dense_w_ = j.at("dense_weights").get<std::vector<double>>();
    r.dense_mean_ = j.at("dense_mean").get<std::vector<double>>();
    r.dense_scale_ = j.at("dense_scale").get<std::vector<double>>();
    if (r.dense_mean_.size() != r.dense_w_.size() || r.dense_scale_.size() != r.dense_w_.size())
      return make_error("router: dense_weights, dense_mean and dense_scale differ in length");
    return r;
  } catch (const nlohmann::json::exception& e) {
    return make_error("router: ", e.what());
  }
}

Status Router::save(const std::string& path) const {
  std::ofstream out(path);
  if (!out) return make_error("cannot write router file ", path);
  out << to_json().dump(1) << "\n";
  if (!out) return make_error("error writing router file ", path);
  return ok_status();
}

Result<Router> Router::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error("cannot open router file ", path);
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded()) return make_error("router file ", path, ": not valid JSON");
  auto r = from_json(j);
  if (!r) return make_error("router file ", path, ": ", r.error().message);
  return r;
}

}  // namespace tandem

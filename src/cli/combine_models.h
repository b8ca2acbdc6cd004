// Command-line glue for white-box model combinations shared by `tandem
// generate` and `tandem perplexity`: the options of contrastive decoding
// (--amateur, --cd-alpha, --cd-beta) and proxy-tuning (--proxy-base,
// --proxy-tuned, --proxy-alpha), their checks, and loading the extra models
// with the vocabulary check against the main one (-m: the expert, or the large
// base), so both commands pair models the same way and fail the same way.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "tandem/base/result.h"
#include "tandem/collab/logit_combine.h"
#include "tandem/model/decoder.h"

namespace tandem::cli {

struct CombineOptions {
  std::string amateur;  // contrastive decoding: the amateur model
  ContrastiveParams cd{};
  std::string proxy_base, proxy_tuned;  // proxy-tuning: the small pair
  ProxyParams proxy{};

  bool contrastive() const { return !amateur.empty(); }
  bool proxy_tuning() const { return !proxy_base.empty() || !proxy_tuned.empty(); }
  bool active() const { return contrastive() || proxy_tuning(); }
};

void add_contrastive_options(CLI::App* cmd, CombineOptions& o);
void add_proxy_options(CLI::App* cmd, CombineOptions& o);

// One strategy at a time, both files of the proxy pair, parameters in range.
Status check_combine_options(const CombineOptions& o);

struct CombinedModels {
  std::vector<std::shared_ptr<const DecoderModel>> models;  // in the combiner's row order, main first
  std::vector<std::string> paths;
  LogitCombiner combiner;
};

// Loads the extra models and checks each vocabulary against the main model's.
Result<CombinedModels> load_combined_models(const CombineOptions& o, std::shared_ptr<const DecoderModel> main,
                                            const std::string& main_path);

// {"strategy": ..., "models": [...], parameters}: for --json reports.
nlohmann::json combine_json(const CombineOptions& o, const CombinedModels& m);

}  // namespace tandem::cli

// Options, checks and model loading of combine_models.h.
#include "cli/combine_models.h"

#include "tandem/collab/vocab_compat.h"

namespace tandem::cli {

void add_contrastive_options(CLI::App* cmd, CombineOptions& o) {
  cmd->add_option("--amateur", o.amateur,
                  "Contrastive decoding (O'Brien & Lewis 2023): amateur model (GGUF sharing the model's vocabulary)");
  cmd->add_option("--cd-alpha", o.cd.alpha,
                  "Contrastive plausibility: keep tokens with p_expert >= A * max p_expert (0..1)")
      ->capture_default_str();
  cmd->add_option("--cd-beta", o.cd.beta, "Contrastive weight: (1+B) expert - B amateur (0: the expert alone)")
      ->capture_default_str();
}

void add_proxy_options(CLI::App* cmd, CombineOptions& o) {
  cmd->add_option("--proxy-base", o.proxy_base, "Proxy-tuning (Liu et al. 2024): the small untuned model");
  cmd->add_option("--proxy-tuned", o.proxy_tuned, "Proxy-tuning: the small tuned model");
  cmd->add_option("--proxy-alpha", o.proxy.alpha, "Proxy-tuning strength: large + A (tuned - base) (0: off)")
      ->capture_default_str();
}

Status check_combine_options(const CombineOptions& o) {
  if (o.contrastive() && o.proxy_tuning())
    return make_error("--amateur (contrastive decoding) and --proxy-base/--proxy-tuned (proxy-tuning) exclude each other");
  if (o.proxy_tuning() && (o.proxy_base.empty() || o.proxy_tuned.empty()))
    return make_error("proxy-tuning needs both --proxy-base SMALL_BASE.gguf and --proxy-tuned SMALL_TUNED.gguf");
  if (o.contrastive()) TANDEM_TRY(check_params(o.cd));
  if (o.proxy_tuning()) TANDEM_TRY(check_params(o.proxy));
  return ok_status();
}

Result<CombinedModels> load_combined_models(const CombineOptions& o, std::shared_ptr<const DecoderModel> main,
                                            const std::string& main_path) {
  TANDEM_TRY(check_combine_options(o));
  CombinedModels m;
  m.models.push_back(std::move(main));
  m.paths.push_back(main_path);
  std::vector<std::pair<std::string, const char*>> extra;
  if (o.contrastive()) {
    m.combiner = contrastive_combiner(o.cd);
    extra = {{o.amateur, "amateur"}};
  } else if (o.proxy_tuning()) {
    m.combiner = proxy_combiner(o.proxy);
    extra = {{o.proxy_tuned, "proxy tuned"}, {o.proxy_base, "proxy base"}};
  } else {
    return make_error("no model combination requested (--amateur or --proxy-base/--proxy-tuned)");
  }
  for (const auto& [path, role] : extra) {
    auto dm = DecoderModel::load(path);
    if (!dm) return make_error(role, " model: ", dm.error().message);
    auto compat = check_vocab_compatible(m.models[0]->tokenizer().vocab(), (*dm)->tokenizer().vocab());
    if (!compat)
      return make_error(role, " model ", path, " cannot be combined with ", main_path, ": ", compat.error().message);
    m.models.push_back(*dm);
    m.paths.push_back(path);
  }
  return m;
}

nlohmann::json combine_json(const CombineOptions& o, const CombinedModels& m) {
  nlohmann::json j = {{"strategy", m.combiner.name}, {"models", m.paths}};
  if (o.contrastive()) {
    j["cd_alpha"] = o.cd.alpha;
    j["cd_beta"] = o.cd.beta;
  } else {
    j["proxy_alpha"] = o.proxy.alpha;
  }
  return j;
}

}  // namespace tandem::cli

// Reading {"prompt", "reference"} JSONL with line-precise errors.
#include "tandem/data/labeled_prompts.h"

#include <fstream>

#include <nlohmann/json.hpp>

namespace tandem {

Result<std::vector<LabeledPrompt>> read_labeled_prompts(const std::string& path, bool require_reference) {
  std::ifstream in(path);
  if (!in) return make_error("cannot open ", path);
  std::vector<LabeledPrompt> out;
  std::string line;
  int64_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) return make_error(path, ":", n, ": not valid JSON (expected one object per line)");
    if (!j.is_object()) return make_error(path, ":", n, ": expected a JSON object, got ", j.type_name());
    auto p = j.find("prompt");
    if (p == j.end() || !p->is_string())
      return make_error(path, ":", n, ": field \"prompt\" is missing or not a string");
    LabeledPrompt lp{.prompt = p->get<std::string>(), .reference = std::nullopt, .line = n};
    auto r = j.find("reference");
    if (r != j.end()) {
      if (!r->is_string()) return make_error(path, ":", n, ": field \"reference\" is not a string");
      lp.reference = r->get<std::string>();
    } else if (require_reference) {
      return make_error(path, ":", n, ": field \"reference\" is missing (this command scores answers against it)");
    }
    out.push_back(std::move(lp));
  }
  if (out.empty()) return make_error(path, ": no prompts (expected JSONL lines like {\"prompt\": \"...\"})");
  return out;
}

}  // namespace tandem

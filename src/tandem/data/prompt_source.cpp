// Corpus-prefix and JSONL prompts (see prompt_source.h).
#include "tandem/data/prompt_source.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tandem/base/mapped_file.h"
#include "tandem/data/line_file.h"

namespace tandem {
namespace {

std::vector<std::string> words_of(const std::string& line) {
  std::vector<std::string> w;
  std::istringstream in(line);
  for (std::string s; in >> s;) w.push_back(std::move(s));
  return w;
}

}  // namespace

Result<std::vector<std::string>> corpus_prompts(const std::vector<std::string>& lines, const CorpusPromptOptions& opt) {
  if (opt.n_words < 1) return make_error("prompts: words per prompt ", opt.n_words, " must be >= 1");
  if (opt.n_prompts < 0) return make_error("prompts: number of prompts ", opt.n_prompts, " must be >= 0");
  std::vector<const std::string*> usable;
  for (const auto& l : lines)
    if (l.find_first_not_of(" \t") != std::string::npos) usable.push_back(&l);
  if (usable.empty()) return make_error("prompts: the corpus has no non-empty line");
  const int64_t L = static_cast<int64_t>(usable.size());
  const int64_t n = opt.n_prompts == 0 ? L : std::min(opt.n_prompts, L);
  std::vector<std::string> out;
  out.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const auto w = words_of(*usable[static_cast<size_t>(i * L / n)]);
    const size_t keep = std::max<size_t>(1, std::min<size_t>(static_cast<size_t>(opt.n_words), w.size() - 1));
    std::string p;
    for (size_t k = 0; k < keep && k < w.size(); ++k) p += (k ? " " : "") + w[k];
    out.push_back(std::move(p));
  }
  return out;
}

Result<std::vector<std::string>> read_prompt_jsonl(const std::string& path) {
  auto text = read_file(path);
  if (!text) return text.error();
  std::vector<std::string> out;
  const auto lines = split_lines(*text);
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].find_first_not_of(" \t") == std::string::npos) continue;
    auto j = nlohmann::json::parse(lines[i], nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object())
      return make_error(path, ":", i + 1, ": not a JSON object");
    auto it = j.find("prompt");
    if (it == j.end() || !it->is_string())
      return make_error(path, ":", i + 1, ": expected a string field \"prompt\"");
    out.push_back(it->get<std::string>());
  }
  if (out.empty()) return make_error(path, ": no prompts");
  return out;
}

}  // namespace tandem

// Exact match and token F1 over normalized words.
#include "tandem/eval/text_metrics.h"

#include <algorithm>
#include <cctype>
#include <map>

namespace tandem {

double token_f1(std::string_view answer, std::string_view reference) {
  const auto a = normalized_words(answer);
  const auto r = normalized_words(reference);
  if (a.empty() && r.empty()) return 1.0;
  if (a.empty() || r.empty()) return 0.0;
  std::map<std::string, int> ref_counts;
  for (const auto& w : r) ++ref_counts[w];
  int common = 0;
  for (const auto& w : a) {
    auto it = ref_counts.find(w);
    if (it != ref_counts.end() && it->second > 0) {
      --it->second;
      ++common;
    }
  }
  if (common == 0) return 0.0;
  const double p = static_cast<double>(common) / static_cast<double>(a.size());
  const double rc = static_cast<double>(common) / static_cast<double>(r.size());
  return 2 * p * rc / (p + rc);
}

namespace {
std::string_view first_line(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  s.remove_prefix(b);
  return s.substr(0, s.find('\n'));
}
}  // namespace

double exact_match_first_line(std::string_view answer, std::string_view reference) {
  return normalized_words(first_line(answer)) == normalized_words(first_line(reference)) ? 1.0 : 0.0;
}

Result<TextMetric> parse_text_metric(std::string_view name) {
  if (name == "f1") return TextMetric::kTokenF1;
  if (name == "exact") return TextMetric::kExactMatch;
  return make_error("unknown metric '", name, "' (expected f1 or exact)");
}

double text_metric(TextMetric m, std::string_view answer, std::string_view reference) {
  return m == TextMetric::kTokenF1 ? token_f1(answer, reference) : exact_match_first_line(answer, reference);
}

}  // namespace tandem

// Task metrics for generated answers against references (SQuAD-style): text
// normalized (lowercase, punctuation dropped, whitespace collapsed), then exact
// match or token-level F1. Cascades and routers use them to say whether the
// small model's answer was as good as the large one's.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/result.h"
#include "tandem/tokenizer/words.h"  // normalized_words: the words both answers are compared on

namespace tandem {

// Harmonic mean of precision and recall over the multiset of normalized words.
// Both empty: 1; one empty: 0.
double token_f1(std::string_view answer, std::string_view reference);

// 1 when the first lines (up to the first newline, after leading whitespace)
// are equal once normalized, else 0.
double exact_match_first_line(std::string_view answer, std::string_view reference);

enum class TextMetric { kTokenF1, kExactMatch };
// Parses "f1" or "exact"; the error lists the names.
Result<TextMetric> parse_text_metric(std::string_view name);
double text_metric(TextMetric m, std::string_view answer, std::string_view reference);

}  // namespace tandem

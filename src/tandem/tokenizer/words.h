// Plain word splitting for features and metrics (not model tokenization):
// lowercased runs of ASCII letters and digits, bytes >= 0x80 kept inside words,
// everything else a separator. Shared by the router's n-gram features and the
// text metrics so both see the same words.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tandem {

std::vector<std::string> normalized_words(std::string_view text);

}  // namespace tandem

// JSONL request files for cascades and routing: one object per non-blank line
// with a string "prompt" and, optionally, a string "reference" (the answer a
// task metric compares against). Errors name the file, line and field, since
// a hand-edited JSONL file is the usual input.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tandem/base/result.h"

namespace tandem {

struct LabeledPrompt {
  std::string prompt;
  std::optional<std::string> reference;
  int64_t line = 0;  // 1-based line in the file
};

// With require_reference, a record without "reference" is an error.
Result<std::vector<LabeledPrompt>> read_labeled_prompts(const std::string& path, bool require_reference = false);

}  // namespace tandem

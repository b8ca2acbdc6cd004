// Prompts for a teacher's generation job (black-box distillation, data
// synthesis): either the opening words of corpus lines — the teacher continues
// a verse it has seen begin, so the student learns the teacher's version of the
// corpus's distribution — or a JSONL file of {"prompt": "..."} objects. Both are
// deterministic functions of their input, which a resumable job relies on: the
// prompt of record i must be the same on every restart.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tandem/base/result.h"

namespace tandem {

struct CorpusPromptOptions {
  int64_t n_prompts = 0;  // lines to take, evenly spaced over the corpus; 0: every line
  int64_t n_words = 4;    // words kept from the start of each line (>= 1)
};

// The first n_words words of n_prompts lines spread evenly over `lines` (line
// i * L / n for i < n, so every part of the corpus is represented). A line of
// n_words words or fewer keeps all but its last word (at least one), so the
// teacher always has something left to continue. Empty lines are skipped.
// Errors: n_words < 1, n_prompts < 0, or no non-empty line.
Result<std::vector<std::string>> corpus_prompts(const std::vector<std::string>& lines, const CorpusPromptOptions& opt);

// One prompt per non-blank line of a JSONL file: an object with a string field
// "prompt" (other fields are ignored). Errors name the file and line.
Result<std::vector<std::string>> read_prompt_jsonl(const std::string& path);

}  // namespace tandem

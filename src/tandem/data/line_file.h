// Text files of one record per line (corpus splits, tokenizer training input):
// splitting a text into lines, and writing lines or bytes to a file through a
// temporary name and a rename, so an interrupted run never leaves a truncated
// file under the final name that a later step would silently train on.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/result.h"

namespace tandem {

// The lines of a text, without their '\n' (and without a '\r' before it). A
// final line without '\n' counts; a trailing '\n' does not start an empty line.
std::vector<std::string> split_lines(std::string_view text);

// Writes `bytes` to `path` (via `path`.tmp, renamed into place).
Status write_file_atomic(const std::string& path, std::string_view bytes);

// Writes each line followed by '\n'. A line holding '\n' is an error, since it
// would read back as two records.
Status write_lines(const std::string& path, std::span<const std::string> lines);

}  // namespace tandem

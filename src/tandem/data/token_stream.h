// Turns a text file of one document per line (a verse of the house corpus) into
// the token stream the trainer reads: each line as a prompt would be encoded
// (BOS, then the SentencePiece dummy prefix and the text), followed by a
// newline token, so a model trained on it continues prompts the way it saw
// lines begin and learns where lines end.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tandem/base/result.h"
#include "tandem/tokenizer/tokenizer.h"

namespace tandem {

// Tokens of `lines` as described above. The newline token is the vocabulary's
// text "\n" when present, else its byte token <0x0A>; without either, an error.
Result<std::vector<int32_t>> tokenize_lines(const Tokenizer& tok, const std::vector<std::string>& lines);
// The same for a file (one document per line).
Result<std::vector<int32_t>> tokenize_line_file(const Tokenizer& tok, const std::string& path);

}  // namespace tandem

#include "tandem/data/token_stream.h"

#include "tandem/base/mapped_file.h"
#include "tandem/data/line_file.h"

namespace tandem {

Result<std::vector<int32_t>> tokenize_lines(const Tokenizer& tok, const std::vector<std::string>& lines) {
  const Vocab& v = tok.vocab();
  int32_t newline = v.find("\n");
  if (newline < 0) newline = v.find("<0x0A>");
  if (newline < 0) return make_error("tokenize_lines: the vocabulary has no newline token (\"\\n\" or <0x0A>)");
  std::vector<int32_t> out;
  for (const auto& line : lines) {
    if (line.empty()) continue;
    auto ids = tok.encode(line, {.add_special = true});
    out.insert(out.end(), ids.begin(), ids.end());
    out.push_back(newline);
  }
  return out;
}

Result<std::vector<int32_t>> tokenize_line_file(const Tokenizer& tok, const std::string& path) {
  auto text = read_file(path);
  if (!text) return text.error();
  auto ids = tokenize_lines(tok, split_lines(*text));
  if (!ids) return make_error(path, ": ", ids.error().message);
  if (ids->empty()) return make_error(path, ": no text to train on");
  return ids;
}

}  // namespace tandem

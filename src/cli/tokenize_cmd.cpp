// `tandem tokenize -m FILE (-p TEXT | -f FILE) [--ids] [--no-special]
// [--parse-special]`: the token ids of a text under a model's tokenizer, either
// as one line of ids or as one line per token with its piece made printable.
#include <charconv>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "tandem/base/mapped_file.h"
#include "tandem/gguf/gguf_file.h"
#include "tandem/tokenizer/tokenizer.h"

namespace tandem::cli {
namespace {

struct TokenizeOptions {
  std::string model;
  std::string prompt;
  std::string file;
  bool ids_only = false;
  bool no_special = false;
  bool parse_special = false;
};

// Length of the valid UTF-8 sequence at s[i], or 0 when the bytes there are not one.
size_t valid_utf8_len(const std::string& s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n = 0;
  uint32_t cp = 0;
  if (c >= 0xC2 && c <= 0xDF) n = 2, cp = c & 0x1F;
  else if (c >= 0xE0 && c <= 0xEF) n = 3, cp = c & 0x0F;
  else if (c >= 0xF0 && c <= 0xF4) n = 4, cp = c & 0x07;
  else return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  const bool overlong = (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
  if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

// A piece in double quotes with C escapes, so spaces, control bytes and
// partial UTF-8 sequences (byte-fallback tokens) are all visible.
std::string quote(const std::string& piece) {
  std::string q = "\"";
  for (size_t i = 0; i < piece.size();) {
    const auto c = static_cast<unsigned char>(piece[i]);
    if (c == '"' || c == '\\') {
      q += '\\', q += static_cast<char>(c), ++i;
    } else if (c == '\n') {
      q += "\\n", ++i;
    } else if (c == '\t') {
      q += "\\t", ++i;
    } else if (c == '\r') {
      q += "\\r", ++i;
    } else if (c >= 0x20 && c < 0x7F) {
      q += static_cast<char>(c), ++i;
    } else if (size_t n = valid_utf8_len(piece, i); n > 0) {
      q.append(piece, i, n), i += n;
    } else {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      q += buf, ++i;
    }
  }
  q += '"';
  return q;
}

int run_tokenize(const TokenizeOptions& o, bool have_prompt, bool have_file) {
  if (have_prompt == have_file) return fail(Error{"tokenize: give the text with exactly one of -p TEXT or -f FILE"});
  std::string text = o.prompt;
  if (have_file) {
    auto r = read_file(o.file);
    if (!r) return fail(r.error());
    text = std::move(r).value();
  }
  auto f = GgufFile::open(o.model);
  if (!f) return fail(f.error());
  auto tok = Tokenizer::from_gguf(*f);
  if (!tok) return fail(tok.error());
  const std::vector<int32_t> ids =
      tok->encode(text, EncodeOptions{.add_special = !o.no_special, .parse_special = o.parse_special});

  std::string out;
  if (o.ids_only) {
    out.reserve(ids.size() * 7 + 1);
    char buf[16];
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i) out += ' ';
      auto res = std::to_chars(buf, buf + sizeof buf, ids[i]);
      out.append(buf, res.ptr);
    }
    out += '\n';
  } else {
    for (int32_t id : ids) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "%6d ", id);
      out += buf;
      out += quote(tok->token_to_piece(id, /*unparse_special=*/true));
      out += '\n';
    }
  }
  if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size() || std::fflush(stdout) != 0)
    return fail(Error{"tokenize: writing to standard output failed"});
  return 0;
}

}  // namespace

void add_tokenize_command(CLI::App& app, int& rc) {
  auto opts = std::make_shared<TokenizeOptions>();
  auto* cmd = app.add_subcommand("tokenize", "Print the token ids of a text under a model's tokenizer");
  cmd->add_option("-m,--model", opts->model, "GGUF file with a tokenizer (a vocab-only file is enough)")->required();
  auto* prompt = cmd->add_option("-p,--prompt", opts->prompt, "Text to tokenize");
  auto* file = cmd->add_option("-f,--file", opts->file, "File whose bytes are tokenized exactly");
  prompt->excludes(file);
  cmd->add_flag("--ids", opts->ids_only, "Print only the ids, space-separated on one line");
  cmd->add_flag("--no-special", opts->no_special, "Add no BOS/EOS (CLS/SEP) tokens");
  cmd->add_flag("--parse-special", opts->parse_special, "Recognise control tokens written in the text (e.g. <s>)");
  cmd->callback([opts, prompt, file, &rc] { rc = run_tokenize(*opts, prompt->count() > 0, file->count() > 0); });
}

}  // namespace tandem::cli

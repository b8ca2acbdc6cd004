// `tandem logits`: float32 logits at every position of a token sequence,
// row-major [n_tokens][n_vocab], little-endian, no header, so that checks
// outside tandem can compare them with another implementation.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "cli/commands.h"
#include "tandem/model/decoder.h"

namespace tandem::cli {
namespace {

struct LogitsOptions {
  ModelArgs model;
  std::string tokens;
  std::string prompt;
  std::string out;
};

Result<std::vector<int32_t>> parse_ids(const std::string& s) {
  std::vector<int32_t> ids;
  std::string item;
  std::istringstream in(s);
  while (std::getline(in, item, ',')) {
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(item, &used);
    } catch (...) {
      used = 0;
    }
    if (used == 0 || used != item.size() || v < 0 || v > INT32_MAX)
      return make_error("--tokens: '", item, "' is not a token id (expected comma-separated non-negative integers)");
    ids.push_back(static_cast<int32_t>(v));
  }
  if (ids.empty()) return make_error("--tokens: no token ids given");
  return ids;
}

int run_logits(const LogitsOptions& o) {
  auto lo = load_options(o.model);
  if (!lo) return fail(lo.error());
  auto model = DecoderModel::load(o.model.path, *lo);
  if (!model) return fail(model.error());
  std::vector<int32_t> ids;
  if (!o.tokens.empty()) {
    auto p = parse_ids(o.tokens);
    if (!p) return fail(p.error());
    ids = std::move(*p);
  } else {
    ids = (*model)->tokenizer().encode(o.prompt);
  }
  ThreadPool pool(o.model.threads);
  Sequence seq(*model, pool, {.n_ctx = o.model.ctx > 0 ? o.model.ctx : static_cast<int64_t>(ids.size())});
  auto logits = seq.eval(ids, Logits::kAll);
  if (!logits) return fail(logits.error());
  std::FILE* f = std::fopen(o.out.c_str(), "wb");
  if (!f) return fail(make_error(o.out, ": cannot create: ", std::strerror(errno)));
  size_t n = std::fwrite(logits->data(), sizeof(float), logits->size(), f);
  if (std::fclose(f) != 0 || n != logits->size()) return fail(make_error(o.out, ": write failed"));
  std::fprintf(stderr, "wrote %zu x %lld float32 logits to %s\n", ids.size(),
               static_cast<long long>((*model)->config().n_vocab), o.out.c_str());
  return 0;
}

}  // namespace

void add_logits_command(CLI::App& app, int& rc) {
  auto o = std::make_shared<LogitsOptions>();
  auto* cmd = app.add_subcommand("logits", "Write float32 logits for every position to a file");
  add_model_options(cmd, o->model);
  auto* t = cmd->add_option("--tokens", o->tokens, "Comma-separated token ids, e.g. 1,2,3");
  auto* p = cmd->add_option("-p,--prompt", o->prompt, "Text to tokenize instead of --tokens (BOS added as the model says)");
  t->excludes(p);
  cmd->add_option("-o,--output", o->out, "Output file: [n_tokens][n_vocab] float32 little-endian")->required();
  cmd->callback([o, &rc] {
    if (o->tokens.empty() && o->prompt.empty()) {
      rc = fail(make_error("logits: give --tokens or --prompt"));
      return;
    }
    rc = run_logits(*o);
  });
}

}  // namespace tandem::cli

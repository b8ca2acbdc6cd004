// `tandem perplexity -m FILE -f TEXT [--ctx N]`: perplexity on a text file.
// With --proxy-base SMALL.gguf --proxy-tuned SMALL_TUNED.gguf [--proxy-alpha A]
// the model's logits are proxy-tuned (Liu et al. 2024); the model alone is
// scored too, on the same chunks, so one run shows perplexity before and after.
// --lines tokenizes the file as `tandem train` does (one document per line),
// the regime the house models were trained in.
#include <cstdio>

#include "cli/combine_models.h"
#include "cli/commands.h"
#include "tandem/base/mapped_file.h"
#include "tandem/data/token_stream.h"
#include "tandem/eval/combined_perplexity.h"
#include "tandem/eval/perplexity.h"

namespace tandem::cli {
namespace {

struct PplOptions {
  ModelArgs model;
  std::string file;
  int64_t chunks = 0;
  bool json = false;
  bool lines = false;  // one document per line, tokenized as the trainer does
  CombineOptions combine;  // proxy-tuning only
};

void print_result(const char* what, const PerplexityResult& r, int64_t n_ctx) {
  std::printf("%sperplexity: %.4f +/- %.4f over %lld tokens (%lld chunks of %lld) in %.2f s\n", what, r.ppl,
              r.ppl_stderr, static_cast<long long>(r.n_scored), static_cast<long long>(r.n_chunks),
              static_cast<long long>(n_ctx), r.seconds);
}

int run_ppl(const PplOptions& o) {
  TANDEM_TRY_CLI(check_combine_options(o.combine));
  auto lo = load_options(o.model);
  if (!lo) return fail(lo.error());
  auto model = DecoderModel::load(o.model.path, *lo);
  if (!model) return fail(model.error());
  std::vector<int32_t> tokens;
  if (o.lines) {
    auto t = tokenize_line_file((*model)->tokenizer(), o.file);
    if (!t) return fail(t.error());
    tokens = std::move(*t);
  } else {
    auto text = read_file(o.file);
    if (!text) return fail(text.error());
    tokens = (*model)->tokenizer().encode(*text);
  }
  ThreadPool pool(o.model.threads);
  PerplexityParams p{.n_ctx = o.model.ctx > 0 ? o.model.ctx : std::min<int64_t>(512, (*model)->config().n_ctx_train),
                     .max_chunks = o.chunks};
  if (!o.json) std::fprintf(stderr, "%zu tokens, chunks of %lld\n", tokens.size(), static_cast<long long>(p.n_ctx));
  auto r = perplexity(*model, pool, tokens, p, [&](int64_t c, double ppl) {
    if (!o.json) std::fprintf(stderr, "[%lld] %.4f\n", static_cast<long long>(c + 1), ppl);
  });
  if (!r) return fail(r.error());
  if (o.combine.active()) {
    auto cm = load_combined_models(o.combine, *model, o.model.path);
    if (!cm) return fail(cm.error());
    auto c = combined_perplexity(cm->models, cm->combiner, pool, tokens, p, [&](int64_t k, double ppl) {
      if (!o.json) std::fprintf(stderr, "[%s %lld] %.4f\n", cm->combiner.name.c_str(), static_cast<long long>(k + 1), ppl);
    });
    if (!c) return fail(c.error());
    if (o.json) {
      nlohmann::json j = combine_json(o.combine, *cm);
      j["ppl"] = c->ppl;
      j["ppl_stderr"] = c->ppl_stderr;
      j["alone"] = {{"ppl", r->ppl}, {"ppl_stderr", r->ppl_stderr}};
      j["n_scored"] = c->n_scored;
      j["n_chunks"] = c->n_chunks;
      j["n_ctx"] = p.n_ctx;
      std::printf("%s\n", j.dump().c_str());
    } else {
      print_result("model alone: ", *r, p.n_ctx);
      print_result((cm->combiner.name + "-tuned: ").c_str(), *c, p.n_ctx);
    }
    return 0;
  }
  if (o.json) {
    std::printf("{\"ppl\": %.6f, \"ppl_stderr\": %.6f, \"n_scored\": %lld, \"n_chunks\": %lld, \"n_ctx\": %lld}\n", r->ppl,
                r->ppl_stderr, static_cast<long long>(r->n_scored), static_cast<long long>(r->n_chunks),
                static_cast<long long>(p.n_ctx));
  } else {
    std::printf("perplexity: %.4f +/- %.4f over %lld tokens (%lld chunks of %lld) in %.2f s\n", r->ppl, r->ppl_stderr,
                static_cast<long long>(r->n_scored), static_cast<long long>(r->n_chunks),
                static_cast<long long>(p.n_ctx), r->seconds);
  }
  return 0;
}

}  // namespace

void add_perplexity_command(CLI::App& app, int& rc) {
  auto o = std::make_shared<PplOptions>();
  auto* cmd = app.add_subcommand("perplexity", "Perplexity of a model on a text file");
  add_model_options(cmd, o->model);
  cmd->add_option("-f,--file", o->file, "Text file")->required();
  cmd->add_option("--chunks", o->chunks, "Score at most this many chunks (0: all)");
  cmd->add_flag("--json", o->json, "Print the result as JSON");
  cmd->add_flag("--lines", o->lines,
                "One document per line, tokenized as `tandem train` reads it (BOS, text, newline per line)");
  add_proxy_options(cmd, o->combine);
  cmd->callback([o, &rc] { rc = run_ppl(*o); });
}

}  // namespace tandem::cli

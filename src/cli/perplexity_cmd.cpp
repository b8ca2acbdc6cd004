// `tandem perplexity -m FILE -f TEXT [--ctx N]`: perplexity on a text file.
#include <cstdio>

#include "cli/commands.h"
#include "tandem/base/mapped_file.h"
#include "tandem/eval/perplexity.h"

namespace tandem::cli {
namespace {

struct PplOptions {
  ModelArgs model;
  std::string file;
  int64_t chunks = 0;
  bool json = false;
};

int run_ppl(const PplOptions& o) {
  auto model = DecoderModel::load(o.model.path);
  if (!model) return fail(model.error());
  auto text = read_file(o.file);
  if (!text) return fail(text.error());
  auto tokens = (*model)->tokenizer().encode(*text);
  ThreadPool pool(o.model.threads);
  PerplexityParams p{.n_ctx = o.model.ctx > 0 ? o.model.ctx : std::min<int64_t>(512, (*model)->config().n_ctx_train),
                     .max_chunks = o.chunks};
  if (!o.json) std::fprintf(stderr, "%zu tokens, chunks of %lld\n", tokens.size(), static_cast<long long>(p.n_ctx));
  auto r = perplexity(*model, pool, tokens, p, [&](int64_t c, double ppl) {
    if (!o.json) std::fprintf(stderr, "[%lld] %.4f\n", static_cast<long long>(c + 1), ppl);
  });
  if (!r) return fail(r.error());
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
  cmd->callback([o, &rc] { rc = run_ppl(*o); });
}

}  // namespace tandem::cli

// Entry point of the `tandem` command.
#include <cstdio>
#include <exception>

#include "cli/commands.h"

namespace tandem::cli {
void add_model_options(CLI::App* cmd, ModelArgs& a) {
  cmd->add_option("-m,--model", a.path, "GGUF model file")->required();
  cmd->add_option("-t,--threads", a.threads, "Threads (default: the cores present)");
  cmd->add_option("--ctx", a.ctx, "Context length in tokens (default: the model's training context)");
  cmd->add_option("--kv-type", a.kv_type,
                  "KV cache elements: f32, or f16 for half the memory and the bytes attention reads")
      ->capture_default_str();
}

Result<DecoderLoadOptions> load_options(const ModelArgs& a) {
  DecoderLoadOptions o;
  if (a.kv_type == "f16")
    o.kv_f16 = true;
  else if (a.kv_type != "f32")
    return make_error("--kv-type is '", a.kv_type, "' (expected f32 or f16)");
  return o;
}

int fail(const Error& e) {
  std::fprintf(stderr, "tandem: error: %s\n", e.message.c_str());
  return 1;
}
}  // namespace tandem::cli

int main(int argc, char** argv) {
  CLI::App app{"tandem: small and large language models working together"};
  app.require_subcommand(1);
  int rc = 0;
  tandem::cli::add_gguf_command(app, rc);
  tandem::cli::add_tokenize_command(app, rc);
  tandem::cli::add_generate_command(app, rc);
  tandem::cli::add_logits_command(app, rc);
  tandem::cli::add_perplexity_command(app, rc);
  tandem::cli::add_bench_command(app, rc);
  tandem::cli::add_corpus_command(app, rc);
  tandem::cli::add_train_tokenizer_command(app, rc);
  tandem::cli::add_train_command(app, rc);
  tandem::cli::add_distill_command(app, rc);
  tandem::cli::add_distill_eval_command(app, rc);
  tandem::cli::add_cascade_command(app, rc);
  tandem::cli::add_route_command(app, rc);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    // Library code returns errors as values; this is the last line of defence
    // (e.g. out of memory) so the user still gets one line, not an abort.
    std::fprintf(stderr, "tandem: error: %s\n", e.what());
    return 1;
  }
  return rc;
}

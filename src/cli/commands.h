// The `tandem` command: each subcommand lives in its own file and registers
// itself here. A callback stores its exit status in `rc`; errors are one line on
// stderr, never a crash.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "tandem/base/result.h"
#include "tandem/model/decoder.h"

namespace tandem::cli {

void add_gguf_command(CLI::App& app, int& rc);
void add_tokenize_command(CLI::App& app, int& rc);
void add_generate_command(CLI::App& app, int& rc);
void add_logits_command(CLI::App& app, int& rc);
void add_perplexity_command(CLI::App& app, int& rc);
void add_bench_command(CLI::App& app, int& rc);
void add_corpus_command(CLI::App& app, int& rc);
void add_train_tokenizer_command(CLI::App& app, int& rc);
void add_train_command(CLI::App& app, int& rc);
void add_distill_command(CLI::App& app, int& rc);
void add_distill_eval_command(CLI::App& app, int& rc);
void add_cascade_command(CLI::App& app, int& rc);
void add_route_command(CLI::App& app, int& rc);

// Options every model-running command shares: -m, -t, --ctx, --kv-type.
struct ModelArgs {
  std::string path;
  int threads = 0;   // 0: the cores present
  int64_t ctx = 0;   // 0: the model's training context
  std::string kv_type = "f32";  // KV cache elements: f32 or f16
};
void add_model_options(CLI::App* cmd, ModelArgs& a);
// The load options these arguments ask for (an error names a bad --kv-type).
Result<DecoderLoadOptions> load_options(const ModelArgs& a);

// Prints "tandem: error: MESSAGE" on stderr and returns the failing exit status.
int fail(const Error& e);

}  // namespace tandem::cli

// In a command body returning an exit status: fail with the error of a Status.
#define TANDEM_TRY_CLI(expr)                                     \
  do {                                                           \
    auto&& tandem_cli_r_ = (expr);                               \
    if (!tandem_cli_r_.ok()) return ::tandem::cli::fail(tandem_cli_r_.error()); \
  } while (0)

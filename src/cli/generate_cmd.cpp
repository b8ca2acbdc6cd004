// `tandem generate`: text from one model, streamed as it is produced, then a
// line of timings (or one JSON object with --json).
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "tandem/collab/generator.h"

namespace tandem::cli {
namespace {

struct GenerateOptions {
  ModelArgs model;
  std::string prompt;
  GenerateParams gen;
  bool json = false;
  bool no_special = false;
};

int run_generate(GenerateOptions o) {
  auto model = DecoderModel::load(o.model.path);
  if (!model) return fail(model.error());
  ThreadPool pool(o.model.threads);
  Sequence seq(*model, pool, {.n_ctx = o.model.ctx});
  auto prompt = (*model)->tokenizer().encode(o.prompt, {.add_special = !o.no_special, .parse_special = true});
  PieceFn stream;
  if (!o.json) {
    std::fwrite(o.prompt.data(), 1, o.prompt.size(), stdout);
    std::fflush(stdout);
    stream = [](std::string_view piece) {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
    };
  }
  auto r = generate(seq, prompt, o.gen, stream);
  if (!r) return fail(r.error());
  if (o.json) {
    nlohmann::json j = {{"text", r->text},
                        {"n_prompt", r->n_prompt},
                        {"n_generated", r->tokens.size()},
                        {"prompt_tokens_per_s", r->prompt_tokens_per_s()},
                        {"generation_tokens_per_s", r->gen_tokens_per_s()},
                        {"stopped_at_eog", r->stopped_at_eog},
                        {"threads", pool.size()}};
    std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf("\n\nprompt: %lld tokens in %.3f s (%.1f t/s) | generation: %zu tokens in %.3f s (%.1f t/s)\n",
                static_cast<long long>(r->n_prompt), r->prompt_seconds, r->prompt_tokens_per_s(), r->tokens.size(),
                r->gen_seconds, r->gen_tokens_per_s());
  }
  return 0;
}

}  // namespace

void add_generate_command(CLI::App& app, int& rc) {
  auto o = std::make_shared<GenerateOptions>();
  auto* cmd = app.add_subcommand("generate", "Generate text with a model");
  add_model_options(cmd, o->model);
  cmd->add_option("-p,--prompt", o->prompt, "Prompt text")->required();
  cmd->add_option("-n,--n-predict", o->gen.n_predict, "Tokens to generate")->capture_default_str();
  SamplerParams& s = o->gen.sampler;
  cmd->add_option("--temp", s.temperature, "Temperature (0: greedy)")->capture_default_str();
  cmd->add_option("--top-k", s.top_k, "Top-k (0: off)")->capture_default_str();
  cmd->add_option("--top-p", s.top_p, "Top-p (1: off)")->capture_default_str();
  cmd->add_option("--min-p", s.min_p, "Min-p (0: off)")->capture_default_str();
  cmd->add_option("--repeat-penalty", s.repeat_penalty, "Repetition penalty (1: off)")->capture_default_str();
  cmd->add_option("--presence-penalty", s.presence_penalty, "Presence penalty")->capture_default_str();
  cmd->add_option("--frequency-penalty", s.frequency_penalty, "Frequency penalty")->capture_default_str();
  cmd->add_option("--repeat-last-n", s.penalty_last_n, "Tokens the penalties look back on")->capture_default_str();
  cmd->add_option("--seed", s.seed, "Random seed")->capture_default_str();
  cmd->add_flag("--ignore-eos", [o](int64_t) { o->gen.stop_at_eog = false; }, "Keep generating past end-of-generation tokens");
  cmd->add_flag("--no-special", o->no_special, "Do not add BOS/EOS to the prompt");
  cmd->add_flag("--json", o->json, "Print one JSON object at the end instead of streaming");
  cmd->callback([o, &rc] { rc = run_generate(*o); });
}

}  // namespace tandem::cli

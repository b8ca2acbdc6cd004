// `tandem generate`: text from one model, streamed as it is produced, then a
// line of timings (or one JSON object with --json). With --draft SMALL.gguf or
// --lookup N it decodes speculatively (the small model or prompt lookup
// drafts, the model verifies); the output is the model's own (identical when
// greedy), and acceptance, tokens per target pass and, with --compare, the
// speedup over the model alone are reported. With --amateur (contrastive
// decoding) or --proxy-base/--proxy-tuned (proxy-tuning) every token is sampled
// from the models' combined logits (combined_generator.h).
#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <nlohmann/json.hpp>

#include "cli/combine_models.h"
#include "cli/commands.h"
#include "tandem/collab/combined_generator.h"
#include "tandem/collab/generator.h"
#include "tandem/collab/draft_chain.h"
#include "tandem/collab/model_draft.h"
#include "tandem/collab/prompt_lookup.h"
#include "tandem/collab/speculative.h"
#include "tandem/collab/vocab_compat.h"

namespace tandem::cli {
namespace {

struct SpeculativeOptions {
  std::string draft_path;  // a draft model, or
  int32_t lookup = 0;      // prompt lookup with n-grams up to this size (0: off); with a draft model, tried first
  int32_t lookup_min = 1;  // the shortest n-gram lookup matches
  int32_t draft_max = 8;
  int32_t draft_min = 0;
  float draft_p_min = 0.0f;
  int draft_threads = 0;  // the draft model's own pool (0: the target's)
  bool adaptive = false;
  std::string draft_cost = "time";  // adaptive costs: "time" (measured per round) or "bytes" (weight-size ratio)
  bool compare = false;  // also run the model alone and report the speedup

  bool active() const { return !draft_path.empty() || lookup > 0; }
};

struct GenerateOptions {
  ModelArgs model;
  std::string prompt;
  GenerateParams gen;
  SpeculativeOptions spec;
  CombineOptions combine;
  bool json = false;
  bool no_special = false;
};

PieceFn stream_to_stdout(const GenerateOptions& o) {
  if (o.json) return {};
  std::fwrite(o.prompt.data(), 1, o.prompt.size(), stdout);
  std::fflush(stdout);
  return [](std::string_view piece) {
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
  };
}

nlohmann::json generation_json(const GenerateResult& r, size_t threads) {
  return {{"text", r.text},
          {"n_prompt", r.n_prompt},
          {"n_generated", r.tokens.size()},
          {"prompt_tokens_per_s", r.prompt_tokens_per_s()},
          {"generation_tokens_per_s", r.gen_tokens_per_s()},
          {"stopped_at_eog", r.stopped_at_eog},
          {"threads", threads}};
}

void print_json(const nlohmann::json& j) {
  std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
}

void print_timings(const GenerateResult& r) {
  std::printf("\n\nprompt: %lld tokens in %.3f s (%.1f t/s) | generation: %zu tokens in %.3f s (%.1f t/s)\n",
              static_cast<long long>(r.n_prompt), r.prompt_seconds, r.prompt_tokens_per_s(), r.tokens.size(),
              r.gen_seconds, r.gen_tokens_per_s());
}

Status check_speculative_options(const SpeculativeOptions& s) {
  if (s.lookup < 0) return make_error("--lookup is ", s.lookup, " (expected the largest n-gram to match, >= 1)");
  if (s.lookup_min < 1 || (s.lookup > 0 && s.lookup_min > s.lookup))
    return make_error("--lookup-min is ", s.lookup_min, " (expected 1..--lookup = ", s.lookup, ")");
  if (s.compare && !s.active()) return make_error("--compare needs a draft source (--draft FILE or --lookup N)");
  if (s.draft_max < 1) return make_error("--draft-max is ", s.draft_max, " (expected >= 1)");
  if (s.draft_min < 0 || s.draft_min > s.draft_max)
    return make_error("--draft-min is ", s.draft_min, " (expected 0..--draft-max = ", s.draft_max, ")");
  if (!(s.draft_p_min >= 0.0f && s.draft_p_min <= 1.0f))
    return make_error("--draft-p-min is ", s.draft_p_min, " (expected 0..1; 0 is off)");
  if (s.draft_threads < 0)
    return make_error("--draft-threads is ", s.draft_threads, " (expected 0 for the target's pool, or more)");
  if (s.draft_cost != "time" && s.draft_cost != "bytes")
    return make_error("--draft-cost is '", s.draft_cost, "' (expected time or bytes)");
  return ok_status();
}

int run_speculative(const GenerateOptions& o, const std::shared_ptr<const DecoderModel>& model, ThreadPool& pool,
                    Sequence& seq, const std::vector<int32_t>& prompt) {
  const SpeculativeOptions& s = o.spec;
  SpeculativeParams params{.n_predict = o.gen.n_predict,
                           .stop_at_eog = o.gen.stop_at_eog,
                           .sampler = o.gen.sampler,
                           .draft = {.max = s.draft_max,
                                     .min = s.draft_min,
                                     .adaptive = s.adaptive,
                                     .cost_ratio = 0.0,
                                     .measure_costs = s.draft_cost == "time"}};
  std::vector<std::unique_ptr<DraftSource>> sources;  // tried in order each round
  if (s.lookup > 0) {
    auto pl = PromptLookup::create({.ngram_max = s.lookup, .ngram_min = s.lookup_min});
    if (!pl) return fail(pl.error());
    sources.push_back(std::make_unique<PromptLookup>(std::move(*pl)));
    DraftLengthParams free = params.draft;
    free.cost_ratio = 0.0;  // lookup's guesses cost nothing
    params.draft_by_source.push_back(free);
  }
  std::unique_ptr<Sequence> draft_seq;
  std::shared_ptr<const DecoderModel> draft_model;
  std::unique_ptr<ThreadPool> draft_pool;  // --draft-threads
  if (s.draft_threads > 0 && s.draft_threads != pool.size()) draft_pool = std::make_unique<ThreadPool>(s.draft_threads);
  ThreadPool& dpool = draft_pool ? *draft_pool : pool;
  if (!s.draft_path.empty()) {
    auto lo = load_options(o.model);  // the draft's cache as the target's
    if (!lo) return fail(lo.error());
    auto dm = DecoderModel::load(s.draft_path, *lo);
    if (!dm) return fail(dm.error());
    draft_model = *dm;
    auto compat = check_vocab_compatible(model->tokenizer().vocab(), draft_model->tokenizer().vocab());
    if (!compat)
      return fail(make_error("draft model ", s.draft_path, " cannot draft for ", o.model.path, ": ",
                             compat.error().message));
    // Verification reads the target's weights once for the whole batch; a draft
    // pass reads the draft's. Their ratio is the relative cost of one draft token.
    params.draft.cost_ratio = model->weight_bytes() > 0
                                  ? static_cast<double>(draft_model->weight_bytes()) / model->weight_bytes()
                                  : 0.0;
    draft_seq = std::make_unique<Sequence>(draft_model, dpool, SequenceOptions{.n_ctx = seq.n_ctx()});
    auto md = ModelDraft::create(*draft_seq, {.sampler = draft_sampler_params(o.gen.sampler),
                                              .p_min = s.draft_p_min,
                                              .min_tokens = s.draft_min,
                                              .n_vocab_limit = model->config().n_vocab});
    if (!md) return fail(md.error());
    sources.push_back(std::move(*md));
    params.draft_by_source.push_back(params.draft);
  }
  auto chain = DraftChain::create(std::move(sources));
  if (!chain) return fail(chain.error());
  DraftChain& source = **chain;

  if (s.compare) {
    // Both timed runs start warm: one prompt pass of each model first brings
    // its weights into cache (else the first run, drafting, pays for it and
    // the baseline after it does not).
    Sequence warm(model, pool, {.n_ctx = seq.n_ctx()});
    TANDEM_TRY_CLI(warm.eval(prompt));
    if (draft_model) {
      Sequence warm_draft(draft_model, dpool, {.n_ctx = seq.n_ctx()});
      TANDEM_TRY_CLI(warm_draft.eval(prompt));
    }
  }
  // With --compare the text is printed after the run, as the baseline's is not
  // streamed either (a flushed write per token would count against drafting).
  auto r = generate_speculative(seq, source, prompt, params, s.compare ? PieceFn{} : stream_to_stdout(o));
  if (!r) return fail(r.error());
  if (s.compare && !o.json) {
    std::fwrite(o.prompt.data(), 1, o.prompt.size(), stdout);
    std::fwrite(r->gen.text.data(), 1, r->gen.text.size(), stdout);
  }
  std::optional<GenerateResult> base;
  if (s.compare) {
    Sequence alone(model, pool, {.n_ctx = seq.n_ctx()});
    auto b = generate(alone, prompt, o.gen);
    if (!b) return fail(b.error());
    base = std::move(*b);
  }
  const SpeculativeStats& st = r->stats;
  const std::string source_name = s.draft_path.empty() ? "lookup" : s.lookup > 0 ? "lookup+" + s.draft_path : s.draft_path;
  const double speedup = base && base->gen_tokens_per_s() > 0 ? r->gen.gen_tokens_per_s() / base->gen_tokens_per_s() : 0;
  if (o.json) {
    nlohmann::json j = generation_json(r->gen, pool.size());
    j["speculative"] = {{"draft", source_name},
                        {"draft_max", s.draft_max},
                        {"draft_min", s.draft_min},
                        {"draft_p_min", s.draft_p_min},
                        {"draft_threads", dpool.size()},
                        {"adaptive", s.adaptive},
                        {"draft_cost", s.draft_cost},
                        {"lookup_ngram", s.lookup},
                        {"lookup_min", s.lookup_min},
                        {"rounds_by_source", source.rounds_by_source()},
                        {"rounds", st.rounds},
                        {"draft_rounds", st.draft_rounds},
                        {"drafted", st.drafted},
                        {"accepted", st.accepted},
                        {"acceptance_rate", st.acceptance_rate()},
                        {"mean_accepted_length", st.mean_accepted_length()},
                        {"tokens_per_round", r->tokens_per_round()},
                        {"accepted_histogram", st.accepted_hist},
                        {"draft_seconds", st.draft_seconds},
                        {"verify_seconds", st.verify_seconds}};
    if (base) {
      j["baseline"] = {{"n_generated", base->tokens.size()},
                       {"generation_tokens_per_s", base->gen_tokens_per_s()},
                       {"gen_seconds", base->gen_seconds},
                       {"identical", base->tokens == r->gen.tokens}};
      j["speedup"] = speedup;
    }
    print_json(j);
    return 0;
  }
  print_timings(r->gen);
  const std::string lookup_what =
      "prompt lookup, n-gram " + std::to_string(s.lookup_min) + ".." + std::to_string(s.lookup);
  const std::string what = s.draft_path.empty() ? lookup_what
                           : s.lookup > 0       ? lookup_what + ", else draft " + s.draft_path
                                                : "draft " + s.draft_path;
  const std::string k = s.adaptive ? std::to_string(s.draft_min) + ".." + std::to_string(s.draft_max)
                                   : std::to_string(s.draft_max);
  std::printf("speculative (%s, K %s): %lld target passes, %lld drafted, %lld accepted (%.1f%%), "
              "mean accepted length %.2f, %.2f tokens per pass | draft %.3f s, verify %.3f s\n",
              what.c_str(), k.c_str(), static_cast<long long>(st.rounds), static_cast<long long>(st.drafted),
              static_cast<long long>(st.accepted), 100.0 * st.acceptance_rate(), st.mean_accepted_length(),
              r->tokens_per_round(), st.draft_seconds, st.verify_seconds);
  if (base)
    std::printf("model alone: %zu tokens in %.3f s (%.1f t/s) | speedup %.2fx | identical output: %s\n",
                base->tokens.size(), base->gen_seconds, base->gen_tokens_per_s(), speedup,
                base->tokens == r->gen.tokens ? "yes"
                : o.gen.sampler.temperature > 0 ? "no (sampling: the same distribution, other draws)"
                                                : "no");
  return 0;
}

int run_combined(const GenerateOptions& o, const std::shared_ptr<const DecoderModel>& model, ThreadPool& pool,
                 const Sequence& seq, const std::vector<int32_t>& prompt) {
  auto cm = load_combined_models(o.combine, model, o.model.path);
  if (!cm) return fail(cm.error());
  std::vector<std::unique_ptr<Sequence>> owned;
  std::vector<Sequence*> seqs;
  for (const auto& m : cm->models) {
    owned.push_back(std::make_unique<Sequence>(m, pool, SequenceOptions{.n_ctx = seq.n_ctx()}));
    seqs.push_back(owned.back().get());
  }
  auto r = generate_combined(seqs, cm->combiner, prompt, o.gen, stream_to_stdout(o));
  if (!r) return fail(r.error());
  const CombinedStats& st = r->stats;
  if (o.json) {
    nlohmann::json j = generation_json(r->gen, pool.size());
    nlohmann::json c = combine_json(o.combine, *cm);
    c["steps"] = st.steps;
    c["changed_argmax"] = st.changed_argmax;
    c["changed_share"] = st.changed_share();
    c["combine_seconds"] = st.combine_seconds;
    j["combined"] = c;
    print_json(j);
    return 0;
  }
  print_timings(r->gen);
  std::printf("%s (%zu models): %lld steps, the combination changed the first model's top token at %lld (%.1f%%) | "
              "combine %.3f s\n",
              cm->combiner.name.c_str(), cm->models.size(), static_cast<long long>(st.steps),
              static_cast<long long>(st.changed_argmax), 100.0 * st.changed_share(), st.combine_seconds);
  return 0;
}

int run_generate(GenerateOptions o) {
  TANDEM_TRY_CLI(check_speculative_options(o.spec));
  TANDEM_TRY_CLI(check_combine_options(o.combine));
  if (o.spec.active() && o.combine.active())
    return fail(make_error("speculative decoding (--draft/--lookup) and model combinations (--amateur, --proxy-*) "
                           "exclude each other"));
  auto lo = load_options(o.model);
  if (!lo) return fail(lo.error());
  auto model = DecoderModel::load(o.model.path, *lo);
  if (!model) return fail(model.error());
  ThreadPool pool(o.model.threads);
  Sequence seq(*model, pool, {.n_ctx = o.model.ctx});
  auto prompt = (*model)->tokenizer().encode(o.prompt, {.add_special = !o.no_special, .parse_special = true});
  // Before the prompt is echoed: an error then stands alone.
  if (auto st = check_prompt_fits(seq, static_cast<int64_t>(prompt.size()), "generate"); !st) return fail(st.error());
  if (o.spec.active()) return run_speculative(o, *model, pool, seq, prompt);
  if (o.combine.active()) return run_combined(o, *model, pool, seq, prompt);
  auto r = generate(seq, prompt, o.gen, stream_to_stdout(o));
  if (!r) return fail(r.error());
  if (o.json)
    print_json(generation_json(*r, pool.size()));
  else
    print_timings(*r);
  return 0;
}

}  // namespace

void add_generate_command(CLI::App& app, int& rc) {
  auto o = std::make_shared<GenerateOptions>();
  auto* cmd = app.add_subcommand("generate", "Generate text with a model (speculatively with --draft or --lookup; contrastive with --amateur; proxy-tuned with --proxy-base/--proxy-tuned)");
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
  SpeculativeOptions& sp = o->spec;
  cmd->add_option("--draft", sp.draft_path, "Draft model (GGUF sharing the model's vocabulary): speculative decoding");
  cmd->add_option("--lookup", sp.lookup, "Prompt-lookup drafting: match the last N..1 tokens earlier in the context (0: off)")
      ->capture_default_str();
  cmd->add_option("--lookup-min", sp.lookup_min, "Shortest n-gram prompt lookup matches (with --draft: when none matches, the model drafts)")
      ->capture_default_str();
  cmd->add_option("--draft-max", sp.draft_max, "Tokens drafted per round (the largest, with --draft-adaptive)")
      ->capture_default_str();
  cmd->add_option("--draft-min", sp.draft_min, "Smallest draft length (adaptive; 0 lets it decode plainly where drafting does not pay) and tokens "
                  "drafted before --draft-p-min may stop")
      ->capture_default_str();
  cmd->add_option("--draft-p-min", sp.draft_p_min, "Stop drafting when the draft's top probability falls below P (0: off)")
      ->capture_default_str();
  cmd->add_option("--draft-threads", sp.draft_threads,
                  "Threads of the draft model (0: the target's pool; 1 runs it on the calling thread)")
      ->capture_default_str();
  cmd->add_flag("--draft-adaptive", sp.adaptive, "Adapt the draft length to the running acceptance rate");
  cmd->add_option("--draft-cost", sp.draft_cost,
                  "Costs the adaptive rule weighs: time (draft and verification timed each round) or bytes (the "
                  "models' weight-size ratio, verification flat; timing-free, so a seed fixes the sampled text)")
      ->capture_default_str();
  cmd->add_flag("--compare", sp.compare, "Also run the model alone and report the speedup and whether the output is identical");
  add_contrastive_options(cmd, o->combine);
  add_proxy_options(cmd, o->combine);
  cmd->callback([o, &rc] { rc = run_generate(*o); });
}

}  // namespace tandem::cli

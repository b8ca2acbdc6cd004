// `tandem bench`: prompt processing (one batch of -p tokens) and generation
// (-n tokens one at a time) in tokens/s, median and spread over -r repetitions,
// like llama-bench; --batches K,.. also times a K-token batch after the prompt
// against a single token (the cost model of speculative verification).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "cli/commands.h"
#include "tandem/model/decoder.h"
#include "tandem/sampling/greedy.h"

namespace tandem::cli {
namespace {

struct BenchOptions {
  ModelArgs model;
  int64_t n_prompt = 128;
  int64_t n_gen = 64;
  int reps = 3;
  std::vector<int64_t> batches;
  std::string isa;  // kernel path to force (scalar, avx2, avx512); empty: the best
  std::string pack = "auto";  // packed weights: auto (when they fit in the last-level cache), on, off
  std::string copy = "auto";  // weights copied into huge pages: auto (when the kernel has them), on, off
  bool json = false;
};

struct Stats {
  double median = 0, min = 0, max = 0;
};
Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v.front(), v.back()};
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int run_bench(const BenchOptions& o) {
  auto base = load_options(o.model);
  if (!base) return fail(base.error());
  DecoderLoadOptions lo = *base;
  if (!o.isa.empty()) {
    for (Isa i : {Isa::Scalar, Isa::Avx2, Isa::Avx512})
      if (isa_name(i) == o.isa) lo.isa = i;
    if (!lo.isa) return fail(make_error("--isa is '", o.isa, "' (expected scalar, avx2 or avx512)"));
  }
  if (o.pack == "on") lo.pack = true;
  else if (o.pack == "off") lo.pack = false;
  else if (o.pack != "auto") return fail(make_error("--pack is '", o.pack, "' (expected auto, on or off)"));
  if (o.copy == "on") lo.copy = true;
  else if (o.copy == "off") lo.copy = false;
  else if (o.copy != "auto") return fail(make_error("--copy is '", o.copy, "' (expected auto, on or off)"));
  auto model = DecoderModel::load(o.model.path, lo);
  if (!model) return fail(model.error());
  const ModelConfig& c = (*model)->config();
  ThreadPool pool(o.model.threads);
  const int64_t kmax = o.batches.empty() ? 1 : *std::max_element(o.batches.begin(), o.batches.end());
  const int64_t need = std::max(o.n_prompt + kmax, o.n_gen) + 1;
  Sequence seq(*model, pool, {.n_ctx = o.model.ctx > 0 ? o.model.ctx : need});
  if (need > seq.n_ctx()) return fail(make_error("bench: needs a context of ", need, " tokens, --ctx is ", seq.n_ctx()));
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int32_t> pick(0, static_cast<int32_t>(c.n_vocab - 1));
  std::vector<int32_t> prompt(static_cast<size_t>(o.n_prompt));
  for (auto& t : prompt) t = pick(rng);

  std::vector<double> pp, tg;
  std::vector<std::vector<double>> bt(o.batches.size());
  for (int r = -1; r < o.reps; ++r) {  // r = -1 warms up caches and the pool
    if (o.n_prompt > 0) {
      TANDEM_TRY_CLI(seq.rollback(0));
      auto t0 = std::chrono::steady_clock::now();
      auto lg = seq.eval(prompt);
      if (!lg) return fail(lg.error());
      if (r >= 0) pp.push_back(static_cast<double>(o.n_prompt) / seconds_since(t0));
      // Each size once untimed first: the prompt pass has just evicted what a
      // run of verifications keeps in cache (it inflated T(1) by up to 40%).
      // Then the sizes in turn, 20 rounds, so that every size is timed in the
      // same moments: this machine's speed moves within seconds, and timing
      // the sizes one after another made T(5)/T(1) swing 1.6-3.6.
      std::vector<std::vector<int32_t>> batch(o.batches.size());
      for (size_t b = 0; b < o.batches.size(); ++b) {
        batch[b].resize(static_cast<size_t>(o.batches[b]));
        for (auto& t : batch[b]) t = pick(rng);
        TANDEM_TRY_CLI(seq.eval(batch[b], Logits::kAll));
        TANDEM_TRY_CLI(seq.rollback(o.n_prompt));
      }
      const int inner = 20;
      std::vector<double> spent(o.batches.size(), 0.0);
      for (int i = 0; i < inner; ++i)
        for (size_t b = 0; b < o.batches.size(); ++b) {
          auto t1 = std::chrono::steady_clock::now();
          auto l = seq.eval(batch[b], Logits::kAll);  // as verification needs them
          if (!l) return fail(l.error());
          spent[b] += seconds_since(t1);
          TANDEM_TRY_CLI(seq.rollback(o.n_prompt));
        }
      if (r >= 0)
        for (size_t b = 0; b < o.batches.size(); ++b) bt[b].push_back(spent[b] / inner);
    }
    if (o.n_gen > 0) {
      TANDEM_TRY_CLI(seq.rollback(0));
      int32_t tok = pick(rng);
      auto t0 = std::chrono::steady_clock::now();
      for (int64_t i = 0; i < o.n_gen; ++i) {
        auto lg = seq.eval(std::span<const int32_t>(&tok, 1));
        if (!lg) return fail(lg.error());
        // Greedy as `generate` picks it (the scalar std::max_element loop was
        // 11% of a house-small token).
        auto next = argmax(*lg);
        if (!next) return fail(next.error());
        tok = *next;
      }
      if (r >= 0) tg.push_back(static_cast<double>(o.n_gen) / seconds_since(t0));
    }
  }
  const double model_bytes = static_cast<double>((*model)->weight_bytes());
  nlohmann::json j = {{"model", o.model.path},
                      {"threads", pool.size()},
                      {"n_params_bytes", model_bytes},
                      {"isa", std::string(isa_name((*model)->kernels().isa))},
                      {"packed_bytes", (*model)->packed_bytes()},
                      {"copied_bytes", (*model)->copied_bytes()},
                      {"huge_page_bytes", (*model)->huge_page_bytes()},
                      {"reps", o.reps}};
  if (!pp.empty()) {
    Stats s = stats(pp);
    j["n_prompt"] = o.n_prompt;
    j["pp_tokens_per_s"] = s.median;
    j["pp_min"] = s.min;
    j["pp_max"] = s.max;
  }
  if (!tg.empty()) {
    Stats s = stats(tg);
    j["n_gen"] = o.n_gen;
    j["tg_tokens_per_s"] = s.median;
    j["tg_min"] = s.min;
    j["tg_max"] = s.max;
    j["tg_weight_bytes_per_s"] = s.median * model_bytes;
  }
  double one = 0;
  for (size_t b = 0; b < o.batches.size(); ++b)
    if (o.batches[b] == 1) one = stats(bt[b]).median;
  for (size_t b = 0; b < o.batches.size(); ++b) {
    Stats s = stats(bt[b]);
    nlohmann::json e = {{"k", o.batches[b]}, {"ms", s.median * 1e3}, {"tokens_per_s", o.batches[b] / s.median}};
    if (one > 0) e["time_vs_1"] = s.median / one;
    j["batches"].push_back(e);
  }
  if (o.json) {
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::printf("model: %s (%s, %.1f MB of weights per token), %d threads, %d reps\n", o.model.path.c_str(),
              j["isa"].get<std::string>().c_str(), model_bytes / 1e6, pool.size(), o.reps);
  if (!pp.empty())
    std::printf("pp%lld: %10.1f t/s  (min %.1f, max %.1f)\n", static_cast<long long>(o.n_prompt),
                j["pp_tokens_per_s"].get<double>(), j["pp_min"].get<double>(), j["pp_max"].get<double>());
  if (!tg.empty())
    std::printf("tg%lld: %10.1f t/s  (min %.1f, max %.1f)  %.1f GB/s of weights\n", static_cast<long long>(o.n_gen),
                j["tg_tokens_per_s"].get<double>(), j["tg_min"].get<double>(), j["tg_max"].get<double>(),
                j["tg_weight_bytes_per_s"].get<double>() / 1e9);
  for (const auto& e : j["batches"]) {
    std::printf("batch of %lld after pp: %.3f ms (%.1f t/s)", static_cast<long long>(e["k"].get<int64_t>()),
                e["ms"].get<double>(), e["tokens_per_s"].get<double>());
    if (e.contains("time_vs_1")) std::printf(", %.2fx the time of 1 token", e["time_vs_1"].get<double>());
    std::printf("\n");
  }
  return 0;
}

}  // namespace

void add_bench_command(CLI::App& app, int& rc) {
  auto o = std::make_shared<BenchOptions>();
  auto* cmd = app.add_subcommand("bench", "Prompt-processing and generation speed of a model");
  add_model_options(cmd, o->model);
  cmd->add_option("-p,--n-prompt", o->n_prompt, "Prompt tokens, evaluated as one batch")->capture_default_str();
  cmd->add_option("-n,--n-gen", o->n_gen, "Generated tokens, one per pass")->capture_default_str();
  cmd->add_option("-r,--reps", o->reps, "Repetitions")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--isa", o->isa, "Force a kernel path: scalar, avx2 or avx512 (default: the best this CPU has)");
  cmd->add_option("--pack", o->pack,
                  "Weights decoded at load into the kernels' tile layout: auto (when they fit in the last-level "
                  "cache), on or off")
      ->capture_default_str();
  cmd->add_option("--copy", o->copy,
                  "Weights not packed, copied at load from the mapped file into memory with huge pages: auto (when "
                  "the kernel offers transparent huge pages), on or off")
      ->capture_default_str();
  cmd->add_option("--batches", o->batches, "Also time batches of these sizes after the prompt, e.g. 1,5")->delimiter(',');
  cmd->add_flag("--json", o->json, "Print one JSON object");
  cmd->callback([o, &rc] { rc = run_bench(*o); });
}

}  // namespace tandem::cli

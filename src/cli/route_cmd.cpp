// `tandem route train|run`: a router picks the model per request before either
// answers. `train` runs both models on a labeled dev set, labels each prompt by
// whether the small answer scored within --margin of the large one, trains the
// router on those pairs and calibrates its threshold so --target-large-share of
// the calibration prompts go to the large model. `run` routes a JSONL of
// prompts and writes one JSONL result per request.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "tandem/collab/cost_quality.h"
#include "tandem/collab/local_text_model.h"
#include "tandem/collab/router.h"
#include "tandem/collab/router_pairs.h"
#include "tandem/data/labeled_prompts.h"
#include "tandem/eval/svg_plot.h"
#include "tandem/eval/text_metrics.h"

namespace tandem::cli {
namespace {

struct RouteCommon {
  std::string small_path, large_path;
  int threads = 0;
  int64_t ctx = 0;
  CompletionRequest request{.prompt = "", .max_tokens = 32, .temperature = 0.0f, .seed = 0, .stop = {"\n"}};
  std::string metric = "f1";
};

struct RouteTrainOptions {
  RouteCommon c;
  std::string dev, calib, output, pairs_out;
  double target_large_share = 0.3;
  double margin = 0.0;
  RouterTrainParams train{};
};

struct RouteRunOptions {
  RouteCommon c;
  std::string router, input, output, plot;
  bool sweep = false;
};

std::string dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

int run_train(const RouteTrainOptions& o) {
  auto metric = parse_text_metric(o.c.metric);
  if (!metric) return fail(metric.error());
  if (!(o.target_large_share >= 0 && o.target_large_share <= 1))
    return fail(make_error("--target-large-share is ", o.target_large_share, " (expected 0..1)"));
  auto dev = read_labeled_prompts(o.dev, /*require_reference=*/true);
  if (!dev) return fail(dev.error());
  ThreadPool pool(o.c.threads);
  auto small = load_local_text_model(o.c.small_path, pool, o.c.ctx);
  if (!small) return fail(small.error());
  auto large = load_local_text_model(o.c.large_path, pool, o.c.ctx);
  if (!large) return fail(large.error());

  std::vector<DevExample> ex;
  for (const LabeledPrompt& lp : *dev) ex.push_back({.prompt = lp.prompt, .reference = *lp.reference});
  const TextMetric m = *metric;
  auto pairs = make_router_pairs(
      **small, **large, ex, [m](std::string_view a, std::string_view r) { return text_metric(m, a, r); },
      {.request = o.c.request, .margin = o.margin},
      [](size_t done, size_t total) { std::fprintf(stderr, "\rroute train: answered %zu/%zu", done, total); });
  std::fprintf(stderr, "\n");
  if (!pairs) return fail(make_error(o.dev, ": ", pairs.error().message));
  if (!o.pairs_out.empty()) {
    std::ofstream po(o.pairs_out);
    for (const RouterPair& p : *pairs)
      po << dump({{"prompt", p.prompt},
                  {"small_answer", p.small_answer},
                  {"large_answer", p.large_answer},
                  {"small_quality", p.small_quality},
                  {"large_quality", p.large_quality},
                  {"small_sufficed", p.small_sufficed},
                  {"dense", p.dense}})
         << "\n";
    if (!po) return fail(make_error("error writing ", o.pairs_out));
  }
  const auto examples = router_examples(*pairs);
  auto router = Router::train(examples, o.train);
  if (!router) return fail(router.error());

  // Calibration scores: a separate set when given (RouteLLM's practice), else the dev set.
  std::vector<double> scores;
  size_t correct = 0, n_needs_large = 0;
  for (size_t i = 0; i < examples.size(); ++i) {
    auto s = router->score(examples[i].prompt, examples[i].dense);
    if (!s) return fail(s.error());
    correct += ((*s >= 0.5) == examples[i].needs_large) ? 1 : 0;
    n_needs_large += examples[i].needs_large ? 1 : 0;
    if (o.calib.empty()) scores.push_back(*s);
  }
  if (!o.calib.empty()) {
    auto calib = read_labeled_prompts(o.calib);
    if (!calib) return fail(calib.error());
    for (const LabeledPrompt& lp : *calib) {
      auto d = router_dense_features(**small, lp.prompt);
      if (!d) return fail(make_error(o.calib, ":", lp.line, ": ", d.error().message));
      auto s = router->score(lp.prompt, *d);
      if (!s) return fail(s.error());
      scores.push_back(*s);
    }
  }
  auto t = calibrate_threshold(scores, o.target_large_share);
  if (!t) return fail(t.error());
  router->set_threshold(*t);
  size_t routed = 0;
  for (double s : scores) routed += router->to_large(s) ? 1 : 0;
  TANDEM_TRY_CLI(router->save(o.output));
  std::printf("route train: %zu dev prompts, small sufficed on %zu (%.1f%%); router accuracy on dev %.1f%%\n",
              examples.size(), examples.size() - n_needs_large,
              100.0 * static_cast<double>(examples.size() - n_needs_large) / examples.size(),
              100.0 * static_cast<double>(correct) / examples.size());
  std::printf("threshold %.6f sends %.1f%% of %zu calibration prompts to the large model (target %.1f%%); saved %s\n",
              *t, 100.0 * routed / scores.size(), scores.size(), 100.0 * o.target_large_share, o.output.c_str());
  return 0;
}

int run_route(const RouteRunOptions& o) {
  auto metric = parse_text_metric(o.c.metric);
  if (!metric) return fail(metric.error());
  auto router = Router::load(o.router);
  if (!router) return fail(router.error());
  auto prompts = read_labeled_prompts(o.input);
  if (!prompts) return fail(prompts.error());
  ThreadPool pool(o.c.threads);
  auto small = load_local_text_model(o.c.small_path, pool, o.c.ctx);
  if (!small) return fail(small.error());
  auto large = load_local_text_model(o.c.large_path, pool, o.c.ctx);
  if (!large) return fail(large.error());
  std::ofstream out(o.output);
  if (!out) return fail(make_error("cannot write ", o.output));
  size_t n_large = 0;
  int64_t large_tokens = 0;
  double q_sum = 0;
  size_t n_q = 0;
  // For --sweep: a router escalates when score >= t, i.e. when -score < -t, so
  // the cascade's sweep applies to the negated scores.
  std::vector<RequestOutcome> outcomes;
  for (const LabeledPrompt& lp : *prompts) {
    auto d = router_dense_features(**small, lp.prompt);
    if (!d) return fail(make_error(o.input, ":", lp.line, ": ", d.error().message));
    auto s = router->score(lp.prompt, *d);
    if (!s) return fail(make_error(o.router, ": ", s.error().message));
    const bool to_large = router->to_large(*s);
    CompletionRequest req = o.c.request;
    req.prompt = lp.prompt;
    TextModel& m = to_large ? static_cast<TextModel&>(**large) : **small;
    auto c = m.complete(req);
    if (!c) return fail(make_error(o.input, ":", lp.line, ": ", m.name(), ": ", c.error().message));
    char reason[128];
    std::snprintf(reason, sizeof reason, "router score %.3g %s threshold %.3g", *s, to_large ? ">=" : "<",
                  router->threshold());
    nlohmann::json j{{"prompt", lp.prompt},
                     {"answer", c->text},
                     {"model", to_large ? "large" : "small"},
                     {"score", *s},
                     {"reason", reason},
                     {"tokens",
                      {{"small_prompt", to_large ? 0 : c->prompt_tokens},
                       {"small_completion", to_large ? 0 : c->completion_tokens},
                       {"large_prompt", to_large ? c->prompt_tokens : 0},
                       {"large_completion", to_large ? c->completion_tokens : 0}}}};
    if (lp.reference) {
      const double q = text_metric(*metric, c->text, *lp.reference);
      j["reference"] = *lp.reference;
      j["quality"] = q;
      q_sum += q;
      ++n_q;
    }
    out << dump(j) << "\n";
    if (o.sweep) {
      // The other model answers too, so every routing threshold can be scored.
      TextModel& other = to_large ? static_cast<TextModel&>(**small) : **large;
      auto c2 = other.complete(req);
      if (!c2) return fail(make_error(o.input, ":", lp.line, ": ", other.name(), ": ", c2.error().message));
      const Completion& sc = to_large ? *c2 : *c;
      const Completion& lc = to_large ? *c : *c2;
      RequestOutcome oc{.score = -*s, .large_tokens = lc.total_tokens(), .small_quality = std::nullopt,
                        .large_quality = std::nullopt};
      if (lp.reference) {
        oc.small_quality = text_metric(*metric, sc.text, *lp.reference);
        oc.large_quality = text_metric(*metric, lc.text, *lp.reference);
      }
      outcomes.push_back(oc);
    }
    if (to_large) {
      ++n_large;
      large_tokens += c->total_tokens();
    }
  }
  if (!out) return fail(make_error("error writing ", o.output));
  std::printf("route: %zu requests, %zu to the large model (%.1f%%), %lld large-model tokens", prompts->size(),
              n_large, 100.0 * n_large / prompts->size(), static_cast<long long>(large_tokens));
  if (n_q > 0) std::printf(", mean %s %.4f over %zu with references", o.c.metric.c_str(), q_sum / n_q, n_q);
  std::printf("\n");
  if (!o.plot.empty() && !o.sweep) return fail(make_error("--plot draws the --sweep curve; add --sweep"));
  if (o.sweep) {
    const auto pts = sweep_thresholds(outcomes, quantile_thresholds(outcomes));
    std::printf("\n%s", sweep_table(pts, "router threshold", /*negate=*/true).c_str());
    if (!o.plot.empty()) {
      PlotSeries series{.label = "router", .x = {}, .y = {}};
      for (const SweepPoint& p : pts) {
        series.x.push_back(static_cast<double>(p.large_tokens));
        series.y.push_back(p.quality ? *p.quality : NAN);
      }
      auto st = write_svg_plot({.title = "Routing: cost against quality",
                                .x_label = "large-model tokens",
                                .y_label = "mean " + o.c.metric + " against the references",
                                .series = {series}},
                               o.plot);
      if (!st) return fail(make_error(st.error().message, " (the plot needs requests with a \"reference\")"));
      std::printf("plot written to %s\n", o.plot.c_str());
    }
  }
  return 0;
}

void add_common(CLI::App* cmd, RouteCommon& c) {
  cmd->add_option("--small", c.small_path, "Small model (GGUF)")->required();
  cmd->add_option("--large", c.large_path, "Large model (GGUF)")->required();
  cmd->add_option("--metric", c.metric, "Quality against references: f1 (token F1) or exact (first line)")
      ->capture_default_str();
  cmd->add_option("-n,--max-tokens", c.request.max_tokens, "Tokens per answer at most")->capture_default_str();
  cmd->add_option("--stop", c.request.stop, "Stop strings (default: a newline)");
  cmd->add_option("--temp", c.request.temperature, "Temperature (0: greedy)")->capture_default_str();
  cmd->add_option("--seed", c.request.seed, "Random seed")->capture_default_str();
  cmd->add_option("-t,--threads", c.threads, "Threads (default: the cores present)");
  cmd->add_option("--ctx", c.ctx, "Context length in tokens (default: each model's training context)");
}

}  // namespace

void add_route_command(CLI::App& app, int& rc) {
  auto* route = app.add_subcommand("route", "Route each request to the small or the large model with a trained router");
  route->require_subcommand(1);

  auto t = std::make_shared<RouteTrainOptions>();
  auto* train = route->add_subcommand("train", "Train a router on a labeled dev set ({\"prompt\", \"reference\"} JSONL)");
  add_common(train, t->c);
  train->add_option("--dev", t->dev, "Dev set JSONL with references")->required();
  train->add_option("-o,--output", t->output, "Router JSON to write")->required();
  train->add_option("--target-large-share", t->target_large_share, "Share of requests the large model should get")
      ->capture_default_str();
  train->add_option("--calib", t->calib, "Calibration prompts JSONL (default: the dev set)");
  train->add_option("--margin", t->margin, "Small sufficed when its score >= large's - margin")->capture_default_str();
  train->add_option("--pairs-out", t->pairs_out, "Also write the labeled pairs as JSONL");
  train->add_option("--epochs", t->train.epochs, "SGD epochs")->capture_default_str();
  train->add_option("--router-seed", t->train.seed, "Seed of the SGD order")->capture_default_str();
  train->callback([t, &rc] { rc = run_train(*t); });

  auto r = std::make_shared<RouteRunOptions>();
  auto* run = route->add_subcommand("run", "Route a JSONL of prompts and answer each with the chosen model");
  add_common(run, r->c);
  run->add_option("--router", r->router, "Router JSON (from route train)")->required();
  run->add_option("-i,--input", r->input, "JSONL of {\"prompt\": ..., \"reference\": ... (optional)}")->required();
  run->add_option("-o,--output", r->output, "JSONL results, one per request")->required();
  run->add_flag("--sweep", r->sweep, "Also answer with the other model and report cost against quality across router thresholds");
  run->add_option("--plot", r->plot, "With --sweep: write the cost-quality curve as SVG");
  run->callback([r, &rc] { rc = run_route(*r); });
}

}  // namespace tandem::cli

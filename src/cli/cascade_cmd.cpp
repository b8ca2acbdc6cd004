// `tandem cascade`: every prompt of a JSONL file goes to the small model first;
// a confidence score below the threshold escalates it to the large model. One
// JSONL result per request (answer, model, score, reason, tokens, quality when
// the request has a reference), then a summary; with --sweep both models answer
// every prompt once, so cost (large-model tokens) against quality is reported
// for a range of thresholds as a table and, with --plot, an SVG.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "tandem/collab/cascade.h"
#include "tandem/collab/cost_quality.h"
#include "tandem/collab/local_text_model.h"
#include "tandem/data/labeled_prompts.h"
#include "tandem/eval/svg_plot.h"
#include "tandem/eval/text_metrics.h"

namespace tandem::cli {
namespace {

struct CascadeOptions {
  std::string small_path, large_path, verifier_path, input, output, plot;
  std::string score = "mean";
  std::string metric = "f1";
  double threshold = -1.5;
  bool sweep = false;
  int threads = 0;
  int64_t ctx = 0;
  CompletionRequest request{.prompt = "", .max_tokens = 32, .temperature = 0.0f, .seed = 0, .stop = {"\n"}};
};

int run(const CascadeOptions& o) {
  auto how = parse_confidence_score(o.score);
  if (!how) return fail(how.error());
  auto metric = parse_text_metric(o.metric);
  if (!metric) return fail(metric.error());
  if (o.request.max_tokens < 1) return fail(make_error("--max-tokens is ", o.request.max_tokens, " (expected >= 1)"));
  auto prompts = read_labeled_prompts(o.input);
  if (!prompts) return fail(prompts.error());
  ThreadPool pool(o.threads);
  auto small = load_local_text_model(o.small_path, pool, o.ctx);
  if (!small) return fail(small.error());
  auto large = load_local_text_model(o.large_path, pool, o.ctx);
  if (!large) return fail(large.error());
  std::unique_ptr<LocalTextModel> own_verifier;
  TextModel* verifier = nullptr;
  if (*how == ConfidenceScore::kVerifier) {
    // By default the large model verifies: reading an answer costs it one batched pass.
    if (o.verifier_path.empty()) {
      verifier = large->get();
    } else {
      auto v = load_local_text_model(o.verifier_path, pool, o.ctx);
      if (!v) return fail(v.error());
      own_verifier = std::move(*v);
      verifier = own_verifier.get();
    }
  }
  std::ofstream out(o.output);
  if (!out) return fail(make_error("cannot write ", o.output));

  const CascadeParams params{.score = *how, .threshold = o.threshold, .request = o.request};
  std::vector<RequestOutcome> outcomes;
  int64_t n_escalated = 0, large_tokens = 0;
  double quality_sum = 0;
  int64_t n_quality = 0;
  for (const LabeledPrompt& lp : *prompts) {
    auto r = run_cascade(**small, **large, verifier, lp.prompt, params);
    if (!r) return fail(make_error(o.input, ":", lp.line, ": ", r.error().message));
    // An empty small answer escalates at any threshold: the lowest score there is
    // (finite, so thresholds halfway between scores stay finite).
    RequestOutcome oc{.score = r->empty_answer ? std::numeric_limits<double>::lowest() : r->score, .large_tokens = 0, .small_quality = std::nullopt, .large_quality = std::nullopt};
    std::optional<Completion> large_answer = r->large;
    if (o.sweep && !large_answer) {
      CompletionRequest req = o.request;
      req.prompt = lp.prompt;
      auto l = (*large)->complete(req);
      if (!l) return fail(make_error(o.input, ":", lp.line, ": large model: ", l.error().message));
      large_answer = std::move(*l);
    }
    // When the large model verifies, reading every answer is large-model cost too.
    const int64_t verify_cost = verifier == large->get() ? r->verifier_tokens : 0;
    if (large_answer) oc.large_tokens = large_answer->total_tokens();
    oc.fixed_large_tokens = verify_cost;
    nlohmann::json j{{"prompt", lp.prompt},
                     {"answer", r->answer},
                     {"model", r->model},
                     {"score", r->score},
                     {"reason", r->reason},
                     {"tokens",
                      {{"small_prompt", r->small.prompt_tokens},
                       {"small_completion", r->small.completion_tokens},
                       {"large_prompt", r->large ? r->large->prompt_tokens : 0},
                       {"large_completion", r->large ? r->large->completion_tokens : 0},
                       {"verifier", r->verifier_tokens}}}};
    if (lp.reference) {
      oc.small_quality = text_metric(*metric, r->small.text, *lp.reference);
      if (large_answer) oc.large_quality = text_metric(*metric, large_answer->text, *lp.reference);
      const double q = r->escalated() ? *oc.large_quality : *oc.small_quality;
      j["reference"] = *lp.reference;
      j["quality"] = q;
      quality_sum += q;
      ++n_quality;
    }
    out << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    n_escalated += r->escalated() ? 1 : 0;
    large_tokens += r->large_tokens() + verify_cost;
    outcomes.push_back(oc);
  }
  if (!out) return fail(make_error("error writing ", o.output));

  const size_t n = prompts->size();
  std::printf("cascade: %zu requests, score %s, threshold %g: %lld escalated (%.1f%%), %lld large-model tokens",
              n, o.score.c_str(), o.threshold, static_cast<long long>(n_escalated), 100.0 * n_escalated / n,
              static_cast<long long>(large_tokens));
  if (n_quality > 0) std::printf(", mean %s %.4f over %lld with references", o.metric.c_str(), quality_sum / n_quality,
                                 static_cast<long long>(n_quality));
  std::printf("\n");
  if (o.sweep) {
    auto pts = sweep_thresholds(outcomes, quantile_thresholds(outcomes));
    std::printf("\n%s", sweep_table(pts, "threshold").c_str());
    if (!o.plot.empty()) {
      PlotSeries s{.label = "cascade (" + o.score + " score)", .x = {}, .y = {}};
      for (const SweepPoint& p : pts) {
        s.x.push_back(static_cast<double>(p.large_tokens));
        s.y.push_back(p.quality ? *p.quality : NAN);
      }
      PlotSpec spec{.title = "Cascade: cost against quality",
                    .x_label = "large-model tokens",
                    .y_label = "mean " + o.metric + " against the references",
                    .series = {s}};
      auto st = write_svg_plot(spec, o.plot);
      if (!st) return fail(make_error(st.error().message, " (the plot needs requests with a \"reference\")"));
      std::printf("plot written to %s\n", o.plot.c_str());
    }
  } else if (!o.plot.empty()) {
    return fail(make_error("--plot draws the --sweep curve; add --sweep"));
  }
  return 0;
}

}  // namespace

void add_cascade_command(CLI::App& app, int& rc) {
  auto o = std::make_shared<CascadeOptions>();
  auto* cmd = app.add_subcommand("cascade", "Answer with the small model; escalate low-confidence requests to the large one");
  cmd->add_option("--small", o->small_path, "Small model (GGUF)")->required();
  cmd->add_option("--large", o->large_path, "Large model (GGUF)")->required();
  cmd->add_option("-i,--input", o->input, "JSONL of {\"prompt\": ..., \"reference\": ... (optional)}")->required();
  cmd->add_option("-o,--output", o->output, "JSONL results, one per request")->required();
  cmd->add_option("--score", o->score, "Confidence: mean or min token log-prob, or verifier")->capture_default_str();
  cmd->add_option("--verifier", o->verifier_path, "Verifier model for --score verifier (default: the large model)");
  cmd->add_option("--threshold", o->threshold, "Escalate when the score is below this")->capture_default_str();
  cmd->add_flag("--sweep", o->sweep, "Also run the large model on every prompt and report cost against quality across thresholds");
  cmd->add_option("--plot", o->plot, "With --sweep: write the cost-quality curve as SVG");
  cmd->add_option("--metric", o->metric, "Quality against references: f1 (token F1) or exact (first line)")
      ->capture_default_str();
  cmd->add_option("-n,--max-tokens", o->request.max_tokens, "Tokens per answer at most")->capture_default_str();
  cmd->add_option("--stop", o->request.stop, "Stop strings (default: a newline)");
  cmd->add_option("--temp", o->request.temperature, "Temperature (0: greedy)")->capture_default_str();
  cmd->add_option("--seed", o->request.seed, "Random seed")->capture_default_str();
  cmd->add_option("-t,--threads", o->threads, "Threads (default: the cores present)");
  cmd->add_option("--ctx", o->ctx, "Context length in tokens (default: each model's training context)");
  cmd->callback([o, &rc] { rc = run(*o); });
}

}  // namespace tandem::cli

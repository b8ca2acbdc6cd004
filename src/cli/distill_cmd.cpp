// `tandem distill`: trains a student decoder from a teacher GGUF (issue 4,
// "LLMs enhance SMs: knowledge distillation").
//   --mode blackbox     the teacher continues prompts (corpus line openings or a
//                       JSONL file) in a resumable job that writes JSONL; the
//                       student trains on prompt + text with cross-entropy.
//   --mode forward-kl | reverse-kl | topk
//                       white-box: the student trains on the corpus against the
//                       teacher's next-token distributions, computed by the
//                       engine for every training sequence on the fly, mixed
//                       with the hard-label cross-entropy by --alpha; top-k
//                       can keep the teacher's top-k logits in a disk cache
//                       (--teacher-cache) that reruns and sweeps reuse.
// The student is a fresh shape (--dim --layers ..., the vocabulary is the
// teacher's) or an existing GGUF (--student). Training flags are `tandem
// train`'s, so a corpus-only baseline with the same flags trains on exactly as
// many tokens (steps x batch x seq x accum, reported in --report).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/commands.h"
#include "cli/train_flags.h"
#include "tandem/base/mapped_file.h"
#include "tandem/data/line_file.h"
#include "tandem/data/prompt_source.h"
#include "tandem/data/teacher_dataset_job.h"
#include "tandem/data/token_stream.h"
#include "tandem/train/engine_teacher.h"
#include "tandem/train/gguf_import.h"
#include "tandem/train/topk_teacher_cache.h"
#include "tandem/train/trainer.h"

namespace tandem::cli {
namespace {

struct DistillCmdOptions {
  std::string teacher, student, mode, train_file, valid_file, out, log_prefix, report, checkpoint, resume;
  std::string teacher_cache;  // top-k logits on disk (--mode topk)
  std::string type = "Q8_0";
  std::string name = "tandem-student";
  // A fresh student defaults to house-small's shape (about 1.3M parameters with
  // a 4096-token vocabulary and --tied).
  TrainOptions t = [] {
    TrainOptions t;
    t.model = {.dim = 128, .n_layers = 4, .n_heads = 4, .n_kv_heads = 2, .ffn = 384, .ctx = 256};
    return t;
  }();
  // White-box.
  DistillOptions kd{.mode = DistillMode::kForwardKl, .temperature = 1.0f, .top_k = 32, .ce_weight = 0.5f};
  // Black-box.
  std::string data_out, prompts_jsonl;
  CorpusPromptOptions prompts{.n_prompts = 0, .n_words = 4};
  TeacherJobOptions job;
  bool generate_only = false;
  bool no_sync = false;
  // Progress and validation.
  int64_t eval_every = 0;
  int64_t eval_batches = 16;
  int64_t save_every = 500;
  int64_t print_every = 10;
  bool shape_given = false;  // set after parsing: a shape flag was on the command line
};

Result<GgmlType> export_type(const std::string& s) {
  auto t = ggml_type_from_name(s);
  if (!t || (*t != GgmlType::F32 && *t != GgmlType::F16 && *t != GgmlType::Q8_0))
    return make_error("--type must be F32, F16 or Q8_0, got '", s, "'");
  return *t;
}

// "blackbox" -> nullopt mode; the white-box names as DistillMode ("forward-kl"
// and "forward_kl" both work).
Result<std::optional<DistillMode>> parse_mode(std::string s) {
  for (char& c : s)
    if (c == '-') c = '_';
  if (s == "blackbox" || s == "black_box") return std::optional<DistillMode>{};
  auto m = parse_distill_mode(s);
  if (!m) return make_error("--mode must be blackbox, forward-kl, reverse-kl or topk, got '", s, "'");
  return std::optional<DistillMode>(*m);
}

// Names the teacher in the generation job's settings: its file name and a hash
// of its bytes, so a retrained teacher at the same path cannot continue a job.
Result<std::string> teacher_identity(const std::string& path) {
  auto f = MappedFile::open(path);
  if (!f) return f.error();
  uint64_t h = 1469598103934665603ull;
  for (uint8_t b : (*f)->bytes()) h = (h ^ b) * 1099511628211ull;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return std::filesystem::path(path).filename().string() + " fnv1a64:" + hex;
}

// Black-box: run (or continue) the teacher's generation job; returns the
// student's training text, one line per record (prompt + continuation).
Result<std::vector<std::string>> generate_dataset(const DistillCmdOptions& o,
                                                  const std::shared_ptr<const DecoderModel>& teacher,
                                                  nlohmann::json& report) {
  if (o.data_out.empty()) return make_error("--mode blackbox needs --data-out FILE.jsonl (the teacher's data set)");
  std::vector<std::string> prompts;
  if (!o.prompts_jsonl.empty()) {
    auto p = read_prompt_jsonl(o.prompts_jsonl);
    if (!p) return p.error();
    prompts = std::move(*p);
  } else {
    auto text = read_file(o.train_file);
    if (!text) return text.error();
    auto p = corpus_prompts(split_lines(*text), o.prompts);
    if (!p) return make_error(o.train_file, ": ", p.error().message);
    prompts = std::move(*p);
  }
  TeacherJobOptions job = o.job;
  job.output = o.data_out;
  job.sampler.seed = o.t.seed;
  job.sync = !o.no_sync;
  auto id = teacher_identity(o.teacher);
  if (!id) return id.error();
  job.teacher_id = *id;
  ThreadPool pool(o.t.threads);  // released before the trainer starts its own
  const auto t0 = std::chrono::steady_clock::now();
  int64_t first = -1;
  auto rep = run_teacher_job(teacher, pool, prompts, job, [&](int64_t done, int64_t total) {
    if (first < 0) first = done - 1;
    if (done % 20 != 0 && done != total) return;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double per = s / static_cast<double>(done - first);
    std::fprintf(stderr, "\rgenerate: %lld/%lld records  %.1f records/s  ETA %.0fs   ", static_cast<long long>(done),
                 static_cast<long long>(total), 1.0 / per, per * static_cast<double>(total - done));
  });
  if (!rep) return rep.error();
  std::fprintf(stderr, "\ngenerate: %lld records in %s (%lld resumed%s), %lld new tokens in %.1fs\n",
               static_cast<long long>(rep->n_prompts), o.data_out.c_str(), static_cast<long long>(rep->n_resumed),
               rep->dropped_torn_line ? ", a torn final line dropped" : "", static_cast<long long>(rep->n_tokens),
               rep->seconds);
  auto records = read_teacher_records(o.data_out);
  if (!records) return records.error();
  std::vector<std::string> lines;
  for (const auto& r : *records) lines.push_back(r.prompt + r.text);
  report["generation"] = {{"file", o.data_out},
                          {"records", records->size()},
                          {"resumed", rep->n_resumed},
                          {"generated", rep->n_generated},
                          {"new_tokens", rep->n_tokens},
                          {"dropped_torn_line", rep->dropped_torn_line},
                          {"seconds", rep->seconds}};
  return lines;
}

int run_distill(DistillCmdOptions o) {
  auto mode = parse_mode(o.mode);
  if (!mode) return fail(mode.error());
  const bool blackbox = !mode->has_value();
  if (o.train_file.empty() && !(blackbox && !o.prompts_jsonl.empty()))
    return fail(make_error("--train FILE is needed (the corpus; black-box can take --prompts-jsonl instead)"));
  auto type = export_type(o.type);
  if (!type) return fail(type.error());
  auto teacher = DecoderModel::load(o.teacher);
  if (!teacher) return fail(teacher.error());
  const Tokenizer& tok = (*teacher)->tokenizer();
  const int64_t V = (*teacher)->config().n_vocab;
  nlohmann::json report{{"mode", o.mode}, {"teacher", o.teacher}};

  // Training tokens: the teacher's data set (black-box) or the corpus (white-box).
  std::vector<int32_t> train_ids;
  if (blackbox) {
    auto lines = generate_dataset(o, *teacher, report);
    if (!lines) return fail(lines.error());
    if (o.generate_only) {
      std::printf("%s\n", report.dump(2).c_str());
      return 0;
    }
    auto ids = tokenize_lines(tok, *lines);
    if (!ids) return fail(make_error(o.data_out, ": ", ids.error().message));
    train_ids = std::move(*ids);
  } else {
    if (o.generate_only) return fail(make_error("--generate-only needs --mode blackbox"));
    auto ids = tokenize_line_file(tok, o.train_file);
    if (!ids) return fail(ids.error());
    train_ids = std::move(*ids);
  }
  InMemoryTokens train(std::move(train_ids));
  std::unique_ptr<InMemoryTokens> valid;
  if (!o.valid_file.empty()) {
    auto v = tokenize_line_file(tok, o.valid_file);
    if (!v) return fail(v.error());
    valid = std::make_unique<InMemoryTokens>(std::move(*v));
  }

  // The student: a fresh shape over the teacher's vocabulary, or an existing model.
  std::vector<float> initial;
  if (!o.student.empty()) {
    if (o.shape_given) return fail(make_error("--student and the shape flags (--dim, --layers, ...) exclude each other"));
    auto s = import_gguf(o.student);
    if (!s) return fail(s.error());
    o.t.model = s->config;
    initial = std::move(s->params);
  } else {
    o.t.model.vocab = V;
  }
  if (o.t.model.vocab != V)
    return fail(make_error("the student's vocabulary (", o.t.model.vocab, ") differs from the teacher's (", V, ")"));
  if (!blackbox && o.t.seq() > (*teacher)->config().n_ctx_train)
    return fail(make_error("training sequences of ", o.t.seq(), " tokens exceed the teacher's context of ",
                           (*teacher)->config().n_ctx_train));

  Result<std::unique_ptr<Trainer>> tr =
      o.resume.empty() ? Trainer::create(o.t, train, initial) : Trainer::resume(o.resume, train);
  if (!tr) return fail(tr.error());
  Trainer& trainer = **tr;
  const TrainOptions& to = trainer.options();
  std::shared_ptr<TopkTeacherCache> cache;
  if (!blackbox) {
    DistillOptions kd = o.kd;
    kd.mode = **mode;
    TANDEM_TRY_CLI(kd.validate(V));
    std::shared_ptr<TeacherLogits> source = std::make_shared<EngineTeacher>(*teacher, trainer.pool());
    if (!o.teacher_cache.empty()) {
      if (kd.mode != DistillMode::kTopK)
        return fail(make_error("--teacher-cache holds the teacher's top-k logits only: use it with --mode topk"));
      auto id = teacher_identity(o.teacher);
      if (!id) return fail(id.error());
      auto c = TopkTeacherCache::open(o.teacher_cache, source, kd.top_k, *id);
      if (!c) return fail(c.error());
      cache = std::move(*c);
      source = cache;
    }
    trainer.set_loss(std::make_shared<DistillationLoss>(source, kd));
  } else if (!o.teacher_cache.empty()) {
    return fail(make_error("--teacher-cache is for --mode topk"));
  }
  std::fprintf(stderr, "distill (%s): student of %lld parameters; %lld training tokens available; %lld tokens per step, %lld steps\n",
               o.mode.c_str(), static_cast<long long>(to.model.n_params()), static_cast<long long>(train.size()),
               static_cast<long long>(to.tokens_per_step()), static_cast<long long>(to.schedule.total_steps));

  double val_loss = NAN;
  auto validate = [&](int64_t step) -> Status {
    if (!valid) return ok_status();
    auto l = trainer.evaluate(*valid, o.eval_batches);
    if (!l) return l.error();
    val_loss = *l;
    TANDEM_TRY(trainer.log().set_val_loss(step, *l));
    std::fprintf(stderr, "\nstep %lld: validation loss %.4f, perplexity %.2f\n", static_cast<long long>(step), *l,
                 std::exp(*l));
    return ok_status();
  };
  const auto t0 = std::chrono::steady_clock::now();
  auto st = trainer.run(to.schedule.total_steps, [&](const TrainLogPoint& p) -> Status {
    if (p.step % o.print_every == 0 || p.step == to.schedule.total_steps)
      std::fprintf(stderr, "\r%s   ", trainer.progress_line(p).c_str());
    if (o.eval_every > 0 && p.step % o.eval_every == 0 && p.step != to.schedule.total_steps) TANDEM_TRY(validate(p.step));
    if (!o.checkpoint.empty() && o.save_every > 0 && p.step % o.save_every == 0)
      TANDEM_TRY(trainer.save_checkpoint(o.checkpoint));
    return ok_status();
  });
  if (!st) return fail(st.error());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  TANDEM_TRY_CLI(validate(trainer.steps_done()));
  if (!o.checkpoint.empty()) TANDEM_TRY_CLI(trainer.save_checkpoint(o.checkpoint));
  if (!o.out.empty()) {
    ExportOptions ex{.type = *type, .name = o.name, .tokenizer = tokenizer_metadata((*teacher)->file())};
    TANDEM_TRY_CLI(trainer.export_gguf(o.out, ex));
    std::fprintf(stderr, "wrote %s\n", o.out.c_str());
  }
  if (!o.log_prefix.empty()) {
    TANDEM_TRY_CLI(trainer.log().write_csv(o.log_prefix + ".csv"));
    TANDEM_TRY_CLI(trainer.log().write_svg(o.log_prefix + ".svg", o.name + " distillation loss (" + o.mode + ")"));
  }
  const auto& pts = trainer.log().points();
  report["student_params"] = to.model.n_params();
  report["steps"] = trainer.steps_done();
  report["tokens_per_step"] = to.tokens_per_step();
  report["tokens_trained"] = pts.empty() ? 0 : pts.back().tokens;
  report["train_tokens_available"] = train.size();
  report["final_train_loss"] = pts.empty() ? NAN : pts.back().loss;
  if (valid) {
    report["valid_loss"] = val_loss;
    report["valid_ppl"] = std::exp(val_loss);
  }
  report["train_seconds"] = seconds;
  if (!blackbox)
    report["kd"] = {{"alpha", o.kd.ce_weight}, {"temperature", o.kd.temperature}, {"top_k", o.kd.top_k}};
  if (cache) {
    report["teacher_cache"] = {{"file", o.teacher_cache}, {"hits", cache->hits()}, {"misses", cache->misses()}};
    std::fprintf(stderr, "teacher cache %s: %lld rows read, %lld computed\n", o.teacher_cache.c_str(),
                 static_cast<long long>(cache->hits()), static_cast<long long>(cache->misses()));
  }
  if (!o.report.empty()) TANDEM_TRY_CLI(write_file_atomic(o.report, report.dump(2) + "\n"));
  return 0;
}

}  // namespace

void add_distill_command(CLI::App& app, int& rc) {
  auto o = std::make_shared<DistillCmdOptions>();
  auto* cmd = app.add_subcommand("distill", "Train a student decoder from a teacher model (black-box or white-box)");
  cmd->add_option("--teacher", o->teacher, "Teacher GGUF (any type the engine runs)")->required();
  cmd->add_option("--student", o->student, "Start from this GGUF instead of a fresh shape (--dim, --layers, ...)");
  cmd->add_option("--mode", o->mode, "blackbox, forward-kl, reverse-kl or topk")->required();
  cmd->add_option("--train", o->train_file,
                  "Corpus, one document per line: the training text (white-box) or the prompts' source (black-box)");
  cmd->add_option("--valid", o->valid_file, "Validation text, one document per line");
  cmd->add_option("-o,--output", o->out, "Output GGUF");
  cmd->add_option("--type", o->type, "Output weight type: F32, F16 or Q8_0")->capture_default_str();
  cmd->add_option("--name", o->name, "general.name of the output")->capture_default_str();
  cmd->add_option("--report", o->report, "Write a JSON summary (tokens trained, losses, generation counts)");
  // The student's shape (ignored with --student); the vocabulary is the teacher's.
  DecoderConfig& m = o->t.model;
  std::vector<CLI::Option*> shape = add_shape_flags(cmd, m);
  // Training, as `tandem train`.
  add_optimizer_flags(cmd, o->t);
  cmd->add_option("--seed", o->t.seed, "Seed for weights, data order and the teacher's sampling")->capture_default_str();
  cmd->add_option("--eval-every", o->eval_every, "Validate every N steps (0: only at the end)")->capture_default_str();
  cmd->add_option("--eval-batches", o->eval_batches, "Validation batches (0: all)")->capture_default_str();
  cmd->add_option("--checkpoint", o->checkpoint, "Checkpoint file, saved every --save-every steps and at the end");
  cmd->add_option("--save-every", o->save_every, "Steps between checkpoints")->capture_default_str();
  cmd->add_option("--resume", o->resume, "Continue the run saved in this checkpoint (same --mode and teacher)");
  cmd->add_option("--log", o->log_prefix, "Write the loss curve to PREFIX.csv and PREFIX.svg");
  cmd->add_option("--print-every", o->print_every, "Steps between progress lines")->capture_default_str();
  // White-box.
  cmd->add_option("--alpha", o->kd.ce_weight, "Weight of the hard-label cross-entropy in [0, 1] (white-box)")
      ->capture_default_str();
  cmd->add_option("--kd-temp", o->kd.temperature, "Distillation temperature (white-box)")->capture_default_str();
  cmd->add_option("--topk", o->kd.top_k, "Teacher tokens kept by --mode topk (distillation; --top-k is sampling)")->capture_default_str();
  cmd->add_option("--teacher-cache", o->teacher_cache,
                  "File caching the teacher's top-k logits per training sequence (--mode topk; reused by reruns)");
  // Black-box.
  cmd->add_option("--data-out", o->data_out, "The teacher's data set (JSONL; continued when it exists)");
  cmd->add_option("--prompts-jsonl", o->prompts_jsonl, "Prompts as JSONL {\"prompt\": ...} instead of corpus lines");
  cmd->add_option("--prompts", o->prompts.n_prompts, "Corpus lines to prompt with, evenly spaced (0: all)")
      ->capture_default_str();
  cmd->add_option("--prompt-words", o->prompts.n_words, "Words of each corpus line given as the prompt")
      ->capture_default_str();
  cmd->add_option("-n,--n-predict", o->job.n_predict, "Tokens the teacher generates per prompt at most")
      ->capture_default_str();
  SamplerParams& s = o->job.sampler;
  cmd->add_option("--temp", s.temperature, "Teacher sampling temperature (0: greedy)")->capture_default_str();
  cmd->add_option("--top-k", s.top_k, "Teacher sampling top-k (0: off)")->capture_default_str();
  cmd->add_option("--top-p", s.top_p, "Teacher sampling top-p (1: off)")->capture_default_str();
  cmd->add_option("--min-p", s.min_p, "Teacher sampling min-p (0: off)")->capture_default_str();
  cmd->add_flag("--generate-only", o->generate_only, "Stop after the teacher's data set is complete (blackbox)");
  cmd->add_flag("--no-sync", o->no_sync, "Skip fdatasync after each record (a killed process still loses nothing; a power loss may)");
  cmd->callback([o, &rc, shape] {
    for (const CLI::Option* opt : shape) o->shape_given = o->shape_given || opt->count() > 0;
    rc = run_distill(*o);
  });
}

}  // namespace tandem::cli

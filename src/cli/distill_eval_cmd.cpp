// `tandem distill-eval`: the distillation table's numbers for a teacher and its
// students on held-out text tokenized as the trainer does (each line BOS + text
// + newline): validation perplexity, greedy next-token agreement with the
// teacher and KL(teacher || student), all on exactly the same positions.
// Students are given as paths or LABEL=PATH; output is a Markdown table or JSON.
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "tandem/data/token_stream.h"
#include "tandem/eval/teacher_agreement.h"

namespace tandem::cli {
namespace {

struct DistillEvalOptions {
  std::string teacher, valid;
  std::vector<std::string> students;
  AgreementParams params;
  int threads = 0;
  bool json = false;
};

struct Student {
  std::string label, path;
};

// "LABEL=PATH", or a path (labelled by its file name). An existing file whose
// name holds '=' stays a path.
Student parse_student(const std::string& arg) {
  const size_t eq = arg.find('=');
  if (eq == std::string::npos || std::filesystem::exists(arg))
    return {std::filesystem::path(arg).stem().string(), arg};
  return {arg.substr(0, eq), arg.substr(eq + 1)};
}

int run_distill_eval(const DistillEvalOptions& o) {
  auto teacher = DecoderModel::load(o.teacher);
  if (!teacher) return fail(teacher.error());
  std::vector<Student> students;
  std::vector<std::shared_ptr<const DecoderModel>> models;
  for (const auto& a : o.students) {
    students.push_back(parse_student(a));
    auto m = DecoderModel::load(students.back().path);
    if (!m) return fail(m.error());
    models.push_back(*m);
  }
  auto tokens = tokenize_line_file((*teacher)->tokenizer(), o.valid);
  if (!tokens) return fail(tokens.error());
  ThreadPool pool(o.threads);
  auto rep = measure_agreement(*teacher, models, pool, *tokens, o.params, [](int64_t done, int64_t total) {
    if (done % 10 == 0 || done == total)
      std::fprintf(stderr, "\rdistill-eval: window %lld/%lld   ", static_cast<long long>(done),
                   static_cast<long long>(total));
  });
  std::fprintf(stderr, "\n");
  if (!rep) return fail(rep.error());
  if (o.json) {
    auto row = [](const std::string& label, const std::string& path, const ModelAgreement& m) {
      return nlohmann::json{{"label", label}, {"path", path},           {"mean_nll", m.mean_nll},
                            {"ppl", m.ppl},   {"agreement", m.agreement}, {"kl", m.kl}};
    };
    nlohmann::json j{{"n_ctx", rep->n_ctx},
                     {"n_windows", rep->n_windows},
                     {"n_positions", rep->n_positions},
                     {"seconds", rep->seconds},
                     {"teacher", row("teacher", o.teacher, rep->teacher)},
                     {"students", nlohmann::json::array()}};
    for (size_t k = 0; k < students.size(); ++k)
      j["students"].push_back(row(students[k].label, students[k].path, rep->students[k]));
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("| model | validation perplexity | greedy agreement with teacher | KL(teacher \\|\\| model), nats |\n");
  std::printf("| --- | ---: | ---: | ---: |\n");
  std::printf("| teacher (%s) | %.2f | 100.0%% | 0 |\n", std::filesystem::path(o.teacher).filename().c_str(),
              rep->teacher.ppl);
  for (size_t k = 0; k < students.size(); ++k)
    std::printf("| %s | %.2f | %.1f%% | %.3f |\n", students[k].label.c_str(), rep->students[k].ppl,
                100.0 * rep->students[k].agreement, rep->students[k].kl);
  std::printf("\n%lld positions (%lld windows of %lld tokens, each from an empty context) of %s.\n",
              static_cast<long long>(rep->n_positions), static_cast<long long>(rep->n_windows),
              static_cast<long long>(rep->n_ctx), o.valid.c_str());
  return 0;
}

}  // namespace

void add_distill_eval_command(CLI::App& app, int& rc) {
  auto o = std::make_shared<DistillEvalOptions>();
  auto* cmd = app.add_subcommand("distill-eval",
                                 "Validation perplexity, greedy agreement and KL of students against a teacher");
  cmd->add_option("--teacher", o->teacher, "Teacher GGUF")->required();
  cmd->add_option("--valid", o->valid, "Validation text, one document per line")->required();
  cmd->add_option("students", o->students, "Student GGUFs, as PATH or LABEL=PATH")->required();
  cmd->add_option("--ctx", o->params.n_ctx, "Tokens per window (0: the smallest training context)")
      ->capture_default_str();
  cmd->add_option("--max-windows", o->params.max_windows, "Windows to score (0: all)")->capture_default_str();
  cmd->add_option("-t,--threads", o->threads, "Threads (default: the cores present)");
  cmd->add_flag("--json", o->json, "Print JSON instead of a Markdown table");
  cmd->callback([o, &rc] { rc = run_distill_eval(*o); });
}

}  // namespace tandem::cli

// `tandem distill` and `tandem distill-eval` as a user runs them, on tiny random
// models over the house vocabulary:
//  - the black-box generation job killed with SIGKILL mid-way and restarted
//    writes exactly what an uninterrupted run writes (nothing lost, nothing
//    duplicated);
//  - every mode, and the corpus-only baseline (`tandem train`), trains on the
//    same number of tokens for the same flags;
//  - a top-k rerun through --teacher-cache reads every teacher row and trains
//    identically; a student given as a GGUF continues from it; distill-eval
//    reports the table;
//  - bad input is one line and a non-zero status.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "tandem/model/synth.h"
#include "test_util.h"

extern char** environ;

namespace tandem {
namespace {

using testing::quoted;
using testing::run;
using testing::TempFile;

using testing::cli;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int64_t count_lines(const std::string& path) {
  const std::string s = slurp(path);
  return static_cast<int64_t>(std::count(s.begin(), s.end(), '\n'));
}

// A scratch directory with a tiny teacher and a small corpus, removed afterwards.
class DistillCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("tandem_distill_cli_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    auto st = synth_model({.dim = 64, .layers = 2, .heads = 4, .kv_heads = 2, .ffn = 128, .ctx = 64,
                           .vocab_from = testing::source_dir() + "/models/house-tokenizer.gguf", .seed = 3},
                          path("teacher.gguf"));
    ASSERT_TRUE(st.ok()) << st.error().message;
    const char* words[] = {"And", "the", "LORD", "said", "unto", "Moses", "in", "land", "of", "Egypt", "saying",
                           "children", "Israel", "went", "up", "out", "they", "came", "to", "house"};
    std::ofstream corpus(path("corpus.txt"));
    for (int i = 0; i < 400; ++i) {
      for (int w = 0; w < 8; ++w) corpus << (w ? " " : "") << words[(i * 7 + w * (i % 5 + 1)) % 20];
      corpus << ".\n";
    }
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // The generation half of black-box distillation, as a command line.
  std::vector<std::string> generate_args(const std::string& out) const {
    return {testing::cli_path(), "distill", "--teacher", path("teacher.gguf"), "--mode", "blackbox", "--train",
            path("corpus.txt"), "--data-out", out, "--generate-only", "--prompts", "0", "--prompt-words", "3",
            "-n", "24", "--temp", "1", "--top-k", "0", "--top-p", "1", "--min-p", "0", "--seed", "5", "-t", "1"};
  }
  static std::string join(const std::vector<std::string>& args) {
    std::string s;
    for (const auto& a : args) s += quoted(a) + " ";
    return s;
  }

  std::filesystem::path dir_;
};

TEST_F(DistillCli, GenerationKilledAndRestartedEqualsAnUninterruptedRun) {
  auto ref = run(join(generate_args(path("ref.jsonl"))) + "2>/dev/null");
  ASSERT_EQ(ref.status, 0) << ref.out;
  ASSERT_EQ(count_lines(path("ref.jsonl")), 400);

  // The same job as a child process, killed once some records are on disk.
  const auto args = generate_args(path("out.jsonl"));
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&fa);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (count_lines(path("out.jsonl")) < 40 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::microseconds(300));
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "the job ended before it was killed";
  const int64_t done = count_lines(path("out.jsonl"));
  ASSERT_GE(done, 40);
  ASSERT_LT(done, 400) << "the job finished before the kill; nothing to resume";

  auto again = run(join(generate_args(path("out.jsonl"))) + "2>/dev/null");
  ASSERT_EQ(again.status, 0) << again.out;
  auto j = nlohmann::json::parse(again.out);
  EXPECT_GE(j["generation"]["resumed"].get<int64_t>(), done);
  EXPECT_EQ(j["generation"]["resumed"].get<int64_t>() + j["generation"]["generated"].get<int64_t>(), 400);
  EXPECT_EQ(slurp(path("out.jsonl")), slurp(path("ref.jsonl")));
}

TEST_F(DistillCli, EveryModeTrainsOnEqualTokensAndDistillEvalReports) {
  // 3 steps x 2 sequences x 16 tokens = 96 tokens for every student.
  const std::string shape = " --dim 32 --layers 1 --heads 2 --kv-heads 1 --ffn 64 --ctx 16 --tied";
  const std::string train = " --batch 2 --steps 3 --warmup 1 --seed 2 -t 1 --eval-batches 2";
  const std::string common = " --teacher " + quoted(path("teacher.gguf")) + " --train " + quoted(path("corpus.txt")) +
                             " --valid " + quoted(path("corpus.txt")) + shape + train + " --type F32";
  auto base = run(cli() + " train --tokenizer " + quoted(path("teacher.gguf")) + " --train " + quoted(path("corpus.txt")) +
                  shape + train + " -o " + quoted(path("corpus.gguf")) + " 2>&1");
  ASSERT_EQ(base.status, 0) << base.out;
  EXPECT_NE(base.out.find("32 tokens per step, 3 steps"), std::string::npos) << base.out;

  std::vector<std::string> students = {"corpus=" + path("corpus.gguf")};
  for (std::string mode : {"blackbox", "forward-kl", "reverse-kl", "topk"}) {
    std::string extra = mode == "blackbox" ? " --data-out " + quoted(path("bb.jsonl")) + " --prompts 40 -n 12" : "";
    if (mode == "topk") extra = " --topk 8 --alpha 0.2 --kd-temp 2 --teacher-cache " + quoted(path("topk.cache"));
    auto r = run(cli() + " distill --mode " + mode + common + extra + " -o " + quoted(path(mode + ".gguf")) +
                 " --report " + quoted(path(mode + ".json")) + " 2>&1");
    ASSERT_EQ(r.status, 0) << mode << ": " << r.out;
    auto rep = nlohmann::json::parse(slurp(path(mode + ".json")));
    EXPECT_EQ(rep["tokens_trained"], 96) << mode;
    EXPECT_EQ(rep["tokens_per_step"], 32) << mode;
    EXPECT_EQ(rep["steps"], 3) << mode;
    EXPECT_TRUE(rep["valid_ppl"].is_number()) << mode;
    if (mode == "blackbox") {
      EXPECT_EQ(rep["generation"]["records"], 40);
    }
    students.push_back(mode + "=" + path(mode + ".gguf"));
  }

  // The top-k rerun reads every teacher row from the cache and trains identically.
  auto again = run(cli() + " distill --mode topk" + common + " --topk 8 --alpha 0.2 --kd-temp 2 --teacher-cache " +
                   quoted(path("topk.cache")) + " --report " + quoted(path("topk2.json")) + " 2>&1");
  ASSERT_EQ(again.status, 0) << again.out;
  auto first = nlohmann::json::parse(slurp(path("topk.json"))), second = nlohmann::json::parse(slurp(path("topk2.json")));
  EXPECT_EQ(first["teacher_cache"]["misses"], 6);
  EXPECT_EQ(second["teacher_cache"]["hits"], 6);
  EXPECT_EQ(second["teacher_cache"]["misses"], 0);
  EXPECT_EQ(second["final_train_loss"], first["final_train_loss"]);
  EXPECT_EQ(second["valid_loss"], first["valid_loss"]);

  // An existing GGUF as the student: its shape comes from the file.
  auto cont = run(cli() + " distill --mode forward-kl --teacher " + quoted(path("teacher.gguf")) + " --train " +
                  quoted(path("corpus.txt")) + " --student " + quoted(path("forward-kl.gguf")) + train +
                  " --report " + quoted(path("cont.json")) + " 2>&1");
  ASSERT_EQ(cont.status, 0) << cont.out;
  auto cj = nlohmann::json::parse(slurp(path("cont.json")));
  EXPECT_EQ(cj["tokens_trained"], 96);

  std::string list;
  for (const auto& s : students) list += " " + quoted(s);
  auto ev = run(cli() + " distill-eval --teacher " + quoted(path("teacher.gguf")) + " --valid " +
                quoted(path("corpus.txt")) + " --max-windows 4 -t 1 --json" + list + " 2>/dev/null");
  ASSERT_EQ(ev.status, 0) << ev.out;
  auto j = nlohmann::json::parse(ev.out);
  EXPECT_EQ(j["n_ctx"], 16);
  EXPECT_EQ(j["n_positions"], 64);
  ASSERT_EQ(j["students"].size(), 5u);
  EXPECT_EQ(j["students"][1]["label"], "blackbox");
  for (const auto& s : j["students"]) {
    EXPECT_GE(s["agreement"].get<double>(), 0.0);
    EXPECT_LE(s["agreement"].get<double>(), 1.0);
    EXPECT_GT(s["kl"].get<double>(), 0.0);
    EXPECT_GT(s["ppl"].get<double>(), 1.0);
  }
  auto md = run(cli() + " distill-eval --teacher " + quoted(path("teacher.gguf")) + " --valid " +
                quoted(path("corpus.txt")) + " --max-windows 2 -t 1" + list + " 2>/dev/null");
  ASSERT_EQ(md.status, 0);
  EXPECT_NE(md.out.find("| forward-kl |"), std::string::npos) << md.out;
}

TEST_F(DistillCli, BadInputIsOneLineAndNonZero) {
  const std::string t = " --teacher " + quoted(path("teacher.gguf")) + " --train " + quoted(path("corpus.txt"));
  auto one_line_error = [](const testing::RunResult& r, const std::string& want) {
    EXPECT_EQ(r.status, 1) << r.out;
    EXPECT_NE(r.out.find(want), std::string::npos) << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  };
  one_line_error(run(cli() + " distill --mode sideways" + t + " 2>&1"), "--mode must be");
  one_line_error(run(cli() + " distill --mode blackbox" + t + " 2>&1"), "--data-out");
  one_line_error(run(cli() + " distill --mode topk --topk 5000 --steps 1 --ctx 16" + t + " 2>&1"), "top-k");
  one_line_error(run(cli() + " distill --mode forward-kl --ctx 128" + t + " 2>&1"), "teacher's context");
  one_line_error(run(cli() + " distill --mode forward-kl --student " + quoted(path("teacher.gguf")) + " --dim 64" + t +
                     " 2>&1"),
                 "exclude each other");
  one_line_error(run(cli() + " distill --mode forward-kl --ctx 16 --teacher-cache " + quoted(path("c.tkc")) + t +
                     " 2>&1"),
                 "--mode topk");
  // A job continued with other sampling settings.
  auto gen = generate_args(path("g.jsonl"));
  gen[std::find(gen.begin(), gen.end(), "--prompts") - gen.begin() + 1] = "20";
  ASSERT_EQ(run(join(gen) + ">/dev/null 2>&1").status, 0);
  gen[std::find(gen.begin(), gen.end(), "--temp") - gen.begin() + 1] = "0.5";
  one_line_error(run(join(gen) + "2>&1 >/dev/null"), "temperature");
}

}  // namespace
}  // namespace tandem

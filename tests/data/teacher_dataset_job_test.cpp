// The teacher's generation job in process: records come out in prompt order,
// one JSON object per line; a file cut anywhere (whole records lost, a torn
// final line) and continued equals the uninterrupted output byte for byte; the
// seed of a record depends on (seed, index) only; a restart with other settings
// or other prompts is refused; prompts come from corpus line openings or JSONL.
// (The same job killed with SIGKILL: tests/cli/distill_cli_test.cpp.)
#include "tandem/data/teacher_dataset_job.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "tandem/data/prompt_source.h"
#include "tandem/model/synth.h"
#include "test_util.h"

namespace tandem {
namespace {

using testing::TempFile;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class TeacherJob : public ::testing::Test {
 protected:
  void SetUp() override {
    auto st = synth_model({.dim = 32, .layers = 1, .heads = 2, .ffn = 64, .ctx = 64,
                           .vocab_from = testing::source_dir() + "/models/house-tokenizer.gguf", .seed = 11},
                          model_file_.path());
    ASSERT_TRUE(st.ok()) << st.error().message;
    auto m = DecoderModel::load(model_file_.path());
    ASSERT_TRUE(m.ok()) << m.error().message;
    model_ = *m;
  }
  ~TeacherJob() override {
    std::filesystem::remove(out_.path() + ".job.json");
    std::filesystem::remove(ref_.path() + ".job.json");
  }

  TeacherJobOptions options(const std::string& output) const {
    TeacherJobOptions o;
    o.output = output;
    o.teacher_id = "tiny";
    o.n_predict = 12;
    o.sampler = {.temperature = 1.0f, .top_k = 0, .top_p = 1.0f, .min_p = 0.0f, .seed = 77};
    o.sync = false;  // nothing here crashes; the SIGKILL test keeps fdatasync on
    return o;
  }

  TempFile model_file_{"job_teacher.gguf"};
  TempFile out_{"job_out.jsonl"};
  TempFile ref_{"job_ref.jsonl"};
  std::shared_ptr<const DecoderModel> model_;
  ThreadPool pool_{1};
  std::vector<std::string> prompts_ = {"In the beginning", "And God said", "Let there be", "And the earth",
                                       "And the evening",  "And God saw",  "And it was so", "Unto the place",
                                       "He that hath",     "Blessed are"};
};

TEST_F(TeacherJob, WritesOneRecordPerPromptInOrder) {
  auto rep = run_teacher_job(model_, pool_, prompts_, options(ref_.path()));
  ASSERT_TRUE(rep.ok()) << rep.error().message;
  EXPECT_EQ(rep->n_generated, 10);
  EXPECT_EQ(rep->n_resumed, 0);
  EXPECT_GT(rep->n_tokens, 0);
  auto recs = read_teacher_records(ref_.path());
  ASSERT_TRUE(recs.ok()) << recs.error().message;
  ASSERT_EQ(recs->size(), 10u);
  std::set<std::string> texts;
  for (size_t i = 0; i < recs->size(); ++i) {
    EXPECT_EQ((*recs)[i].id, static_cast<int64_t>(i));
    EXPECT_EQ((*recs)[i].prompt, prompts_[i]);
    EXPECT_EQ((*recs)[i].text.find('\n'), std::string::npos);
    texts.insert((*recs)[i].text);
  }
  EXPECT_GT(texts.size(), 5u) << "records should draw from different seeds";
  // A complete file is not regenerated.
  auto again = run_teacher_job(model_, pool_, prompts_, options(ref_.path()));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->n_resumed, 10);
  EXPECT_EQ(again->n_generated, 0);
}

TEST_F(TeacherJob, ACutFileContinuesToTheUninterruptedOutput) {
  ASSERT_TRUE(run_teacher_job(model_, pool_, prompts_, options(ref_.path())).ok());
  const std::string full = slurp(ref_.path());
  // Cut after 0, 1 and 4 whole records, with and without a torn partial record.
  std::vector<size_t> ends = {0};
  for (size_t p = full.find('\n'); p != std::string::npos; p = full.find('\n', p + 1)) ends.push_back(p + 1);
  for (size_t keep : {0u, 1u, 4u}) {
    for (bool torn : {false, true}) {
      std::string cut = full.substr(0, ends[keep]);
      if (torn) cut += full.substr(ends[keep], (ends[keep + 1] - ends[keep]) / 2);
      std::ofstream(out_.path(), std::ios::binary | std::ios::trunc) << cut;
      std::filesystem::copy_file(ref_.path() + ".job.json", out_.path() + ".job.json",
                                 std::filesystem::copy_options::overwrite_existing);
      auto rep = run_teacher_job(model_, pool_, prompts_, options(out_.path()));
      ASSERT_TRUE(rep.ok()) << rep.error().message;
      EXPECT_EQ(rep->n_resumed, static_cast<int64_t>(keep));
      EXPECT_EQ(rep->dropped_torn_line, torn);
      EXPECT_EQ(rep->n_generated, 10 - static_cast<int64_t>(keep));
      EXPECT_EQ(slurp(out_.path()), full) << "kept " << keep << " records, torn " << torn;
    }
  }
}

TEST_F(TeacherJob, RecordSeedsDependOnSeedAndIndexOnly) {
  EXPECT_EQ(record_seed(5, 3), record_seed(5, 3));
  std::set<uint64_t> seen;
  for (uint64_t s : {0u, 1u, 2u})
    for (int64_t i = 0; i < 100; ++i) seen.insert(record_seed(s, i));
  EXPECT_EQ(seen.size(), 300u);
}

TEST_F(TeacherJob, OtherSettingsOrPromptsAreRefused) {
  TeacherJobOptions o = options(out_.path());
  auto few = std::vector<std::string>(prompts_.begin(), prompts_.begin() + 3);
  ASSERT_TRUE(run_teacher_job(model_, pool_, few, o).ok());
  TeacherJobOptions hot = o;
  hot.sampler.temperature = 0.5f;
  auto r = run_teacher_job(model_, pool_, few, hot);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("temperature"), std::string::npos) << r.error().message;
  // More prompts than before: the prompt list is part of the settings.
  r = run_teacher_job(model_, pool_, prompts_, o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("n_prompts"), std::string::npos) << r.error().message;
  // A record that is not the job's: wrong prompt at a complete line.
  std::ofstream(out_.path(), std::ios::binary | std::ios::trunc) << R"({"id":0,"prompt":"other","text":" x"})" "\n";
  r = run_teacher_job(model_, pool_, few, o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(":1:"), std::string::npos) << r.error().message;
  // Records without a settings file.
  std::filesystem::remove(out_.path());
  ASSERT_TRUE(run_teacher_job(model_, pool_, few, o).ok());
  std::filesystem::remove(out_.path() + ".job.json");
  r = run_teacher_job(model_, pool_, few, o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("settings"), std::string::npos) << r.error().message;
}

TEST(PromptSource, CorpusOpeningsAreEvenlySpaced) {
  std::vector<std::string> lines;
  for (int i = 0; i < 10; ++i) lines.push_back("w" + std::to_string(i) + " b c d e f");
  lines.insert(lines.begin() + 3, "");  // skipped
  auto p = corpus_prompts(lines, {.n_prompts = 5, .n_words = 3});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, (std::vector<std::string>{"w0 b c", "w2 b c", "w4 b c", "w6 b c", "w8 b c"}));
  // Short lines keep all but their last word, at least one.
  p = corpus_prompts({"one", "one two", "a b c"}, {.n_prompts = 0, .n_words = 4});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, (std::vector<std::string>{"one", "one", "a b"}));
  EXPECT_FALSE(corpus_prompts({"", " "}, {}).ok());
  EXPECT_FALSE(corpus_prompts({"a b"}, {.n_words = 0}).ok());
}

TEST(PromptSource, JsonlPromptsNameTheBadLine) {
  TempFile good("prompts.jsonl", "{\"prompt\": \"Hello\", \"extra\": 1}\n\n{\"prompt\": \"there\"}\n");
  auto p = read_prompt_jsonl(good.path());
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(*p, (std::vector<std::string>{"Hello", "there"}));
  TempFile bad("prompts_bad.jsonl", "{\"prompt\": \"ok\"}\n{\"text\": \"no prompt\"}\n");
  p = read_prompt_jsonl(bad.path());
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find(":2:"), std::string::npos) << p.error().message;
}

}  // namespace
}  // namespace tandem

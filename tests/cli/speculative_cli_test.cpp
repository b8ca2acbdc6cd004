// `tandem generate` with a draft model or prompt lookup, as a user runs it:
// the same greedy text as the model alone, the speculative figures in --json
// (with the baseline and speedup under --compare) and in the streamed summary,
// and one-line errors for pairings and options that cannot work.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>

#include <gtest/gtest.h>

#include "test_util.h"

namespace tandem {
namespace {

using testing::quoted;
using testing::run;

using testing::cli;
std::string fixture(const std::string& f) { return quoted(testing::shared_dir() + "/fixtures/models/" + f); }
const std::string kTarget = " -m " + fixture("llama-gqa-spm-f32.gguf");
const std::string kGreedy = " -p 'The quick brown fox' -n 24 --temp 0 --ignore-eos -t 1";

TEST(SpeculativeCli, JsonReportsAcceptanceAndSpeedup) {
  TANDEM_REQUIRE_FIXTURES("models");
  auto plain = run(cli() + " generate" + kTarget + kGreedy + " --json");
  ASSERT_EQ(plain.status, 0) << plain.out;
  const auto want = nlohmann::json::parse(plain.out)["text"];
  auto r = run(cli() + " generate" + kTarget + kGreedy + " --draft " + fixture("llama-mha-spm-f32.gguf") +
               " --draft-max 4 --compare --json");
  ASSERT_EQ(r.status, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["text"], want);
  EXPECT_EQ(j["n_generated"], 24);
  const auto& s = j["speculative"];
  for (const char* key : {"rounds", "drafted", "accepted", "acceptance_rate", "mean_accepted_length",
                          "tokens_per_round", "accepted_histogram", "draft_seconds", "verify_seconds"})
    EXPECT_TRUE(s.contains(key)) << key;
  EXPECT_EQ(s["draft_max"], 4);
  EXPECT_LE(s["accepted"].get<int>(), s["drafted"].get<int>());
  EXPECT_EQ(j["baseline"]["identical"], true);
  EXPECT_EQ(j["baseline"]["n_generated"], 24);
  EXPECT_GT(j["speedup"].get<double>(), 0.0);
  // The model as its own draft: everything accepted, 24 tokens in 24 / 5 passes.
  r = run(cli() + " generate" + kTarget + kGreedy + " --draft" + kTarget.substr(3) + " --draft-max 4 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["text"], want);
  EXPECT_EQ(j["speculative"]["acceptance_rate"], 1.0);
  EXPECT_EQ(j["speculative"]["rounds"], 5);
  EXPECT_EQ(j["speculative"]["draft_threads"], 1);
  // The draft on a pool of its own (2 threads beside the target's 1): the same text.
  r = run(cli() + " generate" + kTarget + kGreedy + " --draft " + fixture("llama-mha-spm-f32.gguf") +
          " --draft-max 3 --draft-threads 2 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["text"], want);
  EXPECT_EQ(j["speculative"]["draft_threads"], 2);
}

TEST(SpeculativeCli, StreamsTextThenSummary) {
  TANDEM_REQUIRE_FIXTURES("models");
  auto plain = run(cli() + " generate -m " + fixture("qwen2-gpt2-f32.gguf") + kGreedy + " --json");
  ASSERT_EQ(plain.status, 0);
  const std::string text = nlohmann::json::parse(plain.out)["text"];
  auto r = run(cli() + " generate -m " + fixture("qwen2-gpt2-f32.gguf") + kGreedy + " --draft " +
               fixture("llama-tied-gpt2-f32.gguf") + " --draft-adaptive --draft-p-min 0.1 --compare");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out.rfind("The quick brown fox" + text, 0), 0u) << r.out;
  EXPECT_NE(r.out.find("speculative (draft "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("accepted ("), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("identical output: yes"), std::string::npos) << r.out;
  // Prompt lookup needs no draft model.
  r = run(cli() + " generate" + kTarget + " -p 'a b c a b c a b c a b' -n 16 --temp 0 --ignore-eos -t 1 --lookup 2 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["speculative"]["draft"], "lookup");
  EXPECT_GT(j["speculative"]["drafted"].get<int>(), 0);
  // Both: lookup where an n-gram matches, the draft model elsewhere; still the target's text.
  const std::string both = " --draft " + fixture("llama-mha-spm-f32.gguf") + " --lookup 3 --lookup-min 2 --compare --json";
  r = run(cli() + " generate" + kTarget + " -p 'a b c a b c. Once upon a time' -n 24 --temp 0 --ignore-eos -t 1" + both);
  ASSERT_EQ(r.status, 0) << r.out;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["speculative"]["draft"].get<std::string>().rfind("lookup+", 0), 0u);
  EXPECT_TRUE(j["baseline"]["identical"].get<bool>());
  const auto by = j["speculative"]["rounds_by_source"].get<std::vector<int64_t>>();
  ASSERT_EQ(by.size(), 2u);
  EXPECT_EQ(by[0] + by[1], j["speculative"]["draft_rounds"].get<int64_t>());
  EXPECT_GT(by[1], 0);
}

TEST(SpeculativeCli, BadPairingsAndOptionsAreOneLineErrors) {
  TANDEM_REQUIRE_FIXTURES("models");
  auto one_line_error = [](const std::string& cmd, const std::string& needle) {
    auto r = run(cmd + " 2>&1");
    EXPECT_EQ(r.status, 1) << cmd;
    EXPECT_NE(r.out.find(needle), std::string::npos) << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  };
  one_line_error(cli() + " generate" + kTarget + kGreedy + " --draft " + fixture("qwen2-gpt2-f32.gguf"),
                 "cannot draft for");
  one_line_error(cli() + " generate" + kTarget + kGreedy + " --draft " + fixture("qwen2-gpt2-f32.gguf"),
                 "tokenizer models differ");
  one_line_error(cli() + " generate" + kTarget + kGreedy + " --draft " + fixture("llama-mha-spm-f32.gguf") +
                     " --lookup 2 --lookup-min 3",
                 "--lookup-min is 3");
  one_line_error(cli() + " generate" + kTarget + kGreedy + " --compare", "--compare needs a draft source");
  one_line_error(cli() + " generate" + kTarget + kGreedy + " --lookup 2 --draft-max 0", "--draft-max is 0");
  one_line_error(cli() + " generate" + kTarget + kGreedy + " --lookup 2 --draft-min 9", "--draft-min is 9");
  one_line_error(cli() + " generate" + kTarget + kGreedy + " --lookup 2 --draft-p-min 1.5", "--draft-p-min is 1.5");
  one_line_error(cli() + " generate" + kTarget + kGreedy + " --draft /nonexistent.gguf", "nonexistent");
  one_line_error(cli() + " generate" + kTarget + kGreedy + " --lookup 2 --draft-threads -1", "--draft-threads is -1");
}

// A prompt that does not fit the context fails before anything is printed:
// stdout stays empty (the prompt is not echoed ahead of the error), whether the
// model runs alone, drafts or is combined with another.
TEST(SpeculativeCli, PromptLongerThanTheContextPrintsOnlyTheError) {
  TANDEM_REQUIRE_FIXTURES("models");
  const std::string long_prompt = " -p '" + std::string(400, 'a') + "' --ctx 64 -n 4 -t 1";
  for (const std::string& mode : {std::string(), " --draft " + fixture("llama-mha-spm-f32.gguf"),
                                  std::string(" --lookup 2"), " --amateur " + fixture("llama-mha-spm-f32.gguf")}) {
    auto r = run(cli() + " generate" + kTarget + long_prompt + mode + " 2>/dev/null");
    EXPECT_EQ(r.status, 1) << mode;
    EXPECT_EQ(r.out, "") << mode;
    auto e = run(cli() + " generate" + kTarget + long_prompt + mode + " 2>&1");
    EXPECT_NE(e.out.find("tokens but the context holds 64"), std::string::npos) << mode << ": " << e.out;
  }
}

}  // namespace
}  // namespace tandem

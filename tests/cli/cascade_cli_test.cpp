// `tandem cascade` and `tandem route` as a user runs them on the fixture pair:
// JSONL in, one JSONL result per request out (answer, model, score, reason,
// tokens), the sweep table and plot, a trained router routing again, and a
// one-line error naming the malformed line of an input file.
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.h"

namespace tandem {
namespace {

using testing::quoted;
using testing::run;

using testing::cli;
std::string fixture(const std::string& f) { return quoted(testing::shared_dir() + "/fixtures/models/" + f); }
const std::string kPair = " --small " + fixture("llama-mha-spm-f32.gguf") + " --large " + fixture("llama-gqa-spm-f32.gguf") +
                          " -t 1 -n 6 --ctx 128";
const std::string kPrompts =
    "{\"prompt\": \"Hello world\", \"reference\": \"hello\"}\n"
    "{\"prompt\": \"The quick brown fox\", \"reference\": \"jumps over the lazy dog\"}\n"
    "\n"
    "{\"prompt\": \"Once upon a time\"}\n"
    "{\"prompt\": \"In the beginning\", \"reference\": \"God created\"}\n";

std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::ifstream in(path);
  std::vector<nlohmann::json> out;
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}

TEST(CascadeCli, JsonlRoundTripWithSweepAndPlot) {
  TANDEM_REQUIRE_FIXTURES("models/llama-mha-spm-f32.gguf");
  testing::TempFile in("casc_in.jsonl", kPrompts), out("casc_out.jsonl"), plot("casc.svg");
  // A threshold between "always" and "never": the fixture models are unsure of everything.
  auto r = run(cli() + " cascade" + kPair + " -i " + quoted(in.path()) + " -o " + quoted(out.path()) +
               " --threshold -4.6 --sweep --plot " + quoted(plot.path()) + " 2>&1");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("cascade: 4 requests"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("large tokens"), std::string::npos) << r.out;  // the sweep table
  EXPECT_NE(r.out.find("inf"), std::string::npos) << r.out;
  const auto rows = read_jsonl(out.path());
  ASSERT_EQ(rows.size(), 4u);
  for (const auto& j : rows) {
    for (const char* k : {"prompt", "answer", "model", "score", "reason", "tokens"}) EXPECT_TRUE(j.contains(k)) << k;
    const bool large = j["model"] == "large";
    EXPECT_EQ(large, j["score"].get<double>() < -4.6) << j.dump();
    EXPECT_EQ(j["reason"].get<std::string>().find(large ? "< threshold" : ">= threshold") != std::string::npos, true);
    EXPECT_EQ(j["tokens"]["large_completion"].get<int>() > 0, large);
    EXPECT_GT(j["tokens"]["small_prompt"].get<int>(), 0);
  }
  EXPECT_TRUE(rows[0].contains("quality"));
  EXPECT_FALSE(rows[2].contains("quality"));  // no reference
  std::ifstream svg(plot.path());
  std::string doc((std::istreambuf_iterator<char>(svg)), std::istreambuf_iterator<char>());
  EXPECT_EQ(doc.rfind("<svg", 0), 0u);

  // The same run twice gives the same results (greedy, seeded).
  testing::TempFile out2("casc_out2.jsonl");
  auto again = run(cli() + " cascade" + kPair + " -i " + quoted(in.path()) + " -o " + quoted(out2.path()) +
                   " --threshold -4.6 --score min 2>&1");
  ASSERT_EQ(again.status, 0) << again.out;
  EXPECT_EQ(read_jsonl(out2.path()).size(), 4u);
}

TEST(CascadeCli, VerifierScore) {
  TANDEM_REQUIRE_FIXTURES("models/llama-mha-spm-f32.gguf");
  testing::TempFile in("casc_v_in.jsonl", kPrompts), out("casc_v_out.jsonl");
  auto r = run(cli() + " cascade" + kPair + " -i " + quoted(in.path()) + " -o " + quoted(out.path()) +
               " --score verifier --threshold -100 2>&1");
  ASSERT_EQ(r.status, 0) << r.out;
  // Nothing escalates, yet the large model read every answer: that is its cost.
  EXPECT_NE(r.out.find("0 escalated (0.0%)"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(", 0 large-model tokens"), std::string::npos) << r.out;
  for (const auto& j : read_jsonl(out.path())) {
    EXPECT_GT(j["tokens"]["verifier"].get<int>(), 0);
    EXPECT_EQ(j["model"], "small");
    EXPECT_NE(j["reason"].get<std::string>().find("verifier mean logprob"), std::string::npos);
  }
}

TEST(CascadeCli, MalformedLineIsNamed) {
  TANDEM_REQUIRE_FIXTURES("models/llama-mha-spm-f32.gguf");
  testing::TempFile in("casc_bad.jsonl", "{\"prompt\": \"ok\"}\n{\"prompt\": \"broken\"\n"), out("casc_bad_out.jsonl");
  auto r = run(cli() + " cascade" + kPair + " -i " + quoted(in.path()) + " -o " + quoted(out.path()) + " 2>&1");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("tandem: error: " + in.path() + ":2: not valid JSON"), std::string::npos) << r.out;
  auto s = run(cli() + " cascade" + kPair + " -i " + quoted(in.path()) + " -o " + quoted(out.path()) +
               " --score avg 2>&1");
  EXPECT_NE(s.status, 0);
  EXPECT_NE(s.out.find("mean, min or verifier"), std::string::npos) << s.out;
}

TEST(RouteCli, TrainThenRun) {
  TANDEM_REQUIRE_FIXTURES("models/llama-mha-spm-f32.gguf");
  testing::TempFile dev("route_dev.jsonl", kPrompts), router("route.json"), pairs("route_pairs.jsonl"),
      out("route_out.jsonl");
  // The dev set needs references on every line: line 4 has none.
  auto missing = run(cli() + " route train" + kPair + " --dev " + quoted(dev.path()) + " -o " + quoted(router.path()) +
                     " 2>&1");
  EXPECT_NE(missing.status, 0);
  EXPECT_NE(missing.out.find(dev.path() + ":4: field \"reference\" is missing"), std::string::npos) << missing.out;

  std::string with_refs = kPrompts;
  with_refs.replace(with_refs.find("{\"prompt\": \"Once upon a time\"}"), 30,
                    "{\"prompt\": \"Once upon a time\", \"reference\": \"there was\"}");
  testing::TempFile dev2("route_dev2.jsonl", with_refs);
  auto t = run(cli() + " route train" + kPair + " --dev " + quoted(dev2.path()) + " -o " + quoted(router.path()) +
               " --target-large-share 0.5 --pairs-out " + quoted(pairs.path()) + " 2>&1");
  ASSERT_EQ(t.status, 0) << t.out;
  EXPECT_NE(t.out.find("sends 50.0% of 4 calibration prompts"), std::string::npos) << t.out;
  EXPECT_EQ(read_jsonl(pairs.path()).size(), 4u);

  auto r = run(cli() + " route run" + kPair + " --router " + quoted(router.path()) + " -i " + quoted(dev2.path()) +
               " -o " + quoted(out.path()) + " 2>&1");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto rows = read_jsonl(out.path());
  ASSERT_EQ(rows.size(), 4u);
  int large = 0;
  for (const auto& j : rows) {
    for (const char* k : {"answer", "model", "score", "reason", "tokens", "quality"}) EXPECT_TRUE(j.contains(k)) << k;
    large += j["model"] == "large" ? 1 : 0;
  }
  EXPECT_EQ(large, 2);  // the calibration set was the dev set: the target share exactly

  testing::TempFile plot("route.svg");
  auto sw = run(cli() + " route run" + kPair + " --router " + quoted(router.path()) + " -i " + quoted(dev2.path()) +
                " -o " + quoted(out.path()) + " --sweep --plot " + quoted(plot.path()) + " 2>&1");
  ASSERT_EQ(sw.status, 0) << sw.out;
  EXPECT_NE(sw.out.find("router threshold"), std::string::npos) << sw.out;
  EXPECT_NE(sw.out.find("plot written"), std::string::npos) << sw.out;
}

}  // namespace
}  // namespace tandem

// `tandem generate --amateur ... / --proxy-base ... --proxy-tuned ...` and
// `tandem perplexity --proxy-*` as a user runs them: the identities (beta = 0
// and tuned == base reproduce the model alone), the counts in --json, the
// before/after perplexity (also with --lines), and one-line errors for bad pairings and options.
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
const std::string kLarge = " -m " + fixture("llama-gqa-spm-f32.gguf");
const std::string kSmall = fixture("llama-mha-spm-f32.gguf");
const std::string kGreedy = " -p 'Once upon a time' -n 20 --temp 0 --ignore-eos -t 1 --json";

TEST(CombineCli, GenerateIdentitiesAndCounts) {
  TANDEM_REQUIRE_FIXTURES("models/llama-mha-spm-f32.gguf");
  auto plain = run(cli() + " generate" + kLarge + kGreedy);
  ASSERT_EQ(plain.status, 0) << plain.out;
  const auto want = nlohmann::json::parse(plain.out)["text"];
  auto r = run(cli() + " generate" + kLarge + kGreedy + " --amateur " + kSmall + " --cd-beta 0");
  ASSERT_EQ(r.status, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["text"], want);
  EXPECT_EQ(j["n_generated"], 20);
  EXPECT_EQ(j["combined"]["strategy"], "contrastive");
  EXPECT_EQ(j["combined"]["steps"], 20);
  EXPECT_EQ(j["combined"]["changed_argmax"], 0);
  EXPECT_EQ(j["combined"]["models"].size(), 2u);
  r = run(cli() + " generate" + kLarge + kGreedy + " --proxy-base " + kSmall + " --proxy-tuned " + kSmall);
  ASSERT_EQ(r.status, 0) << r.out;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["text"], want);
  EXPECT_EQ(j["combined"]["strategy"], "proxy");
  EXPECT_EQ(j["combined"]["proxy_alpha"], 1.0);
  // A real contrast still streams text and a summary line.
  r = run(cli() + " generate" + kLarge + " -p 'Once upon a time' -n 8 --temp 0 -t 1 --amateur " + kSmall +
          " --cd-alpha 0.1 --cd-beta 1");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("contrastive (2 models): "), std::string::npos) << r.out;
}

TEST(CombineCli, PerplexityBeforeAndAfterProxyTuning) {
  TANDEM_REQUIRE_FIXTURES("models/llama-mha-spm-f32.gguf");
  testing::TempFile text("combine_ppl.txt",
                         "In the beginning God created the heaven and the earth. And the earth was without form, and "
                         "void; and darkness was upon the face of the deep. And the Spirit of God moved upon the face "
                         "of the waters. And God said, Let there be light: and there was light.\n");
  const std::string base = cli() + " perplexity" + kLarge + " -f " + quoted(text.path()) + " --ctx 16 -t 1 --json";
  auto r = run(base + " --proxy-base " + kSmall + " --proxy-tuned " + kSmall);
  ASSERT_EQ(r.status, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_NEAR(j["ppl"].get<double>(), j["alone"]["ppl"].get<double>(), 1e-6);
  EXPECT_GT(j["n_scored"].get<int>(), 0);
  r = run(base + " --proxy-base " + kSmall + " --proxy-tuned " + kLarge.substr(4) + " --proxy-alpha 0.5");
  ASSERT_EQ(r.status, 0) << r.out;
  j = nlohmann::json::parse(r.out);
  EXPECT_NE(j["ppl"].get<double>(), j["alone"]["ppl"].get<double>());
  EXPECT_EQ(j["proxy_alpha"], 0.5);
  // --lines: one document per line as `tandem train` tokenizes (a BOS per line: more tokens than the plain text).
  testing::TempFile lines("combine_ppl_lines.txt", "And God said, Let there be light: and there was light.\n"
                                                   "And God saw the light, that it was good.\n"
                                                   "And the evening and the morning were the first day.\n");
  const std::string lb = cli() + " perplexity" + kLarge + " -f " + quoted(lines.path()) + " --ctx 16 -t 1 --json";
  auto plain = run(lb), per_line = run(lb + " --lines --proxy-base " + kSmall + " --proxy-tuned " + kSmall);
  ASSERT_EQ(plain.status, 0) << plain.out;
  ASSERT_EQ(per_line.status, 0) << per_line.out;
  auto jl = nlohmann::json::parse(per_line.out);
  EXPECT_NEAR(jl["ppl"].get<double>(), jl["alone"]["ppl"].get<double>(), 1e-6);
  EXPECT_NE(jl["alone"]["ppl"].get<double>(), nlohmann::json::parse(plain.out)["ppl"].get<double>());
}

TEST(CombineCli, BadPairingsAndOptionsAreOneLineErrors) {
  TANDEM_REQUIRE_FIXTURES("models");
  auto one_line_error = [](const std::string& cmd, const std::string& needle) {
    auto r = run(cmd + " 2>&1");
    EXPECT_EQ(r.status, 1) << cmd;
    EXPECT_NE(r.out.find(needle), std::string::npos) << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  };
  const std::string g = cli() + " generate" + kLarge + kGreedy;
  one_line_error(g + " --amateur " + fixture("qwen2-gpt2-f32.gguf"), "cannot be combined with");
  one_line_error(g + " --proxy-base " + kSmall + " --proxy-tuned " + fixture("qwen2-gpt2-f32.gguf"),
                 "tokenizer models differ");
  one_line_error(g + " --proxy-base " + kSmall, "needs both --proxy-base");
  one_line_error(g + " --amateur " + kSmall + " --proxy-base " + kSmall + " --proxy-tuned " + kSmall,
                 "exclude each other");
  one_line_error(g + " --amateur " + kSmall + " --draft " + kSmall, "exclude each other");
  one_line_error(g + " --amateur " + kSmall + " --cd-alpha 1.5", "alpha is 1.5");
  one_line_error(g + " --amateur " + kSmall + " --cd-beta -1", "beta is -1");
  one_line_error(g + " --amateur /nonexistent.gguf", "nonexistent");
}

}  // namespace
}  // namespace tandem

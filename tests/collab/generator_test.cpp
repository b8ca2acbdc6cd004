// Plain generation: greedy output reproduces the reference's greedy continuation
// on the F32 fixtures, stops where asked, and reports its counts.
#include "tandem/collab/generator.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "test_util.h"

namespace tandem {
namespace {

TEST(Generator, GreedyMatchesReferenceContinuation) {
  TANDEM_REQUIRE_FIXTURES("models/MANIFEST.json");
  std::ifstream in(testing::shared_dir() + "/fixtures/models/MANIFEST.json");
  auto m = nlohmann::json::parse(in);
  ThreadPool pool(2);
  int checked = 0;
  for (const auto& fx : m["fixtures"]) {
    if (fx["recommended_tolerance"]["weight_class"] != "F32") continue;
    SCOPED_TRACE(fx["file"].get<std::string>());
    auto model = DecoderModel::load(testing::shared_dir() + "/fixtures/models/" + fx["file"].get<std::string>());
    ASSERT_TRUE(model.ok()) << model.error().message;
    Sequence seq(*model, pool, {.n_ctx = 128});
    GenerateParams p{.n_predict = 32, .stop_at_eog = false, .sampler = {.temperature = 0}};
    std::string streamed;
    auto r = generate(seq, fx["prompt"]["ids"].get<std::vector<int32_t>>(), p,
                      [&](std::string_view piece) { streamed += piece; });
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->tokens, fx["generation"]["ids"].get<std::vector<int32_t>>());
    EXPECT_EQ(r->text, streamed);
    EXPECT_EQ(r->n_prompt, static_cast<int64_t>(fx["prompt"]["ids"].size()));
    ++checked;
  }
  EXPECT_EQ(checked, 4);
}

TEST(Generator, RejectsEmptyAndOverlongPrompts) {
  TANDEM_REQUIRE_FIXTURES("models/llama-mha-spm-f32.gguf");
  ThreadPool pool(1);
  auto model = DecoderModel::load(testing::shared_dir() + "/fixtures/models/llama-mha-spm-f32.gguf");
  ASSERT_TRUE(model.ok());
  Sequence seq(*model, pool, {.n_ctx = 8});
  EXPECT_FALSE(generate(seq, {}, {}).ok());
  auto r = generate(seq, std::vector<int32_t>(8, 5), {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("context"), std::string::npos);
  // Generation stops at the end of the context instead of overrunning it.
  auto ok = generate(seq, {1, 5, 6}, {.n_predict = 100, .stop_at_eog = false, .sampler = {.temperature = 0}});
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->tokens.size(), 6u);
}

}  // namespace
}  // namespace tandem

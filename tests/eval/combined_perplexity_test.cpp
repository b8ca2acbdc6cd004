// Perplexity under a combination of models: with the proxy pair's tuned model
// equal to its base (or alpha = 0), exactly the large model's own perplexity
// on the same chunks; a real offset changes it; contrastive rows are scored
// the same way; a model count that does not fit the combiner is an error.
#include "tandem/eval/combined_perplexity.h"

#include <cmath>

#include <gtest/gtest.h>

#include "test_util.h"

namespace tandem {
namespace {

std::shared_ptr<const DecoderModel> load(const std::string& f) {
  auto m = DecoderModel::load(testing::shared_dir() + "/fixtures/models/" + f);
  EXPECT_TRUE(m.ok()) << f << ": " << (m.ok() ? "" : m.error().message);
  return m.ok() ? *m : nullptr;
}

TEST(CombinedPerplexity, ProxyWithoutOffsetIsTheBaseModelsPerplexity) {
  TANDEM_REQUIRE_FIXTURES("models/llama-mha-spm-f32.gguf");
  ThreadPool pool(2);
  auto large = load("llama-gqa-spm-f32.gguf"), small = load("llama-mha-spm-f32.gguf");
  ASSERT_TRUE(large && small);
  auto toks = large->tokenizer().encode(
      "In the beginning God created the heaven and the earth. And the earth was without form, and void; and darkness "
      "was upon the face of the deep. And the Spirit of God moved upon the face of the waters.");
  const PerplexityParams p{.n_ctx = 16};
  auto alone = perplexity(large, pool, toks, p);
  ASSERT_TRUE(alone.ok()) << alone.error().message;
  auto same = combined_perplexity({large, small, small}, proxy_combiner({.alpha = 1.0f}), pool, toks, p);
  ASSERT_TRUE(same.ok()) << same.error().message;
  EXPECT_EQ(same->n_scored, alone->n_scored);
  EXPECT_EQ(same->n_chunks, alone->n_chunks);
  EXPECT_NEAR(same->ppl, alone->ppl, 1e-9 * alone->ppl);
  auto zero = combined_perplexity({large, large, small}, proxy_combiner({.alpha = 0.0f}), pool, toks, p);
  ASSERT_TRUE(zero.ok()) << zero.error().message;
  EXPECT_NEAR(zero->ppl, alone->ppl, 1e-9 * alone->ppl);
  // Steering the small model toward the large one moves the large model's perplexity.
  auto moved = combined_perplexity({large, large, small}, proxy_combiner({.alpha = 1.0f}), pool, toks, p);
  ASSERT_TRUE(moved.ok()) << moved.error().message;
  EXPECT_TRUE(std::isfinite(moved->ppl));
  EXPECT_GT(std::abs(moved->ppl - alone->ppl), 1e-6 * alone->ppl);
  auto cd = combined_perplexity({large, small}, contrastive_combiner({.alpha = 0.0f, .beta = 0.0f}), pool, toks, p);
  ASSERT_TRUE(cd.ok()) << cd.error().message;
  EXPECT_NEAR(cd->ppl, alone->ppl, 1e-9 * alone->ppl);
  auto wrong = combined_perplexity({large, small}, proxy_combiner({}), pool, toks, p);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find("expects 3 models"), std::string::npos) << wrong.error().message;
}

}  // namespace
}  // namespace tandem

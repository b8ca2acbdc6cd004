// Perplexity: the chunked evaluation checked against a direct computation from
// the model's logits.
#include "tandem/eval/perplexity.h"

#include <cmath>

#include <gtest/gtest.h>

#include "tandem/sampling/log_softmax.h"
#include "test_util.h"

namespace tandem {
namespace {

TEST(Perplexity, MatchesDirectComputation) {
  TANDEM_REQUIRE_FIXTURES("models/llama-gqa-spm-f32.gguf");
  ThreadPool pool(2);
  auto model = DecoderModel::load(testing::shared_dir() + "/fixtures/models/llama-gqa-spm-f32.gguf");
  ASSERT_TRUE(model.ok());
  auto toks = (*model)->tokenizer().encode(
      "In the beginning God created the heaven and the earth. And the earth was without form, and void; and darkness "
      "was upon the face of the deep. And the Spirit of God moved upon the face of the waters.");
  const int64_t ctx = 16;
  auto r = perplexity(*model, pool, toks, {.n_ctx = ctx});
  ASSERT_TRUE(r.ok()) << r.error().message;
  const int64_t chunks = static_cast<int64_t>(toks.size()) / ctx;
  EXPECT_EQ(r->n_chunks, chunks);
  EXPECT_EQ(r->n_scored, chunks * (ctx - ctx / 2 - 1));
  // Direct: each chunk from scratch, BOS first, score the second half.
  double sum = 0;
  int64_t n = 0;
  const int64_t V = (*model)->config().n_vocab;
  for (int64_t c = 0; c < chunks; ++c) {
    Sequence seq(*model, pool, {.n_ctx = ctx});
    std::vector<int32_t> chunk(toks.begin() + c * ctx, toks.begin() + (c + 1) * ctx);
    chunk[0] = 1;
    auto lg = seq.eval(chunk, Logits::kAll);
    ASSERT_TRUE(lg.ok());
    for (int64_t j = ctx / 2; j < ctx - 1; ++j, ++n)
      sum -= log_prob(lg->subspan(static_cast<size_t>(j * V), static_cast<size_t>(V)), toks[static_cast<size_t>(c * ctx + j + 1)]);
  }
  EXPECT_NEAR(r->ppl, std::exp(sum / static_cast<double>(n)), 1e-6 * r->ppl);
  EXPECT_GT(r->ppl_stderr, 0.0);
  EXPECT_FALSE(perplexity(*model, pool, {1, 2, 3}, {.n_ctx = 16}).ok());
}

}  // namespace
}  // namespace tandem

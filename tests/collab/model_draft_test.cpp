// The draft model's cache bookkeeping: whatever the previous round left in its
// KV cache (rejected guesses, a last guess never fed back), the next proposal
// equals that of a fresh draft given the same context. Also the vocabulary
// limit, p_min, and the stop at end-of-generation.
#include "tandem/collab/model_draft.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace tandem {
namespace {

std::shared_ptr<const DecoderModel> load_fixture(const char* f) {
  auto m = DecoderModel::load(testing::shared_dir() + "/fixtures/models/" + f);
  EXPECT_TRUE(m.ok()) << f;
  return m.ok() ? *m : nullptr;
}

std::vector<int32_t> fresh_proposal(const std::shared_ptr<const DecoderModel>& m, ThreadPool& pool,
                                    const std::vector<int32_t>& ctx, int32_t k, ModelDraftParams p) {
  Sequence seq(m, pool, {.n_ctx = 128});
  auto d = ModelDraft::create(seq, p);
  EXPECT_TRUE(d.ok());
  EXPECT_TRUE((*d)->begin(ctx).ok());
  Draft out;
  EXPECT_TRUE((*d)->propose({.context = ctx, .max_tokens = k}, out).ok());
  return out.tokens;
}

TEST(ModelDraft, CacheFollowsTheAcceptedContext) {
  TANDEM_REQUIRE_FIXTURES("models");
  ThreadPool pool(1);
  auto m = load_fixture("llama-mha-spm-f32.gguf");
  const ModelDraftParams p{.sampler = {.temperature = 0}};
  Sequence seq(m, pool, {.n_ctx = 128});
  auto d = ModelDraft::create(seq, p);
  ASSERT_TRUE(d.ok());
  std::vector<int32_t> ctx = {1, 450, 1996, 1354};
  ASSERT_TRUE((*d)->begin(ctx).ok());
  EXPECT_EQ(seq.n_past(), 3);  // all but the last prompt token
  Draft out;
  for (int round = 0; round < 12; ++round) {
    SCOPED_TRACE(round);
    ASSERT_TRUE((*d)->propose({.context = ctx, .max_tokens = 5}, out).ok());
    EXPECT_EQ(out.tokens, fresh_proposal(m, pool, ctx, 5, p));
    ASSERT_EQ(out.tokens.size(), 5u);
    // The cache holds the context and the guesses but the last.
    EXPECT_EQ(seq.n_past(), static_cast<int64_t>(ctx.size()) + 4);
    // Rounds alternate: all kept plus a bonus token, none kept, some kept.
    const size_t kept = round % 3 == 0 ? 5 : round % 3 == 1 ? 0 : 2;
    ctx.insert(ctx.end(), out.tokens.begin(), out.tokens.begin() + static_cast<std::ptrdiff_t>(kept));
    ctx.push_back(static_cast<int32_t>(100 + round));  // the target's correction or bonus token
  }
}

TEST(ModelDraft, VocabularyLimitPMinAndProbabilities) {
  TANDEM_REQUIRE_FIXTURES("models");
  ThreadPool pool(1);
  auto m = load_fixture("llama-mha-spm-f32.gguf");
  const std::vector<int32_t> ctx = {1, 450, 1996};
  // Sampling: every proposal carries its q row, over the limited range.
  Sequence seq(m, pool, {.n_ctx = 64});
  auto d = ModelDraft::create(seq, {.sampler = {.temperature = 1.0f, .top_k = 0, .top_p = 1, .min_p = 0, .seed = 3},
                                    .n_vocab_limit = 300});
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE((*d)->begin(ctx).ok());
  Draft out;
  ASSERT_TRUE((*d)->propose({.context = ctx, .max_tokens = 6, .want_probs = true}, out).ok());
  ASSERT_EQ(out.tokens.size(), 6u);
  ASSERT_EQ(out.stride, 300u);
  ASSERT_EQ(out.probs.size(), 6u * 300u);
  for (size_t i = 0; i < out.tokens.size(); ++i) {
    EXPECT_LT(out.tokens[i], 300);
    EXPECT_GT(out.q(i)[static_cast<size_t>(out.tokens[i])], 0.0f);
    double sum = 0;
    for (float q : out.q(i)) sum += q;
    EXPECT_NEAR(sum, 1.0, 1e-4);
  }
  // Greedy target: no q asked for, none computed.
  ASSERT_TRUE((*d)->propose({.context = ctx, .max_tokens = 3, .want_probs = false}, out).ok());
  EXPECT_TRUE(out.probs.empty());
  // p_min 1: nothing is that sure, so drafts stop at min_tokens.
  Sequence s2(m, pool, {.n_ctx = 64});
  auto sure = ModelDraft::create(s2, {.sampler = {.temperature = 0}, .p_min = 1.0f, .min_tokens = 2});
  ASSERT_TRUE((*sure)->begin(ctx).ok());
  ASSERT_TRUE((*sure)->propose({.context = ctx, .max_tokens = 6}, out).ok());
  EXPECT_EQ(out.tokens.size(), 2u);
  // The context leaves room for only so many guesses.
  Sequence s3(m, pool, {.n_ctx = 5});
  auto tight = ModelDraft::create(s3, {.sampler = {.temperature = 0}});
  ASSERT_TRUE((*tight)->begin(ctx).ok());
  ASSERT_TRUE((*tight)->propose({.context = ctx, .max_tokens = 6}, out).ok());
  EXPECT_EQ(out.tokens.size(), 3u);  // ctx (3) + 2 guesses fed back = 5
  // Bad parameters.
  EXPECT_FALSE(ModelDraft::create(s3, {.p_min = 2.0f}).ok());
  EXPECT_FALSE(ModelDraft::create(s3, {.min_tokens = -1}).ok());
  EXPECT_FALSE(ModelDraft::create(s3, {.sampler = {.top_p = 3.0f}}).ok());
}

TEST(ModelDraft, SeedsDifferFromTheTargetsButFollowIt) {
  const SamplerParams a{.seed = 1}, b{.seed = 2};
  EXPECT_NE(draft_sampler_params(a).seed, a.seed);
  EXPECT_NE(draft_sampler_params(a).seed, draft_sampler_params(b).seed);
  EXPECT_EQ(draft_sampler_params(a).seed, draft_sampler_params(a).seed);
  EXPECT_EQ(draft_sampler_params(a).temperature, a.temperature);
}

}  // namespace
}  // namespace tandem

// Prompt lookup chained before a draft model: greedy output equal to the
// target alone for several K, each round drafted by exactly one source (lookup
// wherever an n-gram matches), and the model's cache kept right across rounds
// it sat out; with sampling, each round's q comes from the source that drafted it.
#include "tandem/collab/draft_chain.h"

#include <memory>

#include <gtest/gtest.h>

#include "tandem/collab/generator.h"
#include "tandem/collab/model_draft.h"
#include "tandem/collab/prompt_lookup.h"
#include "tandem/collab/speculative.h"
#include "test_util.h"

namespace tandem {
namespace {

std::shared_ptr<const DecoderModel> load_fixture(const std::string& f) {
  auto m = DecoderModel::load(testing::shared_dir() + "/fixtures/models/" + f);
  EXPECT_TRUE(m.ok()) << f << ": " << (m.ok() ? "" : m.error().message);
  return m.ok() ? *m : nullptr;
}

TEST(DraftChain, CreateNeedsSources) {
  EXPECT_FALSE(DraftChain::create({}).ok());
  std::vector<std::unique_ptr<DraftSource>> v;
  v.push_back(nullptr);
  auto r = DraftChain::create(std::move(v));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("source 0"), std::string::npos);
}

TEST(DraftChain, LookupThenModelKeepsGreedyOutput) {
  TANDEM_REQUIRE_FIXTURES("models");
  ThreadPool pool(1);
  auto target = load_fixture("llama-gqa-spm-f32.gguf"), dm = load_fixture("llama-mha-spm-f32.gguf");
  ASSERT_TRUE(target && dm);
  // Repeats (lookup matches) and fresh text (it does not).
  const auto prompt = target->tokenizer().encode("one two three four one two three four. It was a bright cold day in");
  const SamplerParams s{.temperature = 0};
  Sequence alone(target, pool, {.n_ctx = 256});
  auto want = generate(alone, prompt, {.n_predict = 48, .stop_at_eog = false, .sampler = s});
  ASSERT_TRUE(want.ok());
  for (int32_t k : {1, 3, 6}) {
    SCOPED_TRACE(k);
    Sequence tseq(target, pool, {.n_ctx = 256}), dseq(dm, pool, {.n_ctx = 256});
    std::vector<std::unique_ptr<DraftSource>> sources;
    sources.push_back(std::make_unique<PromptLookup>(*PromptLookup::create({.ngram_max = 3, .ngram_min = 2})));
    auto md = ModelDraft::create(dseq, {.sampler = draft_sampler_params(s), .n_vocab_limit = target->config().n_vocab});
    ASSERT_TRUE(md.ok());
    sources.push_back(std::move(*md));
    auto chain = DraftChain::create(std::move(sources));
    ASSERT_TRUE(chain.ok());
    auto r = generate_speculative(tseq, **chain, prompt,
                                  {.n_predict = 48, .stop_at_eog = false, .sampler = s, .draft = {.max = k}});
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->gen.tokens, want->tokens);
    const auto& by = (*chain)->rounds_by_source();
    ASSERT_EQ(by.size(), 2u);
    EXPECT_GT(by[0], 0) << "lookup never drafted";
    EXPECT_GT(by[1], 0) << "the model never drafted";
    EXPECT_EQ(by[0] + by[1], r->stats.draft_rounds);
  }
}

// With sampling, each round's Draft carries its own source's q: the model's
// rows after a model round, none (one-hot) after a lookup round, never a
// previous round's rows.
TEST(DraftChain, EachRoundCarriesItsOwnSourcesDistribution) {
  TANDEM_REQUIRE_FIXTURES("models");
  ThreadPool pool(1);
  auto target = load_fixture("llama-gqa-spm-f32.gguf"), dm = load_fixture("llama-mha-spm-f32.gguf");
  ASSERT_TRUE(target && dm);
  const SamplerParams hot{.temperature = 0.8f, .seed = 3};
  Sequence dseq(dm, pool, {.n_ctx = 128});
  std::vector<std::unique_ptr<DraftSource>> sources;
  sources.push_back(std::make_unique<PromptLookup>(*PromptLookup::create({.ngram_max = 2, .ngram_min = 2})));
  auto md = ModelDraft::create(dseq, {.sampler = draft_sampler_params(hot)});
  ASSERT_TRUE(md.ok());
  sources.push_back(std::move(*md));
  auto chain = DraftChain::create(std::move(sources));
  ASSERT_TRUE(chain.ok());
  std::vector<int32_t> ctx = {1, 10, 11, 12, 13};  // no repeated bigram: the model drafts
  ASSERT_TRUE((*chain)->begin(ctx).ok());
  Draft d;
  ASSERT_TRUE((*chain)->propose({.context = ctx, .max_tokens = 3, .want_probs = true}, d).ok());
  ASSERT_EQ(d.tokens.size(), 3u);
  EXPECT_EQ(d.probs.size(), 3 * d.stride);
  EXPECT_EQ(d.stride, static_cast<size_t>(dm->config().n_vocab));
  ctx.insert(ctx.end(), {10, 11});  // "10 11" seen before: lookup copies "12 13 10"
  ASSERT_TRUE((*chain)->propose({.context = ctx, .max_tokens = 3, .want_probs = true}, d).ok());
  EXPECT_EQ(d.tokens, (std::vector<int32_t>{12, 13, 10}));
  EXPECT_TRUE(d.probs.empty());
  EXPECT_EQ((*chain)->rounds_by_source(), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(d.source, 0);
}

// Per-source draft lengths: a source capped at 0 is skipped, each proposes at
// most its own cap, and the Draft names the source that proposed.
TEST(DraftChain, EachSourceHasItsOwnLength) {
  std::vector<std::unique_ptr<DraftSource>> sources;
  sources.push_back(std::make_unique<PromptLookup>(*PromptLookup::create({.ngram_max = 2, .ngram_min = 1})));
  sources.push_back(std::make_unique<PromptLookup>(*PromptLookup::create({.ngram_max = 2, .ngram_min = 1})));
  auto chain = DraftChain::create(std::move(sources));
  ASSERT_TRUE(chain.ok());
  EXPECT_EQ((*chain)->n_sources(), 2);
  const std::vector<int32_t> ctx = {5, 6, 7, 8, 9, 5, 6};  // "5 6" repeats: "7 8 9 5" follows
  ASSERT_TRUE((*chain)->begin(ctx).ok());
  Draft d;
  const std::vector<int32_t> first_off = {0, 2};
  ASSERT_TRUE((*chain)->propose({.context = ctx, .max_tokens = 4, .max_by_source = first_off}, d).ok());
  EXPECT_EQ(d.tokens, (std::vector<int32_t>{7, 8}));
  EXPECT_EQ(d.source, 1);
  const std::vector<int32_t> both = {3, 4};
  ASSERT_TRUE((*chain)->propose({.context = ctx, .max_tokens = 4, .max_by_source = both}, d).ok());
  EXPECT_EQ(d.tokens, (std::vector<int32_t>{7, 8, 9}));
  EXPECT_EQ(d.source, 0);
  const std::vector<int32_t> none = {0, 0};
  ASSERT_TRUE((*chain)->propose({.context = ctx, .max_tokens = 4, .max_by_source = none}, d).ok());
  EXPECT_TRUE(d.tokens.empty());
  EXPECT_EQ((*chain)->rounds_by_source(), (std::vector<int64_t>{1, 1}));
  const std::vector<int32_t> wrong = {1, 1, 1};
  auto bad = (*chain)->propose({.context = ctx, .max_tokens = 4, .max_by_source = wrong}, d);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("3 draft lengths for 2 sources"), std::string::npos) << bad.error().message;
}

}  // namespace
}  // namespace tandem

// Lockstep generation from combined logits on the fixture pair that shares a
// vocabulary (llama-gqa-spm-f32 as the large/expert model, llama-mha-spm-f32 as
// the small/amateur one). Identities that must hold token for token with
// greedy decoding: contrastive decoding with beta = 0 (any alpha) or alpha = 1
// (any beta) is the expert's own greedy output; proxy-tuning with tuned ==
// small base, or alpha = 0, is the large base's. A real contrast changes
// some choices and still runs to length; bad inputs are clear errors.
#include "tandem/collab/combined_generator.h"

#include <memory>

#include <gtest/gtest.h>

#include "tandem/collab/vocab_compat.h"
#include "test_util.h"

namespace tandem {
namespace {

std::string fixture(const std::string& f) { return testing::shared_dir() + "/fixtures/models/" + f; }

std::shared_ptr<const DecoderModel> load(const std::string& path) {
  auto m = DecoderModel::load(path);
  EXPECT_TRUE(m.ok()) << path << ": " << (m.ok() ? "" : m.error().message);
  return m.ok() ? *m : nullptr;
}

constexpr int32_t kN = 24;
const SamplerParams kGreedy{.temperature = 0.0f};

struct Pair {
  ThreadPool pool{2};
  std::shared_ptr<const DecoderModel> large = load(fixture("llama-gqa-spm-f32.gguf"));
  std::shared_ptr<const DecoderModel> small = load(fixture("llama-mha-spm-f32.gguf"));
  std::vector<int32_t> prompt = large ? large->tokenizer().encode("Once upon a time there was") : std::vector<int32_t>{};

  std::vector<int32_t> alone() {
    Sequence s(large, pool, {.n_ctx = 128});
    auto r = generate(s, prompt, {.n_predict = kN, .stop_at_eog = false, .sampler = kGreedy});
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? r->tokens : std::vector<int32_t>{};
  }

  // models: indices into {large, small}.
  Result<CombinedResult> combined(const LogitCombiner& c, std::vector<int> which, const SamplerParams& s = kGreedy) {
    std::vector<std::unique_ptr<Sequence>> owned;
    std::vector<Sequence*> seqs;
    for (int w : which) {
      owned.push_back(std::make_unique<Sequence>(w == 0 ? large : small, pool, SequenceOptions{.n_ctx = 128}));
      seqs.push_back(owned.back().get());
    }
    return generate_combined(seqs, c, prompt, {.n_predict = kN, .stop_at_eog = false, .sampler = s});
  }
};

TEST(CombinedGenerator, FixturePairSharesAVocabulary) {
  TANDEM_REQUIRE_FIXTURES("models/llama-mha-spm-f32.gguf");
  Pair p;
  ASSERT_TRUE(p.large && p.small);
  EXPECT_TRUE(check_vocab_compatible(p.large->tokenizer().vocab(), p.small->tokenizer().vocab()).ok());
}

TEST(CombinedGenerator, ContrastiveBetaZeroOrAlphaOneIsTheExpertsGreedyOutput) {
  TANDEM_REQUIRE_FIXTURES("models/llama-mha-spm-f32.gguf");
  Pair p;
  ASSERT_TRUE(p.large && p.small);
  const auto ref = p.alone();
  ASSERT_EQ(ref.size(), static_cast<size_t>(kN));
  for (float alpha : {0.0f, 0.1f, 0.9f}) {
    auto r = p.combined(contrastive_combiner({.alpha = alpha, .beta = 0.0f}), {0, 1});
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->gen.tokens, ref) << "alpha " << alpha;
    EXPECT_EQ(r->stats.changed_argmax, 0);
    EXPECT_EQ(r->stats.steps, kN);
  }
  // alpha = 1 keeps only the expert's top token, whatever the amateur says.
  auto r = p.combined(contrastive_combiner({.alpha = 1.0f, .beta = 5.0f}), {0, 1});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->gen.tokens, ref);
}

TEST(CombinedGenerator, ContrastWithARealAmateurChangesChoices) {
  TANDEM_REQUIRE_FIXTURES("models/llama-mha-spm-f32.gguf");
  Pair p;
  ASSERT_TRUE(p.large && p.small);
  auto r = p.combined(contrastive_combiner({.alpha = 0.0f, .beta = 2.0f}), {0, 1});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->gen.tokens.size(), static_cast<size_t>(kN));
  EXPECT_GT(r->stats.changed_argmax, 0);
  EXPECT_FALSE(r->gen.text.empty());
  // Sampling runs through the ordinary sampler and reproduces for a seed.
  SamplerParams s{.temperature = 0.9f, .seed = 7};
  auto a = p.combined(contrastive_combiner({}), {0, 1}, s), b = p.combined(contrastive_combiner({}), {0, 1}, s);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->gen.tokens, b->gen.tokens);
}

TEST(CombinedGenerator, ProxyWithTunedEqualToBaseOrAlphaZeroIsTheBase) {
  TANDEM_REQUIRE_FIXTURES("models/llama-mha-spm-f32.gguf");
  Pair p;
  ASSERT_TRUE(p.large && p.small);
  const auto ref = p.alone();
  auto same = p.combined(proxy_combiner({.alpha = 1.0f}), {0, 1, 1});
  ASSERT_TRUE(same.ok()) << same.error().message;
  EXPECT_EQ(same->gen.tokens, ref);
  EXPECT_EQ(same->stats.changed_argmax, 0);
  // "Tuned" = the large model itself, small base = the small model, strength 0.
  auto zero = p.combined(proxy_combiner({.alpha = 0.0f}), {0, 0, 1});
  ASSERT_TRUE(zero.ok()) << zero.error().message;
  EXPECT_EQ(zero->gen.tokens, ref);
}

TEST(CombinedGenerator, Errors) {
  TANDEM_REQUIRE_FIXTURES("models/llama-mha-spm-f32.gguf");
  Pair p;
  ASSERT_TRUE(p.large && p.small);
  auto wrong = p.combined(proxy_combiner({}), {0, 1});
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find("expects 3 models"), std::string::npos) << wrong.error().message;
  auto bad = p.combined(contrastive_combiner({.alpha = 2.0f}), {0, 1});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("alpha"), std::string::npos) << bad.error().message;

  Sequence a(p.large, p.pool, {.n_ctx = 128}), b(p.small, p.pool, {.n_ctx = 128});
  std::vector<Sequence*> seqs{&a, &b};
  EXPECT_FALSE(generate_combined(seqs, contrastive_combiner({}), {}, {}).ok());
  ASSERT_TRUE(a.eval(p.prompt).ok());
  auto apart = generate_combined(seqs, contrastive_combiner({}), p.prompt, {});
  ASSERT_FALSE(apart.ok());
  EXPECT_NE(apart.error().message.find("same position"), std::string::npos) << apart.error().message;
}

}  // namespace
}  // namespace tandem

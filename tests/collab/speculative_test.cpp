// Speculative decoding end to end. Greedy: the output equals the target's own
// greedy output for every K = 1..8, on both fixture pairs, with a draft model,
// with the target as its own draft (100% acceptance), with prompt lookup, and
// with a scripted draft whose guesses are right for exactly the first j
// tokens of each round (the cache bookkeeping at every rejection point).
// Sampling: on two tiny random models over a 24-token vocabulary, the first
// and second generated tokens follow the target's distribution (chi-square).
#include "tandem/collab/speculative.h"

#include <cmath>
#include <functional>
#include <memory>

#include <gtest/gtest.h>

#include "tandem/collab/draft_chain.h"
#include "tandem/collab/model_draft.h"
#include "tandem/collab/prompt_lookup.h"
#include "tandem/gguf/gguf_writer.h"
#include "tandem/model/synth.h"
#include "test_util.h"

namespace tandem {
namespace {

std::string fixture(const std::string& f) { return testing::shared_dir() + "/fixtures/models/" + f; }

std::shared_ptr<const DecoderModel> load(const std::string& path) {
  auto m = DecoderModel::load(path);
  EXPECT_TRUE(m.ok()) << path << ": " << (m.ok() ? "" : m.error().message);
  return m.ok() ? *m : nullptr;
}

// The target alone, greedy: the reference output.
std::vector<int32_t> plain_greedy(const std::shared_ptr<const DecoderModel>& m, ThreadPool& pool,
                                  const std::vector<int32_t>& prompt, int32_t n, const SamplerParams& s) {
  Sequence seq(m, pool, {.n_ctx = 256});
  auto r = generate(seq, prompt, {.n_predict = n, .stop_at_eog = false, .sampler = s});
  EXPECT_TRUE(r.ok());
  return r.ok() ? r->tokens : std::vector<int32_t>{};
}

// Proposes the reference continuation for the first `good` tokens of each
// round, then wrong tokens: every rejection point the verify loop can meet.
class ScriptedDraft final : public DraftSource {
 public:
  ScriptedDraft(std::vector<int32_t> truth, size_t n_prompt, int32_t good, int32_t n_vocab)
      : truth_(std::move(truth)), n_prompt_(n_prompt), good_(good), n_vocab_(n_vocab) {}
  Status begin(std::span<const int32_t>) override { return ok_status(); }
  Status propose(const DraftRequest& req, Draft& out) override {
    out.clear();
    const size_t g = req.context.size() - n_prompt_;
    for (int32_t i = 0; i < req.max_tokens && g + static_cast<size_t>(i) < truth_.size(); ++i) {
      const int32_t t = truth_[g + static_cast<size_t>(i)];
      out.tokens.push_back(i < good_ ? t : (t + 1) % n_vocab_);
    }
    return ok_status();
  }

 private:
  std::vector<int32_t> truth_;
  size_t n_prompt_;
  int32_t good_, n_vocab_;
};

struct Pair {
  const char* target;
  const char* draft;
};
const Pair kPairs[] = {{"llama-gqa-spm-f32.gguf", "llama-mha-spm-f32.gguf"},
                       {"qwen2-gpt2-f32.gguf", "llama-tied-gpt2-f32.gguf"}};

TEST(Speculative, GreedyEqualsTargetForEveryK) {
  TANDEM_REQUIRE_FIXTURES("models");
  ThreadPool pool(1);
  constexpr int32_t kN = 40;
  for (const Pair& pair : kPairs) {
    SCOPED_TRACE(pair.target);
    auto target = load(fixture(pair.target)), dm = load(fixture(pair.draft));
    ASSERT_TRUE(target && dm);
    const auto prompt = target->tokenizer().encode("Once upon a time there was");
    // A repetition penalty as well: the penalty window must see exactly the accepted tokens.
    for (float penalty : {1.0f, 1.3f}) {
      const SamplerParams s{.temperature = 0, .repeat_penalty = penalty};
      const auto want = plain_greedy(target, pool, prompt, kN, s);
      ASSERT_EQ(want.size(), static_cast<size_t>(kN));
      for (int32_t k = 1; k <= 8; ++k) {
        SCOPED_TRACE("K = " + std::to_string(k) + ", penalty " + std::to_string(penalty));
        Sequence tseq(target, pool, {.n_ctx = 256}), dseq(dm, pool, {.n_ctx = 256});
        auto draft = ModelDraft::create(dseq, {.sampler = draft_sampler_params(s), .n_vocab_limit = target->config().n_vocab});
        ASSERT_TRUE(draft.ok());
        std::string streamed;
        auto r = generate_speculative(tseq, **draft, prompt,
                                      {.n_predict = kN, .stop_at_eog = false, .sampler = s, .draft = {.max = k}},
                                      [&](std::string_view p) { streamed += p; });
        ASSERT_TRUE(r.ok()) << r.error().message;
        EXPECT_EQ(r->gen.tokens, want);
        EXPECT_EQ(r->gen.text, streamed);
        const SpeculativeStats& st = r->stats;
        EXPECT_LE(st.accepted, st.drafted);
        EXPECT_EQ(static_cast<int64_t>(want.size()), st.accepted + st.rounds);  // each pass adds one target token
        // The target's cache holds the prompt and every token but the last.
        EXPECT_EQ(tseq.n_past(), static_cast<int64_t>(prompt.size() + want.size()) - 1);
      }
    }
  }
}

TEST(Speculative, TargetAsItsOwnDraftAcceptsEverything) {
  TANDEM_REQUIRE_FIXTURES("models");
  ThreadPool pool(1);
  auto target = load(fixture("llama-gqa-spm-f32.gguf"));
  ASSERT_TRUE(target);
  const auto prompt = target->tokenizer().encode("The quick brown fox");
  const SamplerParams s{.temperature = 0};
  const auto want = plain_greedy(target, pool, prompt, 40, s);
  for (int32_t k = 1; k <= 8; ++k) {
    SCOPED_TRACE(k);
    Sequence tseq(target, pool, {.n_ctx = 256}), dseq(target, pool, {.n_ctx = 256});
    auto draft = ModelDraft::create(dseq, {.sampler = s});
    auto r = generate_speculative(tseq, **draft, prompt, {.n_predict = 40, .stop_at_eog = false, .sampler = s, .draft = {.max = k}});
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->gen.tokens, want);
    EXPECT_EQ(r->stats.acceptance_rate(), 1.0);
    // 40 tokens, K + 1 per pass (the last pass capped by n_predict).
    EXPECT_EQ(r->stats.rounds, (40 + k) / (k + 1));
    EXPECT_DOUBLE_EQ(r->stats.mean_accepted_length(), static_cast<double>(r->stats.accepted) / r->stats.draft_rounds);
  }
  // Sampling with p == q: the rule keeps every draft token.
  const SamplerParams hot{.temperature = 0.9f, .top_k = 40, .seed = 7};
  Sequence tseq(target, pool, {.n_ctx = 256}), dseq(target, pool, {.n_ctx = 256});
  auto draft = ModelDraft::create(dseq, {.sampler = draft_sampler_params(hot)});
  auto r = generate_speculative(tseq, **draft, prompt, {.n_predict = 60, .stop_at_eog = false, .sampler = hot, .draft = {.max = 5}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_GT(r->stats.acceptance_rate(), 0.97);
}

TEST(Speculative, EveryRejectionPointKeepsCachesRight) {
  TANDEM_REQUIRE_FIXTURES("models");
  ThreadPool pool(1);
  auto target = load(fixture("qwen2-gpt2-f32.gguf"));
  ASSERT_TRUE(target);
  const auto prompt = target->tokenizer().encode("Hello world, this is");
  const SamplerParams s{.temperature = 0};
  const auto want = plain_greedy(target, pool, prompt, 30, s);
  const auto n_vocab = static_cast<int32_t>(target->config().n_vocab);
  for (int32_t k : {1, 3, 8}) {
    for (int32_t good = 0; good <= k; ++good) {
      SCOPED_TRACE("K = " + std::to_string(k) + ", right guesses " + std::to_string(good));
      ScriptedDraft draft(want, prompt.size(), good, n_vocab);
      Sequence tseq(target, pool, {.n_ctx = 256});
      auto r = generate_speculative(tseq, draft, prompt, {.n_predict = 30, .stop_at_eog = false, .sampler = s, .draft = {.max = k}});
      ASSERT_TRUE(r.ok()) << r.error().message;
      EXPECT_EQ(r->gen.tokens, want);
      // Every round but perhaps the last (capped by n_predict) keeps exactly `good`.
      ASSERT_GE(r->stats.accepted_hist.size(), static_cast<size_t>(good) + 1);
      EXPECT_GE(r->stats.accepted_hist[static_cast<size_t>(good)], r->stats.draft_rounds - 1);
    }
  }
}

TEST(Speculative, PromptLookupOnARepetitivePrompt) {
  TANDEM_REQUIRE_FIXTURES("models");
  ThreadPool pool(1);
  auto target = load(fixture("llama-gqa-spm-f32.gguf"));
  ASSERT_TRUE(target);
  const auto prompt =
      target->tokenizer().encode("one two three four one two three four one two three four one two three four");
  const SamplerParams s{.temperature = 0};
  const auto want = plain_greedy(target, pool, prompt, 64, s);
  for (int32_t k : {1, 4, 8}) {
    SCOPED_TRACE(k);
    auto lookup = PromptLookup::create({.ngram_max = 3});
    Sequence tseq(target, pool, {.n_ctx = 256});
    auto r = generate_speculative(tseq, *lookup, prompt, {.n_predict = 64, .stop_at_eog = false, .sampler = s, .draft = {.max = k}});
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->gen.tokens, want);
    EXPECT_GT(r->stats.drafted, 0);
    EXPECT_EQ(static_cast<int64_t>(want.size()), r->stats.accepted + r->stats.rounds);
  }
  // The same loop with the target as a copying oracle: once the model's own
  // output repeats, lookup guesses are accepted. A scripted context shows it:
  // a target that continued the loop would accept every guess.
  auto lookup = PromptLookup::create({.ngram_max = 3});
  Draft d;
  ASSERT_TRUE(lookup->propose({.context = prompt, .max_tokens = 4}, d).ok());
  const size_t period = (prompt.size() - 1) / 4;  // BOS, then four repeats
  ASSERT_EQ(d.tokens.size(), 4u);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(d.tokens[i], prompt[prompt.size() - period + i]);
}

TEST(Speculative, AdaptiveAndPMinKeepGreedyOutput) {
  TANDEM_REQUIRE_FIXTURES("models");
  ThreadPool pool(1);
  auto target = load(fixture("llama-gqa-spm-f32.gguf")), dm = load(fixture("llama-mha-spm-f32.gguf"));
  const auto prompt = target->tokenizer().encode("It was a bright cold day");
  const SamplerParams s{.temperature = 0};
  const auto want = plain_greedy(target, pool, prompt, 40, s);
  for (float p_min : {0.0f, 0.05f, 0.5f}) {
    SCOPED_TRACE(p_min);
    Sequence tseq(target, pool, {.n_ctx = 256}), dseq(dm, pool, {.n_ctx = 256});
    auto draft = ModelDraft::create(dseq, {.sampler = s, .p_min = p_min, .min_tokens = 1});
    auto r = generate_speculative(tseq, **draft, prompt,
                                  {.n_predict = 40, .stop_at_eog = false, .sampler = s,
                                   .draft = {.max = 8, .min = 1, .adaptive = true, .cost_ratio = 0.4}});
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->gen.tokens, want);
    // Random weights rarely agree: the adaptive rule settles on short drafts.
    EXPECT_LT(r->stats.drafted, 8 * r->stats.draft_rounds);
  }
  // p_min = 1 stops every draft after min_tokens.
  Sequence tseq(target, pool, {.n_ctx = 256}), dseq(dm, pool, {.n_ctx = 256});
  auto draft = ModelDraft::create(dseq, {.sampler = s, .p_min = 1.0f, .min_tokens = 2});
  auto r = generate_speculative(tseq, **draft, prompt, {.n_predict = 20, .stop_at_eog = false, .sampler = s, .draft = {.max = 8}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->gen.tokens, std::vector<int32_t>(want.begin(), want.begin() + 20));
  // (The last round may be capped at one token by n_predict.)
  EXPECT_LE(r->stats.drafted, 2 * r->stats.draft_rounds);
  EXPECT_GE(r->stats.drafted, 2 * r->stats.draft_rounds - 1);
}

// Adaptive with min = 0: a draft that is always wrong is asked less and less
// (plain rounds, and probes further and further apart) while the output stays
// the target's; chained after prompt lookup, lookup keeps its own length and
// still drafts on the repeats.
TEST(Speculative, AdaptiveStopsAskingALosingSource) {
  TANDEM_REQUIRE_FIXTURES("models");
  ThreadPool pool(1);
  auto target = load(fixture("llama-gqa-spm-f32.gguf"));
  const SamplerParams s{.temperature = 0};
  const auto prompt = target->tokenizer().encode("one two three four one two three four one two");
  const int32_t n = 120;
  const auto want = plain_greedy(target, pool, prompt, n, s);
  const DraftLengthParams adaptive{.max = 4, .adaptive = true, .cost_ratio = 0.5, .probe_interval = 4};
  {
    ScriptedDraft wrong(want, prompt.size(), 0, static_cast<int32_t>(target->config().n_vocab));
    Sequence tseq(target, pool, {.n_ctx = 256});
    auto r = generate_speculative(tseq, wrong, prompt, {.n_predict = n, .stop_at_eog = false, .sampler = s, .draft = adaptive});
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->gen.tokens, want);
    EXPECT_EQ(r->stats.accepted, 0);
    // 8 rounds before plain decoding may start, then probes after 4, 8, 16, ... plain rounds.
    EXPECT_LE(r->stats.draft_rounds, 8 + 5);
    EXPECT_GE(r->stats.rounds, n - 1);
  }
  std::vector<std::unique_ptr<DraftSource>> sources;
  sources.push_back(std::make_unique<PromptLookup>(*PromptLookup::create({.ngram_max = 3, .ngram_min = 2})));
  sources.push_back(std::make_unique<ScriptedDraft>(want, prompt.size(), 0, static_cast<int32_t>(target->config().n_vocab)));
  auto chain = DraftChain::create(std::move(sources));
  ASSERT_TRUE(chain.ok());
  Sequence tseq(target, pool, {.n_ctx = 256});
  DraftLengthParams lookup = adaptive;
  lookup.cost_ratio = 0;
  auto r = generate_speculative(tseq, **chain, prompt,
                                {.n_predict = n, .stop_at_eog = false, .sampler = s, .draft_by_source = {lookup, adaptive}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->gen.tokens, want);
  const auto& by = (*chain)->rounds_by_source();
  EXPECT_LE(by[1], 8 + 5);
  EXPECT_GT(r->stats.accepted, 0);  // lookup's copies of the repeats
  // A length per source, or an error.
  auto mismatch = generate_speculative(tseq, **chain, prompt, {.n_predict = 4, .draft_by_source = {lookup}});
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.error().message.find("1 draft-length settings for 2 draft sources"), std::string::npos);
}

TEST(Speculative, StopsWhereThePlainLoopStops) {
  TANDEM_REQUIRE_FIXTURES("models");
  ThreadPool pool(1);
  auto target = load(fixture("llama-mha-spm-f32.gguf"));
  const SamplerParams s{.temperature = 0};
  // A full context: the same token count as generate() (see generator_test).
  Sequence tseq(target, pool, {.n_ctx = 8}), dseq(target, pool, {.n_ctx = 8});
  auto draft = ModelDraft::create(dseq, {.sampler = s});
  auto r = generate_speculative(tseq, **draft, {1, 5, 6}, {.n_predict = 100, .stop_at_eog = false, .sampler = s, .draft = {.max = 4}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  Sequence alone(target, pool, {.n_ctx = 8});
  EXPECT_EQ(r->gen.tokens, generate(alone, {1, 5, 6}, {.n_predict = 100, .stop_at_eog = false, .sampler = s})->tokens);
  EXPECT_EQ(r->gen.tokens.size(), 6u);
  // Errors: empty and overlong prompts, a draft token outside the vocabulary.
  EXPECT_FALSE(generate_speculative(tseq, **draft, {}, {}).ok());
  Sequence t2(target, pool, {.n_ctx = 8});
  auto longer = generate_speculative(t2, **draft, std::vector<int32_t>(8, 5), {});
  ASSERT_FALSE(longer.ok());
  EXPECT_NE(longer.error().message.find("context"), std::string::npos);
  ScriptedDraft bad({5, 5, 5}, 3, 0, 1 << 20);
  Sequence t3(target, pool, {.n_ctx = 64});
  auto wrong = generate_speculative(t3, bad, {1, 5, 6}, {.n_predict = 3, .stop_at_eog = false, .sampler = s});
  EXPECT_TRUE(wrong.ok());  // (5 + 1) is in range: rejected, not an error
  ScriptedDraft out_of_range({(1 << 20) - 1}, 3, 1, 1 << 20);
  Sequence t4(target, pool, {.n_ctx = 64});
  auto oor = generate_speculative(t4, out_of_range, {1, 5, 6}, {.n_predict = 3, .stop_at_eog = false, .sampler = s});
  ASSERT_FALSE(oor.ok());
  EXPECT_NE(oor.error().message.find("outside the target's vocabulary"), std::string::npos);
}

// --- Sampling is exact: output distribution of tiny random models ----------

// A 24-token SentencePiece-style vocabulary for models small enough to sample
// tens of thousands of times in a second or two.
std::string write_tiny_vocab(const std::string& path) {
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  for (char c = 'a'; tokens.size() < 24; ++c) tokens.push_back(std::string("\xE2\x96\x81") + c);
  std::vector<float> scores(tokens.size(), 0.0f);
  std::vector<int32_t> types(tokens.size(), 1);
  types[0] = 2, types[1] = 3, types[2] = 3;
  GgufWriter w;
  w.set("general.architecture", GgufValue::string("llama"));
  w.set("tokenizer.ggml.model", GgufValue::string("llama"));
  w.set("tokenizer.ggml.tokens", GgufValue::string_array(tokens));
  w.set("tokenizer.ggml.scores", GgufValue::f32_array(scores));
  w.set("tokenizer.ggml.token_type", GgufValue::i32_array(types));
  w.set("tokenizer.ggml.bos_token_id", GgufValue::u32(1));
  w.set("tokenizer.ggml.eos_token_id", GgufValue::u32(2));
  w.set("tokenizer.ggml.unknown_token_id", GgufValue::u32(0));
  EXPECT_TRUE(w.write_file(path).ok());
  return path;
}

double chi2_bound(int dof) {  // Wilson-Hilferty at z = 5 (upper tail about 3e-7)
  const double k = dof, a = 2.0 / (9.0 * k);
  return k * std::pow(1.0 - a + 5.0 * std::sqrt(a), 3.0);
}

double chi2(const std::vector<int64_t>& counts, const std::vector<double>& p, int64_t n, int* dof) {
  double s = 0.0;
  int cells = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] <= 0.0) {
      EXPECT_EQ(counts[i], 0) << "token " << i << " has p = 0";
      continue;
    }
    const double e = static_cast<double>(n) * p[i];
    s += (counts[i] - e) * (counts[i] - e) / e;
    ++cells;
  }
  *dof = cells - 1;
  return s;
}

// Runs speculative sampling kRuns times (seeds 0..kRuns-1) and checks the
// first and second generated tokens against the target's exact marginals.
// make_source(seed) builds the draft source of one run.
using SourceFactory = std::function<std::unique_ptr<DraftSource>(uint64_t seed)>;
void check_sampled_marginals(const std::shared_ptr<const DecoderModel>& target, const std::vector<int32_t>& prompt,
                             const SamplerParams& s, const SourceFactory& make_source,
                             const std::vector<float>& q1, double min_acceptance, double max_acceptance) {
  ThreadPool pool(1);
  const size_t V = static_cast<size_t>(target->config().n_vocab);

  // The exact marginals of the target alone: p1, and p2 = sum_t p1(t) p(. | t).
  Sequence ref(target, pool, {.n_ctx = 32});
  auto sampler = *Sampler::create(s);
  std::vector<float> dist;
  auto lg = ref.eval(prompt, Logits::kLast);
  ASSERT_TRUE(sampler.distribution(*lg, dist).ok());
  const std::vector<float> p1f = dist;
  std::vector<double> p1(p1f.begin(), p1f.end()), p2(V, 0.0);
  for (size_t t = 0; t < V; ++t) {
    if (p1f[t] == 0.0f) continue;
    ASSERT_TRUE(ref.rollback(static_cast<int64_t>(prompt.size())).ok());
    const int32_t tok = static_cast<int32_t>(t);
    auto l2 = ref.eval(std::span<const int32_t>(&tok, 1), Logits::kLast);
    ASSERT_TRUE(sampler.distribution(*l2, dist).ok());
    for (size_t y = 0; y < V; ++y) p2[y] += p1[t] * dist[y];
  }
  constexpr int64_t kRuns = 12000;
  std::vector<int64_t> c1(V, 0), c2(V, 0);
  int64_t drafted = 0, accepted = 0;
  Sequence tseq(target, pool, {.n_ctx = 32});
  for (int64_t i = 0; i < kRuns; ++i) {
    SamplerParams si = s;
    si.seed = static_cast<uint64_t>(i);
    auto draft = make_source(si.seed);
    ASSERT_TRUE(draft);
    ASSERT_TRUE(tseq.rollback(0).ok());
    // n_predict 4: the first round drafts 3 tokens, so tokens 1 and 2 come from
    // every branch (kept draft, residual draw, bonus).
    auto r = generate_speculative(tseq, *draft, prompt, {.n_predict = 4, .stop_at_eog = false, .sampler = si, .draft = {.max = 3}});
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_GE(r->gen.tokens.size(), 2u);
    ++c1[static_cast<size_t>(r->gen.tokens[0])];
    ++c2[static_cast<size_t>(r->gen.tokens[1])];
    drafted += r->stats.drafted;
    accepted += r->stats.accepted;
  }
  int dof = 0;
  const double s1 = chi2(c1, p1, kRuns, &dof);
  EXPECT_LT(s1, chi2_bound(dof)) << "first token, dof " << dof;
  const double s2 = chi2(c2, p2, kRuns, &dof);
  EXPECT_LT(s2, chi2_bound(dof)) << "second token, dof " << dof;
  // Both branches of the rule ran, in the proportion this pairing gives.
  const double rate = static_cast<double>(accepted) / static_cast<double>(drafted);
  EXPECT_GT(rate, min_acceptance);
  EXPECT_LT(rate, max_acceptance);
  // Power: had the draft's tokens been emitted uncorrected, the expected
  // statistic (kRuns * sum (q - p)^2 / p, infinite where p = 0 < q) would
  // exceed the bound many times over. q1: the draft's first-token distribution.
  double power = 0.0;
  for (size_t t = 0; t < V; ++t) {
    if (p1[t] == 0.0) power += q1[t] > 0.0f ? 1e9 : 0.0;
    else power += kRuns * (q1[t] - p1[t]) * (q1[t] - p1[t]) / p1[t];
  }
  EXPECT_GT(power, 5 * chi2_bound(9));
}

TEST(Speculative, SamplingFollowsTheTargetDistribution) {
  testing::TempFile vocab("spec_vocab.gguf"), tfile("spec_target.gguf"), dfile("spec_draft.gguf");
  write_tiny_vocab(vocab.path());
  ASSERT_TRUE(synth_model({.dim = 32, .layers = 1, .heads = 2, .ffn = 64, .ctx = 32, .vocab_from = vocab.path(), .seed = 1}, tfile.path()).ok());
  ASSERT_TRUE(synth_model({.dim = 16, .layers = 1, .heads = 2, .ffn = 32, .ctx = 32, .vocab_from = vocab.path(), .seed = 2}, dfile.path()).ok());
  auto target = load(tfile.path()), dm = load(dfile.path());
  ASSERT_TRUE(target && dm);
  ThreadPool pool(1);
  // Random logits have a spread of about 1: temperature 0.5 makes the
  // distributions uneven, top-k 10 makes the supports of p and q differ.
  const SamplerParams s{.temperature = 0.5f, .top_k = 10, .top_p = 1.0f, .min_p = 0.0f};
  const std::vector<int32_t> prompt = {1, 5, 9};
  auto first_q = [&](const std::shared_ptr<const DecoderModel>& m, const SamplerParams& ds) {
    Sequence seq(m, pool, {.n_ctx = 32});
    auto sampler = *Sampler::create(ds);
    std::vector<float> q;
    EXPECT_TRUE(sampler.distribution(*seq.eval(prompt, Logits::kLast), q).ok());
    return q;
  };
  Sequence dseq(dm, pool, {.n_ctx = 32}), self_seq(target, pool, {.n_ctx = 32});
  {
    SCOPED_TRACE("another model: p and q far apart, most drafts rejected");
    check_sampled_marginals(target, prompt, s, [&](uint64_t seed) -> std::unique_ptr<DraftSource> {
      SamplerParams ds = s;
      ds.seed = seed;
      auto d = ModelDraft::create(dseq, {.sampler = draft_sampler_params(ds)});
      return d.ok() ? std::move(*d) : nullptr;
    }, first_q(dm, s), 0.02, 0.5);
  }
  {
    // The target itself at a higher temperature drafts: q is p flattened, so
    // most drafts are kept and the bonus branch runs often.
    SCOPED_TRACE("the target at temperature 1 as its draft: most drafts kept");
    SamplerParams flat = s;
    flat.temperature = 1.0f;
    check_sampled_marginals(target, prompt, s, [&](uint64_t seed) -> std::unique_ptr<DraftSource> {
      SamplerParams ds = flat;
      ds.seed = draft_sampler_params({.seed = seed}).seed;
      auto d = ModelDraft::create(self_seq, {.sampler = ds});
      return d.ok() ? std::move(*d) : nullptr;
    }, first_q(target, flat), 0.4, 0.98);
  }
  {
    // Prompt lookup: deterministic guesses (q one-hot). "5" recurs in the
    // prompt, so every run starts with the guesses 9, 5, 9.
    SCOPED_TRACE("prompt lookup: one-hot q");
    const std::vector<int32_t> loop = {5, 9, 5};
    std::vector<float> q1(static_cast<size_t>(target->config().n_vocab), 0.0f);
    q1[9] = 1.0f;
    check_sampled_marginals(target, loop, s, [](uint64_t) -> std::unique_ptr<DraftSource> {
      return std::make_unique<PromptLookup>(*PromptLookup::create({.ngram_max = 2}));
    }, q1, 0.0, 0.9);
  }
}

TEST(Speculative, SamplingReproducesForASeed) {
  TANDEM_REQUIRE_FIXTURES("models");
  ThreadPool pool(1);
  auto target = load(fixture("qwen2-gpt2-f32.gguf")), dm = load(fixture("llama-tied-gpt2-f32.gguf"));
  const auto prompt = target->tokenizer().encode("A short story:");
  const SamplerParams s{.temperature = 0.8f, .seed = 99};
  std::vector<int32_t> first;
  for (int rep = 0; rep < 2; ++rep) {
    Sequence tseq(target, pool, {.n_ctx = 128}), dseq(dm, pool, {.n_ctx = 128});
    auto draft = ModelDraft::create(dseq, {.sampler = draft_sampler_params(s)});
    auto r = generate_speculative(tseq, **draft, prompt, {.n_predict = 30, .stop_at_eog = false, .sampler = s, .draft = {.max = 4}});
    ASSERT_TRUE(r.ok());
    if (rep == 0) first = r->gen.tokens;
    else EXPECT_EQ(r->gen.tokens, first);
  }
}

}  // namespace
}  // namespace tandem

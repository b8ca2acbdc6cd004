// Router: the trainer separates a separable synthetic set, calibration hits
// the target share of large-model calls, JSON round trips, and the pair maker
// labels fixture models' answers by the metric.
#include "tandem/collab/router.h"

#include <cstdio>

#include <gtest/gtest.h>

#include "tandem/collab/local_text_model.h"
#include "tandem/collab/router_pairs.h"
#include "tandem/eval/text_metrics.h"
#include "test_util.h"

namespace tandem {
namespace {

// Prompts that mention "genealogy" or "prophecy" need the large model; the
// dense feature is noise the trainer must not rely on.
std::vector<RouterExample> synthetic(int n, int offset) {
  const char* easy[] = {"tell me about the garden", "who built the ark", "what did moses say", "the lord is my shepherd"};
  const char* hard[] = {"explain the genealogy of david", "interpret the prophecy of daniel",
                        "list the genealogy from adam", "the prophecy about the beasts"};
  std::vector<RouterExample> ex;
  for (int i = offset; i < offset + n; ++i) {
    const bool h = i % 3 == 0;
    std::string p = h ? hard[i % 4] : easy[i % 4];
    p += " number " + std::to_string(i);
    ex.push_back({.prompt = p, .dense = {static_cast<double>((i * 37) % 11)}, .needs_large = h});
  }
  return ex;
}

TEST(Router, SeparatesASeparableSet) {
  auto train = synthetic(60, 0);
  auto r = Router::train(train, {.epochs = 50, .seed = 7});
  ASSERT_TRUE(r.ok()) << r.error().message;
  for (const auto& e : synthetic(30, 1000)) {  // held-out prompts, new numbers
    auto s = r->score(e.prompt, e.dense);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(*s >= 0.5, e.needs_large) << e.prompt << " score " << *s;
  }
  // Deterministic: the same seed trains the same router.
  auto again = Router::train(train, {.epochs = 50, .seed = 7});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(r->to_json(), again->to_json());
}

TEST(Router, CalibrationHitsTargetShare) {
  auto r = Router::train(synthetic(60, 0), {.epochs = 20});
  ASSERT_TRUE(r.ok());
  std::vector<double> scores;
  for (const auto& e : synthetic(100, 500)) scores.push_back(*r->score(e.prompt, e.dense));
  for (double share : {0.0, 0.1, 0.3, 0.5, 1.0}) {
    // Scores must be distinct for an exact share; make them so with a tiny ramp.
    std::vector<double> s = scores;
    for (size_t i = 0; i < s.size(); ++i) s[i] += 1e-9 * static_cast<double>(i);
    auto t = calibrate_threshold(s, share);
    ASSERT_TRUE(t.ok());
    r->set_threshold(*t);
    int routed = 0;
    for (double v : s) routed += r->to_large(v) ? 1 : 0;
    EXPECT_EQ(routed, static_cast<int>(share * 100)) << "share " << share;
  }
  EXPECT_FALSE(calibrate_threshold({}, 0.3).ok());
  EXPECT_FALSE(calibrate_threshold({0.5}, 1.5).ok());
}

TEST(Router, JsonRoundTripAndErrors) {
  auto r = Router::train(synthetic(30, 0), {.epochs = 10});
  ASSERT_TRUE(r.ok());
  r->set_threshold(0.42);
  testing::TempFile f("router.json");
  ASSERT_TRUE(r->save(f.path()).ok());
  auto back = Router::load(f.path());
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_DOUBLE_EQ(back->threshold(), 0.42);
  for (const auto& e : synthetic(10, 200))
    EXPECT_DOUBLE_EQ(*back->score(e.prompt, e.dense), *r->score(e.prompt, e.dense));
  EXPECT_FALSE(back->score("x", std::vector<double>{1.0, 2.0}).ok());  // wrong dense size

  auto j = r->to_json();
  j["format"] = "other";
  EXPECT_FALSE(Router::from_json(j).ok());
  j = r->to_json();
  j.erase("bias");
  auto e = Router::from_json(j);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("bias"), std::string::npos) << e.error().message;
  testing::TempFile bad("router_bad.json", "{not json");
  auto l = Router::load(bad.path());
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.error().message.find(bad.path()), std::string::npos);
  EXPECT_FALSE(Router::train({}, {}).ok());
}

TEST(Router, HashedNgramsAreUnitNormAndCaseBlind) {
  auto a = hashed_ngrams("The LORD said", {});
  auto b = hashed_ngrams("the lord, said!", {});
  EXPECT_EQ(a, b);
  double n = 0;
  for (const auto& [k, v] : a) n += static_cast<double>(v) * v;
  EXPECT_NEAR(n, 1.0, 1e-6);
  EXPECT_TRUE(hashed_ngrams("", {}).empty());
}

TEST(RouterPairs, LabelsFixtureModelsByTheMetric) {
  TANDEM_REQUIRE_FIXTURES("models/llama-mha-spm-f32.gguf");
  ThreadPool pool(1);
  const std::string dir = testing::shared_dir() + "/fixtures/models/";
  auto small = load_local_text_model(dir + "llama-mha-spm-f32.gguf", pool, 128);
  auto large = load_local_text_model(dir + "llama-gqa-spm-f32.gguf", pool, 128);
  ASSERT_TRUE(small.ok() && large.ok());
  const CompletionRequest req{.prompt = "", .max_tokens = 6, .temperature = 0.0f, .seed = 0, .stop = {}};
  // References: the large model's own greedy answers, so large scores 1 and
  // the small one sufficed only where it said the same words.
  std::vector<DevExample> dev;
  for (std::string p : {"Hello world", "The quick brown fox", "Once upon a time"}) {
    CompletionRequest r = req;
    r.prompt = p;
    dev.push_back({.prompt = p, .reference = (*large)->complete(r)->text});
  }
  dev[1].reference = "";  // an empty reference: neither answer matches it
  size_t calls = 0;
  auto pairs = make_router_pairs(**small, **large, dev, token_f1, {.request = req, .margin = 0.0},
                                 [&](size_t done, size_t total) {
                                   ++calls;
                                   EXPECT_EQ(total, 3u);
                                   EXPECT_EQ(done, calls);
                                 });
  ASSERT_TRUE(pairs.ok()) << pairs.error().message;
  ASSERT_EQ(pairs->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const RouterPair& p = (*pairs)[i];
    EXPECT_EQ(p.prompt, dev[i].prompt);
    EXPECT_DOUBLE_EQ(p.small_quality, token_f1(p.small_answer, dev[i].reference));
    EXPECT_DOUBLE_EQ(p.large_quality, token_f1(p.large_answer, dev[i].reference));
    EXPECT_EQ(p.small_sufficed, p.small_quality >= p.large_quality);
    EXPECT_EQ(p.dense.size(), router_dense_feature_names().size());
    EXPECT_LT(p.dense[0], 0.0);  // a mean log-prob
    EXPECT_GT(p.large_tokens, 0);
  }
  EXPECT_DOUBLE_EQ((*pairs)[0].large_quality, 1.0);
  EXPECT_TRUE((*pairs)[1].small_sufficed);  // both 0: a tie is "sufficed"
  // With a margin of 1 the small model always suffices (F1 lies in [0, 1]).
  auto lenient = make_router_pairs(**small, **large, dev, token_f1, {.request = req, .margin = 1.0});
  ASSERT_TRUE(lenient.ok());
  for (const auto& p : *lenient) EXPECT_TRUE(p.small_sufficed);
  auto ex = router_examples(*lenient);
  ASSERT_EQ(ex.size(), 3u);
  EXPECT_FALSE(ex[0].needs_large);
}

}  // namespace
}  // namespace tandem

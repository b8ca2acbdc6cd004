// Cascade escalation logic on a scripted text model: which model answers, the
// score and its explanation, the verifier path, and the cost/quality sweep.
#include "tandem/collab/cascade.h"

#include <cmath>
#include <limits>
#include <map>

#include <gtest/gtest.h>

#include "tandem/collab/cost_quality.h"

namespace tandem {
namespace {

// A test double: answers and log-probs scripted per prompt; counts its calls.
class ScriptedModel final : public TextModel {
 public:
  explicit ScriptedModel(std::string name) : name_(std::move(name)) {}
  void answer(const std::string& prompt, std::string text, std::vector<float> lps) {
    answers_[prompt] = {std::move(text), std::move(lps)};
  }
  std::string name() const override { return name_; }
  Result<Completion> complete(const CompletionRequest& req) override {
    ++completions;
    auto it = answers_.find(req.prompt);
    if (it == answers_.end()) return make_error("no scripted answer for '", req.prompt, "'");
    Completion c;
    c.text = it->second.first;
    c.logprobs = it->second.second;
    c.tokens.assign(c.logprobs.size(), "t");
    c.prompt_tokens = 3;
    c.completion_tokens = static_cast<int64_t>(c.logprobs.size());
    c.finish_reason = "stop";
    return c;
  }
  Result<ScoredText> score(std::string_view context, std::string_view text) override {
    ++scorings;
    last_scored = std::string(context) + "|" + std::string(text);
    return ScoredText{.tokens = {"a", "b"}, .logprobs = score_lps, .prompt_tokens = 5};
  }
  int completions = 0, scorings = 0;
  std::vector<float> score_lps{-0.5f, -1.5f};
  std::string last_scored;

 private:
  std::string name_;
  std::map<std::string, std::pair<std::string, std::vector<float>>> answers_;
};

TEST(Cascade, ConfidentSmallAnswerStays) {
  ScriptedModel small("s"), large("l");
  small.answer("p", "small says", {-0.1f, -0.3f});
  large.answer("p", "large says", {-0.2f});
  auto r = run_cascade(small, large, nullptr, "p", {.score = ConfidenceScore::kMean, .threshold = -1.0});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->model, "small");
  EXPECT_EQ(r->answer, "small says");
  EXPECT_NEAR(r->score, -0.2, 1e-6);
  EXPECT_FALSE(r->escalated());
  EXPECT_EQ(r->large_tokens(), 0);
  EXPECT_EQ(large.completions, 0);
  EXPECT_EQ(r->reason, "mean logprob -0.2 >= threshold -1");
}

TEST(Cascade, LowMeanEscalatesWithReason) {
  ScriptedModel small("s"), large("l");
  small.answer("p", "unsure", {-1.0f, -2.84f});
  large.answer("p", "large says", {-0.2f, -0.1f});
  auto r = run_cascade(small, large, nullptr, "p", {.score = ConfidenceScore::kMean, .threshold = -1.5});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->model, "large");
  EXPECT_EQ(r->answer, "large says");
  EXPECT_EQ(r->reason, "mean logprob -1.92 < threshold -1.5");
  EXPECT_EQ(r->large_tokens(), 3 + 2);
}

TEST(Cascade, MinScoreCatchesOneBadToken) {
  ScriptedModel small("s"), large("l");
  small.answer("p", "mostly sure", {-0.01f, -0.01f, -0.01f, -3.0f});
  large.answer("p", "L", {-0.1f});
  auto mean = run_cascade(small, large, nullptr, "p", {.score = ConfidenceScore::kMean, .threshold = -1.0});
  auto min = run_cascade(small, large, nullptr, "p", {.score = ConfidenceScore::kMin, .threshold = -1.0});
  ASSERT_TRUE(mean.ok() && min.ok());
  EXPECT_EQ(mean->model, "small");
  EXPECT_EQ(min->model, "large");
  EXPECT_FLOAT_EQ(static_cast<float>(min->score), -3.0f);
  EXPECT_EQ(min->reason.rfind("min logprob -3 < threshold -1", 0), 0u);
}

TEST(Cascade, ScoreEqualToThresholdDoesNotEscalate) {
  ScriptedModel small("s"), large("l");
  small.answer("p", "x", {-1.5f});
  large.answer("p", "L", {-0.1f});
  auto r = run_cascade(small, large, nullptr, "p", {.score = ConfidenceScore::kMean, .threshold = -1.5});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->model, "small");
}

TEST(Cascade, EmptySmallAnswerEscalates) {
  ScriptedModel small("s"), large("l");
  small.answer("p", " \n", {-0.01f});
  large.answer("p", "L", {-0.1f});
  auto r = run_cascade(small, large, nullptr, "p", {.score = ConfidenceScore::kMean, .threshold = -1.5});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->model, "large");
  EXPECT_EQ(r->reason, "small answer is empty");
  EXPECT_TRUE(r->empty_answer);
}

TEST(Cascade, VerifierReadsTheSmallAnswer) {
  ScriptedModel small("s"), large("l"), verifier("v");
  small.answer("p", " answer", {-0.01f});  // the small model is sure of itself
  large.answer("p", "L", {-0.1f});
  verifier.score_lps = {-2.0f, -3.0f};  // the verifier is not
  auto r = run_cascade(small, large, &verifier, "p", {.score = ConfidenceScore::kVerifier, .threshold = -1.0});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(verifier.last_scored, "p| answer");
  EXPECT_EQ(r->model, "large");
  EXPECT_NEAR(r->score, -2.5, 1e-6);
  EXPECT_EQ(r->verifier_tokens, 5);
  EXPECT_EQ(r->reason, "verifier mean logprob -2.5 < threshold -1");
  // Without a verifier the score is an error, not a guess.
  auto none = run_cascade(small, large, nullptr, "p", {.score = ConfidenceScore::kVerifier});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("verifier"), std::string::npos);
}

TEST(Cascade, ModelErrorsNameTheModel) {
  ScriptedModel small("tiny"), large("big");
  auto r = run_cascade(small, large, nullptr, "unknown", {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("small model tiny"), std::string::npos) << r.error().message;
  small.answer("q", "x", {-9.0f});
  auto l = run_cascade(small, large, nullptr, "q", {});
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.error().message.find("large model big"), std::string::npos) << l.error().message;
}

TEST(Cascade, ParsesScoreNames) {
  EXPECT_EQ(*parse_confidence_score("mean"), ConfidenceScore::kMean);
  EXPECT_EQ(*parse_confidence_score("min"), ConfidenceScore::kMin);
  EXPECT_EQ(*parse_confidence_score("verifier"), ConfidenceScore::kVerifier);
  auto bad = parse_confidence_score("avg");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("mean, min or verifier"), std::string::npos);
  EXPECT_EQ(mean_logprob({}), 0.0);
  EXPECT_EQ(min_logprob({}), 0.0);
}

TEST(CostQuality, SweepCountsEscalationsCostAndQuality) {
  // Scores -3, -2, -1, 0: small quality 0, 1, 1, 1; large always 1; large costs 10 each.
  std::vector<RequestOutcome> o;
  for (int i = 0; i < 4; ++i)
    o.push_back({.score = -3.0 + i, .large_tokens = 10, .small_quality = i == 0 ? 0.0 : 1.0, .large_quality = 1.0});
  const double inf = std::numeric_limits<double>::infinity();
  auto t = quantile_thresholds(o, 5);
  ASSERT_EQ(t.size(), 5u);
  EXPECT_EQ(t.front(), -inf);
  EXPECT_DOUBLE_EQ(t[1], -2.5);
  EXPECT_EQ(t.back(), inf);
  auto pts = sweep_thresholds(o, t);
  ASSERT_EQ(pts.size(), 5u);
  for (size_t i = 0; i < pts.size(); ++i) {
    EXPECT_DOUBLE_EQ(pts[i].large_share, i / 4.0);
    EXPECT_EQ(pts[i].large_tokens, static_cast<int64_t>(10 * i));
  }
  EXPECT_DOUBLE_EQ(*pts[0].quality, 0.75);
  EXPECT_DOUBLE_EQ(*pts[1].quality, 1.0);
  // Without references there is no quality to report.
  auto nq = sweep_thresholds({{.score = 0, .large_tokens = 1, .small_quality = {}, .large_quality = {}}}, {inf});
  EXPECT_FALSE(nq[0].quality.has_value());
  // A cost paid at every threshold (a large verifier) shows even where nothing escalates.
  auto fixed = sweep_thresholds(
      {{.score = 0, .large_tokens = 10, .small_quality = {}, .large_quality = {}, .fixed_large_tokens = 4}}, {-inf, inf});
  EXPECT_EQ(fixed[0].large_tokens, 4);
  EXPECT_EQ(fixed[1].large_tokens, 14);
  const std::string table = sweep_table(pts, "threshold");
  EXPECT_NE(table.find("-inf"), std::string::npos);
  EXPECT_NE(table.find("-2.5"), std::string::npos);
  EXPECT_NE(table.find("0.7500"), std::string::npos);
  EXPECT_NE(sweep_table(pts, "router", true).find("2.5 "), std::string::npos);
}

}  // namespace
}  // namespace tandem

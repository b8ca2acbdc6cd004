// The local TextModel on the F32 fixtures: completion log-probs equal eval's
// log_prob of the engine's logits for the same tokens, score() likewise, the
// token counts add up, and stop strings cut the text.
#include "tandem/collab/local_text_model.h"

#include <gtest/gtest.h>

#include "tandem/collab/generator.h"
#include "tandem/sampling/log_softmax.h"
#include "test_util.h"

namespace tandem {
namespace {

const char* kModel = "models/llama-gqa-spm-f32.gguf";

std::shared_ptr<const DecoderModel> load_fixture() {
  auto m = DecoderModel::load(testing::shared_dir() + "/fixtures/" + kModel);
  EXPECT_TRUE(m.ok()) << m.error().message;
  return m.ok() ? *m : nullptr;
}

TEST(LocalTextModel, CompletionLogprobsEqualLogProbOfLogits) {
  TANDEM_REQUIRE_FIXTURES(kModel);
  ThreadPool pool(1);
  auto model = load_fixture();
  ASSERT_TRUE(model);
  LocalTextModel tm(model, pool, {.name = "gqa", .n_ctx = 128});
  auto c = tm.complete({.prompt = "Hello world", .max_tokens = 10, .temperature = 0.0f, .seed = 0, .stop = {}});
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_EQ(c->logprobs.size(), c->tokens.size());
  ASSERT_EQ(static_cast<int64_t>(c->tokens.size()), c->completion_tokens);
  ASSERT_GT(c->completion_tokens, 0);

  // The same greedy tokens from the plain generator, then one batched pass over
  // prompt + tokens: row i predicts token i + 1.
  const std::vector<int32_t> prompt = model->tokenizer().encode("Hello world");
  EXPECT_EQ(c->prompt_tokens, static_cast<int64_t>(prompt.size()));
  Sequence gen_seq(model, pool, {.n_ctx = 128});
  auto g = generate(gen_seq, prompt, {.n_predict = 10, .stop_at_eog = true, .sampler = {.temperature = 0}});
  ASSERT_TRUE(g.ok());
  ASSERT_EQ(g->tokens.size(), c->tokens.size());
  std::vector<int32_t> all = prompt;
  all.insert(all.end(), g->tokens.begin(), g->tokens.end());
  Sequence seq(model, pool, {.n_ctx = 128});
  auto logits = seq.eval(all, Logits::kAll);
  ASSERT_TRUE(logits.ok());
  const size_t nv = static_cast<size_t>(model->config().n_vocab);
  std::string text;
  for (size_t i = 0; i < g->tokens.size(); ++i) {
    const size_t row = prompt.size() - 1 + i;
    EXPECT_NEAR(c->logprobs[i], log_prob(logits->subspan(row * nv, nv), g->tokens[i]), 1e-4) << "token " << i;
    EXPECT_EQ(c->tokens[i], model->tokenizer().token_to_piece(g->tokens[i]));
    text += c->tokens[i];
  }
  EXPECT_EQ(c->text, text);
  EXPECT_EQ(c->finish_reason, g->stopped_at_eog ? "stop" : "length");
}

TEST(LocalTextModel, ScoreEqualsLogProbOfLogits) {
  TANDEM_REQUIRE_FIXTURES(kModel);
  ThreadPool pool(1);
  auto model = load_fixture();
  ASSERT_TRUE(model);
  LocalTextModel tm(model, pool, {.name = "gqa", .n_ctx = 128});
  auto s = tm.score("The quick brown", " fox jumps");
  ASSERT_TRUE(s.ok()) << s.error().message;
  const auto ctx = model->tokenizer().encode("The quick brown");
  const auto full = model->tokenizer().encode("The quick brown fox jumps");
  ASSERT_EQ(s->logprobs.size(), full.size() - ctx.size());
  EXPECT_EQ(s->prompt_tokens, static_cast<int64_t>(full.size()));
  Sequence seq(model, pool, {.n_ctx = 128});
  auto logits = seq.eval(full, Logits::kAll);
  ASSERT_TRUE(logits.ok());
  const size_t nv = static_cast<size_t>(model->config().n_vocab);
  for (size_t i = ctx.size(); i < full.size(); ++i)
    EXPECT_NEAR(s->logprobs[i - ctx.size()], log_prob(logits->subspan((i - 1) * nv, nv), full[i]), 1e-4);
  // Reusing the model (its sequence rolls back) gives the same numbers.
  auto again = tm.score("The quick brown", " fox jumps");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->logprobs, s->logprobs);
  EXPECT_FALSE(tm.score("x", "").ok());
}

TEST(LocalTextModel, StopStringCutsTheText) {
  TANDEM_REQUIRE_FIXTURES(kModel);
  ThreadPool pool(1);
  auto model = load_fixture();
  ASSERT_TRUE(model);
  LocalTextModel tm(model, pool, {.n_ctx = 128});
  auto full = tm.complete({.prompt = "Hello", .max_tokens = 16, .temperature = 0.0f, .seed = 0, .stop = {}});
  ASSERT_TRUE(full.ok());
  ASSERT_GE(full->text.size(), 4u);
  // Stop at a character the unconstrained answer contains: the text ends before it.
  const std::string stop(1, full->text[full->text.size() / 2]);
  auto cut = tm.complete({.prompt = "Hello", .max_tokens = 16, .temperature = 0.0f, .seed = 0, .stop = {stop}});
  ASSERT_TRUE(cut.ok());
  EXPECT_EQ(cut->finish_reason, "stop");
  EXPECT_EQ(cut->text, full->text.substr(0, full->text.find(stop)));
  EXPECT_EQ(cut->logprobs.size(), cut->tokens.size());
  EXPECT_LE(cut->completion_tokens, full->completion_tokens);
}

}  // namespace
}  // namespace tandem

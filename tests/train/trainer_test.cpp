// The training loop on a tiny model: the loss falls on learnable data,
// gradient accumulation equals one big batch, the batch order is a function of
// the seed, and a run stopped at a checkpoint and resumed produces exactly the
// uninterrupted run's loss curve and weights, bit for bit (across an epoch
// boundary of the data).
#include "tandem/train/trainer.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "tandem/train/checkpoint.h"

namespace tandem {
namespace {

// A learnable stream: a fixed pseudo-random "text" of 40 distinct words (each a
// short token sequence), so the next token is mostly predictable.
InMemoryTokens corpus(int64_t n_tokens, int64_t vocab) {
  std::vector<std::vector<int32_t>> words;
  uint64_t x = 12345;
  auto next = [&] {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<uint32_t>(x >> 33);
  };
  for (int w = 0; w < 40; ++w) {
    std::vector<int32_t> word(2 + next() % 4);
    for (auto& t : word) t = static_cast<int32_t>(next() % static_cast<uint32_t>(vocab));
    words.push_back(word);
  }
  std::vector<int32_t> t;
  while (static_cast<int64_t>(t.size()) < n_tokens) {
    const auto& w = words[next() % words.size()];
    t.insert(t.end(), w.begin(), w.end());
  }
  t.resize(static_cast<size_t>(n_tokens));
  return InMemoryTokens(std::move(t));
}

TrainOptions tiny_options() {
  TrainOptions o;
  o.model = {.dim = 32, .n_layers = 2, .n_heads = 4, .n_kv_heads = 2, .ffn = 64, .vocab = 64, .ctx = 16};
  o.batch_size = 4;
  o.grad_accum = 2;
  o.schedule = {.peak = 3e-3f, .floor = 3e-4f, .warmup_steps = 5, .total_steps = 40};
  o.grad_clip = 1.0f;
  o.seed = 9;
  o.threads = 2;
  return o;
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("tandem_train_" + name)).string();
}

TEST(Trainer, LossFallsAndValidationIsMeasured) {
  const auto data = corpus(6000, 64);
  TrainOptions o = tiny_options();
  o.schedule = {.peak = 1e-2f, .floor = 1e-3f, .warmup_steps = 10, .total_steps = 150};
  o.threads = 1;  // many tiny steps: on a busy machine, thread hand-offs would dominate
  auto t = Trainer::create(o, data);
  ASSERT_TRUE(t.ok()) << t.error().message;
  Trainer& tr = **t;
  auto before = tr.evaluate(data, 4);
  ASSERT_TRUE(before.ok()) << before.error().message;
  EXPECT_NEAR(*before, std::log(64.0), 0.3);  // an untrained model is close to uniform
  int calls = 0;
  ASSERT_TRUE(tr.run(150, [&](const TrainLogPoint& p) {
                  ++calls;
                  EXPECT_EQ(p.step, calls);
                  EXPECT_FALSE(tr.progress_line(p).empty());
                  return ok_status();
                }).ok());
  EXPECT_EQ(calls, 150);
  ASSERT_EQ(tr.log().points().size(), 150u);
  const auto& pts = tr.log().points();
  // The data's entropy is about 1.1 nats/token (a word boundary every ~3.5
  // tokens picks one of 40 words); a unigram model gets ~3.6.
  EXPECT_LT(pts.back().loss, 2.2) << "first " << pts.front().loss << " last " << pts.back().loss;
  EXPECT_EQ(pts.back().tokens, 150 * 4 * 16 * 2);
  auto after = tr.evaluate(data, 4);
  ASSERT_TRUE(after.ok());
  EXPECT_LT(*after, 2.2);
  // A failing callback stops the run with its error.
  auto st = tr.run(155, [](const TrainLogPoint&) { return Status(make_error("stop here")); });
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "stop here");
  EXPECT_EQ(tr.steps_done(), 151);
}

TEST(Trainer, ResumedRunEqualsUninterruptedRunBitForBit) {
  // 1200 tokens = 74 windows of 16: an epoch is ~9 optimizer steps, so the
  // checkpoint falls mid-epoch and the run crosses several epoch boundaries.
  const auto data = corpus(1200, 64);
  TrainOptions o = tiny_options();
  o.schedule.total_steps = 24;

  auto full = Trainer::create(o, data);
  ASSERT_TRUE(full.ok());
  ASSERT_TRUE((*full)->run(24).ok());

  const std::string ck = temp_path("resume.ckpt.gguf");
  {
    auto first = Trainer::create(o, data);
    ASSERT_TRUE(first.ok());
    ASSERT_TRUE((*first)->run(11).ok());
    ASSERT_TRUE((*first)->save_checkpoint(ck).ok());
  }  // the first process "dies" here
  auto resumed = Trainer::resume(ck, data);
  ASSERT_TRUE(resumed.ok()) << resumed.error().message;
  EXPECT_EQ((*resumed)->steps_done(), 11);
  EXPECT_EQ((*resumed)->options().seed, o.seed);
  ASSERT_TRUE((*resumed)->run(24).ok());

  const auto& a = (*full)->log().points();
  const auto& b = (*resumed)->log().points();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].step, b[i].step);
    EXPECT_EQ(a[i].loss, b[i].loss) << "step " << a[i].step;  // bitwise
    EXPECT_EQ(a[i].grad_norm, b[i].grad_norm) << "step " << a[i].step;
    EXPECT_EQ(a[i].lr, b[i].lr);
    EXPECT_EQ(a[i].tokens, b[i].tokens);
  }
  const auto pa = (*full)->params(), pb = (*resumed)->params();
  ASSERT_EQ(pa.size(), pb.size());
  EXPECT_TRUE(std::equal(pa.begin(), pa.end(), pb.begin()));
  EXPECT_TRUE(std::equal((*full)->optimizer().v().begin(), (*full)->optimizer().v().end(),
                         (*resumed)->optimizer().v().begin()));
  // Another thread count continues the run (not necessarily bit for bit).
  auto other = Trainer::resume(ck, data, 1);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ((*other)->options().threads, 1);
  ASSERT_TRUE((*other)->run(24).ok());
  EXPECT_NEAR((*other)->log().points().back().loss, a.back().loss, 1e-3);
  std::filesystem::remove(ck);
}

TEST(Trainer, StartsFromGivenWeights) {
  const auto data = corpus(1200, 64);
  TrainOptions o = tiny_options();
  auto a = Trainer::create(o, data);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE((*a)->run(3).ok());
  const std::vector<float> w((*a)->params().begin(), (*a)->params().end());
  auto b = Trainer::create(o, data, w);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(std::equal(w.begin(), w.end(), (*b)->params().begin()));
  EXPECT_EQ((*b)->steps_done(), 0);
  EXPECT_FALSE(Trainer::create(o, data, std::span<const float>(w).first(5)).ok());
}

TEST(Trainer, GradientAccumulationEqualsOneLargeBatch) {
  const auto data = corpus(3000, 64);
  TrainOptions a = tiny_options(), b = tiny_options();
  a.batch_size = 8;
  a.grad_accum = 1;
  b.batch_size = 4;
  b.grad_accum = 2;
  auto ta = Trainer::create(a, data), tb = Trainer::create(b, data);
  ASSERT_TRUE(ta.ok() && tb.ok());
  auto pa = (*ta)->step(), pb = (*tb)->step();
  ASSERT_TRUE(pa.ok() && pb.ok());
  // Same windows in the same order, same mean loss and gradient up to float summation order.
  EXPECT_NEAR(pa->loss, pb->loss, 1e-5);
  EXPECT_NEAR(pa->grad_norm, pb->grad_norm, 1e-4 * pa->grad_norm);
  const auto wa = (*ta)->params(), wb = (*tb)->params();
  double worst = 0;
  for (size_t i = 0; i < wa.size(); ++i) worst = std::max(worst, static_cast<double>(std::fabs(wa[i] - wb[i])));
  EXPECT_LT(worst, 1e-5);
}

// A teacher for white-box distillation whose next-token distribution depends on
// the current token only (a fixed random bigram table): learnable in a few steps.
class BigramTeacher : public TeacherLogits {
 public:
  explicit BigramTeacher(int64_t vocab) : vocab_(vocab), table_(static_cast<size_t>(vocab * vocab)) {
    std::mt19937 g(77);
    std::normal_distribution<float> d(0.0f, 3.0f);
    for (auto& x : table_) x = d(g);
  }
  int64_t vocab() const override { return vocab_; }
  Status logits(const Batch& b, std::span<float> out) override {
    for (size_t i = 0; i < b.inputs.size(); ++i)
      std::copy_n(table_.begin() + b.inputs[i] * vocab_, vocab_, out.begin() + static_cast<int64_t>(i) * vocab_);
    return ok_status();
  }

 private:
  int64_t vocab_;
  std::vector<float> table_;
};

TEST(Trainer, DistillationLossesPlugIntoTheLoop) {
  const auto data = corpus(3000, 64);
  TrainOptions o = tiny_options();
  o.schedule = {.peak = 1e-2f, .floor = 1e-3f, .warmup_steps = 5, .total_steps = 40};
  o.threads = 1;
  auto teacher = std::make_shared<BigramTeacher>(o.model.vocab);
  for (DistillMode mode : {DistillMode::kForwardKl, DistillMode::kReverseKl, DistillMode::kTopK}) {
    auto t = Trainer::create(o, data);
    ASSERT_TRUE(t.ok());
    auto loss = std::make_shared<DistillationLoss>(
        teacher, DistillOptions{.mode = mode, .temperature = 1.0f, .top_k = 8, .ce_weight = 0.1f});
    (*t)->set_loss(loss);
    ASSERT_TRUE((*t)->run(40).ok()) << loss->name();
    const auto& pts = (*t)->log().points();
    EXPECT_LT(pts.back().loss, 0.5 * pts.front().loss) << loss->name() << ": first " << pts.front().loss << " last "
                                                        << pts.back().loss;
  }
  // A teacher of another vocabulary is an error, not a crash.
  TrainOptions other = o;
  other.model.vocab = 32;
  auto t = Trainer::create(o, data);
  ASSERT_TRUE(t.ok());
  (*t)->set_loss(std::make_shared<DistillationLoss>(std::make_shared<BigramTeacher>(other.model.vocab), DistillOptions{}));
  EXPECT_FALSE((*t)->step().ok());
}

TEST(BatchSampler, OrderIsAFunctionOfTheSeedAndCoversEveryWindow) {
  const auto data = corpus(1000, 64);
  auto s1 = BatchSampler::create(data, 3, 16, 1), s2 = BatchSampler::create(data, 3, 16, 1),
       s3 = BatchSampler::create(data, 3, 16, 2);
  ASSERT_TRUE(s1.ok() && s2.ok() && s3.ok());
  Batch b1, b2, b3;
  std::vector<int64_t> starts;
  bool differs = false;
  const int64_t windows = s1->windows_in_epoch();
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(s1->next(b1).ok() && s2->next(b2).ok() && s3->next(b3).ok());
    EXPECT_EQ(b1.inputs, b2.inputs);
    differs |= b1.inputs != b3.inputs;
    for (int64_t r = 0; r < 3; ++r) {
      // Targets are the inputs shifted by one token.
      std::vector<int32_t> w(17);
      ASSERT_TRUE(data.read(b1.starts[r], w).ok());
      for (int t = 0; t < 16; ++t) {
        EXPECT_EQ(b1.inputs[r * 16 + t], w[t]);
        EXPECT_EQ(b1.targets[r * 16 + t], w[t + 1]);
      }
      if (static_cast<int64_t>(starts.size()) < windows) starts.push_back(b1.starts[r]);
    }
  }
  EXPECT_TRUE(differs);
  // The first epoch visits each window once.
  std::sort(starts.begin(), starts.end());
  EXPECT_EQ(std::adjacent_find(starts.begin(), starts.end()), starts.end());
  EXPECT_FALSE(BatchSampler::create(data, 1, 1000, 1).ok());  // not one window
}

TEST(Checkpoint, BadFilesAreErrors) {
  auto r = load_checkpoint("/nonexistent/x.gguf");
  EXPECT_FALSE(r.ok());
  const std::string p = temp_path("not_a_checkpoint.gguf");
  std::string fixture = std::string(TANDEM_SHARED_DIR) + "/fixtures/models/llama-mha-spm-f32.gguf";
  if (std::filesystem::exists(fixture)) {
    auto m = load_checkpoint(fixture);
    ASSERT_FALSE(m.ok());
    EXPECT_NE(m.error().message.find("not a tandem training checkpoint"), std::string::npos);
  }
  // Resume on a dataset too small for the checkpoint's cursor.
  const auto data = corpus(1200, 64);
  TrainOptions o = tiny_options();
  auto t = Trainer::create(o, data);
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE((*t)->run(5).ok());
  ASSERT_TRUE((*t)->save_checkpoint(p).ok());
  const auto small = corpus(100, 64);
  auto bad = Trainer::resume(p, small);
  EXPECT_FALSE(bad.ok());
  std::filesystem::remove(p);
}

}  // namespace
}  // namespace tandem

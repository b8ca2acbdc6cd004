// White-box distillation through the engine: EngineTeacher hands the trainer
// exactly the logits Sequence::eval computes for each batch row (bit for bit,
// on a quantized teacher, whatever the batch geometry before), and a short
// distillation of a tiny student from a tiny random teacher lowers the
// divergence it trains on (forward KL, reverse KL, top-k KL) on held-out
// sequences.
#include "tandem/train/engine_teacher.h"

#include <cstring>
#include <filesystem>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "tandem/model/synth.h"
#include "tandem/train/trainer.h"
#include "test_util.h"

namespace tandem {
namespace {

std::string house_tokenizer() { return testing::source_dir() + "/models/house-tokenizer.gguf"; }

// A tiny random llama teacher over the house vocabulary (4096 tokens).
std::shared_ptr<const DecoderModel> tiny_teacher(const std::string& path, GgmlType type) {
  SynthParams p{.dim = 32, .layers = 2, .heads = 4, .kv_heads = 2, .ffn = 64, .ctx = 64, .type = type,
                .vocab_from = house_tokenizer(), .seed = 5};
  auto st = synth_model(p, path);
  EXPECT_TRUE(st.ok()) << st.error().message;
  auto m = DecoderModel::load(path);
  EXPECT_TRUE(m.ok()) << m.error().message;
  return m.ok() ? *m : nullptr;
}

Batch random_batch(int64_t rows, int64_t seq, int64_t vocab, uint32_t seed) {
  Batch b;
  b.batch = rows;
  b.seq = seq;
  std::mt19937 g(seed);
  for (int64_t i = 0; i < rows * (seq + 1); ++i) {
    const auto t = static_cast<int32_t>(g() % static_cast<uint32_t>(vocab));
    if (i % (seq + 1) != seq) b.inputs.push_back(t);
    if (i % (seq + 1) != 0) b.targets.push_back(t);
  }
  return b;
}

TEST(EngineTeacherLogits, EqualSequenceEvalPerRow) {
  const testing::TempFile path("engine_teacher_q8.gguf");
  auto model = tiny_teacher(path.path(), GgmlType::Q8_0);
  ASSERT_NE(model, nullptr);
  ThreadPool pool(2);
  EngineTeacher teacher(model, pool);
  ASSERT_EQ(teacher.vocab(), 4096);
  const int64_t V = 4096;
  // A short batch, a longer one (the teacher's sequence grows), a short one again.
  for (const auto& [rows, seq] : {std::pair<int64_t, int64_t>{2, 7}, {3, 20}, {1, 5}}) {
    const Batch b = random_batch(rows, seq, V, static_cast<uint32_t>(rows * 100 + seq));
    std::vector<float> out(static_cast<size_t>(rows * seq * V));
    ASSERT_TRUE(teacher.logits(b, out).ok());
    for (int64_t r = 0; r < rows; ++r) {
      Sequence s(model, pool, {.n_ctx = seq});
      auto l = s.eval(std::span<const int32_t>(b.inputs).subspan(static_cast<size_t>(r * seq), static_cast<size_t>(seq)),
                      Logits::kAll);
      ASSERT_TRUE(l.ok()) << l.error().message;
      ASSERT_EQ(l->size(), static_cast<size_t>(seq * V));
      EXPECT_EQ(std::memcmp(l->data(), out.data() + r * seq * V, l->size() * sizeof(float)), 0)
          << "row " << r << " of a " << rows << " x " << seq << " batch";
    }
  }
}

// The mode's divergence per position on a fixed batch, through the distillation
// loss itself (no CE, temperature 1: the loss is the divergence).
double held_out_kl(Trainer& tr, const std::shared_ptr<TeacherLogits>& teacher, const Batch& b, DistillMode mode) {
  DistillationLoss kl(teacher, {.mode = mode, .temperature = 1.0f, .top_k = 64, .ce_weight = 0.0f});
  EXPECT_TRUE(tr.model().forward(b.inputs, b.batch, b.seq).ok());
  auto s = kl.compute(b, tr.model().logits(), tr.options().model.vocab, 1.0, false, tr.pool());
  EXPECT_TRUE(s.ok());
  return s.ok() ? s->loss / static_cast<double>(s->n_tokens) : 0.0;
}

TEST(EngineTeacherLogits, ShortDistillationLowersTheStudentsKl) {
  const testing::TempFile path("engine_teacher_f32.gguf");
  auto model = tiny_teacher(path.path(), GgmlType::F32);
  ASSERT_NE(model, nullptr);
  // Training text: random ids from a small part of the vocabulary, so a few
  // steps see each context often enough to learn the teacher's answer to it.
  std::vector<int32_t> stream;
  std::mt19937 g(3);
  for (int i = 0; i < 4000; ++i) stream.push_back(static_cast<int32_t>(g() % 40));
  InMemoryTokens data(stream);
  const Batch held_out = random_batch(4, 16, 40, 99);
  for (DistillMode mode : {DistillMode::kForwardKl, DistillMode::kReverseKl, DistillMode::kTopK}) {
    TrainOptions o;
    o.model = {.dim = 32, .n_layers = 1, .n_heads = 2, .n_kv_heads = 1, .ffn = 64, .vocab = 4096, .ctx = 16,
               .tied = true};
    o.batch_size = 4;
    o.schedule = {.peak = 2e-2f, .floor = 2e-3f, .warmup_steps = 2, .total_steps = 40};
    o.seed = 4;
    o.threads = 1;
    auto t = Trainer::create(o, data);
    ASSERT_TRUE(t.ok()) << t.error().message;
    Trainer& tr = **t;
    auto teacher = std::make_shared<EngineTeacher>(model, tr.pool());
    const double before = held_out_kl(tr, teacher, held_out, mode);
    tr.set_loss(std::make_shared<DistillationLoss>(
        teacher, DistillOptions{.mode = mode, .temperature = 1.0f, .top_k = 64, .ce_weight = 0.0f}));
    ASSERT_TRUE(tr.run(40).ok());
    const double after = held_out_kl(tr, teacher, held_out, mode);
    EXPECT_LT(after, 0.85 * before) << "mode " << static_cast<int>(mode) << ": KL " << before << " -> " << after;
  }
}

}  // namespace
}  // namespace tandem

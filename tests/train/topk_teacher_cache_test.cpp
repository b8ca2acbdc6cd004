// The teacher's top-k logits on disk: a top-k distillation run through the
// cache — first computing every row, then reading every row — trains exactly
// as the run without it (same losses, same weights, bit for bit), the warm run
// never calls the teacher, a torn final entry is cut off, and a cache made for
// another teacher or k is refused.
#include "tandem/train/topk_teacher_cache.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include <gtest/gtest.h>

#include "tandem/model/synth.h"
#include "tandem/train/engine_teacher.h"
#include "tandem/train/trainer.h"
#include "test_util.h"

namespace tandem {
namespace {

// Counts the rows the wrapped teacher is asked for.
class CountingTeacher : public TeacherLogits {
 public:
  explicit CountingTeacher(std::shared_ptr<TeacherLogits> inner) : inner_(std::move(inner)) {}
  int64_t vocab() const override { return inner_->vocab(); }
  Status logits(const Batch& b, std::span<float> out) override {
    rows += b.batch;
    return inner_->logits(b, out);
  }
  int64_t rows = 0;

 private:
  std::shared_ptr<TeacherLogits> inner_;
};

class TopkCache : public ::testing::Test {
 protected:
  void SetUp() override {
    auto st = synth_model({.dim = 32, .layers = 1, .heads = 2, .ffn = 64, .ctx = 64,
                           .vocab_from = testing::source_dir() + "/models/house-tokenizer.gguf", .seed = 8},
                          model_.path());
    ASSERT_TRUE(st.ok()) << st.error().message;
    auto m = DecoderModel::load(model_.path());
    ASSERT_TRUE(m.ok());
    teacher_ = *m;
    std::mt19937 g(2);
    std::vector<int32_t> t;
    for (int i = 0; i < 600; ++i) t.push_back(static_cast<int32_t>(g() % 300));
    data_ = std::make_unique<InMemoryTokens>(std::move(t));
  }

  TrainOptions options() const {
    TrainOptions o;
    o.model = {.dim = 16, .n_layers = 1, .n_heads = 2, .n_kv_heads = 1, .ffn = 32, .vocab = 4096, .ctx = 12, .tied = true};
    o.batch_size = 3;
    o.schedule = {.peak = 5e-3f, .floor = 5e-4f, .warmup_steps = 1, .total_steps = 6};
    o.seed = 3;
    o.threads = 1;
    return o;
  }

  // Trains 6 steps of top-k distillation; with a cache file when given.
  struct RunOut {
    std::vector<double> losses;
    std::vector<float> params;
    int64_t teacher_rows = 0, hits = 0, misses = 0;
  };
  RunOut train(const std::string& cache_path) {
    RunOut r;
    auto t = Trainer::create(options(), *data_);
    EXPECT_TRUE(t.ok());
    Trainer& tr = **t;
    auto counting = std::make_shared<CountingTeacher>(std::make_shared<EngineTeacher>(teacher_, tr.pool()));
    std::shared_ptr<TeacherLogits> source = counting;
    std::shared_ptr<TopkTeacherCache> cache;
    if (!cache_path.empty()) {
      auto c = TopkTeacherCache::open(cache_path, counting, 16, "tiny teacher");
      EXPECT_TRUE(c.ok()) << c.error().message;
      cache = std::move(*c);
      source = cache;
    }
    tr.set_loss(std::make_shared<DistillationLoss>(
        source, DistillOptions{.mode = DistillMode::kTopK, .temperature = 1.5f, .top_k = 16, .ce_weight = 0.3f}));
    EXPECT_TRUE(tr.run(6).ok());
    for (const auto& p : tr.log().points()) r.losses.push_back(p.loss);
    r.params.assign(tr.params().begin(), tr.params().end());
    r.teacher_rows = counting->rows;
    if (cache) {
      r.hits = cache->hits();
      r.misses = cache->misses();
    }
    return r;
  }

  testing::TempFile model_{"cache_teacher.gguf"};
  testing::TempFile cache_{"cache.tkc"};
  std::shared_ptr<const DecoderModel> teacher_;
  std::unique_ptr<InMemoryTokens> data_;
};

TEST_F(TopkCache, ColdAndWarmRunsTrainExactlyAsWithoutTheCache) {
  const RunOut plain = train("");
  EXPECT_EQ(plain.teacher_rows, 18);
  const RunOut cold = train(cache_.path());
  EXPECT_EQ(cold.misses, 18);
  EXPECT_EQ(cold.hits, 0);
  const RunOut warm = train(cache_.path());
  EXPECT_EQ(warm.hits, 18);
  EXPECT_EQ(warm.misses, 0);
  EXPECT_EQ(warm.teacher_rows, 0);
  EXPECT_EQ(cold.losses, plain.losses);
  EXPECT_EQ(warm.losses, plain.losses);
  EXPECT_EQ(cold.params, plain.params);
  EXPECT_EQ(warm.params, plain.params);
}

TEST_F(TopkCache, RowsHoldTheTopKAndMinusInfinityElsewhere) {
  ThreadPool pool(1);
  auto engine = std::make_shared<EngineTeacher>(teacher_, pool);
  auto c = TopkTeacherCache::open(cache_.path(), engine, 5, "tiny teacher");
  ASSERT_TRUE(c.ok()) << c.error().message;
  Batch b;
  b.batch = 1;
  b.seq = 4;
  b.inputs = {1, 2, 3, 4};
  const int64_t V = 4096;
  std::vector<float> full(4 * V), cached(4 * V), again(4 * V);
  ASSERT_TRUE(engine->logits(b, full).ok());
  ASSERT_TRUE((*c)->logits(b, cached).ok());
  ASSERT_TRUE((*c)->logits(b, again).ok());
  EXPECT_EQ((*c)->hits(), 1);
  EXPECT_EQ(cached, again);
  for (int64_t t = 0; t < 4; ++t) {
    std::vector<float> row(full.begin() + t * V, full.begin() + (t + 1) * V);
    std::vector<float> sorted = row;
    std::nth_element(sorted.begin(), sorted.begin() + 4, sorted.end(), std::greater<float>());
    const float fifth = sorted[4];
    int kept = 0;
    for (int64_t j = 0; j < V; ++j) {
      const float v = cached[static_cast<size_t>(t * V + j)];
      if (std::isinf(v)) {
        EXPECT_LE(row[static_cast<size_t>(j)], fifth);
      } else {
        EXPECT_EQ(v, row[static_cast<size_t>(j)]);
        EXPECT_GE(v, fifth);
        ++kept;
      }
    }
    EXPECT_EQ(kept, 5);
  }
}

TEST_F(TopkCache, TornEntriesAreCutAndOtherTeachersRefused) {
  ThreadPool pool(1);
  auto engine = std::make_shared<EngineTeacher>(teacher_, pool);
  Batch b;
  b.batch = 2;
  b.seq = 3;
  b.inputs = {1, 2, 3, 7, 8, 9};
  std::vector<float> out(6 * 4096);
  {
    auto c = TopkTeacherCache::open(cache_.path(), engine, 4, "tiny teacher");
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE((*c)->logits(b, out).ok());
    EXPECT_EQ((*c)->entries(), 2);
  }
  const auto size = std::filesystem::file_size(cache_.path());
  std::filesystem::resize_file(cache_.path(), size - 10);  // the second entry, torn
  {
    auto c = TopkTeacherCache::open(cache_.path(), engine, 4, "tiny teacher");
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ((*c)->entries(), 1);
    ASSERT_TRUE((*c)->logits(b, out).ok());
    EXPECT_EQ((*c)->hits(), 1);
    EXPECT_EQ((*c)->misses(), 1);
  }
  EXPECT_EQ(std::filesystem::file_size(cache_.path()), size);
  auto other_k = TopkTeacherCache::open(cache_.path(), engine, 8, "tiny teacher");
  ASSERT_FALSE(other_k.ok());
  EXPECT_NE(other_k.error().message.find("another teacher"), std::string::npos) << other_k.error().message;
  EXPECT_FALSE(TopkTeacherCache::open(cache_.path(), engine, 4, "another").ok());
}

}  // namespace
}  // namespace tandem

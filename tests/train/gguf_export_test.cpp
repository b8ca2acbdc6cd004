// Export of trained weights to GGUF: metadata and tensors follow the fixtures'
// llama conventions, F16/Q8_0 go through the tensor layer's quantizers, and the
// engine (model/decoder.h) loading the exported F32 file computes the trainer's
// logits within 1e-4 (tied and untied heads, GQA).
#include "tandem/train/gguf_export.h"

#include <cmath>
#include <filesystem>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "tandem/gguf/gguf_file.h"
#include "tandem/model/decoder.h"
#include "tandem/tensor/quants.h"
#include "tandem/train/engine_teacher.h"
#include "tandem/train/param_layout.h"
#include "tandem/train/train_decoder.h"
#include "test_util.h"

namespace tandem {
namespace {

const char* kVocabFixture = "models/llama-mha-spm-f32.gguf";  // 2000-token SPM vocabulary

std::string fixture(const char* sub) { return testing::shared_dir() + "/fixtures/" + sub; }

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("tandem_export_" + name)).string();
}

DecoderConfig config(bool tied) {
  return {.dim = 64, .n_layers = 2, .n_heads = 4, .n_kv_heads = 2, .ffn = 96, .vocab = 2000, .ctx = 32,
          .rope_base = 10000.0f, .rms_eps = 1e-5f, .tied = tied};
}

// Trained-looking weights: larger than the N(0, 0.02) init so attention is far
// from uniform and every layer matters to the logits.
std::vector<float> random_weights(const DecoderConfig& c, uint32_t seed) {
  ParamLayout layout(c);
  std::vector<float> p(static_cast<size_t>(layout.total()));
  std::mt19937 g(seed);
  std::normal_distribution<float> d;
  for (const ParamTensor& t : layout.tensors()) {
    const bool vec = t.shape.size() == 1;
    const float sd = vec ? 0.1f : 1.0f / std::sqrt(static_cast<float>(t.shape[1]));
    for (int64_t i = 0; i < t.size(); ++i) p[static_cast<size_t>(t.offset + i)] = (vec ? 1.0f : 0.0f) + sd * d(g);
  }
  return p;
}

ExportOptions options(GgmlType type) {
  auto vocab = GgufFile::open(fixture(kVocabFixture));
  EXPECT_TRUE(vocab.ok());
  return {.type = type, .name = "export-test", .tokenizer = tokenizer_metadata(*vocab)};
}

TEST(GgufExport, MetadataAndTensorsFollowTheFixtureConventions) {
  TANDEM_REQUIRE_FIXTURES(kVocabFixture);
  const DecoderConfig c = config(false);
  const auto w = random_weights(c, 1);
  const ParamLayout layout(c);
  auto ref = GgufFile::open(fixture(kVocabFixture));
  ASSERT_TRUE(ref.ok());
  for (GgmlType type : {GgmlType::F32, GgmlType::F16, GgmlType::Q8_0}) {
    const std::string path = temp_path(std::string(ggml_type_name(type)) + ".gguf");
    ASSERT_TRUE(export_gguf(path, c, w, options(type)).ok());
    auto f = GgufFile::open(path);
    ASSERT_TRUE(f.ok()) << f.error().message;
    EXPECT_EQ(*f->get_string("general.architecture"), "llama");
    EXPECT_EQ(*f->get_int("llama.embedding_length", 0), 64);
    EXPECT_EQ(*f->get_int("llama.block_count", 0), 2);
    EXPECT_EQ(*f->get_int("llama.feed_forward_length", 0), 96);
    EXPECT_EQ(*f->get_int("llama.attention.head_count", 0), 4);
    EXPECT_EQ(*f->get_int("llama.attention.head_count_kv", 0), 2);
    EXPECT_EQ(*f->get_int("llama.rope.dimension_count", 0), 16);
    EXPECT_EQ(*f->get_int("llama.context_length", 0), 32);
    EXPECT_EQ(*f->get_float("llama.rope.freq_base", 0), 10000.0);
    EXPECT_FLOAT_EQ(static_cast<float>(*f->get_float("llama.attention.layer_norm_rms_epsilon", 0)), 1e-5f);
    EXPECT_EQ(*f->get_int("general.file_type", -1), type == GgmlType::F32 ? 0 : type == GgmlType::F16 ? 1 : 7);
    // Every key of the fixture (llama.*, general.architecture, tokenizer.*) is present with the same type.
    for (const auto& [k, v] : ref->metadata()) {
      if (k == "general.name") continue;
      const GgufValue* mine = f->find(k);
      ASSERT_NE(mine, nullptr) << k;
      EXPECT_EQ(mine->type(), v.type()) << k;
      if (k.starts_with("tokenizer.")) {
        EXPECT_TRUE(*mine == v) << k;
      }
    }
    // Tensor names, order, ggml shapes [n_in, n_out] and types; values round-trip.
    ASSERT_EQ(f->tensors().size(), layout.tensors().size());
    for (size_t i = 0; i < layout.tensors().size(); ++i) {
      const ParamTensor& t = layout.tensors()[i];
      const GgufTensorInfo& g = f->tensors()[i];
      EXPECT_EQ(g.name, t.name);
      const bool vec = t.shape.size() == 1;
      if (vec) {
        EXPECT_EQ(g.shape, (std::vector<uint64_t>{static_cast<uint64_t>(t.shape[0])}));
        EXPECT_EQ(g.type, GgmlType::F32) << t.name;
      } else {
        EXPECT_EQ(g.shape, (std::vector<uint64_t>{static_cast<uint64_t>(t.shape[1]), static_cast<uint64_t>(t.shape[0])}));
        EXPECT_EQ(g.type, type) << t.name;
      }
      std::vector<float> back(static_cast<size_t>(t.size()));
      const int64_t row = vec ? t.shape[0] : t.shape[1];
      const size_t rb = row_bytes(g.type, row);
      for (int64_t r = 0; r < t.size() / row; ++r) dequantize_row(g.type, g.data + rb * r, back.data() + r * row, row);
      double worst = 0;
      for (int64_t j = 0; j < t.size(); ++j)
        worst = std::max(worst, static_cast<double>(std::fabs(back[j] - w[static_cast<size_t>(t.offset + j)])));
      const double tol = g.type == GgmlType::F32 ? 0.0 : g.type == GgmlType::F16 ? 1e-3 : 0.02;
      EXPECT_LE(worst, tol) << t.name << " " << ggml_type_name(g.type);
    }
    EXPECT_EQ(f->tensor("output.weight") != nullptr, true);
    std::filesystem::remove(path);
  }
}

TEST(GgufExport, BadInputIsAnError) {
  TANDEM_REQUIRE_FIXTURES(kVocabFixture);
  const DecoderConfig c = config(true);
  const auto w = random_weights(c, 2);
  const std::string path = temp_path("bad.gguf");
  ExportOptions no_tok;  // no tokenizer metadata
  auto st = export_gguf(path, c, w, no_tok);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("tokenizer"), std::string::npos);
  DecoderConfig other = c;
  other.vocab = 1000;
  ParamLayout l(other);
  std::vector<float> w2(static_cast<size_t>(l.total()));
  st = export_gguf(path, other, w2, options(GgmlType::F32));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("2000 tokens"), std::string::npos) << st.error().message;
  EXPECT_FALSE(export_gguf(path, c, std::span<const float>(w).first(10), options(GgmlType::F32)).ok());
  EXPECT_FALSE(export_gguf(path, c, w, options(GgmlType::Q4_0)).ok());
  EXPECT_FALSE(std::filesystem::exists(path));
}

class EngineRoundTrip : public ::testing::TestWithParam<bool> {};

TEST_P(EngineRoundTrip, EngineLogitsEqualTheTrainersForward) {
  TANDEM_REQUIRE_FIXTURES(kVocabFixture);
  const bool tied = GetParam();
  const DecoderConfig c = config(tied);
  ThreadPool pool(2);
  TrainDecoder<float> trainer(c, pool);
  const auto w = random_weights(c, tied ? 3 : 4);
  std::copy(w.begin(), w.end(), trainer.params().begin());
  const int64_t T = 20;
  std::vector<int32_t> tokens(T);
  std::mt19937 g(5);
  for (auto& t : tokens) t = static_cast<int32_t>(g() % 2000);
  ASSERT_TRUE(trainer.forward(tokens, 1, T).ok());
  const std::vector<float> expect(trainer.logits().begin(), trainer.logits().end());

  struct Case {
    GgmlType type;
    double max_abs;  // F32: the bound; others: the fixtures' noise floors per type
  };
  for (Case k : {Case{GgmlType::F32, 1e-4}, Case{GgmlType::F16, 2e-2}, Case{GgmlType::Q8_0, 0.3}}) {
    const std::string path = temp_path(std::string("engine_") + (tied ? "tied_" : "") +
                                       std::string(ggml_type_name(k.type)) + ".gguf");
    ASSERT_TRUE(export_gguf(path, c, w, options(k.type)).ok());
    auto model = DecoderModel::load(path);
    ASSERT_TRUE(model.ok()) << model.error().message;
    EXPECT_EQ((*model)->config().tied_output, tied);
    EXPECT_EQ((*model)->config().n_head_kv, 2);
    Sequence seq(*model, pool);
    auto logits = seq.eval(tokens, Logits::kAll);
    ASSERT_TRUE(logits.ok()) << logits.error().message;
    ASSERT_EQ(logits->size(), expect.size());
    double worst = 0, scale = 0;
    for (size_t i = 0; i < expect.size(); ++i) {
      worst = std::max(worst, static_cast<double>(std::fabs((*logits)[i] - expect[i])));
      scale = std::max(scale, static_cast<double>(std::fabs(expect[i])));
    }
    EXPECT_LE(worst, k.max_abs) << ggml_type_name(k.type) << " (largest |logit| " << scale << ")";
    RecordProperty(std::string("max_abs_diff_") + std::string(ggml_type_name(k.type)), std::to_string(worst));
    std::filesystem::remove(path);
  }
}

INSTANTIATE_TEST_SUITE_P(TiedAndUntied, EngineRoundTrip, ::testing::Values(false, true));

TEST(EngineTeacher, GivesTheExportedModelsLogitsPerBatchRow) {
  TANDEM_REQUIRE_FIXTURES(kVocabFixture);
  const DecoderConfig c = config(false);
  ThreadPool pool(2);
  TrainDecoder<float> trainer(c, pool);
  const auto w = random_weights(c, 6);
  std::copy(w.begin(), w.end(), trainer.params().begin());
  const std::string path = temp_path("teacher.gguf");
  ASSERT_TRUE(export_gguf(path, c, w, options(GgmlType::F32)).ok());
  auto model = DecoderModel::load(path);
  ASSERT_TRUE(model.ok()) << model.error().message;
  EngineTeacher teacher(*model, pool);
  EXPECT_EQ(teacher.vocab(), 2000);
  Batch batch;
  batch.batch = 3;
  batch.seq = 9;
  std::mt19937 g(8);
  for (int i = 0; i < 27; ++i) batch.inputs.push_back(static_cast<int32_t>(g() % 2000));
  batch.targets = batch.inputs;
  std::vector<float> out(27 * 2000);
  for (int pass = 0; pass < 2; ++pass) {  // the sequence is reused across batches
    ASSERT_TRUE(teacher.logits(batch, out).ok());
    ASSERT_TRUE(trainer.forward(batch.inputs, 3, 9).ok());
    double worst = 0;
    for (size_t i = 0; i < out.size(); ++i) worst = std::max(worst, static_cast<double>(std::fabs(out[i] - trainer.logits()[i])));
    EXPECT_LE(worst, 1e-4);
  }
  EXPECT_FALSE(teacher.logits(batch, std::span<float>(out).first(10)).ok());
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace tandem

// Loading GGUF models into the trainer: an exported model comes back bit for
// bit, and the trainer's forward pass on the reference fixtures reproduces the
// reference implementation's logits (llama.cpp, ../shared/fixtures/models)
// within the F32 tolerance of the manifest — the trainer computes the model the
// engine runs.
#include "tandem/train/gguf_import.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tandem/gguf/gguf_file.h"
#include "tandem/train/param_layout.h"
#include "tandem/train/train_decoder.h"
#include "test_util.h"

namespace tandem {
namespace {

std::string model_fixture(const std::string& name) { return testing::shared_dir() + "/fixtures/models/" + name; }

TEST(GgufImport, ExportedModelRoundTripsBitForBit) {
  TANDEM_REQUIRE_FIXTURES("models/llama-mha-spm-f32.gguf");
  for (bool tied : {false, true}) {
    const DecoderConfig c{.dim = 64, .n_layers = 2, .n_heads = 4, .n_kv_heads = 1, .ffn = 96, .vocab = 2000,
                          .ctx = 48, .rope_base = 5e5f, .rms_eps = 1e-6f, .tied = tied};
    ParamLayout layout(c);
    std::vector<float> w(static_cast<size_t>(layout.total()));
    init_params<float>(c, layout, w, 3);
    auto vocab = GgufFile::open(model_fixture("llama-mha-spm-f32.gguf"));
    ASSERT_TRUE(vocab.ok());
    const std::string path = (std::filesystem::temp_directory_path() / "tandem_import_rt.gguf").string();
    ASSERT_TRUE(export_gguf(path, c, w, {.type = GgmlType::F32, .name = "rt", .tokenizer = tokenizer_metadata(*vocab)}).ok());
    auto m = import_gguf(path);
    ASSERT_TRUE(m.ok()) << m.error().message;
    EXPECT_EQ(m->config.dim, c.dim);
    EXPECT_EQ(m->config.n_kv_heads, 1);
    EXPECT_EQ(m->config.ctx, 48);
    EXPECT_EQ(m->config.rope_base, 5e5f);
    EXPECT_EQ(m->config.rms_eps, 1e-6f);
    EXPECT_EQ(m->config.tied, tied);
    EXPECT_EQ(m->name, "rt");
    EXPECT_EQ(m->params, w);
    EXPECT_EQ(m->tokenizer.size(), tokenizer_metadata(*vocab).size());
    std::filesystem::remove(path);
  }
}

class ReferenceLogits : public ::testing::TestWithParam<const char*> {};

TEST_P(ReferenceLogits, TrainerForwardMatchesTheReference) {
  const std::string stem = GetParam();
  TANDEM_REQUIRE_FIXTURES("models/" + stem + ".gguf");
  auto m = import_gguf(model_fixture(stem + ".gguf"));
  ASSERT_TRUE(m.ok()) << m.error().message;
  std::ifstream tj(model_fixture(stem + ".tokens.json"));
  const auto j = nlohmann::json::parse(tj);
  const std::vector<int32_t> tokens = j["tokens"].get<std::vector<int32_t>>();
  const int64_t T = static_cast<int64_t>(tokens.size()), V = m->config.vocab;
  std::ifstream lf(model_fixture(stem + ".logits.bin"), std::ios::binary);
  std::vector<float> ref(static_cast<size_t>(T * V));
  lf.read(reinterpret_cast<char*>(ref.data()), static_cast<std::streamsize>(ref.size() * sizeof(float)));
  ASSERT_TRUE(lf.good());

  ThreadPool pool(2);
  DecoderConfig c = m->config;
  c.ctx = T;  // the trainer's rope table and buffers need only the prompt
  TrainDecoder<float> model(c, pool);
  std::copy(m->params.begin(), m->params.end(), model.params().begin());
  ASSERT_TRUE(model.forward(tokens, 1, T).ok());
  double worst = 0, mean = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double d = std::fabs(model.logits()[i] - ref[i]);
    worst = std::max(worst, d);
    mean += d;
  }
  mean /= static_cast<double>(ref.size());
  EXPECT_LE(worst, 1e-4) << stem;  // the manifest's F32 tolerance: max 1e-4, mean 1e-5
  EXPECT_LE(mean, 1e-5) << stem;
  RecordProperty("max_abs_diff", std::to_string(worst));
}

INSTANTIATE_TEST_SUITE_P(F32Fixtures, ReferenceLogits,
                         ::testing::Values("llama-mha-spm-f32", "llama-gqa-spm-f32", "llama-tied-gpt2-f32"));

TEST(GgufImport, UnsupportedModelsAreErrors) {
  TANDEM_REQUIRE_FIXTURES("models/qwen2-gpt2-f32.gguf");
  auto q = import_gguf(model_fixture("qwen2-gpt2-f32.gguf"));
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.error().message.find("qwen2"), std::string::npos) << q.error().message;
  EXPECT_FALSE(import_gguf("/nonexistent.gguf").ok());
  // Quantized weights are dequantized: the Q8_0 fixture imports.
  auto q8 = import_gguf(model_fixture("llama-gqa-spm-q8_0.gguf"));
  ASSERT_TRUE(q8.ok()) << q8.error().message;
  EXPECT_EQ(q8->config.n_kv_heads, 2);
}

}  // namespace
}  // namespace tandem

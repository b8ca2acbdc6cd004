// `tandem gguf convert` against the reference quantizer: every quantized
// fixture in ../shared/fixtures/models was written by the reference's
// quantizer from an F32 parent; converting that parent to the same type must
// give the same tensors, byte for byte. Plus the type rules on shapes the
// fixtures do not have, and clear errors.
#include "tandem/model/convert.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "tandem/base/thread_pool.h"
#include "tandem/gguf/gguf_file.h"
#include "tandem/model/decoder.h"
#include "test_util.h"

namespace tandem {
namespace {

using nlohmann::json;

std::string models_dir() { return testing::shared_dir() + "/fixtures/models/"; }

TEST(Convert, ReproducesTheReferenceQuantizerByteForByte) {
  TANDEM_REQUIRE_FIXTURES("models/MANIFEST.json");
  std::ifstream in(models_dir() + "MANIFEST.json");
  const json m = json::parse(in);
  int checked = 0;
  ThreadPool pool(2);  // rows split between threads: still the reference's bytes
  for (const json& fx : m["fixtures"]) {
    if (fx["parent"].is_null() || fx["llama_quantize_type"].is_null()) continue;
    const std::string file = fx["file"], type = fx["llama_quantize_type"];
    SCOPED_TRACE(file);
    auto recipe = parse_weight_recipe(type);
    ASSERT_TRUE(recipe.ok()) << recipe.error().message;
    testing::TempFile out("convert_" + file);
    auto sum = convert_model(models_dir() + fx["parent"].get<std::string>(), out.path(), *recipe, pool);
    ASSERT_TRUE(sum.ok()) << sum.error().message;
    auto got = GgufFile::open(out.path());
    auto want = GgufFile::open(models_dir() + file);
    ASSERT_TRUE(got.ok() && want.ok());
    ASSERT_EQ(got->tensors().size(), want->tensors().size());
    for (const GgufTensorInfo& w : want->tensors()) {
      const GgufTensorInfo* g = got->tensor(w.name);
      ASSERT_NE(g, nullptr) << w.name;
      EXPECT_EQ(g->type, w.type) << w.name;
      EXPECT_EQ(g->shape, w.shape) << w.name;
      ASSERT_EQ(g->n_bytes, w.n_bytes) << w.name;
      EXPECT_EQ(std::memcmp(g->data, w.data, w.n_bytes), 0) << w.name << " differs from the reference's " << type;
    }
    EXPECT_EQ(got->get_int("general.file_type", -1).value(), fx["general_file_type"].get<int64_t>());
    EXPECT_TRUE(DecoderModel::load(out.path()).ok());
    ++checked;
  }
  EXPECT_GE(checked, 11);
}

TEST(Convert, TypeRules) {
  const WeightRecipe q4_0{GgmlType::Q4_0, false}, q8_0{GgmlType::Q8_0, false}, q4_k{GgmlType::Q4_K, false},
      q4_k_m{GgmlType::Q4_K, true}, f16{GgmlType::F16, false};
  const GgmlType f32 = GgmlType::F32;
  auto type = [&](const WeightRecipe& r, const std::string& name, int64_t n_in, bool tied = false, int dims = 2) {
    return converted_type(r, name, dims, n_in, f32, 8, tied);
  };
  // Norms, biases and other 1-D tensors keep their type.
  EXPECT_EQ(type(q4_0, "blk.0.attn_norm.weight", 256, false, 1), f32);
  EXPECT_EQ(type(q4_0, "blk.0.attn_q.bias", 256, false, 1), f32);
  EXPECT_EQ(type(q4_0, "rope_freqs.weight", 64, false, 1), f32);
  // The output head: Q6_K, unless the recipe is Q8_0 or a float type, or the rows do not fit.
  EXPECT_EQ(type(q4_0, "output.weight", 512), GgmlType::Q6_K);
  EXPECT_EQ(type(q8_0, "output.weight", 512), GgmlType::Q8_0);
  EXPECT_EQ(type(f16, "output.weight", 512), GgmlType::F16);
  EXPECT_EQ(type(q4_0, "output.weight", 384), GgmlType::Q8_0);
  EXPECT_EQ(type(q4_k, "output.weight", 384), GgmlType::Q8_0);
  // A tied model's token embedding is its output head; an untied one's is not.
  EXPECT_EQ(type(q4_0, "token_embd.weight", 512, true), GgmlType::Q6_K);
  EXPECT_EQ(type(q4_0, "token_embd.weight", 512, false), GgmlType::Q4_0);
  // *_K_M: attn_v and ffn_down of layers 0, 3, 6 and 7 of 8 in Q6_K.
  for (int64_t l = 0; l < 8; ++l) {
    const bool more = l == 0 || l == 3 || l == 6 || l == 7;
    const std::string b = "blk." + std::to_string(l) + ".";
    EXPECT_EQ(type(q4_k_m, b + "attn_v.weight", 512), more ? GgmlType::Q6_K : GgmlType::Q4_K) << l;
    EXPECT_EQ(type(q4_k_m, b + "ffn_down.weight", 512), more ? GgmlType::Q6_K : GgmlType::Q4_K) << l;
    EXPECT_EQ(type(q4_k_m, b + "attn_q.weight", 512), GgmlType::Q4_K) << l;
    EXPECT_EQ(type(q4_k, b + "attn_v.weight", 512), GgmlType::Q4_K) << l;
  }
  // K-quants on rows that are not whole 256-blocks fall back as the reference does.
  EXPECT_EQ(type(q4_k, "blk.1.attn_q.weight", 384), GgmlType::Q5_0);
  EXPECT_EQ(type(WeightRecipe{GgmlType::Q5_K, false}, "blk.1.attn_q.weight", 384), GgmlType::Q5_1);
  EXPECT_EQ(type(q4_k_m, "blk.0.attn_v.weight", 384), GgmlType::Q8_0);
  EXPECT_EQ(type(q4_k, "blk.1.attn_q.weight", 100), GgmlType::F16);
  EXPECT_EQ(tensor_layer("blk.12.ffn_up.weight"), 12);
  EXPECT_EQ(tensor_layer("blk.x.ffn_up.weight"), -1);
  EXPECT_EQ(tensor_layer("output.weight"), -1);
}

TEST(Convert, BadInputIsAnError) {
  auto bad = parse_weight_recipe("Q3_K");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("unknown weight type 'Q3_K'"), std::string::npos) << bad.error().message;
  EXPECT_TRUE(parse_weight_recipe("q4_k_m").ok());
  TANDEM_REQUIRE_FIXTURES("tokenizer/ggml-vocab-gpt-2.gguf");
  testing::TempFile out("convert_bad.gguf");
  ThreadPool pool(1);
  auto r = convert_model(testing::shared_dir() + "/fixtures/tokenizer/ggml-vocab-gpt-2.gguf", out.path(),
                         WeightRecipe{GgmlType::Q8_0, false}, pool);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("architecture"), std::string::npos) << r.error().message;
  EXPECT_FALSE(std::filesystem::exists(out.path()));
}

TEST(Convert, CommandLine) {
  TANDEM_REQUIRE_FIXTURES("models/llama-gqa-spm-q8_0.gguf");
  testing::TempFile out("convert_cli.gguf");
  auto r = testing::run(testing::cli() + " gguf convert " + testing::quoted(models_dir() + "llama-gqa-spm-q8_0.gguf") +
                        " -o " + testing::quoted(out.path()) + " --type F32 -t 3 2>&1");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("16 tensors converted; 21 F32"), std::string::npos) << r.out;
  // Q8_0 -> F32 -> Q8_0 gives back the same bytes (each block's largest code is +-127).
  testing::TempFile back("convert_cli_back.gguf");
  r = testing::run(testing::cli() + " gguf convert " + testing::quoted(out.path()) + " -o " +
                   testing::quoted(back.path()) + " --type q8_0 2>&1");
  ASSERT_EQ(r.status, 0) << r.out;
  auto a = GgufFile::open(back.path());
  auto b = GgufFile::open(models_dir() + "llama-gqa-spm-q8_0.gguf");
  ASSERT_TRUE(a.ok() && b.ok());
  for (const GgufTensorInfo& t : b->tensors()) {
    const GgufTensorInfo* g = a->tensor(t.name);
    ASSERT_NE(g, nullptr);
    ASSERT_EQ(g->n_bytes, t.n_bytes);
    EXPECT_EQ(std::memcmp(g->data, t.data, t.n_bytes), 0) << t.name;
  }
  r = testing::run(testing::cli() + " gguf convert " + testing::quoted(out.path()) + " -o " +
                   testing::quoted(back.path()) + " --type IQ2_XS 2>&1");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("unknown weight type 'IQ2_XS'"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace tandem

// Conformance against files written by llama-quantize (../shared/fixtures/models):
// every quantized tensor, dequantized by the reference, is within its type's
// error of the F32 parent tensor it was made from, and re-quantizing the parent
// with tandem's quantizers writes the fixture's bytes exactly (llama-quantize
// without an importance matrix uses ggml's reference quantizers).
#include <cmath>
#include <cstring>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tandem/gguf/gguf_file.h"
#include "tandem/tensor/kernels.h"
#include "tandem/tensor/matmul.h"
#include "tandem/tensor/quants.h"
#include "test_util.h"

namespace tandem {
namespace {

std::string model_path(const std::string& stem) {
  return testing::shared_dir() + "/fixtures/models/" + stem + ".gguf";
}

// "llama-gqa-spm-q4_0" -> "llama-gqa-spm-f32": the file llama-quantize read.
std::string parent_of(const std::string& stem) { return stem.substr(0, stem.rfind('-')) + "-f32"; }

// Relative RMS error of the dequantized weights against the parent; the bound
// is about 1.3x what each type's bits give on these N(0, 1/fan_in) weights.
double max_rel_rms(GgmlType t) {
  switch (t) {
    case GgmlType::F16: return 3.5e-4;
    case GgmlType::BF16: return 2.8e-3;
    case GgmlType::Q8_0: return 6.0e-3;
    case GgmlType::Q4_0: return 0.110;
    case GgmlType::Q4_1: return 0.100;
    case GgmlType::Q5_0: return 0.055;
    case GgmlType::Q5_1: return 0.050;
    case GgmlType::Q4_K: return 0.095;
    case GgmlType::Q5_K: return 0.048;
    case GgmlType::Q6_K: return 0.024;
    default: return 0.0;
  }
}

struct TypeReport {
  int tensors = 0;
  int bit_exact = 0;
  double worst_rel_rms = 0;
};

class QuantFixtures : public ::testing::TestWithParam<const char*> {};

TEST_P(QuantFixtures, DequantizeAndRequantizeMatchLlamaQuantize) {
  TANDEM_REQUIRE_FIXTURES("models");
  auto parent = GgufFile::open(model_path(parent_of(GetParam())));
  ASSERT_TRUE(parent.ok()) << parent.error().message;
  auto file = GgufFile::open(model_path(GetParam()));
  ASSERT_TRUE(file.ok()) << file.error().message;

  std::map<GgmlType, TypeReport> report;
  int quantized = 0;
  for (const GgufTensorInfo& t : file->tensors()) {
    if (t.type == GgmlType::F32) continue;
    ++quantized;
    const GgufTensorInfo* p = parent->tensor(t.name);
    ASSERT_NE(p, nullptr) << t.name;
    ASSERT_EQ(p->type, GgmlType::F32);
    ASSERT_EQ(p->shape, t.shape) << t.name;
    ASSERT_TRUE(is_compute_type(t.type)) << t.name << " " << ggml_type_name(t.type);
    const int64_t n = static_cast<int64_t>(t.shape[0]);
    const int64_t rows = static_cast<int64_t>(t.n_elements()) / n;
    ASSERT_TRUE(check_row_shape(t.type, n).ok());
    const size_t rb = row_bytes(t.type, n);
    ASSERT_EQ(rb * rows, t.n_bytes);

    std::vector<float> src(static_cast<size_t>(n)), deq(static_cast<size_t>(n));
    std::vector<uint8_t> requant(rb);
    double err2 = 0, ref2 = 0;
    bool exact = true;
    for (int64_t r = 0; r < rows; ++r) {
      std::memcpy(src.data(), p->data + r * n * sizeof(float), n * sizeof(float));
      const uint8_t* qrow = t.data + r * rb;
      dequantize_row(t.type, qrow, deq.data(), n);
      for (int64_t i = 0; i < n; ++i) {
        err2 += (double(deq[i]) - src[i]) * (double(deq[i]) - src[i]);
        ref2 += double(src[i]) * src[i];
      }
      quantize_row(t.type, src.data(), requant.data(), n);
      if (exact && std::memcmp(requant.data(), qrow, rb) != 0) {
        exact = false;
        size_t first = 0;
        while (requant[first] == qrow[first]) ++first;
        ADD_FAILURE() << GetParam() << ": " << t.name << " (" << ggml_type_name(t.type) << ") row " << r
                      << " first differs at byte " << first << " of " << rb;
      }
    }
    const double rel = std::sqrt(err2 / ref2);
    EXPECT_LT(rel, max_rel_rms(t.type)) << t.name << " " << ggml_type_name(t.type);
    TypeReport& tr = report[t.type];
    ++tr.tensors;
    tr.bit_exact += exact ? 1 : 0;
    tr.worst_rel_rms = std::max(tr.worst_rel_rms, rel);
  }
  EXPECT_GE(quantized, 15);
  for (const auto& [type, tr] : report)
    std::cout << "[ fixture  ] " << GetParam() << ": " << ggml_type_name(type) << " " << tr.bit_exact << "/" << tr.tensors
              << " tensors requantized bit-exactly, worst relative RMS error " << tr.worst_rel_rms << "\n";
}

INSTANTIATE_TEST_SUITE_P(Models, QuantFixtures,
                         ::testing::Values("llama-gqa-spm-f16", "llama-gqa-spm-bf16", "llama-gqa-spm-q8_0",
                                           "llama-gqa-spm-q4_0", "llama-gqa-spm-q4_1", "llama-gqa-spm-q5_0",
                                           "llama-gqa-spm-q5_1", "llama-gqa-spm-q4_k_m", "llama-gqa-spm-q5_k_m",
                                           "llama-gqa-spm-q6_k", "qwen2-gpt2-q8_0"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           std::string name = info.param;
                           for (char& c : name)
                             if (c == '-') c = '_';
                           return name;
                         });

// The kernels on real llama-quantize data: a layer's matmul on the best path
// against the reference dot products.
TEST(QuantFixtureKernels, BestPathMatchesReferenceOnFixtureWeights) {
  TANDEM_REQUIRE_FIXTURES("models");
  const Kernels k = select_kernels(CpuFeatures::detect());
  // qwen2's ffn_down rows (352) end in a partial group of 3 blocks.
  for (const char* stem : {"llama-gqa-spm-q8_0", "llama-gqa-spm-q4_0", "llama-gqa-spm-q4_k_m", "llama-gqa-spm-q5_k_m",
                           "llama-gqa-spm-f16", "llama-gqa-spm-bf16", "qwen2-gpt2-q8_0"}) {
    auto file = GgufFile::open(model_path(stem));
    ASSERT_TRUE(file.ok()) << file.error().message;
    for (const char* name : {"blk.0.ffn_down.weight", "blk.1.attn_v.weight", "output.weight", "token_embd.weight"}) {
      const GgufTensorInfo* t = file->tensor(name);
      if (t == nullptr && std::string(name) != "blk.0.ffn_down.weight") continue;  // tied output
      ASSERT_NE(t, nullptr) << name;
      const WeightView w{t->type, t->data, static_cast<int64_t>(t->shape[0]), static_cast<int64_t>(t->shape[1]),
                         row_bytes(t->type, static_cast<int64_t>(t->shape[0]))};
      ASSERT_TRUE(check_weight(w).ok()) << check_weight(w).error().message;
      const int64_t n_tokens = 5;
      std::vector<float> x(static_cast<size_t>(w.n_in * n_tokens));
      for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.37f * static_cast<float>(i)) * 1.5f;
      std::vector<float> y(static_cast<size_t>(w.n_out * n_tokens));
      Activations acts;
      matmul(k, w, x.data(), n_tokens, y.data(), acts);
      std::vector<BlockQ8A> a(static_cast<size_t>(w.n_in / 32));
      for (int64_t tk = 0; tk < n_tokens; ++tk) {
        quantize_row_q8a(x.data() + tk * w.n_in, a.data(), w.n_in);
        for (int64_t r = 0; r < w.n_out; r += 7) {
          const float want = vec_dot_row(w.type, w.n_in, w.row(r), x.data() + tk * w.n_in, a.data());
          ASSERT_NEAR(y[tk * w.n_out + r], want, 1e-4f * (1.0f + std::fabs(want)))
              << stem << " " << name << " token " << tk << " row " << r;
        }
      }
    }
  }
}

}  // namespace
}  // namespace tandem

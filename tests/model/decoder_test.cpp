// The engine against the reference implementation: for every fixture listed in
// ../shared/fixtures/models/MANIFEST.json, logits at every prompt position within
// the manifest's tolerance for that weight type, greedy continuations identical
// where the manifest says they are stable (F32), top-5 logits along the
// reference continuation otherwise. Plus invariants: batch vs incremental
// evaluation, rollback, and clear errors for bad input.
#include "tandem/model/decoder.h"

#include <cmath>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

#include <gtest/gtest.h>

#include "tandem/gguf/gguf_file.h"
#include "tandem/gguf/gguf_writer.h"
#include "test_util.h"

namespace tandem {
namespace {

using nlohmann::json;

std::string models_dir() { return testing::shared_dir() + "/fixtures/models/"; }

json manifest() {
  std::ifstream in(models_dir() + "MANIFEST.json");
  return json::parse(in);
}

std::vector<float> read_floats(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<float> v(b.size() / 4);
  std::memcpy(v.data(), b.data(), v.size() * 4);
  return v;
}

DecoderLoadOptions options(std::optional<Isa> isa, std::optional<bool> pack, std::optional<bool> copy = std::nullopt,
                           std::optional<size_t> cache_bytes = std::nullopt) {
  DecoderLoadOptions o;
  o.isa = isa;
  o.pack = pack;
  o.copy = copy;
  o.cache_bytes = cache_bytes;
  return o;
}

std::vector<int32_t> prompt_ids(const json& fx) { return fx["prompt"]["ids"].get<std::vector<int32_t>>(); }

json fixture_entry(const std::string& file) {
  const json m = manifest();
  for (const json& fx : m["fixtures"])
    if (fx["file"] == file) return fx;
  return json::object();
}


// Every kernel path this CPU can run, end to end (the matmuls, attention and
// SwiGLU of each path inside a whole model).
class DecoderFixtures : public ::testing::TestWithParam<Isa> {};

TEST_P(DecoderFixtures, EveryFixtureMatchesTheReference) {
  TANDEM_REQUIRE_FIXTURES("models/MANIFEST.json");
  if (CpuFeatures::detect().best_isa() < GetParam()) GTEST_SKIP() << "this CPU has no " << isa_name(GetParam()) << " path";
  ThreadPool pool(2);
  json m = manifest();
  ASSERT_GE(m["fixtures"].size(), 15u);
  for (const json& fx : m["fixtures"]) {
    const std::string file = fx["file"];
    SCOPED_TRACE(file);
    auto model = DecoderModel::load(models_dir() + file, options(GetParam(), std::nullopt));
    ASSERT_TRUE(model.ok()) << model.error().message;
    ASSERT_EQ((*model)->kernels().isa, GetParam());
    const auto ids = prompt_ids(fx);
    const int64_t V = (*model)->config().n_vocab;
    ASSERT_EQ(V, fx["hparams"]["n_vocab"].get<int64_t>());

    // The model's own tokenizer reproduces the reference prompt ids.
    auto enc = (*model)->tokenizer().encode(fx["prompt"]["text"].get<std::string>());
    EXPECT_EQ(enc, ids);

    Sequence seq(*model, pool, {.n_ctx = 256});
    auto logits = seq.eval(ids, Logits::kAll);
    ASSERT_TRUE(logits.ok()) << logits.error().message;
    auto ref = read_floats(models_dir() + fx["logits"]["file"].get<std::string>());
    ASSERT_EQ(ref.size(), ids.size() * static_cast<size_t>(V));
    ASSERT_EQ(logits->size(), ref.size());
    double max_abs = 0, sum_abs = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
      double d = std::fabs(static_cast<double>((*logits)[i]) - ref[i]);
      max_abs = std::max(max_abs, d);
      sum_abs += d;
    }
    const double mean_abs = sum_abs / static_cast<double>(ref.size());
    const double tol_max = fx["recommended_tolerance"]["max_abs"], tol_mean = fx["recommended_tolerance"]["mean_abs"];
    EXPECT_LE(max_abs, tol_max) << "mean " << mean_abs;
    EXPECT_LE(mean_abs, tol_mean) << "max " << max_abs;
    std::printf("%-7s %-28s max|diff| %.3g (tol %.3g)  mean|diff| %.3g (tol %.3g)\n", std::string(isa_name(GetParam())).c_str(),
                file.c_str(), max_abs, tol_max, mean_abs, tol_mean);

    // The continuation: F32 fixtures must generate the same greedy ids; the others
    // follow the reference ids and compare the recorded top-5 logits.
    const json& gen = fx["generation"];
    const auto ref_ids = gen["ids"].get<std::vector<int32_t>>();
    const bool exact = fx["recommended_tolerance"]["weight_class"] == "F32";
    std::vector<float> last(logits->end() - V, logits->end());
    for (size_t step = 0; step < ref_ids.size(); ++step) {
      int32_t best = static_cast<int32_t>(std::max_element(last.begin(), last.end()) - last.begin());
      if (exact) {
        ASSERT_EQ(best, ref_ids[step]) << "greedy step " << step;
      }
      for (const json& pair : gen["top5_id_logit"][step]) {
        const int32_t id = pair[0];
        const double lg = pair[1];
        EXPECT_NEAR(last[static_cast<size_t>(id)], lg, tol_max) << "step " << step << " id " << id;
      }
      int32_t next = ref_ids[step];
      auto r = seq.eval(std::span<const int32_t>(&next, 1));
      ASSERT_TRUE(r.ok()) << r.error().message;
      last.assign(r->begin(), r->end());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, DecoderFixtures, ::testing::Values(Isa::Scalar, Isa::Avx2, Isa::Avx512),
                         [](const ::testing::TestParamInfo<Isa>& info) { return std::string(isa_name(info.param)); });

// Two loads of one model give the same logits bit for bit: a prompt, single
// tokens, a 5-token batch.
void expect_same_logits(const DecoderModel& x, const DecoderModel& y) {
  ThreadPool pool(2);
  const int64_t V = x.config().n_vocab;
  Sequence a(std::shared_ptr<const DecoderModel>(std::shared_ptr<const DecoderModel>{}, &x), pool, {.n_ctx = 64});
  Sequence b(std::shared_ptr<const DecoderModel>(std::shared_ptr<const DecoderModel>{}, &y), pool, {.n_ctx = 64});
  auto same = [&](std::span<const int32_t> ids, Logits which) {
    auto la = a.eval(ids, which);
    auto lb = b.eval(ids, which);
    ASSERT_TRUE(la.ok() && lb.ok());
    ASSERT_EQ(la->size(), lb->size());
    size_t differ = 0;
    for (size_t i = 0; i < la->size(); ++i) differ += (*la)[i] != (*lb)[i];
    EXPECT_EQ(differ, 0u) << "logits that differ in a " << ids.size() << "-token eval (of " << la->size() << ")";
  };
  const std::vector<int32_t> prompt = {1, 17, 305, 99, 4, 250, static_cast<int32_t>(1000 % V), 12, 7, 64, 3, 8};
  same(prompt, Logits::kAll);
  for (int32_t t : {5, 6, 7}) same(std::span<const int32_t>(&t, 1), Logits::kLast);
  const std::vector<int32_t> batch = {11, 12, 13, 14, 15};
  same(batch, Logits::kAll);
}

// Packed matrices (DecoderLoadOptions::pack) are read by the tile kernel at
// every batch size; unpacked ones by the fused one-token and small-batch
// kernels. The kernels share one float recipe, so a model gives the same
// logits bit for bit either way.
// Returns false where nothing was packed (this path, or a float model).
// Both packed forms: for the cache (the model fits), and for streaming (a
// 1-byte cache makes every matrix the layout with the fewest bytes).
bool expect_packing_invisible(const std::string& path, Isa isa) {
  SCOPED_TRACE(path + " on " + std::string(isa_name(isa)));
  auto packed = DecoderModel::load(path, options(isa, true));
  auto streamed = DecoderModel::load(path, options(isa, true, std::nullopt, size_t{1}));
  auto plain = DecoderModel::load(path, options(isa, false));
  EXPECT_TRUE(packed.ok() && streamed.ok() && plain.ok());
  if (!packed.ok() || !streamed.ok() || !plain.ok()) return false;
  EXPECT_EQ((*plain)->packed_bytes(), 0u);
  if ((*packed)->packed_bytes() == 0) return false;
  expect_same_logits(**packed, **plain);
  expect_same_logits(**streamed, **plain);
  return true;
}

// Matrices copied out of the mapping (DecoderLoadOptions::copy) are the same
// bytes: same logits, and every matrix a token reads is in the copy unless packed.
void expect_copy_invisible(const std::string& path, bool pack) {
  SCOPED_TRACE(path + (pack ? " packed" : " unpacked"));
  auto copied = DecoderModel::load(path, options(std::nullopt, pack, true));
  auto mapped = DecoderModel::load(path, options(std::nullopt, pack, false));
  ASSERT_TRUE(copied.ok() && mapped.ok());
  EXPECT_EQ((*mapped)->copied_bytes(), 0u);
  const DecoderModel& c = **copied;
  uint64_t unpacked = 0;
  auto count = [&](const WeightView& w, const std::string& name) {
    if (w.packed) return;
    unpacked += (w.row_stride * static_cast<uint64_t>(w.n_out) + 63) / 64 * 64;
    ASSERT_NE(c.file().tensor(name), nullptr);
    EXPECT_NE(w.data, c.file().tensor(name)->data) << name << " is still read from the mapping";
  };
  for (size_t il = 0; il < c.layers().size(); ++il) {
    const LayerWeights& L = c.layers()[il];
    const std::string p = "blk." + std::to_string(il) + ".";
    count(L.wq, p + "attn_q.weight");
    count(L.wk, p + "attn_k.weight");
    count(L.wv, p + "attn_v.weight");
    count(L.wo, p + "attn_output.weight");
    count(L.ffn_gate, p + "ffn_gate.weight");
    count(L.ffn_up, p + "ffn_up.weight");
    count(L.ffn_down, p + "ffn_down.weight");
  }
  count(c.output(), c.config().tied_output ? "token_embd.weight" : "output.weight");
  EXPECT_EQ(c.copied_bytes(), unpacked);
  expect_same_logits(c, **mapped);
}

TEST(Decoder, CopiedWeightsGiveTheSameLogitsBitForBit) {
  for (bool pack : {false, true}) expect_copy_invisible(testing::source_dir() + "/models/house-small.gguf", pack);
}

TEST(Decoder, CopiedWeightsOfTiedAndFloatFixtures) {
  TANDEM_REQUIRE_FIXTURES("models/MANIFEST.json");
  const json m = manifest();
  for (const json& fx : m["fixtures"]) expect_copy_invisible(models_dir() + fx["file"].get<std::string>(), false);
}

// The SIMD paths this CPU can run (each packs in its own layout).
std::vector<Isa> simd_paths() {
  std::vector<Isa> v;
  for (Isa i : {Isa::Avx2, Isa::Avx512})
    if (CpuFeatures::detect().best_isa() >= i) v.push_back(i);
  return v;
}

TEST(Decoder, PackedWeightsGiveTheSameLogitsBitForBit) {
  int compared = 0;
  for (Isa isa : simd_paths()) compared += expect_packing_invisible(testing::source_dir() + "/models/house-small.gguf", isa);
  if (compared == 0) GTEST_SKIP() << "no kernel path of this CPU packs";
}

TEST(Decoder, PackedWeightsOfEveryFixtureTypeGiveTheSameLogits) {
  TANDEM_REQUIRE_FIXTURES("models/MANIFEST.json");
  int compared = 0, quantized = 0;
  const json m = manifest();
  for (Isa isa : simd_paths())
    for (const json& fx : m["fixtures"]) {
      const auto& q = fx["llama_quantize_type"];
      quantized += q.is_string() && q != "F16" && q != "BF16";
      compared += expect_packing_invisible(models_dir() + fx["file"].get<std::string>(), isa);
    }
  if (compared == 0) GTEST_SKIP() << "no kernel path of this CPU packs";
  EXPECT_EQ(compared, quantized);  // every quantized fixture on every path (float weights have no packed form)
}

TEST(Decoder, SmallModelsArePackedWhereThePathCan) {
  auto m = DecoderModel::load(testing::source_dir() + "/models/house-small.gguf");
  ASSERT_TRUE(m.ok());
  if ((*m)->kernels().pack_tile == nullptr) GTEST_SKIP() << "this path does not pack";
  EXPECT_GT((*m)->packed_bytes(), (*m)->weight_bytes() / 2);  // 1.5 MB fits any last-level cache
}

// A model that does not fit the cache packs only the matrices whose tiles are
// hardly larger than their rows (kPackGrowth).
TEST(Decoder, StreamedModelsPackOnlyMatricesThatStayAboutTheirSize) {
  TANDEM_REQUIRE_FIXTURES("models/MANIFEST.json");
  int checked = 0, streamed_packed = 0;
  const json fixtures = manifest();
  for (Isa isa : simd_paths())
    for (const json& fx : fixtures["fixtures"]) {
      const std::string file = fx["file"];
      SCOPED_TRACE(file + " on " + std::string(isa_name(isa)));
      auto m = DecoderModel::load(models_dir() + file, options(isa, std::nullopt, std::nullopt, size_t{0}));
      ASSERT_TRUE(m.ok()) << m.error().message;
      auto all = DecoderModel::load(models_dir() + file, options(isa, std::nullopt, std::nullopt, size_t{1} << 40));
      ASSERT_TRUE(all.ok());
      const DecoderModel& d = **m;
      uint64_t expect = 0;
      auto check = [&](const WeightView& w, const WeightView& w_all) {
        const uint64_t rows = w.row_stride * static_cast<uint64_t>(w.n_out);
        WeightView streamed = w;
        streamed.pack_for = PackFor::kStream;
        const uint64_t tiles = (packed_matrix_bytes(d.kernels(), streamed) + 63) / 64 * 64;
        EXPECT_EQ(w_all.pack_for, PackFor::kCache);
        if (w.packed) {
          EXPECT_EQ(w.pack_for, PackFor::kStream);
        }
        const bool want = tiles > 0 && static_cast<double>(tiles) <= kPackGrowth * static_cast<double>(rows);
        EXPECT_EQ(w.packed != nullptr, want) << ggml_type_name(w.type) << ": tiles " << tiles << " bytes, rows " << rows;
        EXPECT_EQ(w_all.packed != nullptr, tiles > 0);  // fits the cache: every quantized matrix
        if (want) expect += tiles;
      };
      for (size_t il = 0; il < d.layers().size(); ++il) {
        const LayerWeights& L = d.layers()[il];
        const LayerWeights& A = (*all)->layers()[il];
        check(L.wq, A.wq);
        check(L.wk, A.wk);
        check(L.wv, A.wv);
        check(L.wo, A.wo);
        check(L.ffn_gate, A.ffn_gate);
        check(L.ffn_up, A.ffn_up);
        check(L.ffn_down, A.ffn_down);
      }
      check(d.output(), (*all)->output());
      EXPECT_EQ(d.packed_bytes(), expect);
      checked += d.kernels().pack_tile != nullptr;
      if (expect > 0) expect_same_logits(d, **all);
      streamed_packed += expect > 0;
    }
  if (checked == 0) GTEST_SKIP() << "no kernel path of this CPU packs";
  EXPECT_GT(streamed_packed, 0) << "no fixture has a matrix worth packing when streamed (Q8_0 has)";
}

// An fp16 KV cache: a token's logits are the same bits whether it came alone or
// in a batch (speculative verification relies on that), and differ from a float
// cache's by rounding only.
TEST(Decoder, HalfKvCacheIsBatchInvariant) {
  const std::string path = testing::source_dir() + "/models/house-small.gguf";
  DecoderLoadOptions half;
  half.kv_f16 = true;
  auto m16 = DecoderModel::load(path, half);
  auto m32 = DecoderModel::load(path);
  ASSERT_TRUE(m16.ok() && m32.ok());
  ThreadPool pool(2);
  const std::vector<int32_t> ids = {1, 17, 305, 99, 4, 250, 1000, 12, 7, 64, 3, 8, 400, 41};
  const size_t V = static_cast<size_t>((*m16)->config().n_vocab);
  Sequence batch(*m16, pool, {.n_ctx = 64}), one(*m16, pool, {.n_ctx = 64}), ref(*m32, pool, {.n_ctx = 64});
  EXPECT_EQ(batch.kv_bytes() * 2, ref.kv_bytes());
  auto all = batch.eval(ids, Logits::kAll);
  ASSERT_TRUE(all.ok());
  const std::vector<float> all_v(all->begin(), all->end());
  auto all32 = ref.eval(ids, Logits::kAll);
  ASSERT_TRUE(all32.ok());
  float worst = 0;
  for (size_t i = 0; i < all_v.size(); ++i) worst = std::max(worst, std::fabs(all_v[i] - (*all32)[i]));
  EXPECT_LT(worst, 0.3f) << "fp16 keys and values moved a logit this far from a float cache";
  EXPECT_GT(worst, 0.0f) << "the fp16 cache was not used";
  for (size_t i = 0; i < ids.size(); ++i) {
    auto r = one.eval(std::span<const int32_t>(&ids[i], 1));
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(std::memcmp(r->data(), all_v.data() + i * V, V * sizeof(float)), 0) << "token " << i;
  }
}

// A batch's tokens are split over the pool's threads for the work between
// matmuls (norms, rope, quantizing activations): the logits are the same bits
// for any pool size and any way of cutting the tokens into batches, on every
// path, with that work shared or not (Sequence::set_split_prep). house-small
// (Q8_0, packed), house-large (wide enough to share by default) and qwen2 (q/k/v
// biases, unpacked).
void expect_batching_invariant(const std::string& path, std::optional<bool> pack,
                               std::initializer_list<std::optional<bool>> splits = {true, false}) {
  const std::vector<int32_t> ids = {1, 17, 305, 99, 4, 250, 1000, 12, 7, 64, 3, 8, 400, 41, 5, 77, 23};
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
    if (CpuFeatures::detect().best_isa() < isa) continue;
    SCOPED_TRACE(std::string(isa_name(isa)));
    auto model = DecoderModel::load(path, options(isa, pack));
    ASSERT_TRUE(model.ok()) << model.error().message;
    const size_t V = static_cast<size_t>((*model)->config().n_vocab);
    ThreadPool one(1);
    Sequence ref_seq(*model, one, {.n_ctx = 64});
    auto ref_l = ref_seq.eval(ids, Logits::kAll);
    ASSERT_TRUE(ref_l.ok());
    const std::vector<float> ref(ref_l->begin(), ref_l->end());
    for (int threads : {1, 2, 3}) {
      ThreadPool pool(threads);
      for (std::optional<bool> split : splits)
        for (size_t cut : {size_t{1}, size_t{2}, size_t{3}, size_t{5}, ids.size()}) {
          SCOPED_TRACE(std::to_string(threads) + " threads, batches of " + std::to_string(cut) + ", split " +
                       (split ? std::to_string(*split) : "by width"));
          Sequence seq(*model, pool, {.n_ctx = 64});
          if (split) seq.set_split_prep(*split);
          for (size_t at = 0; at < ids.size(); at += cut) {
            const size_t len = std::min(cut, ids.size() - at);
            auto l = seq.eval(std::span<const int32_t>(ids.data() + at, len), Logits::kAll);
            ASSERT_TRUE(l.ok()) << l.error().message;
            ASSERT_EQ(std::memcmp(l->data(), ref.data() + at * V, len * V * sizeof(float)), 0) << "tokens from " << at;
            // Only the last row asked for: the same bits as that row of all.
            ASSERT_TRUE(seq.rollback(static_cast<int64_t>(at)).ok());
            auto last = seq.eval(std::span<const int32_t>(ids.data() + at, len));
            ASSERT_TRUE(last.ok());
            ASSERT_EQ(std::memcmp(last->data(), ref.data() + (at + len - 1) * V, V * sizeof(float)), 0);
          }
        }
    }
  }
}

TEST(Decoder, LogitsAreTheSameForAnyPoolSizeAndBatching) {
  expect_batching_invariant(testing::source_dir() + "/models/house-small.gguf", std::nullopt);
  expect_batching_invariant(testing::source_dir() + "/models/house-large.gguf", std::nullopt, {std::nullopt});
}

TEST(Decoder, LogitsWithBiasesAreTheSameForAnyPoolSizeAndBatching) {
  TANDEM_REQUIRE_FIXTURES("models/qwen2-gpt2-q8_0.gguf");
  expect_batching_invariant(models_dir() + "qwen2-gpt2-q8_0.gguf", false);
}

// With an fp16 KV cache every quantized fixture stays within the manifest's
// tolerance of the reference (which used a float cache): the rounding of the
// cache is below those types' noise floor.
TEST(Decoder, HalfKvCacheStaysWithinTheQuantizedTolerance) {
  TANDEM_REQUIRE_FIXTURES("models/MANIFEST.json");
  ThreadPool pool(2);
  const json m = manifest();
  int checked = 0;
  for (const json& fx : m["fixtures"]) {
    if (fx["recommended_tolerance"]["weight_class"] == "F32") continue;  // 1e-4: a float cache's business
    const std::string file = fx["file"];
    SCOPED_TRACE(file);
    DecoderLoadOptions half;
    half.kv_f16 = true;
    auto model = DecoderModel::load(models_dir() + file, half);
    ASSERT_TRUE(model.ok()) << model.error().message;
    Sequence seq(*model, pool, {.n_ctx = 256});
    const auto ids = prompt_ids(fx);
    auto logits = seq.eval(ids, Logits::kAll);
    ASSERT_TRUE(logits.ok());
    const auto ref = read_floats(models_dir() + fx["logits"]["file"].get<std::string>());
    ASSERT_EQ(logits->size(), ref.size());
    double max_abs = 0;
    for (size_t i = 0; i < ref.size(); ++i) max_abs = std::max(max_abs, std::fabs(static_cast<double>((*logits)[i]) - ref[i]));
    EXPECT_LE(max_abs, fx["recommended_tolerance"]["max_abs"].get<double>());
    ++checked;
  }
  EXPECT_GE(checked, 10);
}

TEST(Decoder, IncrementalEqualsBatchAndRollbackReplays) {
  TANDEM_REQUIRE_FIXTURES("models/qwen2-gpt2-f32.gguf");
  ThreadPool pool(2);
  auto model = DecoderModel::load(models_dir() + "qwen2-gpt2-f32.gguf");
  ASSERT_TRUE(model.ok()) << model.error().message;
  const int64_t V = (*model)->config().n_vocab;
  std::vector<int32_t> ids = {464, 627, 624, 1379, 675, 277, 1140, 474};
  Sequence batch(*model, pool, {.n_ctx = 64});
  auto all = batch.eval(ids, Logits::kAll);
  ASSERT_TRUE(all.ok());
  std::vector<float> all_v(all->begin(), all->end());
  Sequence inc(*model, pool, {.n_ctx = 64});
  for (size_t i = 0; i < ids.size(); ++i) {
    auto r = inc.eval(std::span<const int32_t>(&ids[i], 1));
    ASSERT_TRUE(r.ok());
    for (int64_t j = 0; j < V; ++j) EXPECT_NEAR((*r)[static_cast<size_t>(j)], all_v[i * V + static_cast<size_t>(j)], 1e-4);
  }
  // Roll back to 3 positions and re-evaluate the rest: same logits as before.
  ASSERT_TRUE(inc.rollback(3).ok());
  EXPECT_EQ(inc.n_past(), 3);
  auto again = inc.eval(std::span<const int32_t>(ids.data() + 3, ids.size() - 3), Logits::kAll);
  ASSERT_TRUE(again.ok());
  for (size_t i = 0; i < again->size(); ++i) EXPECT_NEAR((*again)[i], all_v[3 * V + i], 1e-4);
  EXPECT_FALSE(inc.rollback(100).ok());
}

// eval_tail returns the rows of eval(kAll) from `first` on, bit for bit (the
// output layer's rows are independent of one another), and kLast is its
// last-row case.
TEST(Decoder, TailLogitsAreTheLastRowsOfAll) {
  TANDEM_REQUIRE_FIXTURES("models/llama-gqa-spm-q8_0.gguf");
  ThreadPool pool(2);
  auto model = DecoderModel::load(models_dir() + "llama-gqa-spm-q8_0.gguf");
  ASSERT_TRUE(model.ok()) << model.error().message;
  const auto V = static_cast<size_t>((*model)->config().n_vocab);
  const std::vector<int32_t> ids = {1, 450, 672, 310, 278, 318, 338, 263, 181, 29};
  Sequence all_seq(*model, pool, {.n_ctx = 32});
  auto all = all_seq.eval(ids, Logits::kAll);
  ASSERT_TRUE(all.ok());
  const std::vector<float> all_v(all->begin(), all->end());
  for (int64_t first : {0, 1, 5, 9}) {
    Sequence seq(*model, pool, {.n_ctx = 32});
    auto tail = seq.eval_tail(ids, first);
    ASSERT_TRUE(tail.ok()) << tail.error().message;
    ASSERT_EQ(tail->size(), (ids.size() - static_cast<size_t>(first)) * V);
    for (size_t i = 0; i < tail->size(); ++i)
      ASSERT_EQ((*tail)[i], all_v[static_cast<size_t>(first) * V + i]) << "first " << first << " element " << i;
    EXPECT_EQ(seq.n_past(), static_cast<int64_t>(ids.size()));
  }
  Sequence seq(*model, pool, {.n_ctx = 32});
  for (int64_t bad : {-1, 10}) {
    auto r = seq.eval_tail(ids, bad);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("logits from token"), std::string::npos) << r.error().message;
  }
  EXPECT_EQ(seq.n_past(), 0);
}

TEST(Decoder, BadInputIsAnError) {
  TANDEM_REQUIRE_FIXTURES("models/llama-mha-spm-f32.gguf");
  ThreadPool pool(1);
  auto model = DecoderModel::load(models_dir() + "llama-mha-spm-f32.gguf");
  ASSERT_TRUE(model.ok());
  Sequence seq(*model, pool, {.n_ctx = 8});
  std::vector<int32_t> too_long(9, 5);
  auto r = seq.eval(too_long);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("exceed the context of 8"), std::string::npos) << r.error().message;
  std::vector<int32_t> bad = {1, 2000};
  r = seq.eval(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("outside the vocabulary"), std::string::npos);
  EXPECT_EQ(seq.n_past(), 0);
  EXPECT_FALSE(seq.eval({}).ok());

  auto missing = DecoderModel::load(testing::shared_dir() + "/fixtures/tokenizer/ggml-vocab-gpt-2.gguf");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("architecture"), std::string::npos) << missing.error().message;
}

// A copy of a fixture with its metadata or tensors edited, at out's path.
void rewrite_fixture(const std::string& name, const testing::TempFile& out,
                     const std::function<void(GgufWriter&)>& edit) {
  auto f = GgufFile::open(models_dir() + name);
  ASSERT_TRUE(f.ok()) << f.error().message;
  GgufWriter w;
  w.copy_metadata(*f);
  for (const GgufTensorInfo& t : f->tensors()) ASSERT_TRUE(w.add_tensor(t.name, t.type, t.shape, t.bytes()).ok());
  edit(w);
  ASSERT_TRUE(w.write_file(out.path()).ok());
}

Result<std::vector<float>> all_logits(const std::string& path, const std::vector<int32_t>& ids) {
  ThreadPool pool(1);
  auto model = DecoderModel::load(path);
  if (!model) return model.error();
  Sequence seq(*model, pool, {.n_ctx = 64});
  auto r = seq.eval(ids, Logits::kAll);
  if (!r) return r.error();
  return std::vector<float>(r->begin(), r->end());
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double m = a.size() == b.size() ? 0 : INFINITY;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
  return m;
}

// rope_freqs.weight (Llama 3.1+): pair i turns by pos * base^(-2i/n) / factor[i].
// Checked against configurations that need no factors: factors
// (b' / b)^(2i/n) turn base b into base b', and a uniform factor s is linear
// scaling by s. Both rope styles (llama's adjacent pairs, qwen2's halves).
TEST(Decoder, RopeFrequencyFactorsDivideEachPairsAngle) {
  for (const char* name : {"llama-gqa-spm-f32.gguf", "qwen2-gpt2-f32.gguf"}) {
    TANDEM_REQUIRE_FIXTURES(std::string("models/") + name);
    SCOPED_TRACE(name);
    const std::string arch = std::string(name).starts_with("qwen2") ? "qwen2" : "llama";
    const json fx = fixture_entry(name);
    const std::vector<int32_t> ids = prompt_ids(fx);
    const int64_t n_rot = fx["hparams"]["rope_dim"].get<int64_t>();
    const double base = fx["hparams"]["rope_freq_base"].get<double>(), other = 500000.0;

    testing::TempFile rebased("rope_rebased.gguf"), factored("rope_factored.gguf"), linear("rope_linear.gguf"),
        uniform("rope_uniform.gguf");
    rewrite_fixture(name, rebased,
                    [&](GgufWriter& w) { w.set(arch + ".rope.freq_base", GgufValue::f32(static_cast<float>(other))); });
    std::vector<float> ff(static_cast<size_t>(n_rot / 2));
    for (size_t i = 0; i < ff.size(); ++i)
      ff[i] = static_cast<float>(std::pow(other / base, 2.0 * static_cast<double>(i) / static_cast<double>(n_rot)));
    auto add_factors = [](const std::vector<float>& v) {
      return [&v](GgufWriter& w) { ASSERT_TRUE(w.add_tensor_f32("rope_freqs.weight", {v.size()}, v).ok()); };
    };
    rewrite_fixture(name, factored, add_factors(ff));
    rewrite_fixture(name, linear, [&](GgufWriter& w) {
      w.set(arch + ".rope.scaling.type", GgufValue::string("linear"));
      w.set(arch + ".rope.scaling.factor", GgufValue::f32(4.0f));
    });
    const std::vector<float> four(ff.size(), 4.0f);
    rewrite_fixture(name, uniform, add_factors(four));

    auto plain = all_logits(models_dir() + name, ids);
    auto want_rebased = all_logits(rebased.path(), ids);
    auto got_factored = all_logits(factored.path(), ids);
    auto want_linear = all_logits(linear.path(), ids);
    auto got_uniform = all_logits(uniform.path(), ids);
    for (auto* r : {&plain, &want_rebased, &got_factored, &want_linear, &got_uniform})
      ASSERT_TRUE(r->ok()) << r->error().message;
    // The factors matter (a file read without them would fail here)...
    EXPECT_GT(max_abs_diff(*plain, *got_factored), 1e-3);
    EXPECT_GT(max_abs_diff(*plain, *got_uniform), 1e-3);
    // ...and act as their definition says. Base 500000 through factors rounds
    // each angle once more than through the base; a factor of 4 is exact.
    EXPECT_LE(max_abs_diff(*want_rebased, *got_factored), 1e-4);
    EXPECT_EQ(max_abs_diff(*want_linear, *got_uniform), 0.0);
  }
}

TEST(Decoder, MixtureOfExpertsAndSplitFilesAreClearErrors) {
  const char* name = "llama-gqa-spm-f32.gguf";
  TANDEM_REQUIRE_FIXTURES(std::string("models/") + name);
  testing::TempFile moe("moe.gguf");
  rewrite_fixture(name, moe, [](GgufWriter& w) { w.set("llama.expert_count", GgufValue::u32(8)); });
  auto m = DecoderModel::load(moe.path());
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("mixture of experts (llama.expert_count = 8) is not supported"), std::string::npos)
      << m.error().message;
  testing::TempFile part("split.gguf");
  rewrite_fixture(name, part, [](GgufWriter& w) { w.set("split.count", GgufValue::u16(3)); });
  m = DecoderModel::load(part.path());
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("one part of a split model (split.count = 3)"), std::string::npos)
      << m.error().message;
}

TEST(Decoder, BadRopeFrequencyFactorsAreAnError) {
  const char* name = "llama-gqa-spm-f32.gguf";
  TANDEM_REQUIRE_FIXTURES(std::string("models/") + name);
  testing::TempFile short_ff("rope_short.gguf"), zero_ff("rope_zero.gguf");
  rewrite_fixture(name, short_ff, [](GgufWriter& w) {
    ASSERT_TRUE(w.add_tensor_f32("rope_freqs.weight", {8}, std::vector<float>(8, 1.0f)).ok());
  });
  std::vector<float> zero(16, 1.0f);
  zero[3] = 0.0f;
  rewrite_fixture(name, zero_ff,
                  [&](GgufWriter& w) { ASSERT_TRUE(w.add_tensor_f32("rope_freqs.weight", {16}, zero).ok()); });
  auto a = DecoderModel::load(short_ff.path());
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().message.find("'rope_freqs.weight' has shape [8], expected [16]"), std::string::npos)
      << a.error().message;
  auto b = DecoderModel::load(zero_ff.path());
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("'rope_freqs.weight' holds 0 at 3"), std::string::npos) << b.error().message;
}

}  // namespace
}  // namespace tandem

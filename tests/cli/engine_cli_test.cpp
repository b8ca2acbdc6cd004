// The engine's commands as a user runs them: generate (streamed and --json),
// logits (the binary layout other tools read), perplexity, bench --json and
// gguf synth, plus one-line errors for bad input.
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tandem/model/decoder.h"
#include "test_util.h"

namespace tandem {
namespace {

using testing::quoted;
using testing::run;
using testing::TempFile;

using testing::cli;
std::string fixture(const std::string& f) { return testing::shared_dir() + "/fixtures/models/" + f; }

TEST(EngineCli, GenerateJsonReportsCounts) {
  TANDEM_REQUIRE_FIXTURES("models");
  auto r = run(cli() + " generate -m " + quoted(fixture("llama-gqa-spm-f32.gguf")) +
               " -p 'The quick brown fox' -n 12 --temp 0 --ignore-eos --json -t 1");
  ASSERT_EQ(r.status, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["n_generated"], 12);
  auto model = DecoderModel::load(fixture("llama-gqa-spm-f32.gguf"));
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(j["n_prompt"], (*model)->tokenizer().encode("The quick brown fox").size());
  EXPECT_GT(j["generation_tokens_per_s"].get<double>(), 0.0);
  EXPECT_TRUE(j["text"].is_string());
  // Streaming prints the same text after the prompt, then a timing line.
  auto s = run(cli() + " generate -m " + quoted(fixture("llama-gqa-spm-f32.gguf")) +
               " -p 'The quick brown fox' -n 12 --temp 0 --ignore-eos -t 1");
  ASSERT_EQ(s.status, 0);
  EXPECT_EQ(s.out.rfind("The quick brown fox" + j["text"].get<std::string>(), 0), 0u) << s.out;
  EXPECT_NE(s.out.find("t/s"), std::string::npos);
}

TEST(EngineCli, LogitsFileIsRowMajorFloat32) {
  TANDEM_REQUIRE_FIXTURES("models");
  TempFile out("logits.bin");
  auto r = run(cli() + " logits -m " + quoted(fixture("qwen2-gpt2-f32.gguf")) + " --tokens 464,627,624 -o " +
               quoted(out.path()) + " 2>/dev/null");
  ASSERT_EQ(r.status, 0);
  std::ifstream in(out.path(), std::ios::binary);
  std::vector<char> b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_EQ(b.size(), 3u * 2001 * 4);
  // Same numbers as the library's own evaluation.
  ThreadPool pool(1);
  auto model = DecoderModel::load(fixture("qwen2-gpt2-f32.gguf"));
  ASSERT_TRUE(model.ok());
  Sequence seq(*model, pool, {.n_ctx = 8});
  auto lg = seq.eval(std::vector<int32_t>{464, 627, 624}, Logits::kAll);
  ASSERT_TRUE(lg.ok());
  EXPECT_EQ(std::memcmp(b.data(), lg->data(), b.size()), 0);
}

TEST(EngineCli, BadInputIsOneLineAndNonZero) {
  TANDEM_REQUIRE_FIXTURES("models");
  auto r = run(cli() + " logits -m " + quoted(fixture("qwen2-gpt2-f32.gguf")) + " --tokens 1,99999 -o /dev/null 2>&1");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("outside the vocabulary"), std::string::npos) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  TempFile junk("junk.gguf", "GGUF\x03\x00\x00\x00 not really");
  r = run(cli() + " generate -m " + quoted(junk.path()) + " -p hi 2>&1");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("truncated"), std::string::npos) << r.out;
  r = run(cli() + " generate -m " + quoted(fixture("llama-mha-spm-f32.gguf")) + " --ctx 4 -p 'a b c d e f g h' 2>&1");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("context"), std::string::npos) << r.out;
}

TEST(EngineCli, SynthWritesALoadableModelAndBenchRunsIt) {
  TANDEM_REQUIRE_FIXTURES("tokenizer");
  TempFile model("synth.gguf");
  auto r = run(cli() + " gguf synth --arch llama --dim 256 --layers 2 --heads 4 --kv-heads 2 --ffn 512 --type Q4_K_M" +
               " --vocab-from " + quoted(testing::shared_dir() + "/fixtures/tokenizer/ggml-vocab-llama-spm.gguf") +
               " -o " + quoted(model.path()));
  ASSERT_EQ(r.status, 0) << r.out;
  auto f = GgufFile::open(model.path());
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->tensor("blk.0.attn_q.weight")->type, GgmlType::Q4_K);
  // The reference's use_more_bits(i, n) for n = 2 picks layer 1 only.
  EXPECT_EQ(f->tensor("blk.0.attn_v.weight")->type, GgmlType::Q4_K);
  EXPECT_EQ(f->tensor("blk.1.attn_v.weight")->type, GgmlType::Q6_K);
  EXPECT_EQ(f->tensor("blk.1.ffn_down.weight")->type, GgmlType::Q6_K);
  EXPECT_EQ(f->tensor("output.weight")->type, GgmlType::Q6_K);
  EXPECT_EQ(f->tensor("output.weight")->shape, (std::vector<uint64_t>{256, 32000}));
  r = run(cli() + " bench -m " + quoted(model.path()) + " -p 16 -n 8 -r 1 -t 1 --batches 1,5 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_GT(j["pp_tokens_per_s"].get<double>(), 0.0);
  EXPECT_GT(j["tg_tokens_per_s"].get<double>(), 0.0);
  ASSERT_EQ(j["batches"].size(), 2u);
  EXPECT_GT(j["batches"][1]["time_vs_1"].get<double>(), 0.0);
  // A forced kernel path (the scalar one runs anywhere), and a bad name.
  r = run(cli() + " bench -m " + quoted(model.path()) + " -p 4 -n 2 -r 1 -t 1 --isa scalar --json");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(nlohmann::json::parse(r.out)["isa"], "scalar");
  r = run(cli() + " bench -m " + quoted(model.path()) + " --isa sse9 2>&1");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("--isa is 'sse9'"), std::string::npos) << r.out;
  r = run(cli() + " gguf synth --dim 100 --heads 3 --vocab-from x -o /dev/null 2>&1");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("not a multiple of heads"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace tandem

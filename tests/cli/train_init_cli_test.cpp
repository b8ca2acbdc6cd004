// `tandem train --init FILE.gguf`: fine-tuning starts from the file's weights
// (a run with a vanishing learning rate exports the same model, so the same
// perplexity), learns from there (a few real steps lower the training loss
// the file starts with), and conflicts with the shape flags and --resume.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>

#include <gtest/gtest.h>

#include "test_util.h"

namespace tandem {
namespace {

using testing::quoted;
using testing::run;

using testing::cli;

TEST(TrainInitCli, StartsFromTheFilesWeights) {
  TANDEM_REQUIRE_FIXTURES("models/llama-mha-spm-f32.gguf");
  const std::string model = testing::shared_dir() + "/fixtures/models/llama-mha-spm-f32.gguf";
  std::string lines;
  for (int i = 0; i < 20; ++i) lines += "In the beginning God created the heaven and the earth. And God said, Let there be light.\n";
  testing::TempFile text("train_init.txt", lines), out("train_init.gguf"), out2("train_init2.gguf");
  const std::string train = cli() + " train --train " + quoted(text.path()) + " --tokenizer " + quoted(model) +
                            " --init " + quoted(model) + " --batch 1 --seq-len 32 -t 1 --eval-every 0 --type F32 -o ";
  auto r = run(train + quoted(out.path()) + " --steps 1 --lr 1e-12 --min-lr 1e-12 --warmup 0 --weight-decay 0 2>&1");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("init: weights of"), std::string::npos) << r.out;
  auto ppl = [&](const std::string& m) {
    auto p = run(cli() + " perplexity -m " + quoted(m) + " -f " + quoted(text.path()) + " --ctx 32 -t 1 --json");
    EXPECT_EQ(p.status, 0) << p.out;
    return p.status == 0 ? nlohmann::json::parse(p.out)["ppl"].get<double>() : -1.0;
  };
  const double before = ppl(model);
  EXPECT_NEAR(ppl(out.path()), before, 1e-4 * before);
  r = run(train + quoted(out2.path()) + " --steps 20 --lr 3e-3 --warmup 0 2>&1");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_LT(ppl(out2.path()), before);

  auto err = run(train + quoted(out.path()) + " --dim 64 2>&1");
  EXPECT_EQ(err.status, 1);
  EXPECT_NE(err.out.find("drop the shape flags"), std::string::npos) << err.out;
  err = run(train + quoted(out.path()) + " --resume /nonexistent.ckpt 2>&1");
  EXPECT_EQ(err.status, 1);
  EXPECT_NE(err.out.find("exclude each other"), std::string::npos) << err.out;
}

}  // namespace
}  // namespace tandem

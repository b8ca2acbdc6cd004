// `tandem tokenize` as a user runs it: the built binary, its stdout, stderr
// and exit status.
#include <string>

#include <gtest/gtest.h>

#include "test_util.h"

namespace tandem {
namespace {

using testing::quoted;
using testing::run;
using testing::TempFile;

std::string spm_model() { return testing::shared_dir() + "/fixtures/tokenizer/ggml-vocab-llama-spm.gguf"; }

TEST(TokenizeCli, PrintsIdsOnOneLine) {
  TANDEM_REQUIRE_FIXTURES("tokenizer");
  const std::string base = quoted(testing::cli_path()) + " tokenize -m " + quoted(spm_model());
  auto r = run(base + " -p 'Hello world' --ids");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "1 15043 3186\n");
  r = run(base + " -p 'Hello world' --ids --no-special");
  EXPECT_EQ(r.out, "15043 3186\n");
  r = run(base + " -p '<s>Hello' --ids --no-special --parse-special");
  EXPECT_EQ(r.out, "1 15043\n");
}

TEST(TokenizeCli, ReadsFileBytesExactly) {
  TANDEM_REQUIRE_FIXTURES("tokenizer");
  // A trailing newline and a tab must reach the tokenizer: <0x09> is 12, <0x0A> is 13.
  TempFile f("exact", "Hello\t\n");
  auto r = run(quoted(testing::cli_path()) + " tokenize -m " + quoted(spm_model()) + " -f " + quoted(f.path()) +
               " --ids --no-special");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "15043 12 13\n");
}

TEST(TokenizeCli, ListsTokensWithVisiblePieces) {
  TANDEM_REQUIRE_FIXTURES("tokenizer");
  TempFile f("list", "Hello\n");
  auto r = run(quoted(testing::cli_path()) + " tokenize -m " + quoted(spm_model()) + " -f " + quoted(f.path()));
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "     1 \"<s>\"\n 15043 \" Hello\"\n    13 \"\\n\"\n");
}

TEST(TokenizeCli, MissingFileIsOneLineError) {
  TANDEM_REQUIRE_FIXTURES("tokenizer");
  auto r = run(quoted(testing::cli_path()) + " tokenize -m " + quoted(spm_model()) +
               " -f /nonexistent/tandem/input.txt --ids 2>&1 >/dev/null");
  EXPECT_NE(r.status, 0);
  ASSERT_FALSE(r.out.empty());
  EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << r.out;
  EXPECT_NE(r.out.find("/nonexistent/tandem/input.txt"), std::string::npos) << r.out;
}

TEST(TokenizeCli, MissingModelIsOneLineError) {
  auto r = run(quoted(testing::cli_path()) + " tokenize -m /nonexistent/model.gguf -p hi 2>&1 >/dev/null");
  EXPECT_NE(r.status, 0);
  ASSERT_FALSE(r.out.empty());
  EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << r.out;
  EXPECT_EQ(r.out.rfind("tandem: error: ", 0), 0u) << r.out;
}

TEST(TokenizeCli, NeedsExactlyOneTextSource) {
  auto r = run(quoted(testing::cli_path()) + " tokenize -m /nonexistent/model.gguf 2>&1 >/dev/null");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("-p"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace tandem

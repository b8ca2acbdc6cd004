// `tandem corpus kjv` and `tandem train-tokenizer` as a user runs them: files
// written, summaries printed, errors as one line.
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "tandem/base/mapped_file.h"
#include "tandem/data/line_file.h"
#include "test_util.h"

namespace tandem {
namespace {

using testing::quoted;
using testing::run;
using testing::TempFile;

constexpr const char* kSample =
    "Ge1:1 In the beginning God created the heaven and the earth.\n"
    "Ge1:2 And the earth was without form, and void; and darkness was upon the face of the deep.\n"
    "Ge2:1 Thus the heavens and the earth were finished, and all the host of them.\n"
    "Ge2:2 And on the seventh day God ended his work which he had made.\n"
    "Exo1:1 Now these are the names of the children of Israel, which came into Egypt.\n"
    "Exo2:1 And there went a man of the house of Levi, and took to wife a daughter of Levi.\n";

class TempDir {
 public:
  explicit TempDir(const std::string& tag)
      : path_(std::filesystem::temp_directory_path() / ("tandem_test_" + std::to_string(::getpid()) + "_" + tag)) {}
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string str() const { return path_.string(); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

std::vector<std::string> lines_of(const std::string& path) {
  auto t = read_file(path);
  return t.ok() ? split_lines(*t) : std::vector<std::string>{};
}

TEST(CorpusCli, SplitsASavedBibleText) {
  TempFile in("kjv_in.txt", kSample);
  TempDir dir("kjv_out");
  auto r = run(quoted(testing::cli_path()) + " corpus kjv --input " + quoted(in.path()) + " -o " + quoted(dir.str()) +
               " --holdout-every 2");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("6 verses in 4 chapters"), std::string::npos) << r.out;
  // Chapters Ge1, Ge2, Exo1, Exo2: Ge2 and Exo2 are held out.
  EXPECT_EQ(lines_of(dir.file("train.txt")),
            (std::vector<std::string>{
                "In the beginning God created the heaven and the earth.",
                "And the earth was without form, and void; and darkness was upon the face of the deep.",
                "Now these are the names of the children of Israel, which came into Egypt.",
            }));
  EXPECT_EQ(lines_of(dir.file("valid.txt")),
            (std::vector<std::string>{
                "Thus the heavens and the earth were finished, and all the host of them.",
                "And on the seventh day God ended his work which he had made.",
                "And there went a man of the house of Levi, and took to wife a daughter of Levi.",
            }));
}

TEST(CorpusCli, MalformedInputIsOneLineError) {
  TempFile in("kjv_bad.txt", "Ge1:1 fine\nthis is no verse\n");
  TempDir dir("kjv_bad_out");
  auto r = run(quoted(testing::cli_path()) + " corpus kjv --input " + quoted(in.path()) + " -o " + quoted(dir.str()) +
               " 2>&1 >/dev/null");
  EXPECT_NE(r.status, 0);
  ASSERT_FALSE(r.out.empty());
  EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << r.out;
  EXPECT_NE(r.out.find("line 2"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir.file("train.txt")));
}

// The whole Bible through Debian's `bible` program, when it is installed.
TEST(CorpusCli, WholeKingJamesBible) {
  if (run("command -v bible >/dev/null 2>&1").status != 0)
    GTEST_SKIP() << "the bible program (Debian bible-kjv) is not installed";
  TempDir dir("kjv_full");
  auto r = run(quoted(testing::cli_path()) + " corpus kjv -o " + quoted(dir.str()));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("31102 verses in 1189 chapters"), std::string::npos) << r.out;
  const auto train = lines_of(dir.file("train.txt"));
  const auto valid = lines_of(dir.file("valid.txt"));
  EXPECT_EQ(train.size() + valid.size(), 31102u);
  EXPECT_EQ(train.front(), "In the beginning God created the heaven and the earth.");
  EXPECT_EQ(train.back(), "The grace of our Lord Jesus Christ be with you all. Amen.");
  // Genesis 20 is the first chapter held out.
  EXPECT_EQ(valid.front(),
            "And Abraham journeyed from thence toward the south country, and dwelled between Kadesh and Shur, and "
            "sojourned in Gerar.");
  // About 5% of the verses.
  EXPECT_GT(valid.size(), 31102u * 4 / 100);
  EXPECT_LT(valid.size(), 31102u * 6 / 100);
}

TEST(TrainTokenizerCli, TrainsWritesAndChecks) {
  std::string text;
  for (int i = 0; i < 20; ++i) text += kSample;
  // Only the verse texts, as `tandem corpus` leaves them.
  std::string train;
  for (const std::string& l : split_lines(text)) train += l.substr(l.find(' ') + 1) + "\n";
  TempFile in("tok_train.txt", train);
  TempFile check("tok_check.txt", "And God saw the light.\nNo word here is unseen: zebra 42 caf\xc3\xa9!\n");
  TempDir dir("tok_out");
  std::filesystem::create_directories(dir.str());
  const std::string gguf = dir.file("tok.gguf"), model = dir.file("tok.model");
  auto r = run(quoted(testing::cli_path()) + " train-tokenizer --input " + quoted(in.path()) +
               " --vocab-size 320 -o " + quoted(gguf) + " --spm-model " + quoted(model) + " --check " +
               quoted(check.path()));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("320 tokens"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2/2 lines tokenized identically"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("tokens/byte"), std::string::npos) << r.out;
  EXPECT_TRUE(std::filesystem::exists(model));

  // The file is a tokenizer the rest of tandem reads.
  r = run(quoted(testing::cli_path()) + " tokenize -m " + quoted(gguf) + " -p 'the earth' --ids");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out.rfind("1 ", 0), 0u) << r.out;  // BOS first
}

TEST(TrainTokenizerCli, MissingInputIsOneLineError) {
  TempDir dir("tok_missing");
  auto r = run(quoted(testing::cli_path()) + " train-tokenizer --input /nonexistent/tandem/train.txt -o " +
               quoted(dir.file("x.gguf")) + " 2>&1 >/dev/null");
  EXPECT_NE(r.status, 0);
  ASSERT_FALSE(r.out.empty());
  EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << r.out;
  EXPECT_NE(r.out.find("/nonexistent/tandem/train.txt"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace tandem

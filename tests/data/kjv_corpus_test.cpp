// The KJV corpus: references stripped, every verse kept exactly once, the
// chapter split deterministic, malformed input an error naming the line.
#include "tandem/data/kjv_corpus.h"

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tandem/base/mapped_file.h"
#include "tandem/data/line_file.h"
#include "test_util.h"

namespace tandem {
namespace {

// As `bible` prints it (book abbreviations with digits and several capitals,
// a trailing space, a blank line), five chapters in three books.
constexpr const char* kSample =
    "Ge1:1 In the beginning God created the heaven and the earth.\n"
    "Ge1:2 And the earth was without form, and void.\n"
    "Ge2:1 Thus the heavens and the earth were finished.\n"
    "Ge2:2 And on the seventh day God ended his work. \n"
    "Ge2:3 And God blessed the seventh day.\n"
    "\n"
    "1Sm1:1 Now there was a certain man of Ramathaimzophim.\n"
    "1Sm3:10 And the LORD came, and stood, and called as at other times, Samuel, Samuel.\n"
    "SSol1:1 The song of songs, which is Solomon's.\n"
    "SSol1:2 Let him kiss me with the kisses of his mouth: for thy love is better than wine.\n";

TEST(KjvCorpus, ParsesAndStripsReferences) {
  auto v = parse_bible_text(kSample, "sample");
  ASSERT_TRUE(v.ok()) << v.error().message;
  ASSERT_EQ(v->size(), 9u);
  EXPECT_EQ((*v)[0].book, "Ge");
  EXPECT_EQ((*v)[0].chapter, 1);
  EXPECT_EQ((*v)[0].verse, 1);
  EXPECT_EQ((*v)[0].text, "In the beginning God created the heaven and the earth.");
  EXPECT_EQ((*v)[3].text, "And on the seventh day God ended his work.");  // trailing space dropped
  EXPECT_EQ((*v)[6].book, "1Sm");
  EXPECT_EQ((*v)[6].chapter, 3);
  EXPECT_EQ((*v)[6].verse, 10);
  EXPECT_EQ((*v)[7].book, "SSol");
  EXPECT_EQ((*v)[7].text, "The song of songs, which is Solomon's.");
  for (const Verse& x : *v) {
    const std::string ref = x.book + std::to_string(x.chapter) + ":" + std::to_string(x.verse);
    EXPECT_EQ(x.text.find(ref), std::string::npos) << x.text;
    EXPECT_NE(x.text.front(), ' ') << x.text;
  }
}

TEST(KjvCorpus, SplitsByWholeChaptersKeepingEveryVerseOnce) {
  auto v = parse_bible_text(kSample, "sample");
  ASSERT_TRUE(v.ok());
  // Chapters in order: Ge1, Ge2, 1Sm1, 1Sm3, SSol1; every 2nd held out: Ge2 and 1Sm3.
  auto s = split_by_chapter(*v, CorpusSplitOptions{.holdout_every = 2});
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->n_chapters, 5);
  EXPECT_EQ(s->n_valid_chapters, 2);
  EXPECT_EQ(s->valid, (std::vector<std::string>{
                          "Thus the heavens and the earth were finished.",
                          "And on the seventh day God ended his work.",
                          "And God blessed the seventh day.",
                          "And the LORD came, and stood, and called as at other times, Samuel, Samuel.",
                      }));
  ASSERT_EQ(s->train.size(), 5u);
  EXPECT_EQ(s->train.front(), "In the beginning God created the heaven and the earth.");
  EXPECT_EQ(s->train.back(), "Let him kiss me with the kisses of his mouth: for thy love is better than wine.");

  // Nothing lost, nothing duplicated: train and valid together are the verses.
  std::vector<std::string> all, both;
  for (const Verse& x : *v) all.push_back(x.text);
  both = s->train;
  both.insert(both.end(), s->valid.begin(), s->valid.end());
  std::sort(all.begin(), all.end());
  std::sort(both.begin(), both.end());
  EXPECT_EQ(all, both);

  // Deterministic: the same input splits the same way.
  auto again = split_by_chapter(*v, CorpusSplitOptions{.holdout_every = 2});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->train, s->train);
  EXPECT_EQ(again->valid, s->valid);

  // The default holds out every 20th chapter: none of these five.
  auto d = split_by_chapter(*v);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->train.size(), 9u);
  EXPECT_TRUE(d->valid.empty());
}

TEST(KjvCorpus, RejectsAUselessHoldout) {
  auto v = parse_bible_text(kSample, "sample");
  ASSERT_TRUE(v.ok());
  auto s = split_by_chapter(*v, CorpusSplitOptions{.holdout_every = 1});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("holdout_every"), std::string::npos) << s.error().message;
}

void expect_error(const std::string& text, const std::string& part) {
  auto v = parse_bible_text(text, "in.txt");
  ASSERT_FALSE(v.ok()) << text;
  EXPECT_NE(v.error().message.find("in.txt"), std::string::npos) << v.error().message;
  EXPECT_NE(v.error().message.find(part), std::string::npos) << v.error().message;
}

TEST(KjvCorpus, MalformedInputNamesTheLine) {
  expect_error("Ge1:1 ok\nnot a verse\n", "line 2");
  expect_error("Ge1:1 ok\nGe1 no verse number\n", "line 2");
  expect_error("Ge1:1 ok\nGe1:x bad\n", "line 2");
  expect_error("Ge1:0 verse zero\n", "line 1");
  expect_error("Ge1:1Text without a space\n", "line 1");
  expect_error("Ge1:1 \n", "has no text");
  expect_error("Ge1:2 b\nGe1:2 b again\n", "must increase");
  expect_error("Ge1:1 a\nGe2:1 b\nGe1:2 c\n", "second time");
  expect_error("", "no verses");
  expect_error("\n\n", "no verses");
}

TEST(KjvCorpus, WritesTrainAndValidFiles) {
  auto v = parse_bible_text(kSample, "sample");
  ASSERT_TRUE(v.ok());
  auto s = split_by_chapter(*v, CorpusSplitOptions{.holdout_every = 2});
  ASSERT_TRUE(s.ok());
  const auto dir = std::filesystem::temp_directory_path() / ("tandem_test_kjv_" + std::to_string(::getpid())) / "sub";
  ASSERT_TRUE(write_corpus_split(*s, dir.string()).ok());
  auto train = read_file((dir / "train.txt").string());
  auto valid = read_file((dir / "valid.txt").string());
  ASSERT_TRUE(train.ok() && valid.ok());
  EXPECT_EQ(split_lines(*train), s->train);
  EXPECT_EQ(split_lines(*valid), s->valid);
  std::filesystem::remove_all(dir.parent_path());
}

}  // namespace
}  // namespace tandem

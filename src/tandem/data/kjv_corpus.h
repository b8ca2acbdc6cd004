// The King James Bible as the house models' corpus. Debian's bible-kjv prints
// it (`bible -f gen1:1-rev22:21`) one verse per line, each prefixed with its
// reference: "Ge1:1 In the beginning God created the heaven and the earth."
// This component parses that text, strips the references and splits the verses
// into train and validation by whole chapters: every Nth chapter (counted
// across the whole Bible, the first chapter being 1) is held out. Whole
// chapters keep adjacent, near-identical verses out of the other side, and
// taking them from every book keeps validation's style that of the corpus
// (holding out the last books instead would validate mostly on the Gospels'
// and Revelation's idiom). With N = 20, 59 of the 1,189 chapters and about 5%
// of the verses are held out.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/result.h"

namespace tandem {

struct Verse {
  std::string book;  // the abbreviation as printed: "Ge", "1Sm", "SSol", "Rev"
  int32_t chapter = 0;
  int32_t verse = 0;
  std::string text;  // without the reference and the space after it
};

// Parses the whole output of `bible`. Blank lines are skipped; every other line
// must be "BOOK CHAPTER:VERSE TEXT" (book: an optional digit and letters).
// Trailing whitespace is dropped from the text (one KJV verse ends in a space).
// Errors name `source` and the line: a line without a reference, an empty
// verse, verse numbers that do not increase within a chapter, or a chapter
// that appears twice (each would lose or duplicate verses in the split).
Result<std::vector<Verse>> parse_bible_text(std::string_view text, std::string_view source);

struct CorpusSplitOptions {
  int32_t holdout_every = 20;  // chapter ordinals divisible by this go to validation; >= 2
};

struct CorpusSplit {
  std::vector<std::string> train;  // verse texts in Bible order
  std::vector<std::string> valid;
  int32_t n_chapters = 0;
  int32_t n_valid_chapters = 0;
};

Result<CorpusSplit> split_by_chapter(const std::vector<Verse>& verses, const CorpusSplitOptions& opt = {});

// Creates `dir` when needed and writes DIR/train.txt and DIR/valid.txt, one verse per line.
Status write_corpus_split(const CorpusSplit& split, const std::string& dir);

}  // namespace tandem

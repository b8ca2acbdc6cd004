// Parsing and splitting the King James Bible corpus: see kjv_corpus.h.
#include "tandem/data/kjv_corpus.h"

#include <cctype>
#include <charconv>
#include <filesystem>
#include <set>
#include <utility>

#include "tandem/data/line_file.h"

namespace tandem {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

// A positive decimal number at s[pos..], advancing pos; false when there is none.
bool read_number(std::string_view s, size_t& pos, int32_t& out) {
  size_t end = pos;
  while (end < s.size() && is_digit(s[end])) ++end;
  if (end == pos) return false;
  auto [ptr, ec] = std::from_chars(s.data() + pos, s.data() + end, out);
  if (ec != std::errc() || ptr != s.data() + end || out <= 0) return false;
  pos = end;
  return true;
}

// Splits "Ge1:1 text" into its parts; false when the line has no reference.
bool parse_line(std::string_view line, Verse& v) {
  size_t pos = 0;
  if (pos < line.size() && is_digit(line[pos])) ++pos;  // "1Sm", "2Cor"
  const size_t letters = pos;
  while (pos < line.size() && is_alpha(line[pos])) ++pos;
  if (pos == letters) return false;
  v.book.assign(line.substr(0, pos));
  if (!read_number(line, pos, v.chapter)) return false;
  if (pos >= line.size() || line[pos] != ':') return false;
  ++pos;
  if (!read_number(line, pos, v.verse)) return false;
  if (pos >= line.size() || line[pos] != ' ') return false;
  std::string_view text = line.substr(pos + 1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  v.text.assign(text);
  return true;
}

}  // namespace

Result<std::vector<Verse>> parse_bible_text(std::string_view text, std::string_view source) {
  std::vector<Verse> verses;
  std::set<std::pair<std::string, int32_t>> chapters_seen;
  size_t line_no = 0;
  for (const std::string& raw : split_lines(text)) {
    ++line_no;
    if (raw.find_first_not_of(" \t") == std::string::npos) continue;
    Verse v;
    if (!parse_line(raw, v))
      return make_error(source, ": line ", line_no, ": expected a verse as 'BOOK CHAPTER:VERSE TEXT' (e.g. 'Ge1:1 In the "
                        "beginning...'), found '", raw.substr(0, 60), "'");
    const std::string ref = v.book + std::to_string(v.chapter) + ":" + std::to_string(v.verse);
    if (v.text.empty()) return make_error(source, ": line ", line_no, ": verse ", ref, " has no text");
    const bool same_chapter = !verses.empty() && verses.back().book == v.book && verses.back().chapter == v.chapter;
    if (same_chapter) {
      if (v.verse <= verses.back().verse)
        return make_error(source, ": line ", line_no, ": verse ", ref, " follows verse ", verses.back().verse,
                          " of the same chapter (verse numbers must increase)");
    } else if (!chapters_seen.insert({v.book, v.chapter}).second) {
      return make_error(source, ": line ", line_no, ": chapter ", v.book, v.chapter,
                        " appears a second time, apart from its first verses");
    }
    verses.push_back(std::move(v));
  }
  if (verses.empty()) return make_error(source, ": no verses found");
  return verses;
}

Result<CorpusSplit> split_by_chapter(const std::vector<Verse>& verses, const CorpusSplitOptions& opt) {
  if (opt.holdout_every < 2)
    return make_error("corpus split: holdout_every is ", opt.holdout_every,
                      " (expected >= 2; 1 would hold out every chapter)");
  CorpusSplit s;
  bool held_out = false;
  for (size_t i = 0; i < verses.size(); ++i) {
    const Verse& v = verses[i];
    if (i == 0 || v.book != verses[i - 1].book || v.chapter != verses[i - 1].chapter) {
      ++s.n_chapters;
      held_out = s.n_chapters % opt.holdout_every == 0;
      if (held_out) ++s.n_valid_chapters;
    }
    (held_out ? s.valid : s.train).push_back(v.text);
  }
  return s;
}

Status write_corpus_split(const CorpusSplit& split, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return make_error(dir, ": cannot create directory: ", ec.message());
  TANDEM_TRY(write_lines((std::filesystem::path(dir) / "train.txt").string(), split.train));
  TANDEM_TRY(write_lines((std::filesystem::path(dir) / "valid.txt").string(), split.valid));
  return ok_status();
}

}  // namespace tandem

// Build-time generator of the Unicode tables behind tandem/tokenizer/unicode.h.
// Reads the Unicode Character Database that Debian ships (unicode-data:
// UnicodeData.txt and PropList.txt) and writes unicode_tables.h/.cpp with:
//   - flags of every code point (unicode::Flag bits) as a two-stage table:
//     code points are cut into 128-entry blocks, identical blocks are stored
//     once, so lookup is two loads and the table stays small;
//   - the simple lowercase mapping (UnicodeData field 13), sorted for binary search;
//   - canonical decompositions (field 5 without a <tag>), one step each;
//   - canonical combining classes (field 3) as ranges, for NFD reordering.
// The tables are generated rather than committed so that they always come from
// the database the build machine has, and so a reviewer never reads 10k lines
// of numbers.
//
// Usage: gen_unicode UnicodeData.txt PropList.txt OUTPUT_DIR
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "tandem/tokenizer/unicode.h"

namespace {

constexpr uint32_t kMaxCodePoint = 0x110000;
constexpr int kBlockShift = 7;
constexpr uint32_t kBlockSize = 1u << kBlockShift;

struct Database {
  std::vector<uint16_t> flags;
  std::vector<uint8_t> ccc;
  std::vector<std::pair<uint32_t, uint32_t>> lowercase;
  std::vector<std::tuple<uint32_t, uint32_t, uint32_t>> decompositions;  // cp, first, second (0: singleton)
};

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : line) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

bool parse_hex(const std::string& s, uint32_t& out) {
  if (s.empty() || s.size() > 6) return false;
  uint32_t v = 0;
  for (char c : s) {
    const size_t digit = std::string_view("0123456789ABCDEF").find(c);
    if (digit == std::string_view::npos) return false;  // UnicodeData.txt writes upper case
    v = (v << 4) | static_cast<uint32_t>(digit);
  }
  out = v;
  return v < kMaxCodePoint;
}

// Flags of a general category, as the reference tokenizer's classes define them
// (Python `regex` \p{L} ... \p{C}; \p{C} includes unassigned code points).
uint16_t category_flags(const std::string& gc) {
  using namespace tandem::unicode;
  if (gc.size() != 2) return kControl;
  switch (gc[0]) {
    case 'L':
      return static_cast<uint16_t>(kLetter | (gc == "Ll" ? kLowercase : 0) | (gc == "Lu" ? kUppercase : 0));
    case 'M':
      return static_cast<uint16_t>(kAccentMark | (gc == "Mn" ? kNonSpacingMark : 0));
    case 'N':
      return kNumber;
    case 'P':
      return kPunctuation;
    case 'S':
      return kSymbol;
    case 'Z':
      return kSeparator;
    default:
      return kControl;  // Cc Cf Cs Co Cn
  }
}

bool fail(const std::string& file, size_t line_no, const std::string& what) {
  std::fprintf(stderr, "gen_unicode: %s:%zu: %s\n", file.c_str(), line_no, what.c_str());
  return false;
}

bool read_unicode_data(const std::string& path, Database& db) {
  std::ifstream in(path);
  if (!in) return fail(path, 0, "cannot open (install Debian's unicode-data: scripts/setup.sh)");
  db.flags.assign(kMaxCodePoint, category_flags("Cn"));
  db.ccc.assign(kMaxCodePoint, 0);
  std::string line;
  size_t line_no = 0;
  uint32_t range_first = 0;
  bool in_range = false;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    std::vector<std::string> f = split(line, ';');
    if (f.size() < 15) return fail(path, line_no, "expected 15 fields, found " + std::to_string(f.size()));
    uint32_t cp = 0;
    if (!parse_hex(f[0], cp)) return fail(path, line_no, "bad code point '" + f[0] + "'");
    const std::string& name = f[1];
    const uint16_t flags = category_flags(f[2]);
    const int ccc = std::stoi(f[3]);
    if (name.size() > 8 && name.compare(name.size() - 8, 8, ", First>") == 0) {
      range_first = cp;
      in_range = true;
      continue;
    }
    uint32_t first = cp;
    if (name.size() > 7 && name.compare(name.size() - 7, 7, ", Last>") == 0) {
      if (!in_range) return fail(path, line_no, "range end without a start");
      first = range_first;
      in_range = false;
    }
    for (uint32_t c = first; c <= cp; ++c) {
      db.flags[c] = flags;
      db.ccc[c] = static_cast<uint8_t>(ccc);
    }
    uint32_t lower = 0;
    if (!f[13].empty()) {
      if (!parse_hex(f[13], lower)) return fail(path, line_no, "bad lowercase mapping '" + f[13] + "'");
      if (lower != cp) db.lowercase.emplace_back(cp, lower);
    }
    const std::string& dec = f[5];
    if (!dec.empty() && dec[0] != '<') {  // canonical (a <tag> marks a compatibility one)
      std::vector<std::string> parts = split(trim(dec), ' ');
      uint32_t a = 0, b = 0;
      if (parts.empty() || parts.size() > 2 || !parse_hex(parts[0], a) ||
          (parts.size() == 2 && !parse_hex(parts[1], b)))
        return fail(path, line_no, "bad canonical decomposition '" + dec + "'");
      db.decompositions.emplace_back(cp, a, b);
    }
  }
  if (line_no == 0) return fail(path, 0, "empty file");
  return true;
}

bool read_prop_list(const std::string& path, Database& db) {
  std::ifstream in(path);
  if (!in) return fail(path, 0, "cannot open (install Debian's unicode-data: scripts/setup.sh)");
  std::string line;
  size_t line_no = 0, n_white = 0;
  while (std::getline(in, line)) {
    ++line_no;
    size_t hash = line.find('#');
    std::string body = trim(line.substr(0, hash));
    if (body.empty()) continue;
    std::vector<std::string> f = split(body, ';');
    if (f.size() != 2) return fail(path, line_no, "expected 'range ; property'");
    if (trim(f[1]) != "White_Space") continue;
    std::string range = trim(f[0]);
    uint32_t a = 0, b = 0;
    size_t dots = range.find("..");
    bool ok = dots == std::string::npos ? parse_hex(range, a) && parse_hex(range, b)
                                        : parse_hex(range.substr(0, dots), a) && parse_hex(range.substr(dots + 2), b);
    if (!ok || b < a) return fail(path, line_no, "bad range '" + range + "'");
    for (uint32_t c = a; c <= b; ++c) db.flags[c] |= tandem::unicode::kWhitespace;
    n_white += b - a + 1;
  }
  if (n_white == 0) return fail(path, line_no, "no White_Space entries");
  return true;
}

// Facts every later stage relies on; a database that breaks them is not one we understand.
bool sanity_check(const Database& db) {
  using namespace tandem::unicode;
  struct Check {
    uint32_t cp;
    uint16_t must;
  };
  for (Check c : {Check{'A', kLetter | kUppercase}, Check{'a', kLetter | kLowercase}, Check{'0', kNumber},
                  Check{' ', kWhitespace | kSeparator}, Check{'\n', kWhitespace | kControl}, Check{'!', kPunctuation},
                  Check{'+', kSymbol}, Check{0x301, kAccentMark | kNonSpacingMark}, Check{0x4E00, kLetter},
                  Check{0x3000, kWhitespace}, Check{0x10FFFF, kControl}}) {
    if ((db.flags[c.cp] & c.must) != c.must) {
      std::fprintf(stderr, "gen_unicode: U+%04X has flags 0x%04X, expected at least 0x%04X\n", c.cp, db.flags[c.cp],
                   c.must);
      return false;
    }
  }
  if (db.lowercase.size() < 1000 || db.decompositions.size() < 1000) {
    std::fprintf(stderr, "gen_unicode: too few mappings (%zu lowercase, %zu decompositions)\n", db.lowercase.size(),
                 db.decompositions.size());
    return false;
  }
  return true;
}

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    std::fprintf(stderr, "gen_unicode: cannot write %s\n", path.c_str());
    return false;
  }
  return true;
}

void append_hex(std::ostringstream& os, uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%X", v);
  os << buf;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s UnicodeData.txt PropList.txt OUTPUT_DIR\n", argv[0]);
    return 2;
  }
  Database db;
  if (!read_unicode_data(argv[1], db) || !read_prop_list(argv[2], db) || !sanity_check(db)) return 1;

  // Two-stage flags table: identical 128-code-point blocks are stored once.
  std::map<std::vector<uint16_t>, uint16_t> block_ids;
  std::vector<uint16_t> stage1;
  std::vector<uint16_t> stage2;
  for (uint32_t base = 0; base < kMaxCodePoint; base += kBlockSize) {
    std::vector<uint16_t> block(db.flags.begin() + base, db.flags.begin() + base + kBlockSize);
    auto it = block_ids.find(block);
    if (it == block_ids.end()) {
      it = block_ids.emplace(block, static_cast<uint16_t>(block_ids.size())).first;
      stage2.insert(stage2.end(), block.begin(), block.end());
    }
    stage1.push_back(it->second);
  }

  std::vector<std::tuple<uint32_t, uint32_t, uint8_t>> ccc_ranges;
  for (uint32_t c = 0; c < kMaxCodePoint; ++c) {
    if (db.ccc[c] == 0) continue;
    if (!ccc_ranges.empty() && std::get<1>(ccc_ranges.back()) + 1 == c && std::get<2>(ccc_ranges.back()) == db.ccc[c])
      std::get<1>(ccc_ranges.back()) = c;
    else
      ccc_ranges.emplace_back(c, c, db.ccc[c]);
  }

  const std::string out_dir = argv[3];
  std::ostringstream h;
  h << "// Generated by tools/gen_unicode.cpp from the Unicode Character Database; do not edit.\n"
       "#pragma once\n\n#include <cstdint>\n\nnamespace tandem::unicode::tables {\n\n"
       "inline constexpr int kFlagBlockShift = "
    << kBlockShift << ";\ninline constexpr uint32_t kFlagStage1Size = " << stage1.size()
    << ";\n"
       "extern const uint16_t kFlagStage1[];  // block index per 128 code points\n"
       "extern const uint16_t kFlagStage2[];  // flags, 128 per distinct block\n\n"
       "struct LowercaseEntry {\n  uint32_t cp, lower;\n};\n"
       "extern const LowercaseEntry kLowercase[];  // sorted by cp\n"
       "extern const uint32_t kLowercaseCount;\n\n"
       "struct DecompositionEntry {\n  uint32_t cp, first, second;  // second is 0 for a singleton\n};\n"
       "extern const DecompositionEntry kDecompositions[];  // sorted by cp\n"
       "extern const uint32_t kDecompositionCount;\n\n"
       "struct CombiningClassRange {\n  uint32_t first, last;\n  uint8_t ccc;\n};\n"
       "extern const CombiningClassRange kCombiningClasses[];  // sorted, non-zero classes only\n"
       "extern const uint32_t kCombiningClassCount;\n\n"
       "}  // namespace tandem::unicode::tables\n";

  std::ostringstream c;
  c << "// Generated by tools/gen_unicode.cpp from the Unicode Character Database; do not edit.\n"
       "#include \"unicode_tables.h\"\n\nnamespace tandem::unicode::tables {\n\n";
  c << "const uint16_t kFlagStage1[] = {";
  for (size_t i = 0; i < stage1.size(); ++i) {
    c << (i % 24 == 0 ? "\n" : " ") << stage1[i] << ",";
  }
  c << "\n};\n\nconst uint16_t kFlagStage2[] = {";
  for (size_t i = 0; i < stage2.size(); ++i) {
    c << (i % 16 == 0 ? "\n" : " ");
    append_hex(c, stage2[i]);
    c << ",";
  }
  c << "\n};\n\nconst LowercaseEntry kLowercase[] = {";
  for (size_t i = 0; i < db.lowercase.size(); ++i) {
    c << (i % 6 == 0 ? "\n" : " ") << "{";
    append_hex(c, db.lowercase[i].first);
    c << ", ";
    append_hex(c, db.lowercase[i].second);
    c << "},";
  }
  c << "\n};\nconst uint32_t kLowercaseCount = " << db.lowercase.size() << ";\n\n";
  c << "const DecompositionEntry kDecompositions[] = {";
  for (size_t i = 0; i < db.decompositions.size(); ++i) {
    const auto& [cp, a, b] = db.decompositions[i];
    c << (i % 4 == 0 ? "\n" : " ") << "{";
    append_hex(c, cp);
    c << ", ";
    append_hex(c, a);
    c << ", ";
    append_hex(c, b);
    c << "},";
  }
  c << "\n};\nconst uint32_t kDecompositionCount = " << db.decompositions.size() << ";\n\n";
  c << "const CombiningClassRange kCombiningClasses[] = {";
  for (size_t i = 0; i < ccc_ranges.size(); ++i) {
    const auto& [a, b, k] = ccc_ranges[i];
    c << (i % 4 == 0 ? "\n" : " ") << "{";
    append_hex(c, a);
    c << ", ";
    append_hex(c, b);
    c << ", " << static_cast<int>(k) << "},";
  }
  c << "\n};\nconst uint32_t kCombiningClassCount = " << ccc_ranges.size()
    << ";\n\n}  // namespace tandem::unicode::tables\n";

  if (!write_file(out_dir + "/unicode_tables.h", h.str()) || !write_file(out_dir + "/unicode_tables.cpp", c.str()))
    return 1;
  std::printf("gen_unicode: %zu flag blocks, %zu lowercase, %zu decompositions, %zu combining-class ranges\n",
              block_ids.size(), db.lowercase.size(), db.decompositions.size(), ccc_ranges.size());
  return 0;
}

// Unicode tables and UTF-8 coding: categories and White_Space as the reference
// tokenizer defines them, lowercase and NFD (Hangul, nesting, reordering), and
// UTF-8 decoding of invalid input exactly as the reference does it.
#include "tandem/tokenizer/unicode.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace tandem::unicode {
namespace {

using Cps = std::vector<uint32_t>;

TEST(Unicode, FlagsFollowTheGeneralCategory) {
  EXPECT_EQ(flags('A'), kLetter | kUppercase);
  EXPECT_EQ(flags('z'), kLetter | kLowercase);
  EXPECT_EQ(flags(0x4E2D), kLetter);  // 中, Lo
  EXPECT_EQ(flags(0x01C5), kLetter);  // ǅ, Lt: neither upper nor lower
  EXPECT_EQ(flags('7'), kNumber);
  EXPECT_EQ(flags(0x0663), kNumber);  // Arabic-Indic three
  EXPECT_EQ(flags(0x00BD), kNumber);  // ½, No
  EXPECT_EQ(flags(0x216B), kNumber);  // Ⅻ, Nl
  EXPECT_EQ(flags('!'), kPunctuation);
  EXPECT_EQ(flags(0x060C), kPunctuation);  // Arabic comma
  EXPECT_EQ(flags('~'), kSymbol);
  EXPECT_EQ(flags(0x20AC), kSymbol);   // €
  EXPECT_EQ(flags(0x1F600), kSymbol);  // 😀
  EXPECT_EQ(flags(0x0301), kAccentMark | kNonSpacingMark);
  EXPECT_EQ(flags(0x0903), kAccentMark);  // Devanagari visarga, Mc
  EXPECT_EQ(flags(0x200D), kControl);     // ZWJ, Cf
  EXPECT_EQ(flags(0xE000), kControl);     // private use
  EXPECT_EQ(flags(0xD800), kControl);     // surrogate
  EXPECT_EQ(flags(0x0378), kControl);     // unassigned counts as \p{C}, as in the reference
  EXPECT_EQ(flags(0x10FFFF), kControl);
  EXPECT_EQ(flags(0x110000), kUndefined);  // past Unicode: no category at all
  EXPECT_EQ(flags(0x9FFF), kLetter);       // inside a UnicodeData First/Last range
  EXPECT_EQ(flags(0x20000), kLetter);
}

TEST(Unicode, WhitespaceIsExactlyTheWhiteSpaceProperty) {
  const Cps expected = {0x09,   0x0A,   0x0B,   0x0C,   0x0D,   0x20,   0x85,   0xA0,   0x1680,
                        0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008,
                        0x2009, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000};
  Cps found;
  for (uint32_t cp = 0; cp < 0x110000; ++cp)
    if (is_whitespace(cp)) found.push_back(cp);
  EXPECT_EQ(found, expected);
  // Separators and controls keep their category next to the whitespace flag.
  EXPECT_EQ(flags(' '), kSeparator | kWhitespace);
  EXPECT_EQ(flags('\n'), kControl | kWhitespace);
  EXPECT_EQ(flags(0x3000), kSeparator | kWhitespace);
  EXPECT_FALSE(is_whitespace(0x200B));  // zero width space is Cf, not White_Space
  EXPECT_FALSE(is_whitespace(0x1C));
}

TEST(Unicode, EveryCodePointHasExactlyOneCategory) {
  const uint16_t categories = kNumber | kLetter | kSeparator | kAccentMark | kPunctuation | kSymbol | kControl;
  for (uint32_t cp = 0; cp < 0x110000; ++cp) {
    const uint16_t c = flags(cp) & categories;
    ASSERT_TRUE(c != 0 && (c & (c - 1)) == 0) << "U+" << std::hex << cp << " flags " << flags(cp);
  }
}

TEST(Unicode, LowercasesWithTheSimpleMapping) {
  EXPECT_EQ(to_lower('A'), uint32_t{'a'});
  EXPECT_EQ(to_lower('a'), uint32_t{'a'});
  EXPECT_EQ(to_lower('1'), uint32_t{'1'});
  EXPECT_EQ(to_lower(0xC9), 0xE9u);        // É
  EXPECT_EQ(to_lower(0x0130), 0x69u);      // İ -> i (the reference keeps the first of "i̇")
  EXPECT_EQ(to_lower(0x01C5), 0x01C6u);    // ǅ -> ǆ
  EXPECT_EQ(to_lower(0x0410), 0x0430u);    // Cyrillic А
  EXPECT_EQ(to_lower(0x212A), 0x6Bu);      // Kelvin sign -> k
  EXPECT_EQ(to_lower(0x10400), 0x10428u);  // Deseret
  EXPECT_EQ(to_lower(0x4E2D), 0x4E2Du);
}

TEST(Unicode, DecomposesCanonically) {
  Cps out;
  append_nfd(0xE9, out);  // é
  EXPECT_EQ(out, (Cps{'e', 0x301}));
  out.clear();
  append_nfd(0x1E69, out);  // ṩ nests: ṣ + dot above, ṣ = s + dot below
  EXPECT_EQ(out, (Cps{'s', 0x323, 0x307}));
  out.clear();
  append_nfd(0xD55C, out);  // 한: L V T
  EXPECT_EQ(out, (Cps{0x1112, 0x1161, 0x11AB}));
  out.clear();
  append_nfd(0xAC00, out);  // 가: L V, no trailing consonant
  EXPECT_EQ(out, (Cps{0x1100, 0x1161}));
  out.clear();
  append_nfd(0x212B, out);  // Angstrom sign: singleton to Å, then A + ring
  EXPECT_EQ(out, (Cps{'A', 0x30A}));
  out.clear();
  append_nfd(0xFB01, out);  // ﬁ has only a compatibility decomposition
  EXPECT_EQ(out, (Cps{0xFB01}));
  // Marks are put in canonical order: dot below (220) before dot above (230).
  EXPECT_EQ(nfd({'q', 0x307, 0x323}), (Cps{'q', 0x323, 0x307}));
  EXPECT_EQ(nfd({0x1E0B, 0x323}), (Cps{'d', 0x323, 0x307}));  // ḋ + dot below
  // Equal classes keep their order; a starter ends a run.
  EXPECT_EQ(nfd({'a', 0x301, 0x300, 'b', 0x301}), (Cps{'a', 0x301, 0x300, 'b', 0x301}));
}

TEST(Unicode, DecodesValidUtf8) {
  EXPECT_EQ(utf8_decode("a\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80"), (Cps{'a', 0xE9, 0x4E2D, 0x1F600}));
  EXPECT_TRUE(utf8_decode("").empty());
  EXPECT_EQ(utf8_decode(std::string("\0x", 2)), (Cps{0, 'x'}));
}

TEST(Unicode, DecodesInvalidUtf8AsTheReference) {
  // Bad lead bytes and broken or truncated sequences give U+FFFD for one byte,
  // then decoding goes on with the next byte.
  EXPECT_EQ(utf8_decode("\x80"), (Cps{0xFFFD}));
  EXPECT_EQ(utf8_decode("a\xbf"
                        "b"),
            (Cps{'a', 0xFFFD, 'b'}));
  EXPECT_EQ(utf8_decode("\xc3"), (Cps{0xFFFD}));
  EXPECT_EQ(utf8_decode("\xc3("), (Cps{0xFFFD, '('}));
  EXPECT_EQ(utf8_decode("\xe2\x82"), (Cps{0xFFFD, 0xFFFD}));
  EXPECT_EQ(utf8_decode("\xf0\x9f\x98"), (Cps{0xFFFD, 0xFFFD, 0xFFFD}));
  EXPECT_EQ(utf8_decode("\xf8\x88\x80\x80\x80"), (Cps{0xFFFD, 0xFFFD, 0xFFFD, 0xFFFD, 0xFFFD}));
  EXPECT_EQ(utf8_decode("\xff"), (Cps{0xFFFD}));
  // Well-formed bit patterns are taken as they are: overlong forms, surrogates,
  // values past U+10FFFF.
  EXPECT_EQ(utf8_decode("\xc0\x80"), (Cps{0}));
  EXPECT_EQ(utf8_decode("\xe0\x81\x81"), (Cps{'A'}));
  EXPECT_EQ(utf8_decode("\xed\xa0\x80"), (Cps{0xD800}));
  EXPECT_EQ(utf8_decode("\xf4\x90\x80\x80"), (Cps{0x110000}));
  EXPECT_EQ(utf8_decode("\xf7\xbf\xbf\xbf"), (Cps{0x1FFFFF}));
  size_t pos = 1;
  EXPECT_EQ(utf8_next("a\xe4\xb8\xad", pos), 0x4E2Du);
  EXPECT_EQ(pos, 4u);
}

TEST(Unicode, EncodesAndRoundTrips) {
  EXPECT_EQ(utf8_encode({'a', 0xE9, 0x4E2D, 0x1F600}), "a\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80");
  EXPECT_EQ(utf8_encode({0x110000}), "\xf4\x90\x80\x80");  // kept in the form it was decoded from
  EXPECT_EQ(utf8_encode({0x200000}), "\xef\xbf\xbd");
  std::mt19937 rng(7);
  std::uniform_int_distribution<uint32_t> any(0, 0x10FFFF);
  for (int i = 0; i < 2000; ++i) {
    Cps cps;
    for (int k = 0; k < 8; ++k) cps.push_back(any(rng));
    EXPECT_EQ(utf8_decode(utf8_encode(cps)), cps);
  }
}

TEST(Unicode, Utf8LengthFromTheLeadByte) {
  EXPECT_EQ(utf8_len('a'), 1u);
  EXPECT_EQ(utf8_len(0xC3), 2u);
  EXPECT_EQ(utf8_len(0xE4), 3u);
  EXPECT_EQ(utf8_len(0xF0), 4u);
  EXPECT_EQ(utf8_len(0x80), 1u);
  EXPECT_EQ(utf8_len(0xBF), 1u);
}

}  // namespace
}  // namespace tandem::unicode

// Unicode facts the tokenizers need, from tables generated at build time out of
// Debian's Unicode Character Database (unicode-data): general category classes,
// White_Space, simple lowercase mapping, canonical decomposition (NFD), and
// UTF-8 encoding/decoding with the reference tokenizer's handling of invalid input.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::unicode {

// Bit flags of a code point (several may be set, e.g. kWhitespace | kSeparator).
enum Flag : uint16_t {
  kUndefined = 0,
  kNumber = 1 << 0,       // \p{N}: Nd Nl No
  kLetter = 1 << 1,       // \p{L}: Lu Ll Lt Lm Lo
  kSeparator = 1 << 2,    // \p{Z}: Zs Zl Zp
  kAccentMark = 1 << 3,   // \p{M}: Mn Mc Me
  kPunctuation = 1 << 4,  // \p{P}: Pc Pd Ps Pe Pi Pf Po
  kSymbol = 1 << 5,       // \p{S}: Sm Sc Sk So
  kControl = 1 << 6,      // \p{C}: Cc Cf Cs Co Cn (unassigned included)
  kWhitespace = 1 << 7,   // White_Space property (PropList.txt)
  kLowercase = 1 << 8,    // Ll
  kUppercase = 1 << 9,    // Lu
  kNonSpacingMark = 1 << 10,  // Mn (BERT strips these after NFD)
};

uint16_t flags(uint32_t cp);
inline bool is_letter(uint32_t cp) { return flags(cp) & kLetter; }
inline bool is_number(uint32_t cp) { return flags(cp) & kNumber; }
inline bool is_punctuation(uint32_t cp) { return flags(cp) & kPunctuation; }
inline bool is_whitespace(uint32_t cp) { return flags(cp) & kWhitespace; }

// Simple (one-to-one) lowercase mapping from UnicodeData.txt; cp itself when none.
uint32_t to_lower(uint32_t cp);

// Appends the full canonical decomposition (NFD, recursive, Hangul included) of cp
// to out, in canonical order for a single code point.
void append_nfd(uint32_t cp, std::vector<uint32_t>& out);
// NFD of a sequence, with canonical reordering of combining marks.
std::vector<uint32_t> nfd(const std::vector<uint32_t>& cps);

// UTF-8. Decoding follows the reference tokenizer: an invalid or truncated
// sequence becomes U+FFFD and decoding resumes at the next byte.
std::vector<uint32_t> utf8_decode(std::string_view s);
// Decodes the one code point starting at s[pos] (pos < s.size()) the same way and
// advances pos past the bytes it used.
uint32_t utf8_next(std::string_view s, size_t& pos);
void utf8_append(uint32_t cp, std::string& out);
std::string utf8_encode(const std::vector<uint32_t>& cps);
// Length in bytes of the UTF-8 sequence starting with byte c (1 for continuation bytes).
// As the reference reads it from the high nibble: continuation bytes count 1,
// and F8..FF count 4 like F0..F7.
inline size_t utf8_len(unsigned char c) {
  return c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

}  // namespace tandem::unicode

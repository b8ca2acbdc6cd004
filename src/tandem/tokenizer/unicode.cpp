// Unicode facts for the tokenizers, looked up in the tables that
// tools/gen_unicode.cpp generates from the Unicode Character Database at build
// time, and UTF-8 coding that treats invalid input exactly as the reference
// tokenizer (llama.cpp's unicode.cpp) does, since the token ids of malformed
// text must match too.
#include "tandem/tokenizer/unicode.h"

#include <algorithm>

#include "unicode_tables.h"

namespace tandem::unicode {
namespace {

namespace t = tables;

constexpr uint32_t kMaxCodePoint = 0x110000;
constexpr uint32_t kReplacement = 0xFFFD;

// Hangul syllables decompose algorithmically (Unicode 15, section 3.12).
constexpr uint32_t kHangulSBase = 0xAC00, kHangulLBase = 0x1100, kHangulVBase = 0x1161, kHangulTBase = 0x11A7;
constexpr uint32_t kHangulVCount = 21, kHangulTCount = 28;
constexpr uint32_t kHangulNCount = kHangulVCount * kHangulTCount;
constexpr uint32_t kHangulSCount = 19 * kHangulNCount;

const t::DecompositionEntry* find_decomposition(uint32_t cp) {
  const t::DecompositionEntry* end = t::kDecompositions + t::kDecompositionCount;
  const t::DecompositionEntry* it = std::lower_bound(
      t::kDecompositions, end, cp, [](const t::DecompositionEntry& e, uint32_t c) { return e.cp < c; });
  return it != end && it->cp == cp ? it : nullptr;
}

uint8_t combining_class(uint32_t cp) {
  const t::CombiningClassRange* end = t::kCombiningClasses + t::kCombiningClassCount;
  const t::CombiningClassRange* it = std::upper_bound(
      t::kCombiningClasses, end, cp, [](uint32_t c, const t::CombiningClassRange& r) { return c < r.first; });
  if (it == t::kCombiningClasses) return 0;
  --it;
  return cp <= it->last ? it->ccc : 0;
}

// A continuation byte (10xxxxxx)?
inline bool cont(unsigned char c) { return (c & 0xC0) == 0x80; }

}  // namespace

uint16_t flags(uint32_t cp) {
  // Code points past U+10FFFF (the decoder can produce them from F4..F7 lead
  // bytes, as the reference's does) have no category at all.
  if (cp >= kMaxCodePoint) return kUndefined;
  const uint32_t block = t::kFlagStage1[cp >> t::kFlagBlockShift];
  return t::kFlagStage2[(block << t::kFlagBlockShift) | (cp & ((1u << t::kFlagBlockShift) - 1))];
}

uint32_t to_lower(uint32_t cp) {
  if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
  const t::LowercaseEntry* end = t::kLowercase + t::kLowercaseCount;
  const t::LowercaseEntry* it =
      std::lower_bound(t::kLowercase, end, cp, [](const t::LowercaseEntry& e, uint32_t c) { return e.cp < c; });
  return it != end && it->cp == cp ? it->lower : cp;
}

void append_nfd(uint32_t cp, std::vector<uint32_t>& out) {
  if (cp >= kHangulSBase && cp < kHangulSBase + kHangulSCount) {
    const uint32_t s = cp - kHangulSBase;
    out.push_back(kHangulLBase + s / kHangulNCount);
    out.push_back(kHangulVBase + (s % kHangulNCount) / kHangulTCount);
    if (s % kHangulTCount != 0) out.push_back(kHangulTBase + s % kHangulTCount);
    return;
  }
  const t::DecompositionEntry* d = cp < 0xC0 ? nullptr : find_decomposition(cp);
  if (!d) {
    out.push_back(cp);
    return;
  }
  // Each table entry is one step; decompositions nest (U+1E69 -> U+1E63 U+0307 -> s U+0323 U+0307).
  append_nfd(d->first, out);
  if (d->second != 0) append_nfd(d->second, out);
}

std::vector<uint32_t> nfd(const std::vector<uint32_t>& cps) {
  std::vector<uint32_t> out;
  out.reserve(cps.size());
  for (uint32_t cp : cps) append_nfd(cp, out);
  // Canonical ordering: within each run of non-starters, a stable sort by
  // combining class (an insertion sort: runs are a few marks long).
  for (size_t i = 1; i < out.size(); ++i) {
    const uint8_t ci = combining_class(out[i]);
    if (ci == 0) continue;
    size_t j = i;
    while (j > 0) {
      const uint8_t cj = combining_class(out[j - 1]);
      if (cj == 0 || cj <= ci) break;
      std::swap(out[j], out[j - 1]);
      --j;
    }
  }
  return out;
}

uint32_t utf8_next(std::string_view s, size_t& pos) {
  // The reference accepts any well-formed bit pattern (overlong forms,
  // surrogates, values up to 0x1FFFFF), and answers a bad lead byte, a missing
  // or bad continuation byte with U+FFFD, consuming one byte only.
  const size_t n = s.size();
  const auto b = [&s](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = b(pos);
  if (c < 0x80) {
    pos += 1;
    return c;
  }
  if ((c & 0xE0) == 0xC0) {
    if (pos + 1 < n && cont(b(pos + 1))) {
      uint32_t cp = (static_cast<uint32_t>(c & 0x1F) << 6) | (b(pos + 1) & 0x3F);
      pos += 2;
      return cp;
    }
  } else if ((c & 0xF0) == 0xE0) {
    if (pos + 2 < n && cont(b(pos + 1)) && cont(b(pos + 2))) {
      uint32_t cp = (static_cast<uint32_t>(c & 0x0F) << 12) | (static_cast<uint32_t>(b(pos + 1) & 0x3F) << 6) |
                    (b(pos + 2) & 0x3F);
      pos += 3;
      return cp;
    }
  } else if ((c & 0xF8) == 0xF0) {
    if (pos + 3 < n && cont(b(pos + 1)) && cont(b(pos + 2)) && cont(b(pos + 3))) {
      uint32_t cp = (static_cast<uint32_t>(c & 0x07) << 18) | (static_cast<uint32_t>(b(pos + 1) & 0x3F) << 12) |
                    (static_cast<uint32_t>(b(pos + 2) & 0x3F) << 6) | (b(pos + 3) & 0x3F);
      pos += 4;
      return cp;
    }
  }
  pos += 1;  // continuation byte as a lead, F8..FF, or a truncated/broken sequence
  return kReplacement;
}

std::vector<uint32_t> utf8_decode(std::string_view s) {
  std::vector<uint32_t> out;
  out.reserve(s.size());
  size_t pos = 0;
  while (pos < s.size()) out.push_back(utf8_next(s, pos));
  return out;
}

void utf8_append(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x200000) {
    // Values past U+10FFFF come only from decoding F4..F7 sequences; writing
    // them back in the same 4-byte form keeps such input byte-for-byte.
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    utf8_append(kReplacement, out);
  }
}

std::string utf8_encode(const std::vector<uint32_t>& cps) {
  std::string out;
  out.reserve(cps.size());
  for (uint32_t cp : cps) utf8_append(cp, out);
  return out;
}

}  // namespace tandem::unicode

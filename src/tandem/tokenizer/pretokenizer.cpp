// Pre-tokenizers of byte-level BPE, one regex list per model family, matching
// the reference tokenizer (llama.cpp, src/llama-vocab.cpp and src/unicode.cpp)
// piece for piece.
//
// How the reference applies a regex list, which these matchers reproduce:
//   - the regexes run in order; each one runs on every piece the previous one
//     left, never across a piece boundary;
//   - within a piece, matches are found left to right (leftmost match, no
//     overlap), and the text between two matches, or before the first or after
//     the last, stays a piece of its own;
//   - the GPT-2 and Llama 3 regexes run as the reference's hand-written
//     splitters (which put every code point in some piece), every other regex
//     through ECMAScript std::regex, where an alternation takes the first
//     alternative that matches and quantifiers backtrack greedily;
//   - regexes with \p{..} classes see the text "collapsed" to one class per
//     code point; the others see code points, except that non-ASCII whitespace
//     is replaced by U+000B. Both views agree with the flags of
//     unicode::flags(): \s is White_Space, \p{L} is a letter and so on, and a
//     literal class never matches a non-ASCII whitespace code point. One
//     exception: the reference spells \p{S} for ASCII as "$+<=>^`|", so '~'
//     is no symbol in a collapsed regex.
// Each matcher below states its regex and is written to return exactly the
// match that backtracking would.
#include "tandem/tokenizer/pretokenizer.h"

#include <algorithm>
#include <array>

#include "tandem/tokenizer/unicode.h"

namespace tandem {
namespace {

using Family = PreTokenizerFamily;

// The regexes the families chain (each comment is the reference's regex,
// verbatim). Total stages put every code point in a piece themselves; the
// others are matchers whose gaps become pieces.
// clang-format off
enum class Stage : uint8_t {
  kGpt2,               // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+  (total)
  kLlama3,             // (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+  (total)
  kQwen2,              // the same with \p{N} instead of \p{N}{1,3}  (total)
  kNewline,            // [\r\n]
  kDeepseekLetters,    // \s?[A-Za-zµÀ-ÖØ-öø-ƺ...𞤀-𞥃]+  (cased letters, see kDeepseekLetterRanges)
  kDeepseekPunct,      // \s?[!-/:-~！-／：-～‘-‟　-。]+
  kTrailingSpace,      // \s+$
  kCjkHangul,          // [一-龥ࠀ-一가-퟿]+
  kNumberRun,          // \p{N}+
  kNumber,             // \p{N}
  kNumberTriple,       // \p{N}{1,3}
  kSpaceLetters,       // \s?\p{L}+
  kSpacePunct,         // \s?\p{P}+
  kFalconPunct,        // [\p{P}\$\+<=>\^~\|`]+
  kDefaultPunct,       // [\p{P}\$\+<=>\^~\|]+
  kAsciiDigitTriple,   // [0-9][0-9][0-9]
  kBloomWord,          //  ?[^(\s|.,!?…。，、।۔،)]+
  kCjkKana,            // [一-龥぀-ゟ゠-ヿ]+
  kDeepseek3Words,     // [!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
  kChameleonSentinel,  // <sentinel:[0-9]+>
  kChameleonImage,     // (IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z
  kChameleonSpace,     // ([\t\n]|    |  )
  kChameleonPunct,     // [\p{P}!-/:-@\[-`{-~]
  kTekken,             // [^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
};
// clang-format on

struct NameEntry {
  std::string_view name;
  Family family;
  bool ignore_merges;
};

// Every tokenizer.ggml.pre name the reference knows, with the regex list it uses.
constexpr std::array kNames = {
    NameEntry{"default", Family::kDefault, false},
    NameEntry{"llama3", Family::kLlama3, true},
    NameEntry{"llama-v3", Family::kLlama3, true},
    NameEntry{"llama-bpe", Family::kLlama3, true},
    NameEntry{"falcon3", Family::kLlama3, true},
    NameEntry{"dbrx", Family::kLlama3, false},
    NameEntry{"smaug-bpe", Family::kLlama3, false},
    NameEntry{"chatglm-bpe", Family::kLlama3, false},
    NameEntry{"deepseek-llm", Family::kDeepseekLlm, false},
    NameEntry{"deepseek-coder", Family::kDeepseekCoder, false},
    NameEntry{"deepseek-v3", Family::kDeepseek3, false},
    NameEntry{"falcon", Family::kFalcon, false},
    NameEntry{"mpt", Family::kGpt2, false},
    NameEntry{"gpt-2", Family::kGpt2, false},
    NameEntry{"phi-2", Family::kGpt2, false},
    NameEntry{"jina-es", Family::kGpt2, false},
    NameEntry{"jina-de", Family::kGpt2, false},
    NameEntry{"gigachat", Family::kGpt2, false},
    NameEntry{"jina-v1-en", Family::kGpt2, false},
    NameEntry{"jina-v2-es", Family::kGpt2, false},
    NameEntry{"jina-v2-de", Family::kGpt2, false},
    NameEntry{"jina-v2-code", Family::kGpt2, false},
    NameEntry{"roberta-bpe", Family::kGpt2, false},
    NameEntry{"olmo", Family::kGpt2, false},
    NameEntry{"jais", Family::kGpt2, false},
    NameEntry{"starcoder", Family::kStarcoder, false},
    NameEntry{"refact", Family::kStarcoder, false},
    NameEntry{"command-r", Family::kStarcoder, false},
    NameEntry{"smollm", Family::kStarcoder, false},
    NameEntry{"codeshell", Family::kStarcoder, false},
    NameEntry{"exaone", Family::kStarcoder, false},
    NameEntry{"minerva-7b", Family::kStarcoder, false},
    NameEntry{"qwen2", Family::kQwen2, false},
    NameEntry{"deepseek-r1-qwen", Family::kQwen2, false},
    NameEntry{"stablelm2", Family::kQwen2, false},
    NameEntry{"megrez", Family::kQwen2, false},
    NameEntry{"poro-chat", Family::kBloom, false},
    NameEntry{"bloom", Family::kBloom, false},
    NameEntry{"gpt3-finnish", Family::kBloom, false},
    NameEntry{"viking", Family::kViking, false},
    NameEntry{"tekken", Family::kTekken, true},
    NameEntry{"chameleon", Family::kChameleon, false},
};

std::span<const Stage> stages_of(Family f) {
  static constexpr Stage kDefault[] = {Stage::kDefaultPunct, Stage::kGpt2, Stage::kNumberRun, Stage::kAsciiDigitTriple};
  static constexpr Stage kGpt2[] = {Stage::kGpt2};
  static constexpr Stage kLlama3[] = {Stage::kLlama3};
  static constexpr Stage kQwen2[] = {Stage::kQwen2};
  static constexpr Stage kDeepseekLlm[] = {Stage::kNewline,       Stage::kDeepseekLetters, Stage::kDeepseekPunct,
                                           Stage::kTrailingSpace, Stage::kCjkHangul,       Stage::kNumberRun};
  static constexpr Stage kDeepseekCoder[] = {Stage::kNewline, Stage::kSpaceLetters, Stage::kSpacePunct,
                                             Stage::kCjkHangul, Stage::kNumber};
  static constexpr Stage kDeepseek3[] = {Stage::kNumberTriple, Stage::kCjkKana, Stage::kDeepseek3Words};
  static constexpr Stage kFalcon[] = {Stage::kFalconPunct, Stage::kGpt2, Stage::kAsciiDigitTriple};
  static constexpr Stage kStarcoder[] = {Stage::kNumber, Stage::kGpt2};
  static constexpr Stage kBloom[] = {Stage::kBloomWord};
  static constexpr Stage kViking[] = {Stage::kBloomWord, Stage::kNumber};
  static constexpr Stage kChameleon[] = {Stage::kChameleonSentinel, Stage::kChameleonImage,
                                         Stage::kChameleonSpace,    Stage::kNumber,
                                         Stage::kChameleonPunct,    Stage::kGpt2};
  static constexpr Stage kTekken[] = {Stage::kTekken};
  switch (f) {
    case Family::kDefault:
      return kDefault;
    case Family::kGpt2:
      return kGpt2;
    case Family::kLlama3:
      return kLlama3;
    case Family::kQwen2:
      return kQwen2;
    case Family::kDeepseekLlm:
      return kDeepseekLlm;
    case Family::kDeepseekCoder:
      return kDeepseekCoder;
    case Family::kDeepseek3:
      return kDeepseek3;
    case Family::kFalcon:
      return kFalcon;
    case Family::kStarcoder:
      return kStarcoder;
    case Family::kBloom:
      return kBloom;
    case Family::kViking:
      return kViking;
    case Family::kChameleon:
      return kChameleon;
    case Family::kTekken:
      return kTekken;
  }
  return kDefault;
}

// DeepSeek LLM's letter class (the second regex of its list: cased letters,
// [A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓ ... 𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]) as code point ranges. Written in
// hex because several of its characters (U+1F7D, U+1FBE, U+1FD3, U+1FDB,
// U+2126, U+212A) have canonical singleton decompositions that editors and
// copy-paste normalize away, which would silently change the class.
struct Range {
  uint32_t first, last;
};
constexpr Range kDeepseekLetterRanges[] = {
    {0x41, 0x5A},       {0x61, 0x7A},       {0xB5, 0xB5},       {0xC0, 0xD6},       {0xD8, 0xF6},
    {0xF8, 0x1BA},      {0x1BC, 0x1BF},     {0x1C4, 0x293},     {0x295, 0x2AF},     {0x370, 0x373},
    {0x376, 0x377},     {0x37B, 0x37D},     {0x37F, 0x37F},     {0x386, 0x386},     {0x388, 0x38A},
    {0x38C, 0x38C},     {0x38E, 0x3A1},     {0x3A3, 0x3F5},     {0x3F7, 0x481},     {0x48A, 0x52F},
    {0x531, 0x556},     {0x10A0, 0x10C5},   {0x13A0, 0x13F5},   {0x13F8, 0x13FD},   {0x1C90, 0x1CBA},
    {0x1CBD, 0x1CBF},   {0x1D00, 0x1D2B},   {0x1D6B, 0x1D77},   {0x1D79, 0x1D9A},   {0x1E00, 0x1F15},
    {0x1F18, 0x1F1D},   {0x1F20, 0x1F45},   {0x1F48, 0x1F4D},   {0x1F50, 0x1F57},   {0x1F59, 0x1F59},
    {0x1F5B, 0x1F5B},   {0x1F5D, 0x1F5D},   {0x1F5F, 0x1F7D},   {0x1F80, 0x1FB4},   {0x1FB6, 0x1FBC},
    {0x1FBE, 0x1FBE},   {0x1FC2, 0x1FC4},   {0x1FC6, 0x1FCC},   {0x1FD0, 0x1FD3},   {0x1FD6, 0x1FDB},
    {0x1FE0, 0x1FEC},   {0x1FF2, 0x1FF4},   {0x1FF6, 0x1FFC},   {0x2102, 0x2102},   {0x2107, 0x2107},
    {0x210A, 0x2113},   {0x2115, 0x2115},   {0x2119, 0x211D},   {0x2124, 0x2124},   {0x2126, 0x2126},
    {0x2128, 0x2128},   {0x212A, 0x212D},   {0x212F, 0x2134},   {0x2139, 0x2139},   {0x213C, 0x213F},
    {0x2145, 0x2149},   {0x214E, 0x214E},   {0x2183, 0x2184},   {0x2C00, 0x2C7B},   {0x2C7E, 0x2CE4},
    {0x2CEB, 0x2CEE},   {0x2CF2, 0x2CF3},   {0xA640, 0xA66D},   {0xA680, 0xA69B},   {0xA722, 0xA76F},
    {0xA771, 0xA787},   {0xA78B, 0xA78E},   {0xAB70, 0xABBF},   {0xFB00, 0xFB06},   {0xFB13, 0xFB17},
    {0xFF21, 0xFF3A},   {0xFF41, 0xFF5A},   {0x10400, 0x1044F}, {0x104B0, 0x104D3}, {0x104D8, 0x104FB},
    {0x10C80, 0x10CB2}, {0x10CC0, 0x10CF2}, {0x118A0, 0x118DF}, {0x1E900, 0x1E943},
};

bool in_deepseek_letters(uint32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
  const Range* end = std::end(kDeepseekLetterRanges);
  const Range* it = std::upper_bound(std::begin(kDeepseekLetterRanges), end, c,
                                     [](uint32_t v, const Range& r) { return v < r.first; });
  return it != std::begin(kDeepseekLetterRanges) && c <= (it - 1)->last;
}

// [!-/:-~！-／：-～‘-‟　-。]
bool in_deepseek_punct(uint32_t c) {
  return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x7E) || (c >= 0xFF01 && c <= 0xFF0F) ||
         (c >= 0xFF1A && c <= 0xFF5E) || (c >= 0x2018 && c <= 0x201F) || (c >= 0x3000 && c <= 0x3002);
}

// [一-龥ࠀ-一가-퟿]
bool in_cjk_hangul(uint32_t c) {
  return (c >= 0x4E00 && c <= 0x9FA5) || (c >= 0x0800 && c <= 0x4E00) || (c >= 0xAC00 && c <= 0xD7FF);
}

// [一-龥぀-ゟ゠-ヿ]
bool in_cjk_kana(uint32_t c) {
  return (c >= 0x4E00 && c <= 0x9FA5) || (c >= 0x3040 && c <= 0x309F) || (c >= 0x30A0 && c <= 0x30FF);
}

bool ascii_in(uint32_t c, std::string_view set) { return c < 0x80 && set.find(static_cast<char>(c)) != set.npos; }
bool ascii_alpha(uint32_t c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool ascii_digit(uint32_t c) { return c >= '0' && c <= '9'; }
bool crlf(uint32_t c) { return c == '\r' || c == '\n'; }

// The text as the matchers see it: code points and their flags.
struct Text {
  const uint32_t* cp;
  const uint16_t* fl;

  bool ws(uint32_t i) const { return fl[i] & unicode::kWhitespace; }
  bool letter(uint32_t i) const { return fl[i] & unicode::kLetter; }
  bool number(uint32_t i) const { return fl[i] & unicode::kNumber; }
  bool punct(uint32_t i) const { return fl[i] & unicode::kPunctuation; }
  // \p{S} as the reference's collapsed regexes see it: its list of ASCII
  // symbols ($+<=>^`|) leaves out '~', so '~' is no symbol there.
  bool collapsed_symbol(uint32_t i) const { return (fl[i] & unicode::kSymbol) && cp[i] != '~'; }
  bool mark(uint32_t i) const { return fl[i] & unicode::kAccentMark; }
  // [^\s\p{L}\p{N}]
  bool other(uint32_t i) const { return !(fl[i] & (unicode::kWhitespace | unicode::kLetter | unicode::kNumber)); }
  // The code point a regex without \p{..} sees: non-ASCII whitespace is U+000B.
  uint32_t wide(uint32_t i) const { return cp[i] >= 0x80 && ws(i) ? 0x0B : cp[i]; }

  // End of the run of code points satisfying pred, from i (at most e).
  template <class Pred>
  uint32_t run(uint32_t i, uint32_t e, Pred pred) const {
    while (i < e && pred(i)) ++i;
    return i;
  }
  // \s*[\r\n]+|\s+(?!\S)|\s+ at pos: end of the match, or pos when none.
  uint32_t whitespace(uint32_t pos, uint32_t e) const {
    uint32_t j = pos, after_newline = 0;
    while (j < e && ws(j)) {
      if (crlf(cp[j])) after_newline = j + 1;
      ++j;
    }
    if (after_newline != 0) return after_newline;  // \s*[\r\n]+ backtracks to the last newline
    if (j - pos > 1 && j < e) return j - 1;        // \s+(?!\S) leaves the last space to the next word
    return j;
  }
};

// GPT-2's regex as the reference's dedicated splitter runs it: every code point
// lands in a piece, a lone whitespace before a non-space is a piece of its own.
void split_gpt2(const Text& t, uint32_t b, uint32_t e, std::vector<uint32_t>& ends) {
  uint32_t pos = b;
  const auto emit = [&](uint32_t end) {
    ends.push_back(end);
    pos = end;
  };
  while (pos < e) {
    const uint32_t c = t.cp[pos];
    if (c == '\'' && pos + 1 < e) {  // 's|'t|'re|'ve|'m|'ll|'d (case-sensitive)
      const uint32_t c1 = t.cp[pos + 1];
      if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') {
        emit(pos + 2);
        continue;
      }
      if (pos + 2 < e) {
        const uint32_t c2 = t.cp[pos + 2];
        if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) {
          emit(pos + 3);
          continue;
        }
      }
    }
    const uint32_t q = c == ' ' ? pos + 1 : pos;  // the optional leading space
    if (q < e) {
      if (t.letter(q)) {
        emit(t.run(q + 1, e, [&t](uint32_t i) { return t.letter(i); }));
        continue;
      }
      if (t.number(q)) {
        emit(t.run(q + 1, e, [&t](uint32_t i) { return t.number(i); }));
        continue;
      }
      if (t.other(q)) {
        emit(t.run(q + 1, e, [&t](uint32_t i) { return t.other(i); }));
        continue;
      }
    }
    // \s+(?!\S) leaves the last of several spaces to the next word; else \s+.
    // (A code point of no class at all cannot occur; pos + 1 keeps progress.)
    const uint32_t w = t.run(pos, e, [&t](uint32_t i) { return t.ws(i); });
    emit(w - pos > 1 && w < e ? w - 1 : w > pos ? w : pos + 1);
  }
}

// The Llama 3 regex as the reference's dedicated splitter runs it; Qwen2's
// regex (digits one by one) behaves the same under std::regex.
void split_llama3(const Text& t, uint32_t b, uint32_t e, uint32_t digit_group, std::vector<uint32_t>& ends) {
  uint32_t pos = b;
  const auto emit = [&](uint32_t end) {
    ends.push_back(end);
    pos = end;
  };
  while (pos < e) {
    const uint32_t c = t.cp[pos];
    if (c == '\'' && pos + 1 < e) {  // contractions, case-insensitive
      const uint32_t c1 = unicode::to_lower(t.cp[pos + 1]);
      if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') {
        emit(pos + 2);
        continue;
      }
      if (pos + 2 < e) {
        const uint32_t c2 = unicode::to_lower(t.cp[pos + 2]);
        if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) {
          emit(pos + 3);
          continue;
        }
      }
    }
    // [^\r\n\p{L}\p{N}]?\p{L}+
    if (!crlf(c) && !t.number(pos) && (t.letter(pos) || (pos + 1 < e && t.letter(pos + 1)))) {
      emit(t.run(pos + 1, e, [&t](uint32_t i) { return t.letter(i); }));
      continue;
    }
    // \p{N}{1,3} (Llama 3) or \p{N} (Qwen2): consecutive groups
    if (t.number(pos)) {
      uint32_t j = pos;
      while (j < e && t.number(j)) {
        ++j;
        if (j - pos == digit_group) emit(j);
      }
      if (j > pos) emit(j);
      continue;
    }
    //  ?[^\s\p{L}\p{N}]+[\r\n]*
    const uint32_t q = c == ' ' ? pos + 1 : pos;
    if (q < e && t.other(q)) {
      uint32_t j = t.run(q + 1, e, [&t](uint32_t i) { return t.other(i); });
      while (j < e && crlf(t.cp[j])) ++j;
      emit(j);
      continue;
    }
    const uint32_t w = t.whitespace(pos, e);
    emit(w > pos ? w : pos + 1);
  }
}

// \s?<class>+ where <class> never holds whitespace: end of the match, or pos.
template <class InClass>
uint32_t match_space_then_run(const Text& t, uint32_t pos, uint32_t e, InClass in) {
  // With the space taken the class must follow; without it the class would
  // have to start at a space, which it cannot.
  if (t.ws(pos)) return pos + 1 < e && in(pos + 1) ? t.run(pos + 2, e, in) : pos;
  return in(pos) ? t.run(pos + 1, e, in) : pos;
}

// Tekken's two word alternatives (camel case), from pos; pos when neither matches.
// Letters are "upper-ish" (a letter that is not a-z) or "lower-ish" (not A-Z);
// a non-ASCII letter is both.
uint32_t match_tekken_word(const Text& t, uint32_t pos, uint32_t e) {
  const uint32_t c = t.cp[pos];
  // The optional [^\r\n\p{L}\p{N}] prefix; if it is taken and no letter follows,
  // dropping it cannot help, since a prefix is never a letter.
  const uint32_t s = (!crlf(c) && !t.letter(pos) && !t.number(pos)) ? pos + 1 : pos;
  if (s >= e || !t.letter(s)) return pos;
  const auto upperish = [&t](uint32_t i) { return t.letter(i) && !(t.cp[i] >= 'a' && t.cp[i] <= 'z'); };
  const auto lowerish = [&t](uint32_t i) { return t.letter(i) && !(t.cp[i] >= 'A' && t.cp[i] <= 'Z'); };
  const uint32_t k = t.run(s, e, upperish);
  // Alternative 1, U*L+: greedy U* stops before an a-z letter...
  if (k < e && lowerish(k)) return t.run(k, e, lowerish);
  // ...or U* gives back letters until L+ can take one: the last non-ASCII
  // letter of the run, and L+ then stops at the A-Z after it (or the run's end).
  for (uint32_t j = k; j > s; --j)
    if (t.cp[j - 1] >= 0x80) return j;
  // Alternative 2, U+L*: the A-Z run alone.
  return k > s ? k : pos;
}

// End of the match of a matcher stage at pos (within [pos, e)), or pos when none.
uint32_t match(Stage stage, const Text& t, uint32_t pos, uint32_t e) {
  const uint32_t c = t.cp[pos];
  switch (stage) {
    case Stage::kNewline:
      return crlf(c) ? pos + 1 : pos;
    case Stage::kDeepseekLetters:
      return match_space_then_run(t, pos, e, [&t](uint32_t i) { return in_deepseek_letters(t.wide(i)); });
    case Stage::kDeepseekPunct:
      return match_space_then_run(t, pos, e, [&t](uint32_t i) { return in_deepseek_punct(t.wide(i)); });
    case Stage::kCjkHangul:
      return t.run(pos, e, [&t](uint32_t i) { return in_cjk_hangul(t.wide(i)); });
    case Stage::kCjkKana:
      return t.run(pos, e, [&t](uint32_t i) { return in_cjk_kana(t.wide(i)); });
    case Stage::kNumberRun:
      return t.run(pos, e, [&t](uint32_t i) { return t.number(i); });
    case Stage::kNumber:
      return t.number(pos) ? pos + 1 : pos;
    case Stage::kNumberTriple:
      return t.run(pos, std::min(e, pos + 3), [&t](uint32_t i) { return t.number(i); });
    case Stage::kSpaceLetters:
      return match_space_then_run(t, pos, e, [&t](uint32_t i) { return t.letter(i); });
    case Stage::kSpacePunct:
      return match_space_then_run(t, pos, e, [&t](uint32_t i) { return t.punct(i); });
    case Stage::kFalconPunct:
      return t.run(pos, e, [&t](uint32_t i) { return t.punct(i) || ascii_in(t.cp[i], "$+<=>^~|`"); });
    case Stage::kDefaultPunct:
      return t.run(pos, e, [&t](uint32_t i) { return t.punct(i) || ascii_in(t.cp[i], "$+<=>^~|"); });
    case Stage::kAsciiDigitTriple:
      return pos + 2 < e && ascii_digit(c) && ascii_digit(t.cp[pos + 1]) && ascii_digit(t.cp[pos + 2]) ? pos + 3 : pos;
    case Stage::kBloomWord: {
      const auto word = [&t](uint32_t i) {
        const uint32_t w = t.wide(i);
        return !t.ws(i) && !ascii_in(w, "(|.,!?)") && w != 0x2026 && w != 0x3002 && w != 0xFF0C && w != 0x3001 &&
               w != 0x0964 && w != 0x06D4 && w != 0x060C;
      };
      if (c == ' ') return pos + 1 < e && word(pos + 1) ? t.run(pos + 2, e, word) : pos;  // a space is no word
      return word(pos) ? t.run(pos + 1, e, word) : pos;
    }
    case Stage::kDeepseek3Words: {
      // [!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+
      if (ascii_in(c, "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") && pos + 1 < e && ascii_alpha(t.cp[pos + 1]))
        return t.run(pos + 2, e, [&t](uint32_t i) { return ascii_alpha(t.cp[i]); });
      // [^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+
      const auto lm = [&t](uint32_t i) { return t.letter(i) || t.mark(i); };
      const bool prefix = !crlf(c) && !t.letter(pos) && !t.punct(pos) && !t.collapsed_symbol(pos);
      if (prefix && pos + 1 < e && lm(pos + 1)) return t.run(pos + 2, e, lm);
      if (lm(pos)) return t.run(pos + 1, e, lm);
      //  ?[\p{P}\p{S}]+[\r\n]*
      const auto ps = [&t](uint32_t i) { return t.punct(i) || t.collapsed_symbol(i); };
      const uint32_t q = (c == ' ' && pos + 1 < e && ps(pos + 1)) ? pos + 1 : pos;
      if (ps(q)) {
        uint32_t j = t.run(q + 1, e, ps);
        while (j < e && crlf(t.cp[j])) ++j;
        return j;
      }
      return t.whitespace(pos, e);
    }
    case Stage::kChameleonSentinel: {
      constexpr std::u32string_view kOpen = U"<sentinel:";
      if (e - pos < kOpen.size() + 2) return pos;
      for (uint32_t i = 0; i < kOpen.size(); ++i)
        if (t.cp[pos + i] != kOpen[i]) return pos;
      const uint32_t d = pos + static_cast<uint32_t>(kOpen.size());
      const uint32_t j = t.run(d, e, [&t](uint32_t i) { return ascii_digit(t.cp[i]); });
      return j > d && j < e && t.cp[j] == '>' ? j + 1 : pos;
    }
    case Stage::kChameleonImage: {
      constexpr std::u32string_view kOpen = U"IMGIMG";
      if (e - pos < kOpen.size() + 2) return pos;
      for (uint32_t i = 0; i < kOpen.size(); ++i)
        if (t.cp[pos + i] != kOpen[i]) return pos;
      const uint32_t d = pos + static_cast<uint32_t>(kOpen.size());
      // {1,4} is greedy and 'Z' is not in A-I, so only the full run (if 1..4 long) can be followed by Z.
      const uint32_t j = t.run(d, std::min(e, d + 5), [&t](uint32_t i) { return t.cp[i] >= 'A' && t.cp[i] <= 'I'; });
      return j > d && j - d <= 4 && j < e && t.cp[j] == 'Z' ? j + 1 : pos;
    }
    case Stage::kChameleonSpace: {
      if (c == '\t' || c == '\n') return pos + 1;
      const uint32_t j = t.run(pos, std::min(e, pos + 4), [&t](uint32_t i) { return t.cp[i] == ' '; });
      return j - pos == 4 ? j : j - pos >= 2 ? pos + 2 : pos;
    }
    case Stage::kChameleonPunct:
      return t.punct(pos) || (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) ||
                     (c >= 0x7B && c <= 0x7E)
                 ? pos + 1
                 : pos;
    case Stage::kTekken: {
      const uint32_t w = match_tekken_word(t, pos, e);
      if (w > pos) return w;
      if (t.number(pos)) return pos + 1;
      //  ?[^\s\p{L}\p{N}]+[\r\n/]*
      const uint32_t q = (c == ' ' && pos + 1 < e && t.other(pos + 1)) ? pos + 1 : pos;
      if (t.other(q)) {
        uint32_t j = t.run(q + 1, e, [&t](uint32_t i) { return t.other(i); });
        while (j < e && (crlf(t.cp[j]) || t.cp[j] == '/')) ++j;
        return j;
      }
      return t.whitespace(pos, e);
    }
    case Stage::kGpt2:
    case Stage::kLlama3:
    case Stage::kQwen2:
    case Stage::kTrailingSpace:
      break;  // not matchers, see apply_stage
  }
  return pos;
}

// Runs one stage over the piece [b, e), appending the ends of its pieces.
void apply_stage(Stage stage, const Text& t, uint32_t b, uint32_t e, std::vector<uint32_t>& ends) {
  switch (stage) {
    case Stage::kGpt2:
      split_gpt2(t, b, e, ends);
      return;
    case Stage::kLlama3:
      split_llama3(t, b, e, 3, ends);
      return;
    case Stage::kQwen2:
      split_llama3(t, b, e, 1, ends);
      return;
    case Stage::kTrailingSpace: {
      // \s+$: the leftmost match is the whitespace run that reaches the end.
      uint32_t j = e;
      while (j > b && t.ws(j - 1)) --j;
      if (j > b && j < e) ends.push_back(j);
      ends.push_back(e);
      return;
    }
    default:
      break;
  }
  uint32_t last = b;  // end of the previous match
  for (uint32_t pos = b; pos < e;) {
    const uint32_t m = match(stage, t, pos, e);
    if (m > pos) {
      if (pos > last) ends.push_back(pos);  // unmatched text before the match
      ends.push_back(m);
      pos = last = m;
    } else {
      ++pos;
    }
  }
  if (last < e) ends.push_back(e);
}

}  // namespace

Result<PreTokenizer> PreTokenizer::from_name(std::string_view pre) {
  if (pre.empty()) return PreTokenizer(Family::kDefault, "", false);
  for (const NameEntry& n : kNames)
    if (n.name == pre) return PreTokenizer(n.family, std::string(pre), n.ignore_merges);
  return make_error(
      "unknown pre-tokenizer type '", pre, "' (tokenizer.ggml.pre); known: default, llama-bpe, qwen2, ",
      "gpt-2, deepseek-llm, deepseek-coder, falcon, starcoder and the names the reference aliases to them");
}

void PreTokenizer::split(std::span<const uint32_t> cps, std::vector<uint32_t>& ends) const {
  const uint32_t n = static_cast<uint32_t>(cps.size());
  if (n == 0) return;
  std::vector<uint16_t> fl(n);
  for (uint32_t i = 0; i < n; ++i) fl[i] = unicode::flags(cps[i]);
  const Text t{cps.data(), fl.data()};
  const std::span<const Stage> stages = stages_of(family_);
  if (stages.size() == 1) {
    apply_stage(stages[0], t, 0, n, ends);
    return;
  }
  std::vector<uint32_t> cur{n}, next;
  for (Stage stage : stages) {
    next.clear();
    uint32_t b = 0;
    for (uint32_t e : cur) {
      apply_stage(stage, t, b, e, next);
      b = e;
    }
    cur.swap(next);
  }
  ends.insert(ends.end(), cur.begin(), cur.end());
}

std::vector<std::string> PreTokenizer::split_text(std::string_view text) const {
  const std::vector<uint32_t> cps = unicode::utf8_decode(text);
  std::vector<uint32_t> ends;
  split(cps, ends);
  std::vector<std::string> pieces;
  pieces.reserve(ends.size());
  uint32_t b = 0;
  for (uint32_t e : ends) {
    std::string s;
    for (uint32_t i = b; i < e; ++i) unicode::utf8_append(cps[i], s);
    pieces.push_back(std::move(s));
    b = e;
  }
  return pieces;
}

}  // namespace tandem

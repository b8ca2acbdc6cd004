// Byte-level BPE: every conformance vector of every gpt2-model fixture (ids the
// reference, llama.cpp, produced), decode(encode(s)) == s on random text for
// each of those vocabularies, equality with a plain string-based re-statement
// of the reference algorithm (including pieces long enough for the heap path),
// merge order, ties, fallback and ignore_merges on tiny vocabularies built in
// code, and errors for vocabularies the encoder cannot use.
#include "tandem/tokenizer/bpe.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "tandem/gguf/gguf_file.h"
#include "tandem/tokenizer/pretokenizer.h"
#include "tandem/tokenizer/unicode.h"
#include "test_util.h"

namespace tandem {
namespace {

// ---------------------------------------------------------------- helpers

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

// Shows a test string with control bytes and non-ASCII escaped, for failure messages.
std::string escaped(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
      continue;
    }
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02x", c);
    out += c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r" : buf;
  }
  return out + "\"";
}

std::string ids_string(const std::vector<int32_t>& ids) {
  std::string out;
  for (int32_t id : ids) out += (out.empty() ? "" : " ") + std::to_string(id);
  return out;
}

struct Case {
  std::string text;
  std::vector<int32_t> ids;
};

// NAME.gguf.inp: cases separated by "\n__ggml_vocab_test__\n" (each case is
// followed by one); NAME.gguf.out: one line of ids per case.
std::vector<Case> load_cases(const std::string& base) {
  const std::string inp = read_all(base + ".inp");
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<Case> cases;
  size_t pos = 0;
  while (true) {
    size_t next = inp.find(sep, pos);
    if (next == std::string::npos) break;
    cases.push_back({inp.substr(pos, next - pos), {}});
    pos = next + sep.size();
  }
  std::ifstream out(base + ".out");
  std::string line;
  for (Case& c : cases) {
    if (!std::getline(out, line)) break;
    std::istringstream is(line);
    int32_t id;
    while (is >> id) c.ids.push_back(id);
  }
  return cases;
}

struct Loaded {
  Vocab vocab;
  std::unique_ptr<BpeEncoder> encoder;
};

std::string fixture_base(const std::string& name) {
  return testing::shared_dir() + "/fixtures/tokenizer/ggml-vocab-" + name + ".gguf";
}

// Loads each fixture vocabulary once for all the tests that use it.
const Loaded& load_fixture(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Loaded>> loaded;
  auto& slot = loaded[name];
  if (!slot) {
    slot = std::make_unique<Loaded>();
    auto f = GgufFile::open(fixture_base(name));
    EXPECT_TRUE(f.ok()) << f.error().message;
    if (!f) return *slot;
    auto v = Vocab::from_gguf(*f);
    EXPECT_TRUE(v.ok()) << v.error().message;
    if (!v) return *slot;
    slot->vocab = std::move(*v);
    auto enc = BpeEncoder::create(slot->vocab);
    EXPECT_TRUE(enc.ok()) << enc.error().message;
    if (enc) slot->encoder = std::make_unique<BpeEncoder>(std::move(*enc));
  }
  return *slot;
}

std::vector<int32_t> encode(const BpeEncoder& enc, std::string_view text) {
  std::vector<int32_t> out;
  enc.encode(text, out);
  return out;
}

// What the reference does before its BPE encoder even without special-token
// parsing: user-defined tokens are cut out of the text, longest first, and
// stand for themselves; the text between them is encoded. (DeepSeek's
// vocabularies add "ü" and friends that way.) Restated here so that the test
// checks the encoder alone.
std::vector<int32_t> encode_like_the_reference(const Vocab& v, const BpeEncoder& enc, const std::string& text) {
  struct Fragment {
    int32_t id;  // -1: raw text
    std::string text;
  };
  std::vector<int32_t> specials;
  for (int32_t id = 0; id < v.size(); ++id)
    if (v.type(id) == TokenType::kUserDefined) specials.push_back(id);
  std::stable_sort(specials.begin(), specials.end(), [&v](int32_t a, int32_t b) {
    return v.tokens[static_cast<size_t>(a)].size() > v.tokens[static_cast<size_t>(b)].size();
  });
  std::vector<Fragment> frags{{-1, text}};
  for (int32_t id : specials) {
    const std::string& tok = v.tokens[static_cast<size_t>(id)];
    std::vector<Fragment> next;
    for (const Fragment& f : frags) {
      if (f.id >= 0 || tok.empty()) {
        next.push_back(f);
        continue;
      }
      size_t pos = 0;
      for (size_t hit; (hit = f.text.find(tok, pos)) != std::string::npos; pos = hit + tok.size()) {
        if (hit > pos) next.push_back({-1, f.text.substr(pos, hit - pos)});
        next.push_back({id, tok});
      }
      if (pos < f.text.size()) next.push_back({-1, f.text.substr(pos)});
    }
    frags.swap(next);
  }
  std::vector<int32_t> out;
  for (const Fragment& f : frags) {
    if (f.id >= 0) {
      out.push_back(f.id);
    } else {
      enc.encode(f.text, out);
    }
  }
  return out;
}

// Keeps the code points of s whose bytes all have a byte token: the reference
// drops a byte it has no token for (falcon and starcoder lack a few), so only
// such text can round-trip.
std::string only_encodable(const Vocab& v, const std::string& s) {
  bool has[256];
  for (int b = 0, n = 0; b < 256; ++b) {
    const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    std::string ch;
    unicode::utf8_append(printable ? static_cast<uint32_t>(b) : static_cast<uint32_t>(256 + n++), ch);
    has[b] = v.token_to_id.count(ch) > 0;
  }
  std::vector<uint32_t> kept;
  for (uint32_t cp : unicode::utf8_decode(s)) {
    bool ok = true;
    for (unsigned char c : unicode::utf8_encode({cp})) ok = ok && has[c];
    if (ok) kept.push_back(cp);
  }
  return unicode::utf8_encode(kept);
}

std::string decode(const Vocab& v, const std::vector<int32_t>& ids) {
  std::string out;
  for (int32_t id : ids) out += bpe_token_to_bytes(v.tokens.at(static_cast<size_t>(id)));
  return out;
}

// The reference algorithm restated on strings, as plainly as possible: pieces
// from the pre-tokenizer, bytes as bytes_to_unicode characters, repeatedly
// merge the left-most pair of lowest rank, then look the symbols up (single
// bytes of a symbol that is not a token).
class NaiveBpe {
 public:
  explicit NaiveBpe(const Vocab& v) : vocab_(v), pre_(*PreTokenizer::from_name(v.pre)) {
    for (size_t i = 0; i < v.merges.size(); ++i) {
      const std::string& m = v.merges[i];
      const size_t sp = m.find(' ', 1);
      ranks_.emplace(std::make_pair(m.substr(0, sp), m.substr(sp + 1)), static_cast<int>(i));
    }
    for (size_t i = 0; i < v.tokens.size(); ++i) ids_[v.tokens[i]] = static_cast<int32_t>(i);
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      byte_char_[b].clear();
      unicode::utf8_append(printable ? static_cast<uint32_t>(b) : static_cast<uint32_t>(256 + n++), byte_char_[b]);
    }
    ignore_merges_ = v.ignore_merges || pre_.ignore_merges();
  }

  std::vector<int32_t> encode(const std::string& text) const {
    std::vector<int32_t> out;
    for (const std::string& piece : pre_.split_text(text)) {
      std::vector<std::string> syms;
      std::string word;
      for (unsigned char c : piece) {
        syms.push_back(byte_char_[c]);
        word += byte_char_[c];
      }
      if (ignore_merges_ && ids_.count(word)) {
        out.push_back(ids_.at(word));
        continue;
      }
      while (syms.size() > 1) {
        int best = -1;
        size_t at = 0;
        for (size_t i = 0; i + 1 < syms.size(); ++i) {
          auto it = ranks_.find({syms[i], syms[i + 1]});
          if (it != ranks_.end() && (best < 0 || it->second < best)) best = it->second, at = i;
        }
        if (best < 0) break;
        syms[at] += syms[at + 1];
        syms.erase(syms.begin() + static_cast<long>(at) + 1);
      }
      for (const std::string& s : syms) {
        auto it = ids_.find(s);
        if (it != ids_.end()) {
          out.push_back(it->second);
          continue;
        }
        for (char c : s) {
          auto b = ids_.find(std::string(1, c));
          if (b != ids_.end()) out.push_back(b->second);
        }
      }
    }
    return out;
  }

 private:
  const Vocab& vocab_;
  PreTokenizer pre_;
  std::map<std::pair<std::string, std::string>, int> ranks_;
  std::unordered_map<std::string, int32_t> ids_;
  std::string byte_char_[256];
  bool ignore_merges_ = false;
};

// Random valid UTF-8 built from the kinds of text tokenizers trip over.
std::string random_text(std::mt19937& rng, int atoms) {
  const auto pick = [&rng](uint32_t lo, uint32_t hi) { return std::uniform_int_distribution<uint32_t>(lo, hi)(rng); };
  static const char* const kAscii[] = {"the",
                                       "The",
                                       "Hello",
                                       "world",
                                       "'s",
                                       "'t",
                                       "'re",
                                       "'VE",
                                       "'M",
                                       "'ll",
                                       "'D",
                                       "y'all",
                                       "don't",
                                       "I'm",
                                       "3",
                                       "42",
                                       "1234567",
                                       "3.14",
                                       "!!!",
                                       "...",
                                       "?",
                                       "(",
                                       ")",
                                       "==",
                                       "->",
                                       "//",
                                       "#",
                                       "$",
                                       "+",
                                       "<",
                                       ">",
                                       "^",
                                       "~",
                                       "|",
                                       "`",
                                       "@",
                                       "_",
                                       "-",
                                       "\"",
                                       "IMGIMGABZ",
                                       "<sentinel:12>",
                                       "camelCase",
                                       "HTTPServer",
                                       "\\"};
  static const char* const kSpace[] = {" ",        "  ",           "   ",          "    ", "\t",
                                       "\n",       "\n\n",         "\r\n",         " \n ", "\t\t ",
                                       "\xc2\xa0", "\xe3\x80\x80", "\xe2\x80\x83", "\x0b", "\x0c"};
  std::string s;
  for (int a = 0; a < atoms; ++a) {
    std::vector<uint32_t> cps;
    switch (pick(0, 13)) {
      case 0:
      case 1:
        s += kAscii[pick(0, std::size(kAscii) - 1)];
        continue;
      case 2:
      case 3:
        s += kSpace[pick(0, std::size(kSpace) - 1)];
        continue;
      case 4:  // emoji, with skin tones, variation selectors and ZWJ sequences
        cps.push_back(pick(0x1F300, 0x1FAFF));
        if (pick(0, 2) == 0) cps.push_back(pick(0x1F3FB, 0x1F3FF));
        if (pick(0, 2) == 0) cps.push_back(0xFE0F);
        if (pick(0, 1) == 0) {
          cps.push_back(0x200D);
          cps.push_back(pick(0x1F466, 0x1F469));
        }
        break;
      case 5:  // CJK, kana, Hangul
        for (uint32_t n = pick(1, 4); n > 0; --n)
          cps.push_back(pick(0, 2) == 0 ? pick(0x4E00, 0x9FFF)
                        : pick(0, 1)    ? pick(0x3041, 0x30FF)
                                        : pick(0xAC00, 0xD7A3));
        break;
      case 6:  // letters with combining marks
        cps.push_back(pick('a', 'z'));
        for (uint32_t n = pick(1, 3); n > 0; --n) cps.push_back(pick(0x300, 0x36F));
        break;
      case 7:  // Arabic, with Arabic-Indic digits
        for (uint32_t n = pick(1, 6); n > 0; --n) cps.push_back(pick(0, 3) ? pick(0x627, 0x64A) : pick(0x660, 0x669));
        break;
      case 8:  // Latin-1, Greek, Cyrillic, Devanagari
        for (uint32_t n = pick(1, 6); n > 0; --n) {
          const uint32_t kind = pick(0, 3);
          cps.push_back(kind == 0   ? pick(0xC0, 0xFF)
                        : kind == 1 ? pick(0x391, 0x3C9)
                        : kind == 2 ? pick(0x410, 0x44F)
                                    : pick(0x905, 0x96F));
        }
        break;
      case 9:  // digits, including other scripts' and fullwidth
        for (uint32_t n = pick(1, 8); n > 0; --n) cps.push_back(pick(0, 3) ? pick('0', '9') : pick(0xFF10, 0xFF19));
        break;
      case 10:  // any code point at all (no surrogates)
        do cps.assign(1, pick(1, 0x10FFFF));
        while (cps[0] >= 0xD800 && cps[0] <= 0xDFFF);
        break;
      case 11:  // fullwidth and CJK punctuation
        cps.push_back(pick(0, 1) ? pick(0xFF01, 0xFF0F) : pick(0x3001, 0x3011));
        break;
      case 12:  // a single ASCII byte, controls included
        cps.push_back(pick(1, 0x7F));
        break;
      default:  // an ASCII word
        for (uint32_t n = pick(1, 10); n > 0; --n) cps.push_back(pick(0, 4) ? pick('a', 'z') : pick('A', 'Z'));
        break;
    }
    s += unicode::utf8_encode(cps);
  }
  return s;
}

const char* const kFixtureVocabs[] = {"llama-bpe",      "qwen2",  "gpt-2",    "deepseek-llm",
                                      "deepseek-coder", "falcon", "starcoder"};

class BpeFixture : public ::testing::TestWithParam<const char*> {};

// ---------------------------------------------------------------- conformance

TEST_P(BpeFixture, MatchesTheReferenceOnEveryConformanceCase) {
  TANDEM_REQUIRE_FIXTURES("tokenizer");
  const std::string name = GetParam();
  const Loaded& l = load_fixture(name);
  ASSERT_TRUE(l.encoder);
  const std::vector<Case> cases = load_cases(fixture_base(name));
  ASSERT_FALSE(cases.empty()) << "no cases in " << fixture_base(name) << ".inp";
  size_t passed = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::vector<int32_t> got = encode_like_the_reference(l.vocab, *l.encoder, cases[i].text);
    if (got == cases[i].ids) {
      ++passed;
      continue;
    }
    ADD_FAILURE() << name << " case " << i << " " << escaped(cases[i].text)
                  << "\n  expected: " << ids_string(cases[i].ids) << "\n  got:      " << ids_string(got);
  }
  std::printf("[ %s ] %zu/%zu conformance cases match the reference\n", name.c_str(), passed, cases.size());
  EXPECT_EQ(passed, cases.size());
}

TEST_P(BpeFixture, DecodingTheIdsGivesBackTheText) {
  TANDEM_REQUIRE_FIXTURES("tokenizer");
  const Loaded& l = load_fixture(GetParam());
  ASSERT_TRUE(l.encoder);
  std::mt19937 rng(1234);
  for (int i = 0; i < 300; ++i) {
    const std::string s = only_encodable(l.vocab, random_text(rng, 1 + i % 40));
    const std::vector<int32_t> ids = encode(*l.encoder, s);
    ASSERT_EQ(decode(l.vocab, ids), s) << GetParam() << " text " << escaped(s) << " ids " << ids_string(ids);
  }
}

TEST_P(BpeFixture, EqualsAPlainRestatementOfTheReferenceAlgorithm) {
  TANDEM_REQUIRE_FIXTURES("tokenizer");
  const Loaded& l = load_fixture(GetParam());
  ASSERT_TRUE(l.encoder);
  const NaiveBpe naive(l.vocab);
  std::mt19937 rng(99);
  std::vector<std::string> texts;
  for (int i = 0; i < 150; ++i) texts.push_back(random_text(rng, 1 + i % 30));
  // Long pieces take the encoder's heap path.
  texts.push_back(std::string(300, 'a'));
  texts.push_back(std::string(257, '!') + "x" + std::string(130, ' ') + "y");
  texts.push_back(std::string(200, '\n') + "ab");
  std::string long_word;
  for (int i = 0; i < 120; ++i) long_word += "abcXYZ"[i % 6];
  texts.push_back(long_word);
  std::string long_cjk;
  for (int i = 0; i < 90; ++i) long_cjk += unicode::utf8_encode({0x4E00u + static_cast<uint32_t>(i * 37 % 500)});
  texts.push_back(long_cjk);
  for (const std::string& s : texts)
    ASSERT_EQ(ids_string(encode(*l.encoder, s)), ids_string(naive.encode(s))) << GetParam() << " text " << escaped(s);
}

TEST_P(BpeFixture, InvalidUtf8IsEncodedAsTheReferenceDecodesIt) {
  TANDEM_REQUIRE_FIXTURES("tokenizer");
  const Loaded& l = load_fixture(GetParam());
  ASSERT_TRUE(l.encoder);
  // A stray continuation byte and a truncated sequence become U+FFFD; an
  // overlong form becomes the code point it spells.
  EXPECT_EQ(encode(*l.encoder,
                   "a\x80"
                   "b"),
            encode(*l.encoder,
                   "a\xef\xbf\xbd"
                   "b"));
  EXPECT_EQ(encode(*l.encoder, "x\xe2\x82"), encode(*l.encoder, "x\xef\xbf\xbd\xef\xbf\xbd"));
  EXPECT_EQ(encode(*l.encoder, "\xc1\x81 hi"), encode(*l.encoder, "A hi"));
  EXPECT_TRUE(encode(*l.encoder, "").empty());
}

INSTANTIATE_TEST_SUITE_P(Vocabs, BpeFixture, ::testing::ValuesIn(kFixtureVocabs),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

// ---------------------------------------------------------------- tiny vocabularies

const std::string kG = "\xc4\xa0";  // "Ġ", the byte-level space

Vocab tiny_vocab(const std::string& pre, const std::vector<std::string>& tokens,
                 const std::vector<std::string>& merges) {
  Vocab v;
  v.model = TokenizerModel::kBpe;
  v.model_name = "gpt2";
  v.pre = pre;
  v.tokens = tokens;
  v.types.assign(tokens.size(), TokenType::kNormal);
  v.merges = merges;
  for (size_t i = 0; i < tokens.size(); ++i) v.token_to_id[tokens[i]] = static_cast<int32_t>(i);
  return v;
}

std::vector<int32_t> tiny_encode(const Vocab& v, const std::string& text) {
  auto enc = BpeEncoder::create(v);
  EXPECT_TRUE(enc.ok()) << enc.error().message;
  if (!enc) return {};
  return encode(*enc, text);
}

TEST(Bpe, MergesByRankNotByPosition) {
  // "abc": (b c) has the better rank, so a stays alone.
  const Vocab v = tiny_vocab("gpt-2", {"a", "b", "c", "ab", "bc"}, {"b c", "a b"});
  EXPECT_EQ(tiny_encode(v, "abc"), (std::vector<int32_t>{0, 4}));
}

TEST(Bpe, EqualRanksMergeLeftMostFirst) {
  const Vocab v = tiny_vocab("gpt-2", {"a", "aa", "aaa"}, {"a a", "aa a"});
  EXPECT_EQ(tiny_encode(v, "aaa"), (std::vector<int32_t>{2}));
  EXPECT_EQ(tiny_encode(v, "aaaa"), (std::vector<int32_t>{1, 1}));  // (a a) (a a), never a (a a) a
}

TEST(Bpe, TheFirstOfDuplicatedMergesSetsTheRank) {
  const Vocab v = tiny_vocab("gpt-2", {"a", "b", "c", "ab", "bc"}, {"a b", "b c", "a b"});
  EXPECT_EQ(tiny_encode(v, "abc"), (std::vector<int32_t>{3, 2}));
}

TEST(Bpe, MergesThroughSymbolsThatAreNotTokens) {
  // "Ġ" is not a token, but "Ġ a" merges into the token "Ġa".
  const Vocab v = tiny_vocab("gpt-2", {"a", kG + "a"}, {kG + " a"});
  EXPECT_EQ(tiny_encode(v, " a"), (std::vector<int32_t>{1}));
}

TEST(Bpe, ASymbolThatIsNotATokenFallsBackToItsSingleBytes) {
  // "xy" is merged but is no token: its bytes x and y are. A lone "Ġ" (C4 A0)
  // is no token either: only its first byte is (the reference looks up each
  // byte of the symbol's text on its own).
  const Vocab v = tiny_vocab("gpt-2", {"x", "y", "\xc4"}, {"x y"});
  EXPECT_EQ(tiny_encode(v, "xy"), (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(tiny_encode(v, " "), (std::vector<int32_t>{2}));
  EXPECT_EQ(tiny_encode(v, "  x"), (std::vector<int32_t>{2, 2, 0}));  // pieces " " and " x"
}

TEST(Bpe, IgnoreMergesEmitsAPieceThatIsAToken) {
  const std::vector<std::string> tokens = {"a", "b", "c", "ab", "abc"};
  const std::vector<std::string> merges = {"a b"};
  // Llama 3 looks the whole piece up first; dbrx shares its regex but not that rule.
  EXPECT_EQ(tiny_encode(tiny_vocab("llama-bpe", tokens, merges), "abc"), (std::vector<int32_t>{4}));
  EXPECT_EQ(tiny_encode(tiny_vocab("dbrx", tokens, merges), "abc"), (std::vector<int32_t>{3, 2}));
}

TEST(Bpe, ADuplicatedTokenTextMeansItsLastId) {
  const Vocab v = tiny_vocab("gpt-2", {"a", "b", "a"}, {"a b"});
  EXPECT_EQ(tiny_encode(v, "a"), (std::vector<int32_t>{2}));
}

TEST(Bpe, RefusesWhatItCannotEncode) {
  Vocab spm = tiny_vocab("gpt-2", {"a"}, {"a a"});
  spm.model = TokenizerModel::kSpm;
  spm.model_name = "llama";
  EXPECT_FALSE(BpeEncoder::create(spm).ok());

  auto unknown = BpeEncoder::create(tiny_vocab("no-such-pre", {"a"}, {"a a"}));
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("'no-such-pre'"), std::string::npos) << unknown.error().message;

  auto bad_merge = BpeEncoder::create(tiny_vocab("gpt-2", {"a", "b"}, {"a b", "ab"}));
  ASSERT_FALSE(bad_merge.ok());
  EXPECT_NE(bad_merge.error().message.find("merges[1]"), std::string::npos) << bad_merge.error().message;
}

TEST(Bpe, TokenTextsMapBackToBytes) {
  EXPECT_EQ(bpe_token_to_bytes(kG + "hello"), " hello");
  EXPECT_EQ(bpe_token_to_bytes("\xc4\x8a"), "\n");                            // "Ċ"
  EXPECT_EQ(bpe_token_to_bytes("\xc3\xa2\xc4\xa4\xc2\xac"), "\xe2\x82\xac");  // "âĤ¬" is the euro sign's bytes
  EXPECT_EQ(bpe_token_to_bytes("\xc4\x80"), std::string(1, '\0'));            // "Ā" is byte 0
  // A character outside bytes_to_unicode: the reference's marker.
  EXPECT_EQ(bpe_token_to_bytes("a\xe2\x82\xac"), "a[UNK_BYTE_0xe282aca\xe2\x82\xac]");
}

}  // namespace
}  // namespace tandem

// Byte-level BPE encoder (tokenizer.ggml.model = "gpt2"), token-for-token equal
// to the reference (llama.cpp's llm_tokenizer_bpe_session):
//   - text is decoded as the reference decodes UTF-8 (bad bytes become U+FFFD)
//     and cut into pieces by the family's pre-tokenizer;
//   - each byte of a piece becomes one symbol (its GPT-2 bytes_to_unicode
//     character), then the adjacent pair with the lowest merge rank is merged,
//     the left-most one on a tie, until no pair has a rank;
//   - a final symbol that is not a token is emitted as the tokens of its single
//     bytes, where such one-byte tokens exist (the reference's fallback);
//   - for Llama 3 and Tekken a piece that is itself a token is emitted whole.
//
// Speed: symbols are integer ids (every string that can ever be a symbol is
// interned when the encoder is built), merges are looked up in a flat hash map
// keyed by the pair of ids, and one encode call caches the ids of each distinct
// piece, which natural text repeats a lot. The cache lives in the call, so a
// const encoder is safe to share between threads.
#include "tandem/tokenizer/bpe.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <unordered_map>

#include "tandem/tokenizer/pretokenizer.h"
#include "tandem/tokenizer/unicode.h"

namespace tandem {
namespace {

// GPT-2's bytes_to_unicode: printable Latin-1 bytes map to themselves, the
// other 68 bytes to U+0100.. in byte order, so every byte has a visible character.
constexpr bool printable_byte(uint32_t b) {
  return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

constexpr std::array<uint16_t, 256> make_byte_to_cp() {
  std::array<uint16_t, 256> map{};
  uint16_t next = 256;
  for (uint32_t b = 0; b < 256; ++b) map[b] = printable_byte(b) ? static_cast<uint16_t>(b) : next++;
  return map;
}
constexpr std::array<uint16_t, 256> kByteToCp = make_byte_to_cp();

constexpr uint32_t kCpToByteSize = 256 + 68;
constexpr std::array<int16_t, kCpToByteSize> make_cp_to_byte() {
  std::array<int16_t, kCpToByteSize> map{};
  for (auto& m : map) m = -1;
  for (uint32_t b = 0; b < 256; ++b) map[kByteToCp[b]] = static_cast<int16_t>(b);
  return map;
}
constexpr std::array<int16_t, kCpToByteSize> kCpToByte = make_cp_to_byte();

uint64_t hash_bytes(std::string_view s) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ s.size();
  const char* p = s.data();
  size_t n = s.size();
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
    h ^= h >> 32;
    p += 8;
    n -= 8;
  }
  uint64_t w = 0;
  if (n > 0) std::memcpy(&w, p, n);
  h = (h ^ w) * 0x94D049BB133111EBull;
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9ull;
  return h ^ (h >> 32);
}

size_t capacity_for(size_t n) {
  size_t cap = 16;
  while (cap < 2 * n) cap *= 2;
  return cap;
}

// Open-addressing map from byte strings to V. Keys are views: the owner keeps
// their bytes alive and unchanged for the map's lifetime.
template <class V>
class StringMap {
 public:
  explicit StringMap(size_t expected = 0) { slots_.resize(capacity_for(expected)); }

  const V* find(std::string_view key) const {
    const uint64_t h = hash_bytes(key);
    const size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.len == kEmpty) return nullptr;
      if (s.hash == static_cast<uint32_t>(h) && s.len == key.size() &&
          (key.empty() || std::memcmp(s.data, key.data(), key.size()) == 0))
        return &s.value;
    }
  }

  // Stores key -> value; a present key keeps its value unless `overwrite`.
  void insert(std::string_view key, V value, bool overwrite) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    const uint64_t h = hash_bytes(key);
    const size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (s.len == kEmpty) {
        s = Slot{key.data(), static_cast<uint32_t>(key.size()), static_cast<uint32_t>(h), value};
        ++size_;
        return;
      }
      if (s.hash == static_cast<uint32_t>(h) && s.len == key.size() &&
          (key.empty() || std::memcmp(s.data, key.data(), key.size()) == 0)) {
        if (overwrite) s.value = value;
        return;
      }
    }
  }

 private:
  static constexpr uint32_t kEmpty = UINT32_MAX;
  struct Slot {
    const char* data = nullptr;
    uint32_t len = kEmpty;
    uint32_t hash = 0;
    V value{};
  };

  void grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.resize(old.size() * 2);
    size_ = 0;
    for (const Slot& s : old)
      if (s.len != kEmpty) insert(std::string_view(s.data, s.len), s.value, false);
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
};

// A merge: the pair (left, right) of symbol ids becomes `result` at `rank`.
struct Merge {
  uint32_t rank;
  uint32_t result;
};

// Open-addressing map from a pair of symbol ids to its merge.
class PairMap {
 public:
  explicit PairMap(size_t expected = 0) : slots_(capacity_for(expected)) {}

  const Merge* find(uint32_t left, uint32_t right) const {
    const uint64_t key = pack(left, right);
    const size_t mask = slots_.size() - 1;
    for (size_t i = slot_of(key);; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.key == key) return &s.merge;
      if (s.key == kEmptyKey) return nullptr;
    }
  }

  // Keeps the first merge of a pair, as the reference does for duplicates.
  void insert(uint32_t left, uint32_t right, Merge m) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    const uint64_t key = pack(left, right);
    const size_t mask = slots_.size() - 1;
    for (size_t i = slot_of(key);; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (s.key == key) return;
      if (s.key == kEmptyKey) {
        s = Slot{key, m};
        ++size_;
        return;
      }
    }
  }

 private:
  static constexpr uint64_t kEmptyKey = ~0ull;  // ids stay below 2^31, so no real pair packs to this
  struct Slot {
    uint64_t key = kEmptyKey;
    Merge merge{};
  };
  static uint64_t pack(uint32_t l, uint32_t r) { return (static_cast<uint64_t>(l) << 32) | r; }
  size_t slot_of(uint64_t key) const {
    uint64_t h = key * 0x9E3779B97F4A7C15ull;
    return static_cast<size_t>(h ^ (h >> 29)) & (slots_.size() - 1);
  }
  void grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.resize(old.size() * 2);
    size_ = 0;
    for (const Slot& s : old)
      if (s.key != kEmptyKey) insert(static_cast<uint32_t>(s.key >> 32), static_cast<uint32_t>(s.key), s.merge);
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
};

constexpr uint32_t kNoRank = UINT32_MAX;
constexpr uint32_t kDeadSymbol = UINT32_MAX;
// Pieces up to this many bytes merge by scanning an array; longer ones (rare:
// long runs of symbols or spaces) use a heap so they stay O(n log n).
constexpr size_t kLinearMergeMax = 64;
// Pieces longer than this are not cached: they seldom repeat.
constexpr size_t kCacheMaxBytes = 256;

struct CachedPiece {
  uint32_t begin = 0;  // into Scratch::cache_ids
  uint32_t count = 0;
};

// Per-call working memory, reused across the pieces of one encode call.
struct Scratch {
  std::string word;  // byte-level text of a piece
  std::vector<uint32_t> sym, rank, result;
  struct Node {
    uint32_t sid;
    int32_t prev, next;
  };
  struct Candidate {
    uint32_t rank, left, right, left_sid, right_sid, result;
  };
  std::vector<Node> nodes;
  std::vector<Candidate> heap;
  std::vector<int32_t> cache_ids;
};

}  // namespace

struct BpeEncoder::Impl {
  explicit Impl(PreTokenizer p) : pre(std::move(p)) {}

  PreTokenizer pre;
  bool ignore_merges = false;
  uint32_t n_tokens = 0;
  std::string arena;                        // all token texts back to back; token_ids' keys point here
  StringMap<int32_t> token_ids;             // text -> id; for a duplicated text the last id, as in the reference
  std::vector<std::string> virtual_texts;   // texts of symbol ids >= n_tokens (not tokens themselves)
  std::array<uint32_t, 256> byte_symbol{};  // symbol id of each byte's bytes_to_unicode character
  std::array<std::array<char, 2>, 256> byte_text{};  // that character in UTF-8 (1 or 2 bytes)
  PairMap merges;

  void encode_text(std::string_view text, std::vector<int32_t>& out) const;
  void encode_piece(std::string_view bytes, Scratch& s, std::vector<int32_t>& out) const;
  void merge_linear(Scratch& s) const;
  void merge_heap(Scratch& s) const;
  void emit_symbol(uint32_t sid, std::vector<int32_t>& out) const;
  size_t byte_text_len(unsigned char b) const { return kByteToCp[b] < 0x80 ? 1 : 2; }
};

void BpeEncoder::Impl::emit_symbol(uint32_t sid, std::vector<int32_t>& out) const {
  if (sid < n_tokens) {
    out.push_back(static_cast<int32_t>(sid));
    return;
  }
  // Not a token: the reference emits the tokens of the symbol's single bytes
  // (bytes of its byte-level text), skipping those that are not tokens either.
  for (char c : virtual_texts[sid - n_tokens]) {
    if (const int32_t* id = token_ids.find(std::string_view(&c, 1))) out.push_back(*id);
  }
}

void BpeEncoder::Impl::merge_linear(Scratch& s) const {
  std::vector<uint32_t>& sym = s.sym;
  std::vector<uint32_t>& rank = s.rank;
  std::vector<uint32_t>& result = s.result;
  const auto pair_rank = [this, &sym, &rank, &result](size_t i) {
    const Merge* m = merges.find(sym[i], sym[i + 1]);
    rank[i] = m ? m->rank : kNoRank;
    result[i] = m ? m->result : 0;
  };
  rank.resize(sym.size() - 1);
  result.resize(sym.size() - 1);
  for (size_t i = 0; i + 1 < sym.size(); ++i) pair_rank(i);
  while (sym.size() > 1) {
    size_t best = 0;
    for (size_t i = 1; i < rank.size(); ++i)
      if (rank[i] < rank[best]) best = i;  // strict: the left-most of equal ranks
    if (rank[best] == kNoRank) break;
    sym[best] = result[best];
    sym.erase(sym.begin() + static_cast<ptrdiff_t>(best) + 1);
    rank.erase(rank.begin() + static_cast<ptrdiff_t>(best));
    result.erase(result.begin() + static_cast<ptrdiff_t>(best));
    if (best > 0) pair_rank(best - 1);
    if (best < rank.size()) pair_rank(best);
  }
}

void BpeEncoder::Impl::merge_heap(Scratch& s) const {
  using Candidate = Scratch::Candidate;
  const size_t n = s.sym.size();
  s.nodes.resize(n);
  for (size_t i = 0; i < n; ++i)
    s.nodes[i] = {s.sym[i], static_cast<int32_t>(i) - 1, i + 1 < n ? static_cast<int32_t>(i) + 1 : -1};
  // A min-heap on (rank, left position): the lowest rank, the left-most on a tie.
  const auto later = [](const Candidate& a, const Candidate& b) {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  };
  s.heap.clear();
  const auto consider = [this, &s, &later](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const uint32_t ls = s.nodes[static_cast<size_t>(left)].sid, rs = s.nodes[static_cast<size_t>(right)].sid;
    const Merge* m = merges.find(ls, rs);
    if (!m) return;
    s.heap.push_back({m->rank, static_cast<uint32_t>(left), static_cast<uint32_t>(right), ls, rs, m->result});
    std::push_heap(s.heap.begin(), s.heap.end(), later);
  };
  for (size_t i = 0; i + 1 < n; ++i) consider(static_cast<int32_t>(i), static_cast<int32_t>(i) + 1);
  while (!s.heap.empty()) {
    std::pop_heap(s.heap.begin(), s.heap.end(), later);
    const Candidate c = s.heap.back();
    s.heap.pop_back();
    Scratch::Node& l = s.nodes[c.left];
    Scratch::Node& r = s.nodes[c.right];
    // Stale when either side has merged since: a symbol's id changes with its text.
    if (l.sid != c.left_sid || r.sid != c.right_sid || l.next != static_cast<int32_t>(c.right)) continue;
    l.sid = c.result;
    r.sid = kDeadSymbol;
    l.next = r.next;
    if (r.next >= 0) s.nodes[static_cast<size_t>(r.next)].prev = static_cast<int32_t>(c.left);
    consider(l.prev, static_cast<int32_t>(c.left));
    consider(static_cast<int32_t>(c.left), l.next);
  }
  s.sym.clear();
  for (int32_t i = 0; i >= 0; i = s.nodes[static_cast<size_t>(i)].next)
    s.sym.push_back(s.nodes[static_cast<size_t>(i)].sid);
}

void BpeEncoder::Impl::encode_piece(std::string_view bytes, Scratch& s, std::vector<int32_t>& out) const {
  if (ignore_merges) {
    s.word.clear();
    for (char c : bytes) {
      const auto b = static_cast<unsigned char>(c);
      s.word.append(byte_text[b].data(), byte_text_len(b));
    }
    if (const int32_t* id = token_ids.find(s.word)) {
      out.push_back(*id);
      return;
    }
  }
  s.sym.clear();
  for (char c : bytes) s.sym.push_back(byte_symbol[static_cast<unsigned char>(c)]);
  if (s.sym.size() > kLinearMergeMax) {
    merge_heap(s);
  } else if (s.sym.size() > 1) {
    merge_linear(s);
  }
  for (uint32_t sid : s.sym) emit_symbol(sid, out);
}

BpeEncoder::BpeEncoder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BpeEncoder::~BpeEncoder() = default;
BpeEncoder::BpeEncoder(BpeEncoder&&) noexcept = default;
BpeEncoder& BpeEncoder::operator=(BpeEncoder&&) noexcept = default;

Result<BpeEncoder> BpeEncoder::create(const Vocab& vocab) {
  if (vocab.model != TokenizerModel::kBpe)
    return make_error("byte-level BPE needs a 'gpt2' tokenizer, not '", vocab.model_name, "'");
  auto pre = PreTokenizer::from_name(vocab.pre);
  if (!pre) return pre.error();
  if (vocab.tokens.size() >= (1u << 30))
    return make_error("byte-level BPE: ", vocab.tokens.size(), " tokens is more than this encoder supports");
  auto impl = std::make_unique<Impl>(std::move(*pre));
  Impl& m = *impl;
  m.ignore_merges = vocab.ignore_merges || m.pre.ignore_merges();
  m.n_tokens = static_cast<uint32_t>(vocab.tokens.size());

  size_t total = 0;
  for (const std::string& t : vocab.tokens) total += t.size();
  m.arena.reserve(total);
  for (const std::string& t : vocab.tokens) m.arena += t;
  m.token_ids = StringMap<int32_t>(vocab.tokens.size());
  size_t off = 0;
  for (uint32_t id = 0; id < m.n_tokens; ++id) {
    const size_t len = vocab.tokens[id].size();
    m.token_ids.insert(std::string_view(m.arena).substr(off, len), static_cast<int32_t>(id), /*overwrite=*/true);
    off += len;
  }

  // Symbol ids: a token text is its token id; any other string a merge can
  // produce or consume gets an id past the vocabulary.
  std::unordered_map<std::string, uint32_t> virtual_ids;
  const auto intern = [&m, &virtual_ids](std::string_view text) -> uint32_t {
    if (const int32_t* id = m.token_ids.find(text)) return static_cast<uint32_t>(*id);
    auto [it, added] =
        virtual_ids.emplace(std::string(text), m.n_tokens + static_cast<uint32_t>(m.virtual_texts.size()));
    if (added) m.virtual_texts.emplace_back(text);
    return it->second;
  };
  for (uint32_t b = 0; b < 256; ++b) {
    std::string ch;
    unicode::utf8_append(kByteToCp[b], ch);
    std::copy(ch.begin(), ch.end(), m.byte_text[b].begin());
    m.byte_symbol[b] = intern(ch);
  }

  m.merges = PairMap(vocab.merges.size());
  std::string joined;
  for (size_t i = 0; i < vocab.merges.size(); ++i) {
    const std::string& merge = vocab.merges[i];
    // The reference splits at the first space after the first byte, so a part may itself hold spaces.
    const size_t sp = merge.find(' ', 1);
    if (sp == std::string::npos)
      return make_error("tokenizer.ggml.merges[", i, "] is '", merge, "': expected two symbols separated by a space");
    const std::string_view left = std::string_view(merge).substr(0, sp);
    const std::string_view right = std::string_view(merge).substr(sp + 1);
    joined.assign(left);
    joined += right;
    const uint32_t l = intern(left), r = intern(right), result = intern(joined);
    m.merges.insert(l, r, Merge{static_cast<uint32_t>(i), result});
  }
  return BpeEncoder(std::move(impl));
}

void BpeEncoder::encode(std::string_view text, std::vector<int32_t>& out) const {
  // Positions are 32-bit, so a text past 1 GiB is encoded in slices. A slice
  // ends after a newline that an ASCII letter follows, which ends a piece in
  // every family, so the ids are the same as in one go.
  constexpr size_t kMaxSlice = size_t{1} << 30;
  while (text.size() > kMaxSlice) {
    size_t cut = kMaxSlice;
    const auto letter = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
    while (cut > 1 && !(text[cut - 1] == '\n' && letter(text[cut]))) --cut;
    if (cut <= 1) {  // no such newline: cut at a character boundary
      cut = kMaxSlice;
      while (cut > 1 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    }
    impl_->encode_text(text.substr(0, cut), out);
    text.remove_prefix(cut);
  }
  impl_->encode_text(text, out);
}

void BpeEncoder::Impl::encode_text(std::string_view text, std::vector<int32_t>& out) const {
  if (text.empty()) return;
  const Impl& m = *this;

  // Decode; pieces are later cut out of the UTF-8 re-encoding of the code
  // points, which is the input itself unless it held invalid sequences (the
  // reference tokenizes U+FFFD for those, and the shortest form of overlong ones).
  std::vector<uint32_t> cps;
  std::vector<uint32_t> offsets;  // byte offset of each code point in `norm`, plus the end
  cps.reserve(text.size());
  offsets.reserve(text.size() + 1);
  bool clean = true;
  std::string rebuilt;
  for (size_t pos = 0; pos < text.size();) {
    const size_t start = pos;
    const uint32_t cp = unicode::utf8_next(text, pos);
    const size_t len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (clean && len != pos - start) {
      clean = false;
      rebuilt.assign(text.substr(0, start));
    }
    offsets.push_back(static_cast<uint32_t>(clean ? start : rebuilt.size()));
    if (!clean) unicode::utf8_append(cp, rebuilt);
    cps.push_back(cp);
  }
  const std::string_view norm = clean ? text : std::string_view(rebuilt);
  offsets.push_back(static_cast<uint32_t>(norm.size()));

  std::vector<uint32_t> ends;
  ends.reserve(cps.size() / 3 + 1);
  m.pre.split(cps, ends);

  Scratch s;
  StringMap<CachedPiece> cache(std::min<size_t>(ends.size(), 1 << 16));
  uint32_t b = 0;
  for (uint32_t e : ends) {
    const std::string_view piece = norm.substr(offsets[b], offsets[e] - offsets[b]);
    b = e;
    if (piece.size() == 1) {  // one byte, one symbol: nothing to merge or cache
      m.emit_symbol(m.byte_symbol[static_cast<unsigned char>(piece[0])], out);
      continue;
    }
    if (piece.size() > kCacheMaxBytes) {
      m.encode_piece(piece, s, out);
      continue;
    }
    if (const CachedPiece* hit = cache.find(piece)) {
      out.insert(out.end(), s.cache_ids.begin() + hit->begin, s.cache_ids.begin() + hit->begin + hit->count);
      continue;
    }
    const size_t before = out.size();
    m.encode_piece(piece, s, out);
    const CachedPiece entry{static_cast<uint32_t>(s.cache_ids.size()), static_cast<uint32_t>(out.size() - before)};
    s.cache_ids.insert(s.cache_ids.end(), out.begin() + static_cast<ptrdiff_t>(before), out.end());
    cache.insert(piece, entry, false);
  }
}

std::string bpe_token_to_bytes(std::string_view token_text) {
  std::string out;
  out.reserve(token_text.size());
  size_t pos = 0;
  while (pos < token_text.size()) {
    const uint32_t cp = unicode::utf8_next(token_text, pos);
    if (cp < kCpToByteSize && kCpToByte[cp] >= 0) {
      out += static_cast<char>(kCpToByte[cp]);
      continue;
    }
    // Not a bytes_to_unicode character: the reference writes a marker naming
    // the character's bytes and the whole token text.
    std::string utf8;
    unicode::utf8_append(cp, utf8);
    out += "[UNK_BYTE_0x";
    static constexpr char kHex[] = "0123456789abcdef";
    for (char c : utf8) {
      out += kHex[static_cast<unsigned char>(c) >> 4];
      out += kHex[static_cast<unsigned char>(c) & 0xF];
    }
    out.append(token_text);
    out += ']';
  }
  return out;
}

}  // namespace tandem

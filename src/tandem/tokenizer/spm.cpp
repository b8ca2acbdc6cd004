// SentencePiece-style BPE, token for token as llama.cpp's SPM session, but
// without its per-pair string allocations: token texts live in one open-
// addressing table looked up by byte range, and the text is cut into
// independent segments before merging (see encode below), so the merge
// heap stays small even when a whole 1 MB document is one fragment.
#include "tandem/tokenizer/spm.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <utility>

#include "tandem/tokenizer/unicode.h"

namespace tandem {
namespace {

constexpr std::string_view kEscapedSpace = "\xe2\x96\x81";  // U+2581

// The reference splits text into symbols by the length its lead byte announces,
// cut short at the end of the text (so invalid UTF-8 still makes progress).
size_t symbol_len(const char* p, size_t left) {
  return std::min(unicode::utf8_len(static_cast<unsigned char>(*p)), left);
}

uint64_t mix(uint64_t h) {
  h ^= h >> 31;
  h *= 0x9e3779b97f4a7c15ull;
  h ^= h >> 29;
  return h;
}

uint64_t hash_bytes(const char* p, size_t n) {
  uint64_t h = 0x243f6a8885a308d3ull ^ n;
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = mix(h ^ w);
    p += 8, n -= 8;
  }
  uint64_t w = 0;
  std::memcpy(&w, p, n);
  return mix(h ^ w ^ 0xbf58476d1ce4e5b9ull);
}

size_t table_capacity(size_t n) {
  size_t cap = 16;
  while (cap < 2 * n) cap <<= 1;
  return cap;
}

// Token text -> id, looked up by byte range without building a std::string.
class TextTable {
 public:
  void build(const std::unordered_map<std::string, int32_t>& token_to_id) {
    slots_.assign(table_capacity(token_to_id.size()), Slot{});
    mask_ = slots_.size() - 1;
    size_t bytes = 0;
    for (const auto& kv : token_to_id) bytes += kv.first.size();
    arena_.reserve(bytes);
    for (const auto& [text, id] : token_to_id) {
      const uint64_t h = hash_bytes(text.data(), text.size());
      size_t i = h & mask_;
      while (slots_[i].id >= 0) i = (i + 1) & mask_;
      slots_[i] = Slot{static_cast<uint32_t>(h >> 32), static_cast<uint32_t>(arena_.size()),
                       static_cast<uint32_t>(text.size()), id};
      arena_.append(text);
    }
  }

  int32_t find(const char* p, size_t n) const {
    const uint64_t h = hash_bytes(p, n);
    const auto tag = static_cast<uint32_t>(h >> 32);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.id < 0) return -1;
      if (s.tag == tag && s.len == n && std::memcmp(arena_.data() + s.off, p, n) == 0) return s.id;
    }
  }

 private:
  struct Slot {
    uint32_t tag = 0;
    uint32_t off = 0;
    uint32_t len = 0;
    int32_t id = -1;  // -1: empty
  };
  std::string arena_;
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

// A symbol (at most 4 bytes) packed into 32 bits. Distinct symbols may share a
// code (a short symbol and one padded with NUL bytes); that only makes the
// pair set answer "maybe" more often, never wrongly "no".
uint32_t pack_symbol(const char* p, size_t n) {
  uint32_t code = 0;
  std::memcpy(&code, p, n);
  return code;
}

// Set of adjacent symbol pairs that occur inside some token text.
class PairSet {
 public:
  void build(const std::vector<std::string>& tokens) {
    std::vector<uint64_t> keys;
    for (const std::string& t : tokens) {
      size_t pos = 0, prev_len = 0;
      while (pos < t.size()) {
        const size_t len = symbol_len(t.data() + pos, t.size() - pos);
        if (prev_len > 0) keys.push_back(key(t.data() + pos - prev_len, prev_len, t.data() + pos, len));
        prev_len = len;
        pos += len;
      }
    }
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    slots_.assign(table_capacity(keys.size()), kEmpty);
    mask_ = slots_.size() - 1;
    for (uint64_t k : keys) {
      size_t i = mix(k) & mask_;
      while (slots_[i] != kEmpty) i = (i + 1) & mask_;
      slots_[i] = k;
    }
  }

  bool contains(uint64_t k) const {
    for (size_t i = mix(k) & mask_;; i = (i + 1) & mask_) {
      if (slots_[i] == k) return true;
      if (slots_[i] == kEmpty) return false;
    }
  }

  static uint64_t key(const char* a, size_t na, const char* b, size_t nb) {
    return (uint64_t{pack_symbol(a, na)} << 32) | pack_symbol(b, nb);
  }

 private:
  // No symbol packs to 0xffffffff: 0xff announces a 1-byte symbol.
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  std::vector<uint64_t> slots_;
  size_t mask_ = 0;
};

struct Symbol {
  int32_t prev;
  int32_t next;
  uint32_t off;  // from the segment start
  uint32_t len;  // 0 once merged into its left neighbour
  int32_t id;    // token of the text when known (-2: not looked up yet)
};

struct Bigram {
  float score;
  int32_t left;
  int32_t right;
  uint32_t size;
  int32_t id;
};

// Heap order of the reference: highest score first, then the leftmost pair.
bool lower_priority(const Bigram& a, const Bigram& b) {
  return a.score < b.score || (a.score == b.score && a.left > b.left);
}

}  // namespace

struct SpmEncoder::Impl {
  TextTable table;
  std::vector<float> scores;
  std::array<int32_t, 256> byte_ids{};
  PairSet pairs;

  // Buffers reused across the segments of one encode call.
  struct Scratch {
    std::vector<Symbol> symbols;
    std::vector<Bigram> heap;
  };

  void try_add(const char* seg, Scratch& s, int32_t left, int32_t right) const {
    if (left < 0 || right < 0) return;
    const Symbol& l = s.symbols[static_cast<size_t>(left)];
    const uint32_t size = l.len + s.symbols[static_cast<size_t>(right)].len;
    const int32_t id = table.find(seg + l.off, size);
    if (id < 0) return;
    s.heap.push_back(Bigram{scores[static_cast<size_t>(id)], left, right, size, id});
    std::push_heap(s.heap.begin(), s.heap.end(), lower_priority);
  }

  // Merges one segment exactly as the reference merges a whole fragment.
  void encode_segment(const char* seg, size_t n, Scratch& s, std::vector<int32_t>& out) const {
    s.symbols.clear();
    s.heap.clear();
    for (size_t pos = 0; pos < n;) {
      const size_t len = symbol_len(seg + pos, n - pos);
      const auto index = static_cast<int32_t>(s.symbols.size());
      s.symbols.push_back(Symbol{index - 1, pos + len == n ? -1 : index + 1, static_cast<uint32_t>(pos),
                                 static_cast<uint32_t>(len), -2});
      pos += len;
    }
    for (int32_t i = 1; i < static_cast<int32_t>(s.symbols.size()); ++i) try_add(seg, s, i - 1, i);

    while (!s.heap.empty()) {
      std::pop_heap(s.heap.begin(), s.heap.end(), lower_priority);
      const Bigram b = s.heap.back();
      s.heap.pop_back();
      Symbol& l = s.symbols[static_cast<size_t>(b.left)];
      Symbol& r = s.symbols[static_cast<size_t>(b.right)];
      // A pair whose symbols changed since it was queued is stale.
      if (l.len == 0 || r.len == 0 || l.len + r.len != b.size) continue;
      l.len += r.len;
      l.id = b.id;
      r.len = 0;
      l.next = r.next;
      if (r.next >= 0) s.symbols[static_cast<size_t>(r.next)].prev = b.left;
      try_add(seg, s, l.prev, b.left);
      try_add(seg, s, b.left, l.next);
    }

    for (int32_t i = 0; i != -1; i = s.symbols[static_cast<size_t>(i)].next) {
      const Symbol& sym = s.symbols[static_cast<size_t>(i)];
      const int32_t id = sym.id != -2 ? sym.id : table.find(seg + sym.off, sym.len);
      if (id >= 0) {
        out.push_back(id);
        continue;
      }
      for (uint32_t j = 0; j < sym.len; ++j) {
        const int32_t b = byte_ids[static_cast<unsigned char>(seg[sym.off + j])];
        if (b >= 0) out.push_back(b);
      }
    }
  }
};

SpmEncoder::SpmEncoder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SpmEncoder::~SpmEncoder() = default;
SpmEncoder::SpmEncoder(SpmEncoder&&) noexcept = default;
SpmEncoder& SpmEncoder::operator=(SpmEncoder&&) noexcept = default;

Result<SpmEncoder> SpmEncoder::create(const Vocab& vocab) {
  const size_t n = vocab.tokens.size();
  if (n == 0) return make_error("SentencePiece tokenizer: the vocabulary is empty");
  if (!vocab.scores.empty() && vocab.scores.size() != n)
    return make_error("SentencePiece tokenizer: ", vocab.scores.size(), " scores for ", n, " tokens");
  if (vocab.token_to_id.size() > n)
    return make_error("SentencePiece tokenizer: token index has more entries than the vocabulary");
  for (const auto& kv : vocab.token_to_id)
    if (kv.second < 0 || static_cast<size_t>(kv.second) >= n)
      return make_error("SentencePiece tokenizer: token index maps '", kv.first, "' to id ", kv.second,
                        ", outside the vocabulary of ", n, " tokens");
  auto impl = std::make_unique<Impl>();
  impl->table.build(vocab.token_to_id);
  impl->scores = vocab.scores.empty() ? std::vector<float>(n, 0.0f) : vocab.scores;
  impl->pairs.build(vocab.tokens);
  // Byte fallback: "<0xXX>", else the byte itself as a token; the reference
  // aborts when neither exists, here the unknown token stands in (or nothing).
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b) {
    const char name[6] = {'<', '0', 'x', kHex[b >> 4], kHex[b & 15], '>'};
    int32_t id = impl->table.find(name, 6);
    if (id < 0 && b != 0) {
      const char c = static_cast<char>(b);
      id = impl->table.find(&c, 1);
    }
    impl->byte_ids[static_cast<size_t>(b)] = id >= 0 ? id : vocab.unk;
  }
  return SpmEncoder(std::move(impl));
}

void SpmEncoder::encode(std::string_view fragment, std::vector<int32_t>& out, bool dummy_prefix) const {
  std::string text;
  text.reserve(fragment.size() + fragment.size() / 2 + kEscapedSpace.size());
  if (dummy_prefix) text.append(kEscapedSpace);
  for (size_t pos = 0; pos < fragment.size();) {
    size_t space = fragment.find(' ', pos);
    if (space == std::string_view::npos) space = fragment.size();
    text.append(fragment, pos, space - pos);
    if (space < fragment.size()) text.append(kEscapedSpace);
    pos = space + 1;
  }

  // Segments: a merge joins two adjacent symbols only when their
  // concatenation is a token, so it can never cross a boundary between symbols
  // x|y where the pair (x, y) occurs inside no token text. Merges on the two
  // sides of such a boundary never interact (each pair's priority is its own
  // score and position), so encoding the pieces one by one gives exactly the
  // reference's result for the whole text, with small heaps.
  Impl::Scratch scratch;
  const char* p = text.data();
  const size_t n = text.size();
  size_t seg_begin = 0, prev_pos = 0, prev_len = 0;
  for (size_t pos = 0; pos < n;) {
    const size_t len = symbol_len(p + pos, n - pos);
    if (prev_len > 0 && !impl_->pairs.contains(PairSet::key(p + prev_pos, prev_len, p + pos, len))) {
      impl_->encode_segment(p + seg_begin, pos - seg_begin, scratch, out);
      seg_begin = pos;
    }
    prev_pos = pos, prev_len = len;
    pos += len;
  }
  if (seg_begin < n) impl_->encode_segment(p + seg_begin, n - seg_begin, scratch, out);
}

}  // namespace tandem

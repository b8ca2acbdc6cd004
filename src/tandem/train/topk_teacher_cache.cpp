// The teacher's top-k logits cached on disk (see topk_teacher_cache.h).
#include "tandem/train/topk_teacher_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <numeric>

namespace tandem {
namespace {

constexpr char kMagic[4] = {'T', 'K', 'C', '1'};
constexpr uint32_t kVersion = 1;
constexpr int64_t kEntryHead = 16;   // int32 seq, int32 reserved, uint64 hash
constexpr int64_t kMaxSeq = 1 << 20;  // a larger seq can only be a corrupt entry

uint64_t token_hash(std::span<const int32_t> t) {
  uint64_t h = 1469598103934665603ull;
  const auto* b = reinterpret_cast<const unsigned char*>(t.data());
  for (size_t i = 0; i < t.size_bytes(); ++i) h = (h ^ b[i]) * 1099511628211ull;
  return h;
}

Status pread_all(int fd, void* dst, size_t n, uint64_t off, const std::string& path) {
  auto* p = static_cast<char*>(dst);
  while (n > 0) {
    const ssize_t r = ::pread(fd, p, n, static_cast<off_t>(off));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return make_error(path, ": read failed at byte ", off, ": ", r < 0 ? std::strerror(errno) : "end of file");
    p += r;
    n -= static_cast<size_t>(r);
    off += static_cast<uint64_t>(r);
  }
  return ok_status();
}

Status pwrite_all(int fd, const void* src, size_t n, uint64_t off, const std::string& path) {
  const auto* p = static_cast<const char*>(src);
  while (n > 0) {
    const ssize_t r = ::pwrite(fd, p, n, static_cast<off_t>(off));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return make_error(path, ": write failed at byte ", off, ": ", std::strerror(errno));
    p += r;
    n -= static_cast<size_t>(r);
    off += static_cast<uint64_t>(r);
  }
  return ok_status();
}

template <class T>
void put(std::vector<char>& b, const T& v) {
  const auto* p = reinterpret_cast<const char*>(&v);
  b.insert(b.end(), p, p + sizeof v);
}

}  // namespace

Result<std::unique_ptr<TopkTeacherCache>> TopkTeacherCache::open(const std::string& path,
                                                                 std::shared_ptr<TeacherLogits> inner, int64_t k,
                                                                 const std::string& teacher_id) {
  const int64_t V = inner->vocab();
  if (k < 1 || k > V) return make_error(path, ": cache top-k ", k, " must be in [1, ", V, "]");
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return make_error(path, ": cannot open the teacher cache: ", std::strerror(errno));
  std::unique_ptr<TopkTeacherCache> c(new TopkTeacherCache(path, fd, std::move(inner), k));
  struct stat st {};
  if (::fstat(fd, &st) != 0) return make_error(path, ": ", std::strerror(errno));

  std::vector<char> head(kMagic, kMagic + 4);
  put(head, kVersion);
  put(head, k);
  put(head, V);
  put(head, static_cast<uint32_t>(teacher_id.size()));
  head.insert(head.end(), teacher_id.begin(), teacher_id.end());
  if (st.st_size == 0) {
    TANDEM_TRY(pwrite_all(fd, head.data(), head.size(), 0, path));
    c->end_ = head.size();
    return c;
  }
  // An existing cache must describe the same teacher and k, byte for byte.
  std::vector<char> have(head.size());
  if (static_cast<uint64_t>(st.st_size) < head.size() || !pread_all(fd, have.data(), have.size(), 0, path).ok() ||
      have != head)
    return make_error(path, ": the cache was made for another teacher, k or vocabulary (expected k ", k,
                      ", vocabulary ", V, ", teacher '", teacher_id, "'); remove it or use another file");
  TANDEM_TRY(c->scan(head.size()));
  return c;
}

TopkTeacherCache::~TopkTeacherCache() { ::close(fd_); }

Status TopkTeacherCache::scan(uint64_t header_bytes) {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return make_error(path_, ": ", std::strerror(errno));
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  uint64_t off = header_bytes;
  while (off + kEntryHead <= size) {
    int32_t seq = 0;
    uint64_t hash = 0;
    TANDEM_TRY(pread_all(fd_, &seq, sizeof seq, off, path_));
    TANDEM_TRY(pread_all(fd_, &hash, sizeof hash, off + 8, path_));
    if (seq <= 0 || seq > kMaxSeq) return make_error(path_, ": corrupt entry at byte ", off, " (length ", seq, ")");
    const uint64_t bytes = static_cast<uint64_t>(kEntryHead + seq * 4 + seq * k_ * 8);
    if (off + bytes > size) break;  // torn by a killed run
    index_.emplace(hash, static_cast<int64_t>(off));
    ++entries_;
    off += bytes;
  }
  if (off < size && ::ftruncate(fd_, static_cast<off_t>(off)) != 0)
    return make_error(path_, ": cannot cut a torn final entry: ", std::strerror(errno));
  end_ = off;
  return ok_status();
}

Result<int64_t> TopkTeacherCache::find(std::span<const int32_t> tokens, uint64_t hash) {
  auto [lo, hi] = index_.equal_range(hash);
  for (auto it = lo; it != hi; ++it) {
    int32_t seq = 0;
    TANDEM_TRY(pread_all(fd_, &seq, sizeof seq, static_cast<uint64_t>(it->second), path_));
    if (seq != static_cast<int32_t>(tokens.size())) continue;
    tok_.resize(tokens.size());
    TANDEM_TRY(pread_all(fd_, tok_.data(), tokens.size_bytes(), static_cast<uint64_t>(it->second + kEntryHead), path_));
    if (std::equal(tok_.begin(), tok_.end(), tokens.begin())) return it->second;
  }
  return int64_t{-1};
}

Status TopkTeacherCache::read_row(int64_t entry, int64_t seq, std::span<float> out) {
  const int64_t V = vocab(), n = seq * k_;
  ids_.resize(static_cast<size_t>(n));
  vals_.resize(static_cast<size_t>(n));
  const uint64_t base = static_cast<uint64_t>(entry + kEntryHead + seq * 4);
  TANDEM_TRY(pread_all(fd_, ids_.data(), static_cast<size_t>(n) * 4, base, path_));
  TANDEM_TRY(pread_all(fd_, vals_.data(), static_cast<size_t>(n) * 4, base + static_cast<uint64_t>(n) * 4, path_));
  std::fill(out.begin(), out.end(), -std::numeric_limits<float>::infinity());
  for (int64_t t = 0; t < seq; ++t)
    for (int64_t j = 0; j < k_; ++j) {
      const int32_t id = ids_[static_cast<size_t>(t * k_ + j)];
      if (id < 0 || id >= V) return make_error(path_, ": corrupt entry at byte ", entry, " (token id ", id, ")");
      out[static_cast<size_t>(t * V + id)] = vals_[static_cast<size_t>(t * k_ + j)];
    }
  return ok_status();
}

Status TopkTeacherCache::append_row(std::span<const int32_t> tokens, uint64_t hash, std::span<const float> full,
                                    std::span<float> out) {
  const int64_t V = vocab(), seq = static_cast<int64_t>(tokens.size());
  std::vector<char> b;
  b.reserve(static_cast<size_t>(kEntryHead + seq * 4 + seq * k_ * 8));
  put(b, static_cast<int32_t>(seq));
  put(b, int32_t{0});
  put(b, hash);
  b.insert(b.end(), reinterpret_cast<const char*>(tokens.data()),
           reinterpret_cast<const char*>(tokens.data() + tokens.size()));
  ids_.resize(static_cast<size_t>(seq * k_));
  vals_.resize(ids_.size());
  std::vector<int32_t> idx(static_cast<size_t>(V));
  std::fill(out.begin(), out.end(), -std::numeric_limits<float>::infinity());
  for (int64_t t = 0; t < seq; ++t) {
    const float* row = full.data() + t * V;
    std::iota(idx.begin(), idx.end(), 0);
    // The set distill_loss's top-k picks: largest logits first, ties to the lower id.
    auto before = [row](int32_t a, int32_t c) { return row[a] > row[c] || (row[a] == row[c] && a < c); };
    std::nth_element(idx.begin(), idx.begin() + (k_ - 1), idx.end(), before);
    std::sort(idx.begin(), idx.begin() + k_);
    for (int64_t j = 0; j < k_; ++j) {
      const int32_t id = idx[static_cast<size_t>(j)];
      ids_[static_cast<size_t>(t * k_ + j)] = id;
      vals_[static_cast<size_t>(t * k_ + j)] = row[id];
      out[static_cast<size_t>(t * V + id)] = row[id];
    }
  }
  b.insert(b.end(), reinterpret_cast<const char*>(ids_.data()), reinterpret_cast<const char*>(ids_.data() + ids_.size()));
  b.insert(b.end(), reinterpret_cast<const char*>(vals_.data()),
           reinterpret_cast<const char*>(vals_.data() + vals_.size()));
  TANDEM_TRY(pwrite_all(fd_, b.data(), b.size(), end_, path_));  // one entry, one write
  index_.emplace(hash, static_cast<int64_t>(end_));
  end_ += b.size();
  ++entries_;
  return ok_status();
}

Status TopkTeacherCache::logits(const Batch& batch, std::span<float> out) {
  const int64_t V = vocab(), T = batch.seq;
  if (static_cast<int64_t>(out.size()) != batch.batch * T * V || static_cast<int64_t>(batch.inputs.size()) != batch.batch * T)
    return make_error("teacher cache: output of ", out.size(), " floats for a batch of ", batch.batch, " x ", T,
                      " over a vocabulary of ", V);
  std::vector<int64_t> missing;
  std::vector<uint64_t> hashes(static_cast<size_t>(batch.batch));
  for (int64_t b = 0; b < batch.batch; ++b) {
    const auto tokens = std::span<const int32_t>(batch.inputs).subspan(static_cast<size_t>(b * T), static_cast<size_t>(T));
    hashes[static_cast<size_t>(b)] = token_hash(tokens);
    auto at = find(tokens, hashes[static_cast<size_t>(b)]);
    if (!at) return at.error();
    if (*at < 0) {
      missing.push_back(b);
      continue;
    }
    TANDEM_TRY(read_row(*at, T, out.subspan(static_cast<size_t>(b * T * V), static_cast<size_t>(T * V))));
    ++hits_;
  }
  if (missing.empty()) return ok_status();
  // The rows not in the file, as one batch for the inner teacher.
  Batch sub;
  sub.batch = static_cast<int64_t>(missing.size());
  sub.seq = T;
  for (int64_t b : missing) {
    const auto from = batch.inputs.begin() + b * T;
    sub.inputs.insert(sub.inputs.end(), from, from + T);
    if (static_cast<int64_t>(batch.targets.size()) == batch.batch * T)
      sub.targets.insert(sub.targets.end(), batch.targets.begin() + b * T, batch.targets.begin() + (b + 1) * T);
    if (static_cast<int64_t>(batch.starts.size()) == batch.batch) sub.starts.push_back(batch.starts[static_cast<size_t>(b)]);
  }
  full_.resize(static_cast<size_t>(sub.batch * T * V));
  TANDEM_TRY(inner_->logits(sub, full_));
  for (size_t i = 0; i < missing.size(); ++i) {
    const int64_t b = missing[i];
    TANDEM_TRY(append_row(std::span<const int32_t>(sub.inputs).subspan(i * static_cast<size_t>(T), static_cast<size_t>(T)),
                          hashes[static_cast<size_t>(b)],
                          std::span<const float>(full_).subspan(i * static_cast<size_t>(T * V), static_cast<size_t>(T * V)),
                          out.subspan(static_cast<size_t>(b * T * V), static_cast<size_t>(T * V))));
    ++misses_;
  }
  return ok_status();
}

}  // namespace tandem

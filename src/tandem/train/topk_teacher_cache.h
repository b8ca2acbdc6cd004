// A disk cache of a teacher's top-k logits for white-box top-k distillation:
// the teacher (usually the engine, the slow half of a distillation step) runs
// once per distinct training sequence, and a later run over the same sequences
// — a rerun, a sweep over --alpha or the temperature with the same seed — reads
// (ids, logits) of the k most likely tokens per position from the file.
//
// Rows come back as the teacher's k largest logits in place and -inf
// elsewhere, both on a hit and on a miss, so a run trains identically whether
// its rows were computed or read. DistillMode::kTopK with top_k <= k sees
// exactly what it would see on the full row (same set: largest logits, ties to
// the lower id; same log-normalizer over the set). Forward and reverse KL need
// the whole distribution and must not use this cache.
//
// File: a header ("TKC1", version, k, vocabulary, teacher id) and entries
// appended one write() each: seq, a hash of the row's input tokens, the tokens
// themselves (a hit compares them, not only the hash), then (seq, k) int32 ids
// and (seq, k) float logits. A torn final entry (a killed run) is cut off when
// the file is opened.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "tandem/base/result.h"
#include "tandem/train/loss_function.h"

namespace tandem {

class TopkTeacherCache : public TeacherLogits {
 public:
  // Opens or creates the cache. An existing file must have the same k,
  // vocabulary and teacher id (e.g. the teacher file's name and hash).
  static Result<std::unique_ptr<TopkTeacherCache>> open(const std::string& path, std::shared_ptr<TeacherLogits> inner,
                                                        int64_t k, const std::string& teacher_id);
  ~TopkTeacherCache() override;
  TopkTeacherCache(const TopkTeacherCache&) = delete;
  TopkTeacherCache& operator=(const TopkTeacherCache&) = delete;

  int64_t vocab() const override { return inner_->vocab(); }
  Status logits(const Batch& batch, std::span<float> out) override;

  int64_t k() const { return k_; }
  int64_t hits() const { return hits_; }      // rows read from the file
  int64_t misses() const { return misses_; }  // rows computed by the inner teacher and appended
  int64_t entries() const { return entries_; }

 private:
  TopkTeacherCache(std::string path, int fd, std::shared_ptr<TeacherLogits> inner, int64_t k)
      : path_(std::move(path)), fd_(fd), inner_(std::move(inner)), k_(k) {}
  Status scan(uint64_t header_bytes);
  // Offset of the entry holding exactly these tokens, or -1.
  Result<int64_t> find(std::span<const int32_t> tokens, uint64_t hash);
  Status read_row(int64_t entry, int64_t seq, std::span<float> out);
  Status append_row(std::span<const int32_t> tokens, uint64_t hash, std::span<const float> full, std::span<float> out);

  std::string path_;
  int fd_;
  std::shared_ptr<TeacherLogits> inner_;
  int64_t k_;
  std::unordered_multimap<uint64_t, int64_t> index_;  // token hash -> entry offset
  uint64_t end_ = 0;                                   // file size: where the next entry goes
  int64_t hits_ = 0, misses_ = 0, entries_ = 0;
  std::vector<int32_t> ids_, tok_;
  std::vector<float> vals_, full_;
};

}  // namespace tandem

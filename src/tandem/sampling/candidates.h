// The tokens still in play while a sampler chain runs: (id, logit, prob) for each
// token of the vocabulary not yet filtered out. Filters shrink and reorder it in
// place; the buffer is reused between calls, so a sampler allocates only while
// it warms up to the vocabulary size.
//
// Two order facts are tracked so filters avoid full sorts over 32k-150k tokens:
// - id_ordered(): entries are in ascending id order (true after assign());
// - sorted_prefix(): the first n entries are the n best, in best-first order.
// "Best" is one total order everywhere: higher logit first, ties to the lower id,
// so every filter and greedy agree on which of two equal tokens wins.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "tandem/base/result.h"

namespace tandem {

struct Candidate {
  int32_t id;
  float logit;
  float p;  // probability, valid after softmax()
};

// True when a ranks before b: higher logit, ties to the lower id.
inline bool better(const Candidate& a, const Candidate& b) {
  return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

class Candidates {
 public:
  // Fills from one full-vocabulary row of logits. Tokens at -inf are dropped
  // (masked: probability zero under every filter). Errors: empty logits, a NaN
  // or +inf logit (a broken model row, named by index), or no finite logit.
  Status assign(std::span<const float> logits);

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::span<Candidate> items() { return {data_.data(), size_}; }
  std::span<const Candidate> items() const { return {data_.data(), size_}; }
  Candidate& operator[](size_t i) { return data_[i]; }
  const Candidate& operator[](size_t i) const { return data_[i]; }

  bool id_ordered() const { return id_ordered_; }
  size_t sorted_prefix() const { return sorted_; }

  // Makes the first n entries the n best in best-first order (partial selection:
  // nth_element on the unsorted rest, then a sort of the n - sorted_prefix() new ones).
  void sort_prefix(size_t n);
  // Puts the n best first, in no particular order (nth_element only); cheaper than
  // sort_prefix when only the kept set matters (top-k).
  void select_best(size_t n);
  // Keeps the n best entries. A few out of many (top-k 40 of a vocabulary) stay
  // in their present order, so an id-ordered set stays id-ordered: the n-th best
  // is found among the entries at or above a bound (below), then one
  // order-keeping pass drops the entries below it. Otherwise select_best(n) and
  // truncate(n).
  void keep_best(size_t n);
  // assign(logits) then keep_best(n), without making a candidate of every
  // token: for a few out of many, only the tokens at or above the bound are
  // looked at twice. Same set, same order, same errors.
  Status assign_best(std::span<const float> logits, size_t n);
  // Restores ascending id order (after filters reordered the entries).
  void sort_by_id();
  // Keeps the first n entries.
  void truncate(size_t n);
  // Keeps the entries for which keep(c) is true, preserving their order (so both
  // order facts survive: a kept prefix of the best stays the best, in order).
  template <class Pred>
  void keep_if(Pred keep) {
    size_t out = 0, new_sorted = 0;
    for (size_t i = 0; i < size_; ++i) {
      if (!keep(data_[i])) continue;
      if (i < sorted_) ++new_sorted;
      data_[out++] = data_[i];
    }
    size_ = out;
    sorted_ = new_sorted;
  }
  // Tells the order trackers that the caller permuted entries past sorted_prefix()
  // (the prefix itself untouched).
  void permuted_after_prefix() { id_ordered_ = id_ordered_ && size_ <= 1; }
  // Tells the order trackers that the caller rewrote logits: `order_kept` when the
  // change preserved the ranking (e.g. division by a positive temperature).
  void logits_changed(bool order_kept) {
    if (!order_kept) sorted_ = 0;
  }

  // Index of the best entry: O(1) when sorted, else one pass.
  size_t best_index() const;
  float max_logit() const { return data_[best_index()].logit; }
  // Fills p with the softmax of the logits (exp in float, the sum in double).
  void softmax();
  // The same softmax written into a full-vocabulary row (zeros for tokens not in
  // the set), summed in ascending id order: on the same set, bit-identical to
  // sort_by_id() then softmax(). A large reordered set (a wide nucleus) is
  // summed along the row instead of sorted; a small one sorts a copy of its ids.
  void softmax_into(std::vector<float>& out, size_t n_vocab);

 private:
  std::vector<Candidate> data_;
  // The entries [0, size_) are the candidates; keep only those at least as good
  // as the n-th best of them (n < size_), in their order.
  void keep_at_least_nth(size_t n);
  std::vector<Candidate> scratch_;  // keep_best's copy for the selection
  std::vector<float> block_max_;
  std::vector<int32_t> ids_;  // assign_best's tokens at or above the bound; softmax_into's ids in order
  size_t size_ = 0;
  size_t sorted_ = 0;
  bool id_ordered_ = true;
};

}  // namespace tandem

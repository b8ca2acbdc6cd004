// Candidate set maintenance: filling from a logits row with validation, and the
// partial orderings the filters need.
#include "tandem/sampling/candidates.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tandem {

Status Candidates::assign(std::span<const float> logits) {
  if (logits.empty()) return make_error("sampling: empty logits (expected one value per vocabulary token)");
  if (logits.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    return make_error("sampling: ", logits.size(), " logits exceed the int32 token id range");
  if (data_.size() < logits.size()) data_.resize(logits.size());
  constexpr float kInf = std::numeric_limits<float>::infinity();
  size_t out = 0;
  for (size_t i = 0; i < logits.size(); ++i) {
    const float x = logits[i];
    if (std::isnan(x)) return make_error("sampling: logits[", i, "] is NaN (expected a finite value or -inf)");
    if (x == kInf) return make_error("sampling: logits[", i, "] is +inf (expected a finite value or -inf)");
    if (x == -kInf) continue;
    data_[out++] = Candidate{static_cast<int32_t>(i), x, 0.0f};
  }
  size_ = out;
  sorted_ = 0;
  id_ordered_ = true;
  if (out == 0) return make_error("sampling: all ", logits.size(), " logits are -inf (no token can be drawn)");
  return ok_status();
}

void Candidates::sort_prefix(size_t n) {
  n = std::min(n, size_);
  if (n <= sorted_) return;
  select_best(n);
  // Everything past the sorted prefix ranks below it, so sorting only the newly
  // selected part extends the prefix.
  std::sort(data_.begin() + static_cast<ptrdiff_t>(sorted_), data_.begin() + static_cast<ptrdiff_t>(n), better);
  sorted_ = n;
  id_ordered_ = id_ordered_ && size_ <= 1;
}

void Candidates::select_best(size_t n) {
  if (n >= size_ || n <= sorted_) return;
  auto first = data_.begin() + static_cast<ptrdiff_t>(sorted_);
  auto mid = data_.begin() + static_cast<ptrdiff_t>(n);
  auto last = data_.begin() + static_cast<ptrdiff_t>(size_);
  id_ordered_ = false;
  if ((n - sorted_) * 8 > size_ - sorted_) {
    std::nth_element(first, mid - 1, last, better);
    return;
  }
  // Few out of many (top-k 40 of 150k): nth_element's partitioning mispredicts a
  // branch on about every other element, while a heap of the best so far is one
  // well-predicted comparison per element (the heap changes ~k*ln(n/k) times).
  // Heap order is `better`, so its front is the worst of the kept ones.
  std::make_heap(first, mid, better);
  for (auto it = mid; it != last; ++it) {
    if (!better(*it, *first)) continue;
    std::pop_heap(first, mid, better);
    std::swap(*(mid - 1), *it);
    std::push_heap(first, mid, better);
  }
}

void Candidates::sort_by_id() {
  if (id_ordered_) return;
  std::sort(data_.begin(), data_.begin() + static_cast<ptrdiff_t>(size_),
            [](const Candidate& a, const Candidate& b) { return a.id < b.id; });
  id_ordered_ = true;
  sorted_ = std::min<size_t>(sorted_, size_ <= 1 ? size_ : 0);
}

void Candidates::truncate(size_t n) {
  if (n >= size_) return;
  size_ = n;
  sorted_ = std::min(sorted_, n);
}

size_t Candidates::best_index() const {
  if (sorted_ > 0) return 0;
  size_t best = 0;
  for (size_t i = 1; i < size_; ++i)
    if (better(data_[i], data_[best])) best = i;
  return best;
}

void Candidates::softmax() {
  const float mx = max_logit();
  double sum = 0.0;
  for (size_t i = 0; i < size_; ++i) {
    const float e = std::exp(data_[i].logit - mx);
    data_[i].p = e;
    sum += e;
  }
  // sum >= 1: the best entry contributes exp(0).
  const double inv = 1.0 / sum;
  for (size_t i = 0; i < size_; ++i) data_[i].p = static_cast<float>(data_[i].p * inv);
}

void Candidates::softmax_into(std::vector<float>& out, size_t n_vocab) const {
  out.assign(n_vocab, 0.0f);
  const float mx = max_logit();
  for (size_t i = 0; i < size_; ++i) out[static_cast<size_t>(data_[i].id)] = std::exp(data_[i].logit - mx);
  // Adding the zeros of absent tokens leaves a double sum unchanged, so this is
  // softmax()'s sum over the set in id order.
  double sum = 0.0;
  for (float e : out) sum += e;
  const double inv = 1.0 / sum;
  for (float& e : out) e = static_cast<float>(e * inv);
}

}  // namespace tandem

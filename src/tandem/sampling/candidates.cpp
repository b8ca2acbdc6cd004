// Candidate set maintenance: filling from a logits row with validation, and the
// partial orderings the filters need.
#include "tandem/sampling/candidates.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "tandem/tensor/kernels.h"

namespace tandem {

Status Candidates::assign(std::span<const float> logits) {
  if (logits.empty()) return make_error("sampling: empty logits (expected one value per vocabulary token)");
  if (logits.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    return make_error("sampling: ", logits.size(), " logits exceed the int32 token id range");
  if (data_.size() < logits.size()) data_.resize(logits.size());
  constexpr float kInf = std::numeric_limits<float>::infinity();
  // One branch-free pass first: a row with no NaN and no infinity (nearly
  // every row) is copied whole without a test per token.
  uint32_t special = 0;
  for (float x : logits) special |= static_cast<uint32_t>(!(std::fabs(x) < kInf));
  if (special == 0) {
    for (size_t i = 0; i < logits.size(); ++i) data_[i] = Candidate{static_cast<int32_t>(i), logits[i], 0.0f};
    size_ = logits.size();
    sorted_ = 0;
    id_ordered_ = true;
    return ok_status();
  }
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

namespace {

// A lower bound of the n-th largest of a row of `size` values (n <= size / 8):
// with the row taken as a matrix of w >= 4n columns (a multiple of 16), the
// n-th largest of its column maxima. Those maxima are n distinct entries at or
// above it, so the n-th largest entry is too; the n best entries are then among
// the few at or above the bound (ties included).
size_t bound_columns(size_t n) { return (4 * n + 15) / 16 * 16; }

float nth_largest(std::vector<float>& v, size_t n) {
  std::nth_element(v.begin(), v.begin() + static_cast<ptrdiff_t>(n - 1), v.end(), std::greater<float>());
  return v[n - 1];
}

}  // namespace

void Candidates::keep_at_least_nth(size_t n) {
  scratch_.assign(data_.begin(), data_.begin() + static_cast<ptrdiff_t>(size_));
  std::nth_element(scratch_.begin(), scratch_.begin() + static_cast<ptrdiff_t>(n - 1), scratch_.end(),
                   [](const Candidate& a, const Candidate& b) { return better(a, b); });
  // The order is total, so exactly the n best are at least as good as the n-th.
  const Candidate nth = scratch_[n - 1];
  keep_if([&nth](const Candidate& x) { return !better(nth, x); });
}

void Candidates::keep_best(size_t n) {
  if (n >= size_) return;
  if (n <= sorted_) {  // the sorted prefix holds them, in order
    truncate(n);
    return;
  }
  if (n * 8 > size_) {
    select_best(n);
    truncate(n);
    return;
  }
  const size_t w = bound_columns(n);
  block_max_.assign(w, -std::numeric_limits<float>::infinity());
  for (size_t r = 0; r < size_; r += w)
    for (size_t j = 0; j < w && r + j < size_; ++j) block_max_[j] = std::max(block_max_[j], data_[r + j].logit);
  const float bound = nth_largest(block_max_, n);
  // The entries at or above the bound, in order, then the n best of those.
  keep_if([bound](const Candidate& x) { return x.logit >= bound; });
  if (n < size_) keep_at_least_nth(n);
}

Status Candidates::assign_best(std::span<const float> logits, size_t n) {
  const auto size = static_cast<int64_t>(logits.size());
  const size_t w = bound_columns(n);
  const Kernels& k = host_kernels();
  block_max_.resize(w);
  // Rows with a NaN or an infinity (or too few tokens) take the long way, which
  // names the first bad logit or drops the -inf ones.
  if (n == 0 || n * 8 > logits.size() || w > logits.size() || size > std::numeric_limits<int32_t>::max() ||
      !k.column_max(logits.data(), size, static_cast<int64_t>(w), block_max_.data())) {
    TANDEM_TRY(assign(logits));
    keep_best(n);
    return ok_status();
  }
  const float bound = nth_largest(block_max_, n);
  if (ids_.size() < logits.size()) ids_.resize(logits.size());
  const int64_t m = k.indices_at_least(logits.data(), size, bound, ids_.data());
  if (data_.size() < static_cast<size_t>(m)) data_.resize(static_cast<size_t>(m));
  for (int64_t i = 0; i < m; ++i) {
    const int32_t id = ids_[static_cast<size_t>(i)];
    data_[static_cast<size_t>(i)] = Candidate{id, logits[static_cast<size_t>(id)], 0.0f};
  }
  size_ = static_cast<size_t>(m);
  sorted_ = 0;
  id_ordered_ = true;
  if (n < size_) keep_at_least_nth(n);
  return ok_status();
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

void Candidates::softmax_into(std::vector<float>& out, size_t n_vocab) {
  out.assign(n_vocab, 0.0f);
  const float mx = max_logit();
  for (size_t i = 0; i < size_; ++i) out[static_cast<size_t>(data_[i].id)] = std::exp(data_[i].logit - mx);
  // softmax()'s sum over the set in id order: the set's own order where that is
  // id order, a sorted copy of its ids where it is small (top-k), else the
  // row's nonzero entries (adding a zero would change nothing).
  double sum = 0.0;
  if (id_ordered_) {
    for (size_t i = 0; i < size_; ++i) sum += out[static_cast<size_t>(data_[i].id)];
  } else if (size_ * 16 <= n_vocab) {
    ids_.resize(size_);
    for (size_t i = 0; i < size_; ++i) ids_[i] = data_[i].id;
    std::sort(ids_.begin(), ids_.end());
    for (int32_t id : ids_) sum += out[static_cast<size_t>(id)];
  } else {
    for (float e : out)
      if (e != 0.0f) sum += e;
  }
  // Absent tokens stay at zero, so only the set's entries are scaled.
  const double inv = 1.0 / sum;
  for (size_t i = 0; i < size_; ++i) {
    float& e = out[static_cast<size_t>(data_[i].id)];
    e = static_cast<float>(e * inv);
  }
}

}  // namespace tandem

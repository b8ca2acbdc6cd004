// Penalty window bookkeeping and application to a candidate set.
#include "tandem/sampling/penalties.h"

#include <algorithm>

namespace tandem {

PenaltyWindow::PenaltyWindow(size_t capacity) : ring_(capacity) { counts_.reserve(capacity); }

void PenaltyWindow::push(int32_t token) {
  if (ring_.empty()) return;
  if (size_ == ring_.size()) {
    const int32_t old = ring_[head_];
    for (size_t i = 0; i < counts_.size(); ++i) {
      if (counts_[i].token != old) continue;
      if (--counts_[i].count == 0) {
        counts_[i] = counts_.back();
        counts_.pop_back();
      }
      break;
    }
  } else {
    ++size_;
  }
  ring_[head_] = token;
  head_ = (head_ + 1) % ring_.size();
  for (auto& tc : counts_) {
    if (tc.token == token) {
      ++tc.count;
      return;
    }
  }
  counts_.push_back({token, 1});
}

void PenaltyWindow::clear() {
  head_ = 0;
  size_ = 0;
  counts_.clear();
}

int32_t PenaltyWindow::count(int32_t token) const {
  for (const auto& tc : counts_)
    if (tc.token == token) return tc.count;
  return 0;
}

void PenaltyWindow::tokens(std::vector<int32_t>& out) const {
  out.clear();
  const size_t cap = ring_.size();
  for (size_t i = 0; i < size_; ++i) out.push_back(ring_[(head_ + cap - size_ + i) % cap]);
}

void apply_penalties(Candidates& c, const PenaltyWindow& window, const PenaltyParams& p) {
  if (!p.active() || window.size() == 0) return;
  c.sort_by_id();
  auto items = c.items();
  for (const TokenCount& tc : window.counts()) {
    auto it = std::lower_bound(items.begin(), items.end(), tc.token,
                               [](const Candidate& a, int32_t id) { return a.id < id; });
    if (it == items.end() || it->id != tc.token) continue;
    it->logit = penalized_logit(it->logit, tc.count, p);
  }
  c.logits_changed(false);
}

}  // namespace tandem

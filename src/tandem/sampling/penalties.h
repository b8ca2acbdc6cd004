// Repetition, frequency and presence penalties over the last N tokens of a
// sequence, as llama.cpp applies them: the repetition penalty of CTRL (Keskar et
// al. 2019, arXiv 1909.05858) divides a positive logit and multiplies a negative
// one (so it always lowers the token when > 1); the OpenAI-style frequency and
// presence penalties then subtract count * frequency and, once, presence.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "tandem/sampling/candidates.h"

namespace tandem {

struct PenaltyParams {
  float repeat = 1.0f;     // 1 = off; > 1 discourages repeats
  float frequency = 0.0f;  // 0 = off; subtracted once per occurrence in the window
  float presence = 0.0f;   // 0 = off; subtracted once if the token occurs at all

  bool active() const { return repeat != 1.0f || frequency != 0.0f || presence != 0.0f; }
};

// The logit of a token seen `count` (> 0) times in the window.
inline float penalized_logit(float logit, int32_t count, const PenaltyParams& p) {
  logit = logit <= 0.0f ? logit * p.repeat : logit / p.repeat;
  return logit - static_cast<float>(count) * p.frequency - p.presence;
}

struct TokenCount {
  int32_t token;
  int32_t count;
};

// The last `capacity` accepted tokens (a ring) and how often each occurs. Pushing
// is O(distinct tokens in the window); nothing allocates after construction. A
// plain value: copy it to snapshot a sequence's history and assign to roll back
// (speculative decoding discards rejected draft tokens this way).
class PenaltyWindow {
 public:
  explicit PenaltyWindow(size_t capacity = 0);

  void push(int32_t token);
  void clear();

  size_t capacity() const { return ring_.size(); }
  size_t size() const { return size_; }
  // Occurrences of `token` in the window (0 when absent).
  int32_t count(int32_t token) const;
  // Each distinct token of the window with its count, in no particular order.
  std::span<const TokenCount> counts() const { return counts_; }
  // The window's tokens, oldest first.
  void tokens(std::vector<int32_t>& out) const;

 private:
  std::vector<int32_t> ring_;
  size_t head_ = 0;  // where the next token goes (the oldest, once full)
  size_t size_ = 0;
  std::vector<TokenCount> counts_;  // capacity reserved up front: at most one per slot
};

// Rewrites the logits of the candidates that occur in the window. Ids outside the
// candidate set (filtered out, or outside the vocabulary) are skipped. Binary
// search by id: O(distinct * log n) on an id-ordered set; an out-of-order set is
// put back in id order first.
void apply_penalties(Candidates& c, const PenaltyWindow& window, const PenaltyParams& p);

}  // namespace tandem

// Where speculative decoding gets its guesses: a draft source proposes the next
// few tokens of a context, and the target model verifies them all in one
// batched pass (speculative.h). Two sources exist: a small draft model
// (model_draft.h) and prompt lookup, which copies a continuation from earlier
// in the context (prompt_lookup.h). The verify loop does not care which.
//
// A source keeps whatever state it likes between rounds (a KV cache, an RNG)
// but is told only the context: the prompt plus every token accepted so far.
// It must work out for itself which of its earlier guesses survived (a model
// draft compares the context with what its cache holds), so the verify loop
// never has to know how a source is built.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "tandem/base/result.h"

namespace tandem {

struct DraftRequest {
  std::span<const int32_t> context;  // prompt + accepted tokens; never empty
  int32_t max_tokens = 0;            // propose at most this many (>= 1)
  // A chain of sources (n_sources() > 1): source i proposes at most
  // max_by_source[i] tokens, and none at 0. Empty: max_tokens for every source.
  std::span<const int32_t> max_by_source{};
  // The target samples, so it needs q, the distribution each token was drawn
  // from (arXiv 2211.17192). False when the target is greedy: a source may then
  // skip computing it.
  bool want_probs = false;
};

struct Draft {
  std::vector<int32_t> tokens;
  // Either empty (every token was chosen deterministically: q is one-hot at the
  // token, as for a greedy draft or prompt lookup) or tokens.size() rows of
  // `stride` probabilities: row i is the distribution tokens[i] was drawn from.
  std::vector<float> probs;
  size_t stride = 0;
  int32_t source = 0;  // which source of a chain proposed (0 for a single source)

  void clear() {
    tokens.clear();
    probs.clear();
    stride = 0;
    source = 0;
  }
  std::span<const float> q(size_t i) const {
    if (probs.empty()) return {};
    return std::span<const float>(probs).subspan(i * stride, stride);
  }
};

class DraftSource {
 public:
  virtual ~DraftSource() = default;
  // Called once with the prompt before generation starts, while the target
  // evaluates it, so a model source can prefill its cache (timed as prompt work).
  virtual Status begin(std::span<const int32_t> prompt) = 0;
  // Replaces `out` with up to max_tokens proposed continuation tokens of
  // req.context (possibly none). Token ids must lie in the target's vocabulary.
  virtual Status propose(const DraftRequest& req, Draft& out) = 0;
  // Sources that take turns inside this one (a chain's members), each with its
  // own draft length in the verify loop.
  virtual int32_t n_sources() const { return 1; }
};

}  // namespace tandem

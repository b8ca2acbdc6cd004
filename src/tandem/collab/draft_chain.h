// Several draft sources tried in order: each round the first source that
// proposes anything drafts. The usual chain is prompt lookup, then a draft
// model: where the text repeats itself (quotes of the prompt, loops, which
// greedy decoding of small models falls into) a copied continuation costs
// nothing and is accepted more often; elsewhere the model guesses.
//
// Each source has its own draft length (DraftRequest::max_by_source): lookup's
// guesses are free, a model's cost a pass each, so the verify loop may keep
// drafting by lookup while it has stopped asking the model (K = 0).
//
// Exactness is kept: whichever source drafts, each round's Draft carries the
// distribution its own source drew from (one-hot for lookup) and its index,
// which is all the verification rule needs.
#pragma once

#include <memory>
#include <vector>

#include "tandem/collab/draft_source.h"

namespace tandem {

class DraftChain final : public DraftSource {
 public:
  // Errors: no sources, or a null one.
  static Result<std::unique_ptr<DraftChain>> create(std::vector<std::unique_ptr<DraftSource>> sources);

  Status begin(std::span<const int32_t> prompt) override;
  Status propose(const DraftRequest& req, Draft& out) override;
  int32_t n_sources() const override { return static_cast<int32_t>(sources_.size()); }

  // Rounds each source drafted, in chain order.
  const std::vector<int64_t>& rounds_by_source() const { return rounds_; }

 private:
  explicit DraftChain(std::vector<std::unique_ptr<DraftSource>> sources);
  std::vector<std::unique_ptr<DraftSource>> sources_;
  std::vector<int64_t> rounds_;
};

}  // namespace tandem

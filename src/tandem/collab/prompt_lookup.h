// Prompt lookup: a draft source without a draft model (Saxena 2023, "Prompt
// Lookup Decoding"; llama.cpp's lookup). When the text repeats itself (code
// edits, quoting the prompt, summaries, loops), the tokens that followed the
// last n tokens earlier in the context are a free guess of what follows now.
//
// Rule: for n from ngram_max down to ngram_min, find the most recent earlier
// occurrence of the context's last n tokens; propose the tokens that followed
// it. The copy may run into the tokens it is producing (an overlapping copy,
// as in LZ77), so a loop shorter than max_tokens still yields max_tokens
// guesses. The proposal is deterministic (q one-hot), so with sampling the
// rule of speculative_rule.h keeps a guess with probability p(x).
#pragma once

#include <cstdint>

#include "tandem/collab/draft_source.h"

namespace tandem {

struct PromptLookupParams {
  int32_t ngram_max = 3;  // longest suffix to match (tried first: longer matches guess better)
  int32_t ngram_min = 1;  // shortest suffix to match
};

class PromptLookup final : public DraftSource {
 public:
  // Errors: ngram_min < 1 or ngram_max < ngram_min.
  static Result<PromptLookup> create(PromptLookupParams params);

  Status begin(std::span<const int32_t>) override { return ok_status(); }
  Status propose(const DraftRequest& req, Draft& out) override;

 private:
  explicit PromptLookup(PromptLookupParams p) : params_(p) {}
  PromptLookupParams params_;
};

}  // namespace tandem

// Prompt lookup drafting: suffix match, most recent first, overlapping copy.
#include "tandem/collab/prompt_lookup.h"

#include <algorithm>

namespace tandem {

Result<PromptLookup> PromptLookup::create(PromptLookupParams p) {
  if (p.ngram_min < 1) return make_error("lookup: ngram_min is ", p.ngram_min, " (expected >= 1)");
  if (p.ngram_max < p.ngram_min)
    return make_error("lookup: ngram_max is ", p.ngram_max, " (expected >= ngram_min, ", p.ngram_min, ")");
  return PromptLookup(p);
}

Status PromptLookup::propose(const DraftRequest& req, Draft& out) {
  out.clear();
  const auto ctx = req.context;
  const size_t len = ctx.size();
  if (req.max_tokens <= 0 || len < 2) return ok_status();
  const size_t n_hi = std::min(static_cast<size_t>(params_.ngram_max), len - 1);
  for (size_t n = n_hi; n >= static_cast<size_t>(params_.ngram_min); --n) {
    const auto suffix = ctx.subspan(len - n);
    // Candidate starts j < len - n, scanned from the most recent.
    for (size_t j = len - n; j-- > 0;) {
      if (!std::equal(suffix.begin(), suffix.end(), ctx.begin() + static_cast<std::ptrdiff_t>(j))) continue;
      // Continuation from j + n onward; positions past the context read the
      // guesses already made, so the copy repeats with period len - (j + n).
      const size_t start = j + n;
      for (int32_t i = 0; i < req.max_tokens; ++i) {
        const size_t src = start + static_cast<size_t>(i);
        out.tokens.push_back(src < len ? ctx[src] : out.tokens[src - len]);
      }
      return ok_status();
    }
    if (n == 1) break;
  }
  return ok_status();
}

}  // namespace tandem

// Greedy decoding straight from a logits row, without building a candidate set:
// one pass over the vocabulary, no sort, no copy. Ties go to the lowest id, the
// same rule every filter uses (candidates.h), so greedy through the full chain
// and this shortcut pick the same token.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "tandem/base/result.h"
#include "tandem/sampling/penalties.h"

namespace tandem {

// The index of the largest logit (ties to the lowest). Errors as
// Candidates::assign: empty row, NaN or +inf (named by index), all -inf.
// Portable SIMD (compiler vector extensions), same result as argmax_reference.
Result<int32_t> argmax(std::span<const float> logits);
// The plain scalar loop argmax is tested against.
Result<int32_t> argmax_reference(std::span<const float> logits);

// The argmax after the window's penalties, still one pass in the common case:
// the raw argmax, then the few penalized tokens rescored. Only when the raw
// winner is itself penalized is a second pass needed, to find the best token
// outside the window; `scratch` marks the window's tokens for it (sized to the
// vocabulary once, then reused).
Result<int32_t> argmax_penalized(std::span<const float> logits, const PenaltyWindow& window,
                                 const PenaltyParams& p, std::vector<uint8_t>& scratch);

}  // namespace tandem

// The truncation and scaling steps of a sampler chain, each a free function on a
// candidate set so strategies that combine models (contrastive decoding,
// proxy-tuning) can run them on logits they computed themselves. None allocates;
// none sorts the whole vocabulary unless the distribution forces it (top-p on a
// nearly flat row).
#pragma once

#include <cstddef>
#include <cstdint>

#include "tandem/sampling/candidates.h"

namespace tandem {

// Keeps the max(k, min_keep) best candidates (ties to the lower id); k <= 0 is off.
// O(n) (Candidates::keep_best); a few out of many keep their order.
void top_k(Candidates& c, int32_t k, size_t min_keep = 1);

// Nucleus sampling (Holtzman et al. 2019, arXiv 1904.09751): keeps the smallest
// best-first prefix whose probability reaches p, and at least min_keep; p >= 1 is
// off, p <= 0 keeps min_keep. Never a full sort: a peaked row ends within a small
// sorted prefix (64, then 256 tokens); a flat one finds the nucleus edge with a
// quickselect on probability mass, leaving the kept set unsorted.
void top_p(Candidates& c, float p, size_t min_keep = 1);

// Keeps the tokens whose probability is at least p times the top token's
// (Nguyen et al. 2024, arXiv 2407.01082), computed on logits as
// logit >= max_logit + log(p); at least min_keep. p <= 0 is off.
void min_p(Candidates& c, float p, size_t min_keep = 1);

// Divides logits by t (t > 0). t <= 0 is greedy: only the best candidate stays.
void temperature(Candidates& c, float t);

}  // namespace tandem

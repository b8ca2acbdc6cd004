// The acceptance rule of speculative sampling, as a pure function of the two
// distributions and an RNG, so its exactness is testable on hand-built
// distributions. Leviathan, Kalman & Matias, "Fast Inference from Transformers
// via Speculative Decoding" (arXiv 2211.17192, Algorithm 1 and Appendix A.1)
// and Chen et al., "Accelerating Large Language Model Decoding with Speculative
// Sampling" (arXiv 2302.01318, Algorithm 2, Theorem 1):
//
//   a draft token x drawn from q is kept with probability min(1, p(x) / q(x));
//   if rejected, the token is drawn from norm(max(0, p - q)).
//
// The emitted token is then distributed exactly as p: P(y) = min(p(y), q(y)) +
// (1 - sum_z min(p(z), q(z))) * max(0, p(y) - q(y)) / sum_z max(0, p(z) - q(z)),
// and the two sums are equal, so P(y) = p(y). p and q are the target's and the
// draft's PROCESSED distributions (after penalties, top-k/p, min-p and
// temperature, Sampler::distribution), because those are what each model
// actually samples from.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "tandem/base/result.h"
#include "tandem/sampling/rng.h"

namespace tandem {

struct VerifyOutcome {
  bool accepted = false;  // the draft token was kept
  int32_t token = -1;     // the draft token when accepted, else the resampled one
};

// One verification step.
//   p: the target's distribution over its vocabulary (sums to 1).
//   q: the distribution x was drawn from, over the same ids; ids past q.size()
//      have q = 0 (a draft vocabulary limited to the common range). An empty q
//      means x was proposed deterministically (greedy draft, prompt lookup): q
//      is one-hot at x, so x is kept with probability p(x) and a rejection
//      draws from p with x removed.
//   x: the draft token; an id past p.size() has p(x) = 0 (always rejected).
// Draws: one rng.uniform_double() for the acceptance test (x kept when
// u * q(x) < p(x), so p(x) >= q(x) always keeps it), and on rejection one more
// for the residual draw (sample_from_probs). If the residual is zero everywhere
// (p <= q up to rounding: in exact arithmetic p == q and rejection is
// impossible), the draw falls back to p. `residual` is scratch, reused.
// Errors: empty p, x negative, a bad entry in the residual.
Result<VerifyOutcome> verify_draft_token(std::span<const float> p, std::span<const float> q, int32_t x, Rng& rng,
                                         std::vector<float>& residual);

}  // namespace tandem

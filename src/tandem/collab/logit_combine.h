// White-box combinations of several models' next-token logits over one
// vocabulary (pure functions over rows, no model state), so the arithmetic and
// the masks are testable with hand-built rows and one generation loop
// (combined_generator.h) and one perplexity routine serve every strategy.
//
// Contrastive decoding, as O'Brien & Lewis formulate it ("Contrastive Decoding
// Improves Reasoning in Large Language Models", arXiv 2309.09117, Algorithm 1;
// after Li et al. 2022, arXiv 2210.15097), on raw logits s_e (expert) and s_a
// (amateur):
//   keep(i)  = s_e[i] >= log(alpha) + max_j s_e[j]   (p_e(i) >= alpha * max p_e)
//   score(i) = (1 + beta) * s_e[i] - beta * s_a[i]   if keep(i), else -inf
// Logits and log-probabilities differ by a per-row constant, which shifts every
// score alike and so changes no softmax: the mask and the scores mean the same
// on either. The paper's defaults: alpha = 0.1, beta = 0.5.
//
// Proxy-tuning (Liu et al., "Tuning Language Models by Proxy", arXiv
// 2401.08565, eq. 1 with the strength of their section on alpha):
//   score(i) = s_base[i] + alpha * (s_tuned_small[i] - s_base_small[i])
// alpha = 1 is the paper's default; alpha = 0 is the large model alone.
//
// Non-finite entries (documented so the sampler never sees +inf or NaN):
// - NaN or +inf anywhere: an error.
// - -inf in the first row (expert, large base): the token stays -inf.
// - -inf in another row (amateur, small models): replaced by that row's lowest
//   finite logit, its least likely token, so a small model can neither force a
//   token (s_a = -inf would give +inf) nor, alone, forbid one the large model
//   allows. An all -inf secondary row is an error.
// - Rows may differ in length (vocabularies within check_vocab_compatible's
//   margin): the output is as long as the first row, and ids past any other
//   row's end are -inf, never proposed (as speculative decoding treats them).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "tandem/base/result.h"

namespace tandem {

struct ContrastiveParams {
  float alpha = 0.1f;  // plausibility: keep tokens with p_expert >= alpha * max p_expert; in [0, 1]
  float beta = 0.5f;   // weight of the contrast; >= 0 (0: the expert's own logits, masked)
};

struct ProxyParams {
  float alpha = 1.0f;  // strength of the small models' offset; finite (0: the large base alone)
};

Status check_params(const ContrastiveParams& p);
Status check_params(const ProxyParams& p);

// out.size() must equal expert.size(). Errors: see above, or invalid params.
Status contrastive_logits(std::span<const float> expert, std::span<const float> amateur, const ContrastiveParams& p,
                          std::span<float> out);

// out.size() must equal base.size(). Errors: see above, or invalid params.
Status proxy_tuned_logits(std::span<const float> base, std::span<const float> small_tuned,
                          std::span<const float> small_base, const ProxyParams& p, std::span<float> out);

// One step of a combination: the rows of its models, in the order the
// combiner documents, into `out` (as long as rows[0]).
struct LogitCombiner {
  std::string name;     // "contrastive", "proxy": for reports
  size_t n_models = 0;  // rows it expects
  std::function<Status(std::span<const std::span<const float>> rows, std::span<float> out)> combine;
};

// Rows: expert, amateur.
LogitCombiner contrastive_combiner(const ContrastiveParams& p);
// Rows: large base, small tuned, small base.
LogitCombiner proxy_combiner(const ProxyParams& p);

}  // namespace tandem

// The speculative acceptance/rejection step (arXiv 2211.17192, 2302.01318).
#include "tandem/collab/speculative_rule.h"

#include <algorithm>

#include "tandem/sampling/sampler.h"

namespace tandem {

Result<VerifyOutcome> verify_draft_token(std::span<const float> p, std::span<const float> q, int32_t x, Rng& rng,
                                         std::vector<float>& residual) {
  if (p.empty()) return make_error("speculative: empty target distribution");
  if (x < 0) return make_error("speculative: draft token id ", x, " is negative");
  const auto ux = static_cast<size_t>(x);
  const bool one_hot = q.empty();
  const double px = ux < p.size() ? p[ux] : 0.0;
  const double qx = one_hot ? 1.0 : (ux < q.size() ? q[ux] : 0.0);
  // u * q(x) < p(x) is u < p(x)/q(x) without the division; it keeps x whenever
  // p(x) >= q(x), as min(1, p/q) says.
  if (rng.uniform_double() * qx < px) return VerifyOutcome{.accepted = true, .token = x};

  residual.assign(p.begin(), p.end());
  double total = 0.0;
  if (one_hot) {
    if (ux < residual.size()) residual[ux] = std::max(0.0f, residual[ux] - 1.0f);
  } else {
    const size_t n = std::min(residual.size(), q.size());
    for (size_t i = 0; i < n; ++i) residual[i] = std::max(0.0f, residual[i] - q[i]);
  }
  for (float r : residual) total += r;
  // Zero residual only through rounding (p == q exactly makes rejection
  // impossible); p is then the distribution the rule converges to.
  auto y = total > 0.0 ? sample_from_probs(residual, rng) : sample_from_probs(p, rng);
  if (!y) return y.error();
  return VerifyOutcome{.accepted = false, .token = *y};
}

}  // namespace tandem

// The sampler chain: parameter validation, running the steps in order, the
// greedy shortcut, and the draw shared with sample_from_probs.
#include "tandem/sampling/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "tandem/sampling/filters.h"
#include "tandem/sampling/greedy.h"

namespace tandem {
namespace {

// The draw rule of sampler.h over (id, p) pairs in ascending id order. Entries at
// zero are skipped, so a kept-candidate list and the full-vocabulary vector it
// scatters into give the same token for the same u.
template <class T, class Prob, class Id>
int32_t draw(std::span<const T> items, double total, double u, Prob prob, Id id) {
  const double target = u * total;
  double cum = 0.0;
  int32_t last = -1;
  for (size_t k = 0; k < items.size(); ++k) {
    const float p = prob(items[k]);
    if (p <= 0.0f) continue;
    cum += p;
    last = id(items[k], k);
    if (target < cum) return last;
  }
  return last;
}

double sum_positive(std::span<const float> probs) {
  double total = 0.0;
  for (float p : probs)
    if (p > 0.0f) total += p;
  return total;
}

// The draw over a full-vocabulary row whose positive entries sum to total.
int32_t draw_row(std::span<const float> probs, double total, double u) {
  return draw(probs, total, u, [](float p) { return p; }, [](float, size_t k) { return static_cast<int32_t>(k); });
}

// The draw over candidates in ascending id order, prob(c) each: the row's draw
// when they hold every nonzero entry of it.
template <class Prob>
int32_t draw_set(std::span<const Candidate> items, Prob prob, double u) {
  double total = 0.0;
  for (const Candidate& c : items)
    if (prob(c) > 0.0f) total += prob(c);
  return draw(items, total, u, prob, [](const Candidate& c, size_t) { return c.id; });
}

}  // namespace

std::string_view to_string(SamplerStep s) {
  switch (s) {
    case SamplerStep::penalties: return "penalties";
    case SamplerStep::top_k: return "top_k";
    case SamplerStep::top_p: return "top_p";
    case SamplerStep::min_p: return "min_p";
    case SamplerStep::temperature: return "temperature";
  }
  return "unknown";
}

Result<SamplerStep> parse_sampler_step(std::string_view name) {
  for (auto s : default_sampler_order())
    if (name == to_string(s)) return s;
  if (name == "temp") return SamplerStep::temperature;
  return make_error("sampling: unknown sampler step '", name,
                    "' (expected penalties, top_k, top_p, min_p or temperature)");
}

Result<Sampler> Sampler::create(SamplerParams p) {
  auto finite = [](float x) { return std::isfinite(x); };
  if (!finite(p.temperature)) return make_error("sampling: temperature is ", p.temperature, " (expected a finite value)");
  if (!(p.top_p >= 0.0f && p.top_p <= 1.0f)) return make_error("sampling: top_p is ", p.top_p, " (expected 0..1)");
  if (!(p.min_p >= 0.0f && p.min_p <= 1.0f)) return make_error("sampling: min_p is ", p.min_p, " (expected 0..1)");
  if (p.min_keep < 1) return make_error("sampling: min_keep is 0 (expected >= 1)");
  if (!finite(p.repeat_penalty) || p.repeat_penalty <= 0.0f)
    return make_error("sampling: repeat_penalty is ", p.repeat_penalty, " (expected a finite value > 0; 1 is off)");
  if (!finite(p.frequency_penalty))
    return make_error("sampling: frequency_penalty is ", p.frequency_penalty, " (expected a finite value)");
  if (!finite(p.presence_penalty))
    return make_error("sampling: presence_penalty is ", p.presence_penalty, " (expected a finite value)");
  if (p.penalty_last_n < 0)
    return make_error("sampling: penalty_last_n is ", p.penalty_last_n, " (expected >= 0; 0 is off)");
  bool seen[5] = {};
  for (SamplerStep s : p.order) {
    const auto i = static_cast<size_t>(s);
    if (i >= 5) return make_error("sampling: order holds an unknown step (", i, ")");
    if (seen[i]) return make_error("sampling: order lists ", to_string(s), " twice (expected each step at most once)");
    seen[i] = true;
  }
  return Sampler(std::move(p));
}

Sampler::Sampler(SamplerParams params)
    : params_(std::move(params)),
      penalty_{.repeat = params_.repeat_penalty,
               .frequency = params_.frequency_penalty,
               .presence = params_.presence_penalty},
      rng_(params_.seed),
      window_(static_cast<size_t>(params_.penalty_last_n)) {
  const auto& order = params_.order;
  const auto temp_it = std::find(order.begin(), order.end(), SamplerStep::temperature);
  greedy_ = temp_it != order.end() && params_.temperature <= 0.0f;
  if (greedy_) {
    // Truncating steps always keep the best token, so argmax is exact unless one of
    // them runs before the penalties change which token is best.
    const auto pen_it = std::find(order.begin(), temp_it, SamplerStep::penalties);
    penalties_in_shortcut_ = pen_it != temp_it && penalty_.active() && params_.penalty_last_n > 0;
    greedy_shortcut_ = !penalties_in_shortcut_ || pen_it == order.begin();
  }
}

void Sampler::reset() {
  window_.clear();
  rng_.reseed(params_.seed);
}

Status Sampler::run_chain(std::span<const float> logits) {
  // Where top-k is the first step that changes anything (penalties with
  // nothing to penalize come first by default), the set starts as the k best:
  // the same set and order as assigning every token and then top_k.
  size_t first = 0;
  const auto& order = params_.order;
  if (first < order.size() && order[first] == SamplerStep::penalties && (!penalty_.active() || window_.size() == 0))
    ++first;
  if (first < order.size() && order[first] == SamplerStep::top_k && params_.top_k > 0) {
    TANDEM_TRY(cand_.assign_best(logits, std::max(static_cast<size_t>(params_.top_k), params_.min_keep)));
    ++first;
  } else {
    TANDEM_TRY(cand_.assign(logits));
    first = 0;
  }
  for (size_t i = first; i < order.size(); ++i) {
    switch (order[i]) {
      case SamplerStep::penalties: apply_penalties(cand_, window_, penalty_); break;
      case SamplerStep::top_k: top_k(cand_, params_.top_k, params_.min_keep); break;
      case SamplerStep::top_p: top_p(cand_, params_.top_p, params_.min_keep); break;
      case SamplerStep::min_p: min_p(cand_, params_.min_p, params_.min_keep); break;
      case SamplerStep::temperature: temperature(cand_, params_.temperature); break;
    }
  }
  return ok_status();
}

Result<int32_t> Sampler::sample(std::span<const float> logits) {
  if (greedy_shortcut_)
    return penalties_in_shortcut_ ? argmax_penalized(logits, window_, penalty_, scratch_) : argmax(logits);
  TANDEM_TRY(run_chain(logits));
  // Every step keeps at least one candidate, so the set is never empty here.
  if (greedy_) return cand_[0].id;
  // The draw walks ids in ascending order. A reordered set is put back in id
  // order by a sort when small (top-k), by a full-vocabulary row when large.
  if (wide_reordered(logits.size())) {
    cand_.softmax_into(dense_, logits.size());
    return draw_row(dense_, sum_positive(dense_), rng_.uniform_double());
  }
  cand_.sort_by_id();
  cand_.softmax();
  return draw_set(cand_.items(), [](const Candidate& c) { return c.p; }, rng_.uniform_double());
}

Status Sampler::distribution(std::span<const float> logits, std::vector<float>& probs_out) {
  TANDEM_TRY(run_chain(logits));
  cand_.softmax_into(probs_out, logits.size());
  return ok_status();
}

Result<int32_t> Sampler::sample_distribution(std::span<const float> logits, std::vector<float>& probs_out) {
  TANDEM_TRY(distribution(logits, probs_out));
  const std::span<const float> probs(probs_out);
  // As sample(): a wide reordered set draws from the row, a small one (top-k)
  // is put back in id order; every nonzero entry of the row is a candidate.
  if (wide_reordered(logits.size())) return draw_row(probs, sum_positive(probs), rng_.uniform_double());
  cand_.sort_by_id();
  return draw_set(cand_.items(), [probs](const Candidate& c) { return probs[static_cast<size_t>(c.id)]; },
                  rng_.uniform_double());
}

Result<int32_t> sample_from_probs(std::span<const float> probs, Rng& rng) {
  if (probs.empty()) return make_error("sampling: empty probability vector");
  if (probs.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    return make_error("sampling: ", probs.size(), " probabilities exceed the int32 token id range");
  for (size_t i = 0; i < probs.size(); ++i) {
    if (!std::isfinite(probs[i]) || probs[i] < 0.0f)
      return make_error("sampling: probs[", i, "] is ", probs[i], " (expected a finite value >= 0)");
  }
  const double total = sum_positive(probs);
  if (total <= 0.0) return make_error("sampling: all ", probs.size(), " probabilities are zero");
  return draw_row(probs, total, rng.uniform_double());
}

}  // namespace tandem

// Contrastive decoding and proxy-tuning over logit rows; the formulas and the
// treatment of non-finite entries are documented in logit_combine.h.
#include "tandem/collab/logit_combine.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tandem {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Rejects NaN and +inf, which have no meaning as a logit and would otherwise
// surface later as an error of the sampler far from their cause.
Status check_row(std::span<const float> row, const char* what) {
  if (row.empty()) return make_error(what, " logits are empty");
  for (size_t i = 0; i < row.size(); ++i)
    if (std::isnan(row[i]) || row[i] == std::numeric_limits<float>::infinity())
      return make_error(what, " logit of token ", i, " is ", row[i], " (expected a finite value or -inf)");
  return ok_status();
}

// The value a -inf of a secondary row stands for: the row's lowest finite logit.
Result<float> finite_floor(std::span<const float> row, const char* what) {
  TANDEM_TRY(check_row(row, what));
  float lo = std::numeric_limits<float>::infinity();
  for (float v : row)
    if (v != kNegInf && v < lo) lo = v;
  if (lo == std::numeric_limits<float>::infinity()) return make_error(what, " logits are all -inf");
  return lo;
}

Status check_out(size_t first, size_t out) {
  if (first != out) return make_error("combined logits: output has ", out, " entries, expected ", first);
  return ok_status();
}

// Entry i of a secondary row into v, with -inf replaced by the row's floor;
// false when i is past the row's end (a token that row's model does not have).
inline bool secondary(std::span<const float> row, float floor, size_t i, float& v) {
  if (i >= row.size()) return false;
  v = row[i] == kNegInf ? floor : row[i];
  return true;
}

}  // namespace

Status check_params(const ContrastiveParams& p) {
  if (!(p.alpha >= 0.0f && p.alpha <= 1.0f))
    return make_error("contrastive decoding: alpha is ", p.alpha, " (expected 0..1: the plausibility threshold)");
  if (!(p.beta >= 0.0f) || std::isinf(p.beta))
    return make_error("contrastive decoding: beta is ", p.beta, " (expected a finite value >= 0)");
  return ok_status();
}

Status check_params(const ProxyParams& p) {
  if (!std::isfinite(p.alpha)) return make_error("proxy-tuning: alpha is ", p.alpha, " (expected a finite value)");
  return ok_status();
}

Status contrastive_logits(std::span<const float> expert, std::span<const float> amateur, const ContrastiveParams& p,
                          std::span<float> out) {
  TANDEM_TRY(check_params(p));
  TANDEM_TRY(check_row(expert, "expert"));
  auto floor = finite_floor(amateur, "amateur");
  if (!floor) return floor.error();
  TANDEM_TRY(check_out(expert.size(), out.size()));
  float mx = kNegInf;
  for (float v : expert) mx = std::max(mx, v);
  if (mx == kNegInf) return make_error("expert logits are all -inf");
  // p_e(i) >= alpha * max p_e  <=>  s_e(i) - max s_e >= log(alpha); log(0) = -inf keeps every finite token.
  const double log_alpha = std::log(static_cast<double>(p.alpha));
  const float one_beta = 1.0f + p.beta;
  for (size_t i = 0; i < expert.size(); ++i) {
    float a = 0;
    const bool keep = expert[i] != kNegInf && static_cast<double>(expert[i]) - mx >= log_alpha;
    if (!keep || !secondary(amateur, *floor, i, a)) {
      out[i] = kNegInf;
      continue;
    }
    // beta = 0 must give the expert's logit exactly: skip the product rather than rely on 0 * a.
    out[i] = p.beta == 0.0f ? expert[i] : one_beta * expert[i] - p.beta * a;
  }
  return ok_status();
}

Status proxy_tuned_logits(std::span<const float> base, std::span<const float> small_tuned,
                          std::span<const float> small_base, const ProxyParams& p, std::span<float> out) {
  TANDEM_TRY(check_params(p));
  TANDEM_TRY(check_row(base, "large base"));
  auto ft = finite_floor(small_tuned, "small tuned");
  if (!ft) return ft.error();
  auto fb = finite_floor(small_base, "small base");
  if (!fb) return fb.error();
  TANDEM_TRY(check_out(base.size(), out.size()));
  for (size_t i = 0; i < base.size(); ++i) {
    float t = 0, b = 0;
    if (base[i] == kNegInf || !secondary(small_tuned, *ft, i, t) || !secondary(small_base, *fb, i, b)) {
      out[i] = kNegInf;
      continue;
    }
    out[i] = p.alpha == 0.0f ? base[i] : base[i] + p.alpha * (t - b);
  }
  return ok_status();
}

LogitCombiner contrastive_combiner(const ContrastiveParams& p) {
  return {.name = "contrastive",
          .n_models = 2,
          .combine = [p](std::span<const std::span<const float>> rows, std::span<float> out) -> Status {
            if (rows.size() != 2) return make_error("contrastive decoding takes 2 rows, got ", rows.size());
            return contrastive_logits(rows[0], rows[1], p, out);
          }};
}

LogitCombiner proxy_combiner(const ProxyParams& p) {
  return {.name = "proxy",
          .n_models = 3,
          .combine = [p](std::span<const std::span<const float>> rows, std::span<float> out) -> Status {
            if (rows.size() != 3) return make_error("proxy-tuning takes 3 rows, got ", rows.size());
            return proxy_tuned_logits(rows[0], rows[1], rows[2], p, out);
          }};
}

}  // namespace tandem

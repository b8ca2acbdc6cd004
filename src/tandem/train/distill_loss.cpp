// Distillation losses (forward KL, reverse KL, top-k) mixed with cross-entropy
// (see distill_loss.h). Each row is computed in double from log-softmax values,
// so a teacher probability that underflows contributes 0, never NaN.
#include "tandem/train/distill_loss.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

namespace tandem {
namespace {

// log(sum(exp(x))) over n values, shifted by the maximum so nothing overflows.
double log_sum_exp(const double* x, int64_t n) {
  double mx = x[0];
  for (int64_t j = 1; j < n; ++j) mx = std::max(mx, x[j]);
  double s = 0;
  for (int64_t j = 0; j < n; ++j) s += std::exp(x[j] - mx);
  return mx + std::log(s);
}

}  // namespace

Status DistillOptions::validate(int64_t vocab) const {
  if (!(temperature > 0.0f)) return make_error("distill: temperature ", temperature, " must be positive");
  if (!(ce_weight >= 0.0f && ce_weight <= 1.0f)) return make_error("distill: ce weight ", ce_weight, " must be in [0, 1]");
  if (mode == DistillMode::kTopK && (top_k < 1 || top_k > vocab))
    return make_error("distill: top-k ", top_k, " must be in [1, ", vocab, "]");
  return ok_status();
}

Result<DistillMode> parse_distill_mode(const std::string& s) {
  if (s == "forward_kl" || s == "fkl") return DistillMode::kForwardKl;
  if (s == "reverse_kl" || s == "rkl") return DistillMode::kReverseKl;
  if (s == "top_k" || s == "topk") return DistillMode::kTopK;
  return make_error("distill: unknown mode '", s, "' (expected forward_kl, reverse_kl or top_k)");
}

template <class Real>
DistillSums distill_loss(ThreadPool& pool, Real* logits, const float* teacher, const int32_t* targets, int64_t n,
                         int64_t vocab, const DistillOptions& opt, double grad_scale, bool write_grad,
                         double* scratch_rows) {
  const double tau = opt.temperature, inv_tau = 1.0 / tau, alpha = opt.ce_weight;
  const int64_t V = vocab;
  pool.parallel_for(n, [&](int64_t b, int64_t e) {
    std::vector<double> zs(static_cast<size_t>(V)), lp(static_cast<size_t>(V)), lq(static_cast<size_t>(V)),
        grad(static_cast<size_t>(V));
    std::vector<int32_t> idx;
    for (int64_t i = b; i < e; ++i) {
      Real* z = logits + i * V;
      const float* t = teacher + i * V;
      // Student log-probabilities at the temperature.
      for (int64_t j = 0; j < V; ++j) zs[j] = static_cast<double>(z[j]) * inv_tau;
      const double lse_s = log_sum_exp(zs.data(), V);
      for (int64_t j = 0; j < V; ++j) lp[j] = zs[j] - lse_s;
      // Teacher log-probabilities, over the whole vocabulary or its top k.
      double kd = 0;
      std::fill(grad.begin(), grad.end(), 0.0);
      if (opt.mode == DistillMode::kTopK) {
        idx.resize(static_cast<size_t>(V));
        std::iota(idx.begin(), idx.end(), 0);
        // Largest logits first, ties to the lower id: the set is a function of the row.
        auto before = [t](int32_t a, int32_t c) { return t[a] > t[c] || (t[a] == t[c] && a < c); };
        std::nth_element(idx.begin(), idx.begin() + (opt.top_k - 1), idx.end(), before);
        idx.resize(static_cast<size_t>(opt.top_k));
        std::sort(idx.begin(), idx.end());
        std::vector<double> tk(idx.size());
        for (size_t k = 0; k < idx.size(); ++k) tk[k] = static_cast<double>(t[idx[k]]) * inv_tau;
        const double lse_t = log_sum_exp(tk.data(), static_cast<int64_t>(tk.size()));
        for (size_t k = 0; k < idx.size(); ++k) {
          const double lqk = tk[k] - lse_t, qk = std::exp(lqk);
          kd += qk * (lqk - lp[idx[k]]);
          grad[idx[k]] -= qk;
        }
        for (int64_t j = 0; j < V; ++j) grad[j] = (grad[j] + std::exp(lp[j])) * inv_tau;
      } else {
        for (int64_t j = 0; j < V; ++j) lq[j] = static_cast<double>(t[j]) * inv_tau;
        const double lse_t = log_sum_exp(lq.data(), V);
        for (int64_t j = 0; j < V; ++j) lq[j] -= lse_t;
        if (opt.mode == DistillMode::kForwardKl) {
          for (int64_t j = 0; j < V; ++j) {
            const double q = std::exp(lq[j]);
            kd += q * (lq[j] - lp[j]);
            grad[j] = (std::exp(lp[j]) - q) * inv_tau;
          }
        } else {
          for (int64_t j = 0; j < V; ++j) kd += std::exp(lp[j]) * (lp[j] - lq[j]);
          for (int64_t j = 0; j < V; ++j) grad[j] = std::exp(lp[j]) * (lp[j] - lq[j] - kd) * inv_tau;
        }
      }
      // Hard-label cross-entropy at temperature 1.
      const int32_t y = targets[i];
      const bool has_label = y >= 0 && y < V;
      double ce = 0;
      if (has_label) {
        for (int64_t j = 0; j < V; ++j) zs[j] = static_cast<double>(z[j]);
        const double lse1 = log_sum_exp(zs.data(), V);
        ce = lse1 - zs[y];
        if (write_grad && alpha > 0) {
          for (int64_t j = 0; j < V; ++j) grad[j] = (1 - alpha) * tau * tau * grad[j] + alpha * std::exp(zs[j] - lse1);
          grad[y] -= alpha;
        } else {
          for (int64_t j = 0; j < V; ++j) grad[j] *= (1 - alpha) * tau * tau;
        }
      } else {
        for (int64_t j = 0; j < V; ++j) grad[j] *= (1 - alpha) * tau * tau;
      }
      if (write_grad)
        for (int64_t j = 0; j < V; ++j) z[j] = static_cast<Real>(grad_scale * grad[j]);
      double* s = scratch_rows + 3 * i;
      s[0] = (has_label ? alpha * ce : 0.0) + (1 - alpha) * tau * tau * kd;
      s[1] = ce;
      s[2] = kd;
    }
  });
  DistillSums sums;
  for (int64_t i = 0; i < n; ++i) {
    sums.loss += scratch_rows[3 * i];
    sums.ce += scratch_rows[3 * i + 1];
    sums.kd += scratch_rows[3 * i + 2];
  }
  return sums;
}

template DistillSums distill_loss<float>(ThreadPool&, float*, const float*, const int32_t*, int64_t, int64_t,
                                         const DistillOptions&, double, bool, double*);
template DistillSums distill_loss<double>(ThreadPool&, double*, const float*, const int32_t*, int64_t, int64_t,
                                          const DistillOptions&, double, bool, double*);

}  // namespace tandem

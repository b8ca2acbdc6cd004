// White-box distillation losses on a teacher's logits (Hinton et al. 2015,
// arXiv 1503.02531), mixed with the hard-label cross-entropy:
//   loss_i = ce_weight * CE(z_i, target_i) + (1 - ce_weight) * tau^2 * KD_i
// with student p = softmax(z / tau) and teacher q = softmax(t / tau):
//   forward KL  KD = KL(q || p) = sum q (log q - log p)      dKD/dz = (p - q) / tau
//   reverse KL  KD = KL(p || q) = sum p (log p - log q)      dKD/dz = p (log p - log q - KD) / tau
//               (mode-seeking, as in MiniLLM, Gu et al. 2023, arXiv 2306.08543)
//   top-k       forward KL against the teacher restricted to its k most likely
//               tokens and renormalized there (what a cache of top-k teacher
//               logits can hold); the student keeps the whole vocabulary.
// The tau^2 factor keeps the gradient's scale independent of the temperature.
// Like cross_entropy(), the student's logits are overwritten with the gradient.
#pragma once

#include <cstdint>
#include <string>

#include "tandem/base/result.h"
#include "tandem/base/thread_pool.h"

namespace tandem {

enum class DistillMode { kForwardKl, kReverseKl, kTopK };

struct DistillOptions {
  DistillMode mode = DistillMode::kForwardKl;
  float temperature = 1.0f;
  int64_t top_k = 32;      // kTopK only
  float ce_weight = 0.0f;  // weight of the hard-label cross-entropy, in [0, 1]

  Status validate(int64_t vocab) const;
};

struct DistillSums {
  double loss = 0;  // sum over rows of the mixed loss
  double ce = 0;    // sum over rows of the hard-label cross-entropy (at temperature 1)
  double kd = 0;    // sum over rows of the divergence (without tau^2)
};

// logits: (n, vocab) student logits, overwritten with grad_scale * dloss/dz when
// write_grad; teacher: (n, vocab). Rows with a negative target get no CE term
// (their KD term still counts: the teacher's distribution needs no label).
// scratch_rows: (n, 3) doubles. Sums are added in row order.
template <class Real>
DistillSums distill_loss(ThreadPool& pool, Real* logits, const float* teacher, const int32_t* targets, int64_t n,
                         int64_t vocab, const DistillOptions& opt, double grad_scale, bool write_grad,
                         double* scratch_rows);

// Parses "forward_kl" / "fkl", "reverse_kl" / "rkl", "top_k" / "topk".
Result<DistillMode> parse_distill_mode(const std::string& s);

}  // namespace tandem

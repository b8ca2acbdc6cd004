// Softmax cross-entropy over the vocabulary, fused with its gradient: the
// logits buffer is overwritten in place with dLoss/dlogits, so the (tokens,
// vocab) matrix — the largest activation of a small model — exists once.
//   loss_i = logsumexp(z_i) - z_i[target_i],   dz_i = grad_scale * (softmax(z_i) - onehot(target_i))
#pragma once

#include <cstdint>

#include "tandem/base/thread_pool.h"

namespace tandem {

// logits: (n, vocab), row i overwritten with its gradient when write_grad (with
// unspecified values otherwise); rows whose target is negative are ignored (zero
// gradient, zero loss). row_loss: (n)
// scratch that receives each row's loss. Returns the sum of the row losses,
// added in row order (independent of the thread count).
template <class Real>
double cross_entropy(ThreadPool& pool, Real* logits, const int32_t* targets, int64_t n, int64_t vocab,
                     double grad_scale, bool write_grad, double* row_loss);

}  // namespace tandem

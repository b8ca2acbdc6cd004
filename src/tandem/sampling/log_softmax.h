// Log-probabilities of a row of logits (the natural log of its softmax), on the
// best log-sum-exp kernel this CPU has (tensor/float_kernels.h): perplexity,
// per-token log-probs of generated text, a draft's confidence.
#pragma once

#include <cstdint>
#include <span>

namespace tandem {

// log sum_i exp(row[i]); -inf for an empty row.
double log_sum_exp(std::span<const float> row);

// log softmax(row)[target].
double log_prob(std::span<const float> row, int32_t target);

// The largest probability of softmax(row): exp(max - log_sum_exp).
double top_probability(std::span<const float> row);

}  // namespace tandem

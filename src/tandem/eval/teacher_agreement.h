// How close students are to their teacher on held-out text — the numbers a
// distillation run is judged by: each model's validation perplexity, its greedy
// next-token agreement with the teacher (the fraction of positions where the
// student's argmax equals the teacher's; for speculative decoding, roughly the
// greedy draft acceptance rate), and the mean KL(teacher || student) in nats.
//
// The protocol is the trainer's validation (Trainer::evaluate): the token
// stream is cut into consecutive windows of n_ctx inputs (window w covers
// tokens [w n_ctx, (w+1) n_ctx], the last one a target), each evaluated from an
// empty context, every position scored. So a student's perplexity here equals
// the trainer's validation perplexity up to the export's quantization, and every
// model sees exactly the same positions.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "tandem/base/result.h"
#include "tandem/base/thread_pool.h"
#include "tandem/model/decoder.h"

namespace tandem {

struct AgreementParams {
  int64_t n_ctx = 0;        // inputs per window; 0: the smallest training context among the models
  int64_t max_windows = 0;  // 0: all
};

struct ModelAgreement {
  double mean_nll = 0;   // nats per token
  double ppl = 0;        // exp(mean_nll)
  double agreement = 0;  // fraction of positions with argmax == the teacher's argmax (ties: lowest id)
  double kl = 0;         // mean KL(teacher || model), nats (0 for the teacher itself)
};

struct AgreementReport {
  ModelAgreement teacher;
  std::vector<ModelAgreement> students;  // in the order given
  int64_t n_ctx = 0;
  int64_t n_windows = 0;
  int64_t n_positions = 0;
  double seconds = 0;
};

// Called after each window: (windows done, total).
using WindowFn = std::function<void(int64_t done, int64_t total)>;

// Errors: a student whose vocabulary size differs from the teacher's, or a
// stream shorter than one window (n_ctx + 1 tokens).
Result<AgreementReport> measure_agreement(const std::shared_ptr<const DecoderModel>& teacher,
                                          const std::vector<std::shared_ptr<const DecoderModel>>& students,
                                          ThreadPool& pool, const std::vector<int32_t>& tokens,
                                          const AgreementParams& params, const WindowFn& on_window = {});

}  // namespace tandem

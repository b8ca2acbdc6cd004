// Perplexity, greedy agreement and KL of students against a teacher (see teacher_agreement.h).
#include "tandem/eval/teacher_agreement.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "tandem/sampling/log_softmax.h"

namespace tandem {
namespace {

// Log-softmax of a row into lp (double); returns the row's argmax (ties: lowest id).
int32_t log_softmax(const float* z, int64_t V, double* lp) {
  int64_t best = 0;
  for (int64_t j = 1; j < V; ++j)
    if (z[j] > z[best]) best = j;
  const double lse = log_sum_exp(std::span<const float>(z, static_cast<size_t>(V)));
  for (int64_t j = 0; j < V; ++j) lp[j] = static_cast<double>(z[j]) - lse;
  return static_cast<int32_t>(best);
}

struct RowStats {
  double nll = 0, kl = 0;
  bool agree = false;
};

struct Sums {
  double nll = 0, kl = 0;
  int64_t agree = 0;
  void add(const RowStats& r) {
    nll += r.nll;
    kl += r.kl;
    agree += r.agree;
  }
};

}  // namespace

Result<AgreementReport> measure_agreement(const std::shared_ptr<const DecoderModel>& teacher,
                                          const std::vector<std::shared_ptr<const DecoderModel>>& students,
                                          ThreadPool& pool, const std::vector<int32_t>& tokens,
                                          const AgreementParams& params, const WindowFn& on_window) {
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t V = teacher->config().n_vocab;
  int64_t T = params.n_ctx;
  if (T <= 0) {
    T = teacher->config().n_ctx_train;
    for (const auto& s : students) T = std::min(T, s->config().n_ctx_train);
  }
  if (T <= 0) return make_error("agreement: window length ", T, " must be positive");
  for (size_t k = 0; k < students.size(); ++k)
    if (students[k]->config().n_vocab != V)
      return make_error("agreement: student ", k + 1, " has a vocabulary of ", students[k]->config().n_vocab,
                        " tokens, the teacher ", V);
  int64_t n_windows = (static_cast<int64_t>(tokens.size()) - 1) / T;
  if (n_windows < 1)
    return make_error("agreement: ", tokens.size(), " tokens are fewer than one window of ", T + 1);
  if (params.max_windows > 0) n_windows = std::min(n_windows, params.max_windows);

  Sequence tseq(teacher, pool, {.n_ctx = T});
  std::vector<std::unique_ptr<Sequence>> sseq;
  for (const auto& s : students) sseq.push_back(std::make_unique<Sequence>(s, pool, SequenceOptions{.n_ctx = T}));

  // Per window: the teacher's log-probabilities and probabilities (T, V) and
  // argmax (T), computed once and compared against every student. Rows run in
  // parallel; their statistics are summed in row order, so the result does not
  // depend on the thread count.
  std::vector<double> lq(static_cast<size_t>(T * V)), q(lq.size()), lp(lq.size());
  std::vector<int32_t> targmax(static_cast<size_t>(T));
  std::vector<RowStats> rows(static_cast<size_t>(T));
  Sums tsum;
  std::vector<Sums> ssum(students.size());
  for (int64_t w = 0; w < n_windows; ++w) {
    const std::span<const int32_t> in(tokens.data() + w * T, static_cast<size_t>(T));
    const int32_t* target = tokens.data() + w * T + 1;
    TANDEM_TRY(tseq.rollback(0));
    auto tl = tseq.eval(in, Logits::kAll);
    if (!tl) return make_error("agreement: teacher: ", tl.error().message);
    const float* tz = tl->data();
    pool.parallel_for(T, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        double* lqi = lq.data() + i * V;
        targmax[static_cast<size_t>(i)] = log_softmax(tz + i * V, V, lqi);
        for (int64_t j = 0; j < V; ++j) q[static_cast<size_t>(i * V + j)] = std::exp(lqi[j]);
        rows[static_cast<size_t>(i)] = RowStats{-lqi[target[i]], 0.0, true};
      }
    });
    for (const RowStats& r : rows) tsum.add(r);
    for (size_t k = 0; k < students.size(); ++k) {
      TANDEM_TRY(sseq[k]->rollback(0));
      auto sl = sseq[k]->eval(in, Logits::kAll);
      if (!sl) return make_error("agreement: student ", k + 1, ": ", sl.error().message);
      const float* sz = sl->data();
      pool.parallel_for(T, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          double* lpi = lp.data() + i * V;
          const double* lqi = lq.data() + i * V;
          const double* qi = q.data() + i * V;
          const int32_t am = log_softmax(sz + i * V, V, lpi);
          double kl = 0;
          for (int64_t j = 0; j < V; ++j)
            if (qi[j] > 0) kl += qi[j] * (lqi[j] - lpi[j]);  // q = 0 contributes 0, never 0 * inf
          rows[static_cast<size_t>(i)] = RowStats{-lpi[target[i]], kl, am == targmax[static_cast<size_t>(i)]};
        }
      });
      for (const RowStats& r : rows) ssum[k].add(r);
    }
    if (on_window) on_window(w + 1, n_windows);
  }
  AgreementReport rep;
  rep.n_ctx = T;
  rep.n_windows = n_windows;
  rep.n_positions = n_windows * T;
  const double n = static_cast<double>(rep.n_positions);
  auto finish = [n](const Sums& s) {
    ModelAgreement m;
    m.mean_nll = s.nll / n;
    m.ppl = std::exp(m.mean_nll);
    m.agreement = static_cast<double>(s.agree) / n;
    m.kl = s.kl / n;
    return m;
  };
  rep.teacher = finish(tsum);
  for (const auto& s : ssum) rep.students.push_back(finish(s));
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return rep;
}

}  // namespace tandem

// Students against a teacher: a model compared with itself agrees everywhere
// with zero KL; perplexity, agreement and KL equal a direct computation from
// Sequence::eval on the same windows; mismatched vocabularies and too-short
// streams are errors.
#include "tandem/eval/teacher_agreement.h"

#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "tandem/model/synth.h"
#include "tandem/sampling/log_softmax.h"
#include "test_util.h"

namespace tandem {
namespace {

using testing::TempFile;

std::shared_ptr<const DecoderModel> synth(const TempFile& f, uint64_t seed, const std::string& vocab_from) {
  auto st = synth_model({.dim = 32, .layers = 1, .heads = 2, .ffn = 64, .ctx = 64, .vocab_from = vocab_from, .seed = seed},
                        f.path());
  EXPECT_TRUE(st.ok()) << st.error().message;
  auto m = DecoderModel::load(f.path());
  EXPECT_TRUE(m.ok());
  return m.ok() ? *m : nullptr;
}

std::string house() { return testing::source_dir() + "/models/house-tokenizer.gguf"; }

std::vector<int32_t> stream(size_t n) {
  std::mt19937 g(1);
  std::vector<int32_t> t(n);
  for (auto& x : t) x = static_cast<int32_t>(g() % 4096);
  return t;
}

TEST(TeacherAgreement, ItselfAgreesEverywhere) {
  TempFile a("agree_a.gguf");
  auto teacher = synth(a, 1, house());
  ThreadPool pool(2);
  auto r = measure_agreement(teacher, {teacher}, pool, stream(100), {.n_ctx = 16});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->n_windows, 6);  // (100 - 1) / 16
  EXPECT_EQ(r->n_positions, 96);
  EXPECT_EQ(r->students[0].agreement, 1.0);
  EXPECT_EQ(r->students[0].kl, 0.0);
  EXPECT_EQ(r->students[0].ppl, r->teacher.ppl);
  EXPECT_EQ(r->teacher.agreement, 1.0);
}

TEST(TeacherAgreement, MatchesADirectComputation) {
  TempFile a("agree_t.gguf"), b("agree_s.gguf");
  auto teacher = synth(a, 1, house());
  auto student = synth(b, 2, house());
  ThreadPool pool(1);
  const auto toks = stream(70);
  const int64_t T = 20, V = 4096;
  auto r = measure_agreement(teacher, {student, teacher}, pool, toks, {.n_ctx = T, .max_windows = 3});
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->n_windows, 3);
  double nll_t = 0, nll_s = 0, kl = 0;
  int64_t agree = 0;
  for (int64_t w = 0; w < 3; ++w) {
    std::span<const int32_t> in(toks.data() + w * T, static_cast<size_t>(T));
    Sequence st(teacher, pool, {.n_ctx = T}), ss(student, pool, {.n_ctx = T});
    auto lt = st.eval(in, Logits::kAll);
    auto ls = ss.eval(in, Logits::kAll);
    ASSERT_TRUE(lt.ok() && ls.ok());
    for (int64_t i = 0; i < T; ++i) {
      auto rt = lt->subspan(static_cast<size_t>(i * V), static_cast<size_t>(V));
      auto rs = ls->subspan(static_cast<size_t>(i * V), static_cast<size_t>(V));
      const int32_t y = toks[static_cast<size_t>(w * T + i + 1)];
      nll_t -= log_prob(rt, y);
      nll_s -= log_prob(rs, y);
      agree += std::max_element(rt.begin(), rt.end()) - rt.begin() == std::max_element(rs.begin(), rs.end()) - rs.begin();
      // KL from the log-softmax normalizers: log q_j - log p_j = (t_j - lse_t) - (s_j - lse_s).
      const double lse_t = rt[0] - log_prob(rt, 0), lse_s = rs[0] - log_prob(rs, 0);
      for (int32_t j = 0; j < V; ++j) {
        const double lq = rt[static_cast<size_t>(j)] - lse_t, lp = rs[static_cast<size_t>(j)] - lse_s;
        kl += std::exp(lq) * (lq - lp);
      }
    }
  }
  const double n = 3.0 * T;
  EXPECT_NEAR(r->teacher.ppl, std::exp(nll_t / n), 1e-6 * r->teacher.ppl);
  EXPECT_NEAR(r->students[0].ppl, std::exp(nll_s / n), 1e-6 * r->students[0].ppl);
  EXPECT_DOUBLE_EQ(r->students[0].agreement, static_cast<double>(agree) / n);
  EXPECT_NEAR(r->students[0].kl, kl / n, 1e-6);
  EXPECT_GT(r->students[0].kl, 0.0);
  EXPECT_EQ(r->students[1].agreement, 1.0);  // the teacher listed as a student
}

TEST(TeacherAgreement, BadInputIsAnError) {
  TempFile a("agree_v1.gguf"), b("agree_v2.gguf");
  auto teacher = synth(a, 1, house());
  ThreadPool pool(1);
  auto r = measure_agreement(teacher, {}, pool, stream(10), {.n_ctx = 16});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("fewer than one window"), std::string::npos) << r.error().message;
  TANDEM_REQUIRE_FIXTURES("tokenizer/ggml-vocab-llama-spm.gguf");
  auto other = synth(b, 1, testing::shared_dir() + "/fixtures/tokenizer/ggml-vocab-llama-spm.gguf");
  r = measure_agreement(teacher, {other}, pool, stream(100), {.n_ctx = 16});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("vocabulary"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace tandem

// The trainer's OpenBLAS wrappers: products against plain loops for every
// transpose combination, the fixed split over the pool, and that loading and
// calling BLAS starts no threads of its own (they would compete with the
// engine's pool for the same cores).
#include "tandem/train/gemm.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace tandem {
namespace {

// Threads of this process, from /proc/self/status ("Threads:\tN").
int process_threads() {
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    if (key == "Threads:") {
      int n = 0;
      in >> n;
      return n;
    }
  }
  return -1;
}

template <class Real>
std::vector<Real> random_matrix(int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<Real> m(static_cast<size_t>(rows * cols));
  for (auto& x : m) x = static_cast<Real>(u(rng));
  return m;
}

// C = alpha * op(A) * op(B) + beta * C with plain loops in double.
template <class Real>
std::vector<Real> reference(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const std::vector<Real>& A,
                            const std::vector<Real>& B, double beta, const std::vector<Real>& C) {
  const int64_t lda = ta ? M : K, ldb = tb ? K : N;
  std::vector<Real> out(C.size());
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double s = 0;
      for (int64_t k = 0; k < K; ++k) {
        const double a = ta ? A[static_cast<size_t>(k * lda + i)] : A[static_cast<size_t>(i * lda + k)];
        const double b = tb ? B[static_cast<size_t>(j * ldb + k)] : B[static_cast<size_t>(k * ldb + j)];
        s += a * b;
      }
      out[static_cast<size_t>(i * N + j)] = static_cast<Real>(alpha * s + beta * C[static_cast<size_t>(i * N + j)]);
    }
  return out;
}

TEST(Gemm, BlasStartsNoThreadsOfItsOwn) {
  // A gtest process runs this test alone, in its main thread.
  ASSERT_EQ(process_threads(), 1) << "threads at start (or /proc/self/status unreadable)";
  ASSERT_TRUE(blas_load().ok());
  std::vector<float> a = random_matrix<float>(64, 64, 1), b = random_matrix<float>(64, 64, 2), c(64 * 64);
  gemm(false, false, 64, 64, 64, 1.0f, a.data(), 64, b.data(), 64, 0.0f, c.data(), 64);
  // OpenBLAS's pthread build starts cores - 1 threads when it loads unless
  // told otherwise before it initializes.
  EXPECT_EQ(process_threads(), 1) << "threads after loading OpenBLAS and a GEMM call";
}

template <class Real>
void check_all_transposes(double tol) {
  const int64_t M = 37, N = 29, K = 45;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      const auto A = random_matrix<Real>(ta ? K : M, ta ? M : K, 3), B = random_matrix<Real>(tb ? N : K, tb ? K : N, 4);
      auto C = random_matrix<Real>(M, N, 5);
      const auto want = reference<Real>(ta, tb, M, N, K, 0.5, A, B, 2.0, C);
      gemm(ta, tb, M, N, K, Real(0.5), A.data(), ta ? M : K, B.data(), tb ? K : N, Real(2.0), C.data(), N);
      for (size_t i = 0; i < C.size(); ++i) ASSERT_NEAR(C[i], want[i], tol) << "ta=" << ta << " tb=" << tb << " i=" << i;
    }
}

TEST(Gemm, FloatMatchesLoopsForEveryTranspose) { check_all_transposes<float>(1e-4); }
TEST(Gemm, DoubleMatchesLoopsForEveryTranspose) { check_all_transposes<double>(1e-12); }

TEST(Gemm, ParallelSplitMatchesLoops) {
  ThreadPool pool(2);
  for (auto [M, N] : {std::pair<int64_t, int64_t>{70, 20}, {20, 70}}) {
    const int64_t K = 33;
    const auto A = random_matrix<float>(M, K, 6), B = random_matrix<float>(K, N, 7);
    std::vector<float> split(static_cast<size_t>(M * N));
    gemm_parallel<float>(pool, false, false, M, N, K, 1.0f, A.data(), K, B.data(), N, 0.0f, split.data(), N);
    const auto want = reference<float>(false, false, M, N, K, 1.0, A, B, 0.0, split);
    for (size_t i = 0; i < split.size(); ++i) ASSERT_NEAR(split[i], want[i], 1e-4) << "M=" << M << " i=" << i;
  }
}

}  // namespace
}  // namespace tandem

// OpenBLAS sgemm/dgemm, loaded on first use, and their fixed split over the thread pool.
#include "tandem/train/gemm.h"

#include <cblas.h>
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace tandem {
namespace {

CBLAS_TRANSPOSE tr(bool t) { return t ? CblasTrans : CblasNoTrans; }
// Block boundaries are multiples of this, so each thread's block starts on a
// whole micro-kernel tile (and a cache line of C when splitting columns).
constexpr int64_t kSplitAlign = 16;

// The library's entry points, resolved once per process.
struct BlasApi {
  decltype(&cblas_sgemm) sgemm = nullptr;
  decltype(&cblas_dgemm) dgemm = nullptr;
  std::string error;  // empty when loaded
};

BlasApi load_blas() {
  BlasApi api;
  // Read by the library's load-time constructor: one thread, never a pool of its own.
  setenv("OPENBLAS_NUM_THREADS", "1", 1);
  void* h = dlopen(TANDEM_OPENBLAS_PATH, RTLD_NOW | RTLD_LOCAL);
  if (!h) h = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char* why = dlerror();
    api.error = std::string("cannot load OpenBLAS (" TANDEM_OPENBLAS_PATH " or libopenblas.so.0: ") +
                (why ? why : "unknown error") + "; install libopenblas0-pthread)";
    return api;
  }
  api.sgemm = reinterpret_cast<decltype(&cblas_sgemm)>(dlsym(h, "cblas_sgemm"));
  api.dgemm = reinterpret_cast<decltype(&cblas_dgemm)>(dlsym(h, "cblas_dgemm"));
  auto set_threads = reinterpret_cast<decltype(&openblas_set_num_threads)>(dlsym(h, "openblas_set_num_threads"));
  if (!api.sgemm || !api.dgemm || !set_threads) {
    api.error = "OpenBLAS at " TANDEM_OPENBLAS_PATH " lacks cblas_sgemm, cblas_dgemm or openblas_set_num_threads";
    return api;
  }
  set_threads(1);
  return api;
}

// Initialized once (thread-safe), then only read.
const BlasApi& blas() {
  static const BlasApi api = load_blas();
  return api;
}

// gemm() runs only after blas_load() succeeded at the trainer's boundary, or
// in tests; a missing library there is a broken installation.
const BlasApi& loaded_blas() {
  const BlasApi& api = blas();
  if (!api.error.empty()) {
    std::fprintf(stderr, "tandem: %s\n", api.error.c_str());
    std::abort();
  }
  return api;
}

}  // namespace

Status blas_load() {
  const BlasApi& api = blas();
  if (!api.error.empty()) return make_error("trainer: ", api.error);
  return ok_status();
}

void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B,
          int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  loaded_blas().sgemm(CblasRowMajor, tr(ta), tr(tb), static_cast<blasint>(M), static_cast<blasint>(N),
                      static_cast<blasint>(K), alpha, A, static_cast<blasint>(lda), B, static_cast<blasint>(ldb), beta,
                      C, static_cast<blasint>(ldc));
}

void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const double* A, int64_t lda,
          const double* B, int64_t ldb, double beta, double* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  loaded_blas().dgemm(CblasRowMajor, tr(ta), tr(tb), static_cast<blasint>(M), static_cast<blasint>(N),
                      static_cast<blasint>(K), alpha, A, static_cast<blasint>(lda), B, static_cast<blasint>(ldb), beta,
                      C, static_cast<blasint>(ldc));
}

template <class Real>
void gemm_parallel(ThreadPool& pool, bool ta, bool tb, int64_t M, int64_t N, int64_t K, Real alpha, const Real* A,
                   int64_t lda, const Real* B, int64_t ldb, Real beta, Real* C, int64_t ldc) {
  const int nth = pool.size();
  if (nth == 1 || (M < 2 * kSplitAlign && N < 2 * kSplitAlign)) {
    gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  const bool split_rows = M >= N;
  const int64_t extent = split_rows ? M : N;
  auto bound = [&](int i) {
    if (i >= nth) return extent;
    const int64_t b = (extent * i / nth + kSplitAlign / 2) / kSplitAlign * kSplitAlign;
    return b < extent ? b : extent;
  };
  pool.run([&](int ith, int) {
    const int64_t b = bound(ith), e = bound(ith + 1);
    if (b >= e) return;
    if (split_rows) {
      // Rows [b, e) of op(A): rows of A, or columns of A when transposed.
      const Real* a = ta ? A + b : A + b * lda;
      gemm(ta, tb, e - b, N, K, alpha, a, lda, B, ldb, beta, C + b * ldc, ldc);
    } else {
      // Columns [b, e) of op(B): columns of B, or rows of B when transposed.
      const Real* bb = tb ? B + b * ldb : B + b;
      gemm(ta, tb, M, e - b, K, alpha, A, lda, bb, ldb, beta, C + b, ldc);
    }
  });
}

template void gemm_parallel<float>(ThreadPool&, bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t,
                                   const float*, int64_t, float, float*, int64_t);
template void gemm_parallel<double>(ThreadPool&, bool, bool, int64_t, int64_t, int64_t, double, const double*,
                                    int64_t, const double*, int64_t, double, double*, int64_t);

}  // namespace tandem

// Matrix products of the trainer through OpenBLAS, row-major:
//   C(M, N) = alpha * op(A) * op(B) + beta * C,  op(X) = X or X^T.
// gemm() runs in the calling thread; gemm_parallel() splits C into one block of
// rows (or columns, when C is wider than tall) per thread of our pool, at fixed,
// aligned boundaries. Each element of C is then computed by one thread over the
// whole K range, so results depend only on the thread count, never on timing,
// and a resumed run reproduces an uninterrupted one bit for bit.
//
// OpenBLAS computes in whichever thread calls it (ours): the build links its
// serial variant (CMakeLists.txt), whose load starts no threads that would
// compete with the pool for the same cores, and the trainer also calls
// blas_use_calling_thread() for builds against a threaded OpenBLAS.
#pragma once

#include <cstdint>

#include "tandem/base/thread_pool.h"

namespace tandem {

void blas_use_calling_thread();

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc);
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha, const double* A, int64_t lda,
          const double* B, int64_t ldb, double beta, double* C, int64_t ldc);

template <class Real>
void gemm_parallel(ThreadPool& pool, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, Real alpha,
                   const Real* A, int64_t lda, const Real* B, int64_t ldb, Real beta, Real* C, int64_t ldc);

}  // namespace tandem

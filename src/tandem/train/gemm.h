// Matrix products of the trainer through OpenBLAS, row-major:
//   C(M, N) = alpha * op(A) * op(B) + beta * C,  op(X) = X or X^T.
// gemm() runs in the calling thread; gemm_parallel() splits C into one block of
// rows (or columns, when C is wider than tall) per thread of our pool, at fixed,
// aligned boundaries. Each element of C is then computed by one thread over the
// whole K range, so results depend only on the thread count, never on timing,
// and a resumed run reproduces an uninterrupted one bit for bit.
//
// OpenBLAS computes in whichever thread calls it (ours). It is loaded on first
// use (dlopen) with its thread count set to 1 before it initializes: linked
// normally, Debian's pthread build started cores - 1 threads in every tandem
// process at load, and they spun on sched_yield for about 0.1 s, which took a
// core from inference in each short command on a 2-core machine (house-small
// generation on 2 threads: 10.8-18.4K tokens/s with them, 17.6-18.3K without).
// Debian's serial build starts no threads but is not safe to call from several
// threads at once (the trainer's bit-for-bit tests failed with it).
#pragma once

#include <cstdint>

#include "tandem/base/result.h"
#include "tandem/base/thread_pool.h"

namespace tandem {

// Loads OpenBLAS if it is not loaded yet; an error names the library when it
// cannot be loaded. The trainer calls it before it trains; gemm() loads on
// first use too, and aborts with that message when the library is missing.
Status blas_load();

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc);
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha, const double* A, int64_t lda,
          const double* B, int64_t ldb, double beta, double* C, int64_t ldc);

template <class Real>
void gemm_parallel(ThreadPool& pool, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, Real alpha,
                   const Real* A, int64_t lda, const Real* B, int64_t ldb, Real beta, Real* C, int64_t ldc);

}  // namespace tandem

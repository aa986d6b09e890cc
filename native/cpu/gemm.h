// Row-major GEMM: C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C.
// op(X) is X or X^T; lda/ldb/ldc are the row strides of A, B, C as stored. gemm_batched, the entry shared with
// CUDA, is declared in core/gemm.h; what follows is the CPU's own.
#pragma once
#include <cstdint>
#include <string>

#include "core/gemm.h"

namespace tf::cpu {

template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
          int64_t ldb, T beta, T* C, int64_t ldc);

// "openblas-static", "openblas-shared" or "portable", plus the library's own config string when present.
std::string gemm_backend();
std::string gemm_backend_detail();

// Sets OpenBLAS to run every call on the calling thread, once for the process (idempotent). Its thread count
// is process-wide, and its threaded and one-thread paths round differently, so a count that other JS threads
// could change would make results depend on them; gemm() splits large products over our pool instead.
void gemm_init();

}  // namespace tf::cpu

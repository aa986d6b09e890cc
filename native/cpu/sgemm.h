// Our own single-precision GEMM for CPUs with AVX-512, on our thread pool: BLIS's design (packed panels, cache
// blocking from the cache sizes read at run time, a register-blocked microkernel). See sgemm.cc.
#pragma once
#include <cstdint>

namespace tf::cpu {

// C[M,N] = alpha * op(A) · op(B) + beta * C, row-major, as gemm in cpu/gemm.h (op(X) is X or X^T; lda, ldb, ldc
// are the row strides as stored; beta == 0 ignores C's contents). Returns false, doing nothing, where the CPU
// lacks AVX-512 or the product is one that OpenBLAS runs faster (the table in sgemm.cc).
bool sgemm_avx512(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                  int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

}  // namespace tf::cpu

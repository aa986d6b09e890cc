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
int gemm_threads();
void set_gemm_threads(int n);

// Holds OpenBLAS to one thread for its lifetime, while our pool supplies the parallelism: each pool thread
// then runs whole GEMMs of its own, never oversubscribing the cores.
class SerialBlas {
 public:
  SerialBlas() : previous_(gemm_threads()) {
    if (previous_ > 1) set_gemm_threads(1);
  }
  ~SerialBlas() {
    if (previous_ > 1) set_gemm_threads(previous_);
  }
  SerialBlas(const SerialBlas&) = delete;
  SerialBlas& operator=(const SerialBlas&) = delete;

 private:
  int previous_;
};

}  // namespace tf::cpu

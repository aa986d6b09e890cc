#include "cpu/gemm.h"

#include <algorithm>
#include <type_traits>
#include <vector>

#include "core/thread_pool.h"
#include "cpu/sgemm.h"

#ifdef TF_HAVE_CBLAS
#include <cblas.h>
#endif

namespace tf::cpu {

// Multiply-adds below which a GEMM runs whole on the calling thread. Below it, splitting costs more than it
// saves (LeNet-5's fully connected GEMMs took 84-91 us a call on 2 OpenBLAS threads against 36 on 1).
constexpr int64_t kThreadedGemmWork = int64_t(1) << 23;

#ifdef TF_HAVE_CBLAS

namespace {
inline void blas_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t M, int64_t N, int64_t K, float alpha,
                      const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
inline void blas_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t M, int64_t N, int64_t K, double alpha,
                      const double* A, int64_t lda, const double* B, int64_t ldb, double beta, double* C,
                      int64_t ldc) {
  cblas_dgemm(CblasRowMajor, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

// Rows or columns of a part of a split GEMM come in multiples of this, the OpenBLAS kernels' register tile,
// so that a split adds no partial tiles.
constexpr int64_t kPartAlign = 16;

// Parts a GEMM is split into: one below kThreadedGemmWork or inside a parallel_for (whose chunks already
// share out the threads), else one per thread. A part's rounding depends on its shape (OpenBLAS picks its
// kernels and K blocking by shape), so this depends only on the problem and the caller's setting.
int64_t gemm_parts(int64_t M, int64_t N, int64_t K) {
  if (M * N * K < kThreadedGemmWork || in_parallel_for()) return 1;
  return std::min<int64_t>(num_threads(), (std::max(M, N) + kPartAlign - 1) / kPartAlign);
}
}  // namespace

// Large products split along the longer of M and N into one part per thread, each part a one-thread
// OpenBLAS call on its own rows (or columns) of C; each part packs the whole of the other operand again,
// which is small next to its share of the multiply-adds at this size.
template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
          int64_t ldb, T beta, T* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  lda = std::max<int64_t>(1, lda);
  ldb = std::max<int64_t>(1, ldb);
  ldc = std::max<int64_t>(1, ldc);
  if constexpr (std::is_same_v<T, float>) {
    if (sgemm_avx512(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)) return;
  }
  // C[m0:m1, n0:n1] on this thread
  const auto block = [&](int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
    blas_gemm(trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m1 - m0, n1 - n0, K, alpha,
              A + (trans_a ? m0 : m0 * lda), lda, B + (trans_b ? n0 * ldb : n0), ldb, beta, C + m0 * ldc + n0, ldc);
  };
  const int64_t parts = gemm_parts(M, N, K);
  if (parts == 1) return block(0, M, 0, N);
  const bool by_rows = M >= N;
  const int64_t extent = by_rows ? M : N;
  const int64_t per_part = (extent + parts * kPartAlign - 1) / (parts * kPartAlign) * kPartAlign;
  parallel_for((extent + per_part - 1) / per_part, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t part = p0; part < p1; ++part) {
      const int64_t lo = part * per_part, hi = std::min(extent, lo + per_part);
      if (by_rows)
        block(lo, hi, 0, N);
      else
        block(0, M, lo, hi);
    }
  });
}

std::string gemm_backend() { return TF_BLAS_KIND; }
std::string gemm_backend_detail() { return openblas_get_config(); }
void gemm_init() { openblas_set_num_threads(1); }

#else  // portable cache-blocked GEMM

namespace {
constexpr int64_t kMC = 64, kKC = 256, kNC = 1024;

// Packs op(X)[r0:r0+rows, c0:c0+cols] into dst, row-major with row length `cols`.
template <class T>
void pack(const T* X, int64_t ld, bool trans, int64_t r0, int64_t c0, int64_t rows, int64_t cols, T* dst) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) dst[r * cols + c] = trans ? X[(c0 + c) * ld + r0 + r] : X[(r0 + r) * ld + c0 + c];
}
}  // namespace

template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
          int64_t ldb, T beta, T* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  if constexpr (std::is_same_v<T, float>) {
    if (sgemm_avx512(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)) return;
  }
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = beta == T(0) ? T(0) : beta * C[i * ldc + j];
  if (K == 0 || alpha == T(0)) return;
  for (int64_t jc = 0; jc < N; jc += kNC) {
    const int64_t nc = std::min(kNC, N - jc);
    for (int64_t pc = 0; pc < K; pc += kKC) {
      const int64_t kc = std::min(kKC, K - pc);
      std::vector<T> bpack(kc * nc);
      pack(B, ldb, trans_b, pc, jc, kc, nc, bpack.data());
      parallel_for((M + kMC - 1) / kMC, 1, [&](int64_t b0, int64_t b1) {
        std::vector<T> apack(kMC * kc);
        for (int64_t blk = b0; blk < b1; ++blk) {
          const int64_t ic = blk * kMC, mc = std::min(kMC, M - ic);
          pack(A, lda, trans_a, ic, pc, mc, kc, apack.data());
          for (int64_t i = 0; i < mc; ++i) {
            T* c_row = C + (ic + i) * ldc + jc;
            for (int64_t p = 0; p < kc; ++p) {
              const T a = alpha * apack[i * kc + p];
              const T* b_row = bpack.data() + p * nc;
              for (int64_t j = 0; j < nc; ++j) c_row[j] += a * b_row[j];
            }
          }
        }
      });
    }
  }
}

std::string gemm_backend() { return "portable"; }
std::string gemm_backend_detail() { return "tensorforge cache-blocked GEMM (no BLAS found at build time)"; }
void gemm_init() {}

#endif

template <class T>
void gemm_batched(int64_t count, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
                  int64_t lda, int64_t stride_a, const T* B, int64_t ldb, int64_t stride_b, T beta, T* C, int64_t ldc,
                  int64_t stride_c, MatmulPrecision, const T* bias) {
  // With a bias and beta 0 (a linear layer), C starts as the broadcast bias and the product adds to it with
  // beta 1: the BLAS kernel's own pass over C does the epilogue. Otherwise the bias is added after.
  const bool bias_first = bias != nullptr && beta == T(0);
  const auto add_bias = [&](T* c, bool overwrite) {
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) c[m * ldc + n] = overwrite ? bias[n] : c[m * ldc + n] + bias[n];
  };
  const auto run = [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      T* c = C + b * stride_c;
      if (bias_first) add_bias(c, true);
      gemm(trans_a, trans_b, M, N, K, alpha, A + b * stride_a, lda, B + b * stride_b, ldb, bias_first ? T(1) : beta,
           c, ldc);
      if (bias != nullptr && !bias_first) add_bias(c, false);
    }
  };
  // Products too small to split (see gemm) share the pool instead, a block of them per thread.
  if (M * N * K >= kThreadedGemmWork) return run(0, count);
  parallel_for(count, grain_for(M * N * std::max<int64_t>(1, K)), run);
}

template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t,
                          float, float*, int64_t);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t, const double*,
                           int64_t, double, double*, int64_t);
TF_INSTANTIATE_GEMM

}  // namespace tf::cpu

// Entry point of the GEMM family, declared once for tf::cpu and tf::cuda: batched row-major products
//   C_b = alpha * op(A_b) * op(B_b) + beta * C_b (+ bias[n] in column n when bias is given),  b in [0, count),
// op(X) = X or X^T; A_b = A + b * stride_a (stride 0 broadcasts one matrix to every product), likewise B, C.
// op(A) is [M, K], op(B) [K, N], C [M, N]; lda/ldb/ldc are the row strides of A, B, C as stored. beta == 0
// never reads C (it may hold garbage). The bias epilogue is a linear layer's: one pass over C instead of a
// second kernel (and tensor) for the broadcast add. Device-only extras (cpu::gemm, the BLAS backend) are in cpu/gemm.h.
#pragma once
#include <cstdint>

#include "core/on_devices.h"

namespace tf {

// How float32 products may be computed (PyTorch's float32 matmul precision): kHighest in float32; kHigh lets
// the CUDA kernels use TF32 tensor cores (inputs rounded to 10 mantissa bits, float32 accumulation). The
// CPU and float64 always compute at full precision.
enum class MatmulPrecision { kHighest = 0, kHigh = 1 };

}  // namespace tf

#define TF_GEMM_ENTRIES                                                                                          \
  template <class T>                                                                                             \
  void gemm_batched(int64_t count, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha,         \
                    const T* A, int64_t lda, int64_t stride_a, const T* B, int64_t ldb, int64_t stride_b, T beta, \
                    T* C, int64_t ldc, int64_t stride_c, MatmulPrecision precision = MatmulPrecision::kHighest,  \
                    const T* bias = nullptr);

TF_DECLARE_ON_DEVICES(TF_GEMM_ENTRIES)

// The dtypes the bindings dispatch: each device's definitions are instantiated from this list (inside its
// namespace), so the two devices cannot offer different ones.
#define TF_INSTANTIATE_GEMM_FOR(T)                                                                                \
  template void gemm_batched<T>(int64_t, bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t, int64_t,    \
                                const T*, int64_t, int64_t, T, T*, int64_t, int64_t, MatmulPrecision, const T*);
#define TF_INSTANTIATE_GEMM TF_INSTANTIATE_GEMM_FOR(float) TF_INSTANTIATE_GEMM_FOR(double)

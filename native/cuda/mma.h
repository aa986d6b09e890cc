// Tensor-core and asynchronous-copy primitives (sm_80+), one call per PTX instruction:
//
//   float_to_tf32(x)                       cvt.rna.tf32.f32: nearest TF32, ties away from zero, as float bits
//   mma_m16n8k8_tf32(d, a, b, c)           mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32: d = a * b + c
//   ldmatrix<kMatrices, kTrans>(r, row)    ldmatrix.sync.aligned.m8n8.x{1,2,4}[.trans].shared.b16
//   cp_async_ca<kBytes>(dst, src, n)       cp.async.ca.shared.global, 4/8/16 bytes; reads n bytes, zero-fills the rest
//   cp_async_cg(dst, src, n)               cp.async.cg.shared.global, 16 bytes (L2 only); the same zero-fill
//   cp_async_commit()                      cp.async.commit_group
//   cp_async_wait<kPending>()              cp.async.wait_group kPending: all but the newest kPending groups landed
//
// Fragments of mma_m16n8k8_tf32 (PTX ISA "Matrix Fragments for mma.m16n8k8"), lane l, g = l / 4, t = l % 4:
//   a[4] (A 16x8, row-major): a0 = A[g][t], a1 = A[g+8][t], a2 = A[g][t+4], a3 = A[g+8][t+4]   (TF32 bits)
//   b[2] (B 8x8, k x n):      b0 = B[t][g], b1 = B[t+4][g]                                      (TF32 bits)
//   c[4], d[4] (16x8 float):  c0 = C[g][2t], c1 = C[g][2t+1], c2 = C[g+8][2t], c3 = C[g+8][2t+1]
// The tensor core ignores the low 13 bits of a and b: round with float_to_tf32 first for round-to-nearest.
// ldmatrix: lane 8j + i gives the (16-byte aligned, shared-memory) address of row i of 8x8 16-bit matrix j;
// r[j] receives elements (g, 2t) and (g, 2t+1) of matrix j, low half first ((2t, g) and (2t+1, g) with .trans).
// On 32-bit data a non-transposed ldmatrix therefore gives lane l element (g, t) of an 8x4 tile of floats: the
// A fragment (x4: rows 0-7/8-15 x k 0-3/4-7) and the B fragment (x2, B stored n-major) of mma_m16n8k8_tf32.
//
// nvcc compiles them to the instructions (sm_80 and newer); the emulated build (TF_CUDA_EMULATE) runs reference
// implementations of the same layouts (cuda/emu/tensor_core.h): mma and ldmatrix are warp collectives whose
// lanes must all arrive, and cp.async copies land only at the cp_async_wait that covers them (in checked mode
// the destination reads NaN until then, and a thread exiting with copies not waited for is an error).
#pragma once
#include <cstdint>

#include "cuda/kernel.h"

#if defined(TF_CUDA_EMULATE)
#include "cuda/emu/tensor_core.h"
#endif

namespace tf::cuda {

#if defined(TF_CUDA_EMULATE)

// The emulation identifies each collective's call site by the caller's source location.
#define TF_MMA_SITE const char *file = __builtin_FILE(), int line = __builtin_LINE()

inline uint32_t float_to_tf32(float x) { return emu::detail::float_to_tf32(x); }

inline void mma_m16n8k8_tf32(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2], const float (&c)[4],
                             TF_MMA_SITE) {
  emu::detail::mma_m16n8k8_tf32(d, a, b, c, file, line);
}

template <int kMatrices, bool kTrans = false>
void ldmatrix(uint32_t (&r)[kMatrices], const void* row, TF_MMA_SITE) {
  static_assert(kMatrices == 1 || kMatrices == 2 || kMatrices == 4, "ldmatrix: .x1, .x2 or .x4");
  emu::detail::ldmatrix(kMatrices, kTrans, r, row, file, line);
}

template <int kBytes>
void cp_async_ca(void* dst, const void* src, int src_bytes = kBytes, TF_MMA_SITE) {
  static_assert(kBytes == 4 || kBytes == 8 || kBytes == 16, "cp.async.ca: 4, 8 or 16 bytes");
  emu::detail::cp_async(dst, src, kBytes, unsigned(src_bytes), file, line);
}

inline void cp_async_cg(void* dst, const void* src, int src_bytes = 16, TF_MMA_SITE) {
  emu::detail::cp_async(dst, src, 16, unsigned(src_bytes), file, line);
}

inline void cp_async_commit() { emu::detail::cp_async_commit(); }

template <int kPending>
void cp_async_wait(TF_MMA_SITE) {
  static_assert(kPending >= 0, "cp.async.wait_group: a non-negative count");
  emu::detail::cp_async_wait(kPending, file, line);
}

#undef TF_MMA_SITE

#else  // nvcc

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 800
#error "cuda/mma.h: mma.sync .tf32, ldmatrix and cp.async need sm_80 or newer"
#endif

__device__ __forceinline__ uint32_t float_to_tf32(float x) {
  uint32_t r;
  asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(x));
  return r;
}

__device__ __forceinline__ void mma_m16n8k8_tf32(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2],
                                                 const float (&c)[4]) {
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%10, %11, %12, %13};"
      : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]), "f"(c[1]), "f"(c[2]),
        "f"(c[3]));
}

__device__ __forceinline__ unsigned shared_address(const void* p) {
  return static_cast<unsigned>(__cvta_generic_to_shared(p));
}

template <int kMatrices, bool kTrans = false>
__device__ __forceinline__ void ldmatrix(uint32_t (&r)[kMatrices], const void* row) {
  static_assert(kMatrices == 1 || kMatrices == 2 || kMatrices == 4, "ldmatrix: .x1, .x2 or .x4");
  const unsigned addr = shared_address(row);
  if constexpr (kMatrices == 1 && !kTrans)
    asm volatile("ldmatrix.sync.aligned.m8n8.x1.shared.b16 {%0}, [%1];" : "=r"(r[0]) : "r"(addr) : "memory");
  else if constexpr (kMatrices == 1)
    asm volatile("ldmatrix.sync.aligned.m8n8.x1.trans.shared.b16 {%0}, [%1];" : "=r"(r[0]) : "r"(addr) : "memory");
  else if constexpr (kMatrices == 2 && !kTrans)
    asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0, %1}, [%2];"
                 : "=r"(r[0]), "=r"(r[1]) : "r"(addr) : "memory");
  else if constexpr (kMatrices == 2)
    asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0, %1}, [%2];"
                 : "=r"(r[0]), "=r"(r[1]) : "r"(addr) : "memory");
  else if constexpr (!kTrans)
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(addr) : "memory");
  else
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(addr) : "memory");
}

template <int kBytes>
__device__ __forceinline__ void cp_async_ca(void* dst, const void* src, int src_bytes = kBytes) {
  static_assert(kBytes == 4 || kBytes == 8 || kBytes == 16, "cp.async.ca: 4, 8 or 16 bytes");
  asm volatile("cp.async.ca.shared.global [%0], [%1], %2, %3;" ::"r"(shared_address(dst)), "l"(src), "n"(kBytes),
               "r"(src_bytes)
               : "memory");
}

__device__ __forceinline__ void cp_async_cg(void* dst, const void* src, int src_bytes = 16) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(shared_address(dst)), "l"(src), "r"(src_bytes)
               : "memory");
}

__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;" ::: "memory"); }

template <int kPending>
__device__ __forceinline__ void cp_async_wait() {
  static_assert(kPending >= 0, "cp.async.wait_group: a non-negative count");
  asm volatile("cp.async.wait_group %0;" ::"n"(kPending) : "memory");
}

#endif

}  // namespace tf::cuda

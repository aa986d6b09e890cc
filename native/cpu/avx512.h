// AVX-512 kernels beside the portable ones. The library is built for baseline x86-64 so that one binary runs
// everywhere; functions marked TF_AVX512 are compiled for AVX-512F alone and may only run where
// has_avx512() says the CPU has it. TF_AVX512_KERNELS is defined where the compiler can build them.
#pragma once

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define TF_AVX512_KERNELS 1
#define TF_AVX512 __attribute__((target("avx512f")))

namespace tf::cpu {
inline bool has_avx512() {
  static const bool yes = __builtin_cpu_supports("avx512f");
  return yes;
}
}  // namespace tf::cpu
#endif

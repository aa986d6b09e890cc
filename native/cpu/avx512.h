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

// TF_AVX512_CLONES on a function compiles it twice, for baseline x86-64 and for AVX-512, and has the loader pick
// one for the CPU (GCC's target_clones, through an ELF ifunc): for plain loops the compiler vectorizes, without
// writing them twice. Elsewhere the function is compiled once.
#if defined(TF_AVX512_KERNELS) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__)
#define TF_AVX512_CLONES __attribute__((target_clones("avx512f", "default")))
#else
#define TF_AVX512_CLONES
#endif

// AVX-512 kernels beside the portable ones. The library is built for baseline x86-64 so that one binary runs
// everywhere; functions marked TF_AVX512 are compiled for AVX-512F alone and may only run where
// has_avx512() says the CPU has it. TF_AVX512_KERNELS is defined where the compiler can build them.
// The register-blocked kernels share the helpers below.
#pragma once

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>
#define TF_AVX512_KERNELS 1
#define TF_AVX512 __attribute__((target("avx512f")))

namespace tf::cpu {
inline bool has_avx512() {
  static const bool yes = __builtin_cpu_supports("avx512f");
  return yes;
}

// The mask of the first n of a vector's 16 lanes.
inline __mmask16 first_lanes(int64_t n) { return __mmask16((1u << n) - 1u); }

// Calls fn(first, count) over [0, n) in ceil(n / most) pieces whose sizes differ by at most one.
template <class F>
void even_pieces(int64_t n, int64_t most, F&& fn) {
  const int64_t pieces = (n + most - 1) / most;
  for (int64_t i = 0, first = 0; i < pieces; ++i) {
    const int64_t count = n / pieces + (i < n % pieces ? 1 : 0);
    fn(first, count);
    first += count;
  }
}

// Kernels::at<a, b>() for every a in [1, A] and b in [1, B], instantiated once and picked at run time.
template <class Kernels, int A, int B>
struct KernelGrid {
  using Kernel = decltype(Kernels::template at<1, 1>());
  static Kernel get(int64_t a, int64_t b) {
    static constexpr std::array<Kernel, size_t(A * B)> table = make(std::make_index_sequence<size_t(A * B)>());
    return table[size_t((a - 1) * B + b - 1)];
  }

 private:
  template <size_t... I>
  static constexpr std::array<Kernel, sizeof...(I)> make(std::index_sequence<I...>) {
    return {Kernels::template at<int(I) / B + 1, int(I) % B + 1>()...};
  }
};
}  // namespace tf::cpu
#endif

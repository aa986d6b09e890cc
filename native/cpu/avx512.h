// AVX-512 kernels beside the portable ones. The library is built for baseline x86-64 so that one binary runs
// everywhere; functions marked TF_AVX512 are compiled for AVX-512F alone and may only run where
// has_avx512() says the CPU has it. TF_AVX512_KERNELS is defined where the compiler can build them.
// The register-blocked kernels share the helpers below.
#pragma once

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#include <algorithm>
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

// The mask of the first n of a vector's 16 lanes: none for n <= 0, all for n >= 16.
inline __mmask16 first_lanes(int64_t n) {
  return n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << std::max<int64_t>(n, 0)) - 1u);
}

// 0, 2, ..., 30: the permute indices of the even elements of two vectors.
TF_AVX512 __attribute__((always_inline)) inline __m512i even_lanes() {
  return _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
}

// The even and the odd elements of the 32 in lo, then hi.
struct EvenOdd {
  __m512 even, odd;
};
TF_AVX512 __attribute__((always_inline)) inline EvenOdd even_odd(__m512 lo, __m512 hi) {
  const __m512i even = even_lanes(), odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  return {_mm512_permutex2var_ps(lo, even, hi), _mm512_permutex2var_ps(lo, odd, hi)};
}

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

// Blocks of accumulators held in registers (every loop over one fully unrolled: GCC otherwise kept such arrays
// on the stack, which cost the row kernels of the direct convolutions 2-3x).
template <int A, int B>
TF_AVX512 __attribute__((always_inline)) inline void zero_block(__m512 (&acc)[A][B]) {
#pragma GCC unroll 32
  for (int a = 0; a < A; ++a)
#pragma GCC unroll 32
    for (int b = 0; b < B; ++b) acc[a][b] = _mm512_setzero_ps();
}

// dst[(a * row_stride + b) * 16 + lane] += acc[a][b][lane]
template <int A, int B>
TF_AVX512 __attribute__((always_inline)) inline void add_block(const __m512 (&acc)[A][B], float* dst,
                                                                int64_t row_stride) {
#pragma GCC unroll 32
  for (int a = 0; a < A; ++a)
#pragma GCC unroll 32
    for (int b = 0; b < B; ++b) {
      float* at = dst + (a * row_stride + b) * 16;
      _mm512_storeu_ps(at, _mm512_add_ps(_mm512_loadu_ps(at), acc[a][b]));
    }
}

// dst[a * row_stride + 16 b + lane] = acc[a][b][lane], each row's last vector cut to the lanes in `tail`.
template <int A, int B>
TF_AVX512 __attribute__((always_inline)) inline void store_block(const __m512 (&acc)[A][B], float* dst,
                                                                  int64_t row_stride, __mmask16 tail) {
#pragma GCC unroll 32
  for (int a = 0; a < A; ++a)
#pragma GCC unroll 32
    for (int b = 0; b < B; ++b) {
      float* at = dst + a * row_stride + 16 * b;
      if (b + 1 < B) {
        _mm512_storeu_ps(at, acc[a][b]);
      } else {
        _mm512_mask_storeu_ps(at, tail, acc[a][b]);
      }
    }
}

// GCC 12 warns that the shuffles' unused pass-through operand, _mm512_undefined_ps(), may be uninitialized
// (GCC bug 105593, fixed in GCC 13).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

// Transposes the 16 x 16 block x[i][j] in place: x[j][i] afterwards.
TF_AVX512 __attribute__((always_inline)) inline void transpose16(__m512 (&x)[16]) {
  __m512 t[16];
#pragma GCC unroll 16
  for (int i = 0; i < 8; ++i) {  // t[2i + h]: pairs of rows 2i, 2i+1 from columns 4l + 2h, 4l + 2h + 1
    t[2 * i] = _mm512_unpacklo_ps(x[2 * i], x[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(x[2 * i], x[2 * i + 1]);
  }
#pragma GCC unroll 16
  for (int g = 0; g < 4; ++g) {  // x[4g + j], 128-bit lane l: rows 4g..4g+3 of column 4l + j
    const __m512d a0 = _mm512_castps_pd(t[4 * g]), a1 = _mm512_castps_pd(t[4 * g + 1]),
                  a2 = _mm512_castps_pd(t[4 * g + 2]), a3 = _mm512_castps_pd(t[4 * g + 3]);
    x[4 * g] = _mm512_castpd_ps(_mm512_unpacklo_pd(a0, a2));
    x[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a0, a2));
    x[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(a1, a3));
    x[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(a1, a3));
  }
#pragma GCC unroll 16
  for (int j = 0; j < 4; ++j) {  // t[4h + j]: lanes (h, h + 2) of x[j], x[4 + j]; t[8 + 4h + j]: of x[8 + j], x[12 + j]
    t[j] = _mm512_shuffle_f32x4(x[j], x[4 + j], _MM_SHUFFLE(2, 0, 2, 0));
    t[4 + j] = _mm512_shuffle_f32x4(x[j], x[4 + j], _MM_SHUFFLE(3, 1, 3, 1));
    t[8 + j] = _mm512_shuffle_f32x4(x[8 + j], x[12 + j], _MM_SHUFFLE(2, 0, 2, 0));
    t[12 + j] = _mm512_shuffle_f32x4(x[8 + j], x[12 + j], _MM_SHUFFLE(3, 1, 3, 1));
  }
#pragma GCC unroll 16
  for (int j = 0; j < 4; ++j) {
    x[j] = _mm512_shuffle_f32x4(t[j], t[8 + j], _MM_SHUFFLE(2, 0, 2, 0));
    x[8 + j] = _mm512_shuffle_f32x4(t[j], t[8 + j], _MM_SHUFFLE(3, 1, 3, 1));
    x[4 + j] = _mm512_shuffle_f32x4(t[4 + j], t[12 + j], _MM_SHUFFLE(2, 0, 2, 0));
    x[12 + j] = _mm512_shuffle_f32x4(t[4 + j], t[12 + j], _MM_SHUFFLE(3, 1, 3, 1));
  }
}

// dst[j * dst_stride + i] = src[i * src_stride + j] for i < rows and j < cols, 16 x 16 blocks at a time. With
// whole_rows each destination row of a block is written 16 lanes wide, zeros past `rows` (a layout of 16-lane
// vectors, rows <= 16); otherwise only its lanes below `rows`.
TF_AVX512 inline void transpose(const float* src, int64_t src_stride, int64_t rows, int64_t cols, float* dst,
                                int64_t dst_stride, bool whole_rows) {
  for (int64_t i0 = 0; i0 < rows; i0 += 16)
    for (int64_t j0 = 0; j0 < cols; j0 += 16) {
      const int64_t n_i = std::min<int64_t>(16, rows - i0), n_j = std::min<int64_t>(16, cols - j0);
      const __mmask16 load_mask = first_lanes(n_j), store_mask = whole_rows ? __mmask16(0xFFFF) : first_lanes(n_i);
      __m512 x[16];
#pragma GCC unroll 16
      for (int i = 0; i < 16; ++i)
        x[i] = i < n_i ? _mm512_maskz_loadu_ps(load_mask, src + (i0 + i) * src_stride + j0) : _mm512_setzero_ps();
      transpose16(x);
#pragma GCC unroll 16
      for (int j = 0; j < 16; ++j)
        if (j < n_j) _mm512_mask_storeu_ps(dst + (j0 + j) * dst_stride + i0, store_mask, x[j]);
    }
}

#pragma GCC diagnostic pop
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

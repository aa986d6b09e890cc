// Both products hold a block of up to 6 rows by 4 vectors of 16 in registers and walk the depth, loading the
// block's vectors of the right operand and broadcasting the left operand's element straight from memory into each
// multiply-add:
//   forward:          M[K][tiles] = U[K][C] · V[C][tiles]        (tiles along the lanes)
//   weight gradient:  acc[K][C] (+)= D[K][tiles] · Vt[tiles][C]  (input channels along the lanes; Vt is V
//                     transposed first, 16 x 16 blocks in registers: about 6 instructions per vector of V,
//                     against K multiply-adds per vector in the product)
//
// Against OpenBLAS 0.3 (Cooperlake kernels): sixteen positions on 1 thread, operands in L2 as in the
// convolution, GFLOP/s ours / OpenBLAS by K x C x tiles.
//   forward: up to 10^6 multiply-adds OpenBLAS runs its unpacked small-matrix kernel, which blocks like ours and
//     ties or wins (16x16x512 100 / 95, 32x32x256 108 / 109, 64x64x240 109 / 113, 32x32x960 104 / 110,
//     128x128x56 98 / 110; inside the convolution, [64,32,16,16] forward took 2.35 ms with OpenBLAS, 2.39-2.44
//     with ours). Beyond, its packed kernel's copies cost it and ours wins: 64x64x256 106 / 89, 48x48x448
//     107 / 91, 128x128x64 111 / 92, 32x32x1024 91 / 56, 16x16x4096 70 / 36, 512x512x64 103 / 75.
//   weight gradient, 200 tiles: K=16 loses at every C (C=16 74 / 79, C=64 78 / 89); K=32 breaks even up to C=32
//     (89 / 90) and wins from C=40 (78 / 69; C=48 92 / 76); K=48 and 64 win from C=32 (95 / 81, 98 / 82) and
//     barely at C=16 (92 / 88, 94 / 89). K=C=64 wins by 1.10-1.15x from 16 to 512 tiles. Around 128 x 128 the
//     sixteen positions' sums (1 MiB) outgrow L2 and the gain fades (128x128x64 99 / 94, 128x128x128 96 / 95);
//     at 256 x 256 OpenBLAS's blocked kernel wins (256x256x64 71 / 90).
#include "cpu/winograd_gemm.h"

#include <algorithm>
#include <type_traits>

#include "cpu/avx512.h"
#include "cpu/gemm.h"
#include "cpu/scratch.h"

namespace tf::cpu {

#ifdef TF_AVX512_KERNELS
namespace {

constexpr int64_t kLanes = 16;
// 24 accumulators, 4 vectors of the right operand per step: forward 64x64x256 ran 111 GFLOP/s in blocks of
// 6 x 4, 106 in 8 x 3 and 12 x 2, 93 in 16 x 1.
constexpr int kMaxRows = 6;
constexpr int kMaxVectors = 4;

// m[r][16j + lane] = sum_i u[r][i] * v[i][16j + lane] (+ m[r][16j + lane] when accumulating) for Rows rows and
// Vectors vectors, the last one cut to the lanes in `tail`. Rows of u are `depth` long, rows of v and m `width`.
template <int Rows, int Vectors>
TF_AVX512 void products_block(const float* u, int64_t depth, const float* v, int64_t width, __mmask16 tail,
                              bool accumulate, float* m) {
  __m512 acc[Rows][Vectors];
#pragma GCC unroll 32
  for (int r = 0; r < Rows; ++r)
#pragma GCC unroll 32
    for (int j = 0; j < Vectors; ++j)
      acc[r][j] = accumulate ? _mm512_maskz_loadu_ps(j + 1 < Vectors ? __mmask16(0xffff) : tail,
                                                     m + r * width + j * kLanes)
                             : _mm512_setzero_ps();
  for (int64_t i = 0; i < depth; ++i) {
    const float* row = v + i * width;
    __m512 in[Vectors];
#pragma GCC unroll 32
    for (int j = 0; j < Vectors; ++j)
      in[j] = j + 1 < Vectors ? _mm512_loadu_ps(row + j * kLanes) : _mm512_maskz_loadu_ps(tail, row + j * kLanes);
#pragma GCC unroll 32
    for (int r = 0; r < Rows; ++r) {
      const __m512 weight = _mm512_set1_ps(u[r * depth + i]);
#pragma GCC unroll 32
      for (int j = 0; j < Vectors; ++j) acc[r][j] = _mm512_fmadd_ps(weight, in[j], acc[r][j]);
    }
  }
  store_block(acc, m, width, tail);
}

struct ProductsKernels {
  template <int Rows, int Vectors>
  static constexpr auto at() { return &products_block<Rows, Vectors>; }
};

// M[rows][width] (+)= U[rows][depth] · V[depth][width], one block of columns at a time through every row block,
// while the block's rows of V stay in L1.
void avx512_products(int64_t rows, int64_t depth, int64_t width, const float* U, const float* V, bool accumulate,
                     float* M) {
  for (int64_t j0 = 0; j0 < width; j0 += kMaxVectors * kLanes) {
    const int64_t columns = std::min(width - j0, kMaxVectors * kLanes), vectors = (columns + kLanes - 1) / kLanes;
    const __mmask16 tail = first_lanes(columns - (vectors - 1) * kLanes);
    even_pieces(rows, kMaxRows, [&](int64_t r0, int64_t count) {
      KernelGrid<ProductsKernels, kMaxRows, kMaxVectors>::get(count, vectors)(U + r0 * depth, depth, V + j0, width,
                                                                               tail, accumulate, M + r0 * width + j0);
    });
  }
}

// Where ours beat OpenBLAS (the figures above). Forward: past OpenBLAS's small-matrix kernel, 10^6 multiply-adds.
bool products_pay(int64_t K, int64_t C, int64_t tiles) { return K * C * tiles > 1000000; }

// Weight gradient: 32 output channels or more, and between 1280 and 128 x 128 channel pairs.
bool transposed_gradient_pays(int64_t K, int64_t C) { return K >= 32 && K * C >= 1280 && K * C <= 128 * 128; }

}  // namespace
#endif

template <class T>
void winograd_products(int64_t K, int64_t C, int64_t tiles, const T* U, const T* V, T* M) {
#ifdef TF_AVX512_KERNELS
  if constexpr (std::is_same_v<T, float>) {
    if (has_avx512() && products_pay(K, C, tiles)) return avx512_products(K, C, tiles, U, V, false, M);
  }
#endif
  gemm<T>(false, false, K, tiles, C, T(1), U, C, V, tiles, T(0), M, tiles);
}

template <class T>
void winograd_weight_products(int64_t K, int64_t C, int64_t tiles, const T* D, const T* V, bool accumulate, T* acc) {
#ifdef TF_AVX512_KERNELS
  if constexpr (std::is_same_v<T, float>) {
    if (has_avx512() && transposed_gradient_pays(K, C)) {
      float* vt = scratch<float, Scratch::kTransposedTiles>(tiles * C);
      transpose(V, tiles, C, tiles, vt, C, false);
      return avx512_products(K, tiles, C, D, vt, accumulate, acc);
    }
  }
#endif
  gemm<T>(false, true, K, C, tiles, T(1), D, tiles, V, tiles, accumulate ? T(1) : T(0), acc, C);
}

#define TF_INSTANTIATE(T)                                                                                         \
  template void winograd_products<T>(int64_t, int64_t, int64_t, const T*, const T*, T*);                          \
  template void winograd_weight_products<T>(int64_t, int64_t, int64_t, const T*, const T*, bool, T*);
TF_INSTANTIATE(float)
TF_INSTANTIATE(double)
#undef TF_INSTANTIATE

}  // namespace tf::cpu

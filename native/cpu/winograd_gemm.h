// The per-position GEMMs of the Winograd F(2x2, 3x3) convolution (cpu/conv_winograd.cc): small products over
// one chunk's transformed tiles, each of whose rows is the chunk's tile count long. Float on AVX-512 CPUs runs
// our own kernels where they beat OpenBLAS; double and other CPUs call gemm().
// Legend: C input channels, K output channels, tiles the chunk's tile count.
#pragma once
#include <cstdint>

namespace tf::cpu {

// M[K][tiles] = U[K][C] · V[C][tiles]: the forward (and backward-data) product of one transformed position.
template <class T>
void winograd_products(int64_t K, int64_t C, int64_t tiles, const T* U, const T* V, T* M);

// acc[K][C] = D[K][tiles] · V[C][tiles]^T, or acc += that when `accumulate`: one transformed position's weight
// gradient over one chunk's tiles.
template <class T>
void winograd_weight_products(int64_t K, int64_t C, int64_t tiles, const T* D, const T* V, bool accumulate, T* acc);

}  // namespace tf::cpu

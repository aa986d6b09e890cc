// CPU conv2d kernels, float and double. Legend and layouts: core/conv.h.
// All pointers address contiguous NCHW / OIHW tensors from element 0; shapes were validated by
// conv2d_params. Gradient outputs are overwritten, never accumulated into.
#pragma once
#include "core/conv.h"

namespace tf::cpu {

// y[N, K, P, Q] = conv(x[N, C, H, W], w[K, C/G, R, S]) + bias[K] (bias may be null).
template <class T>
void conv2d_forward(const Conv2dParams& p, const T* x, const T* w, const T* bias, T* y);

// dx[N, C, H, W] = d(sum(y * dy))/dx for dy[N, K, P, Q]: the transposed convolution of dy by w.
template <class T>
void conv2d_backward_data(const Conv2dParams& p, const T* dy, const T* w, T* dx);

// dw[K, C/G, R, S] = d(sum(y * dy))/dw; dbias[K] = sum of dy over N, P, Q (skipped when null).
template <class T>
void conv2d_backward_weight(const Conv2dParams& p, const T* x, const T* dy, T* dw, T* dbias);

}  // namespace tf::cpu

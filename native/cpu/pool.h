// CPU 2-D pooling kernels, float and double, PyTorch semantics. Legend and layouts: core/pool.h.
// Shapes were validated by pool2d_params / adaptive_pool2d_params; gradients are overwritten.
#pragma once
#include <cstdint>

#include "core/pool.h"

namespace tf::cpu {

// y = max over each window, NaN propagating; idx = its position h*W + w in the input plane (the first
// maximum), or -1 with y = -inf for a window that lies entirely in the padding.
template <class T>
void max_pool2d_forward(const Pool2dParams& p, const T* x, T* y, int32_t* idx);
template <class T>
void adaptive_max_pool2d_forward(const PoolShape& s, const T* x, T* y, int32_t* idx);

// dx[plane][idx] += dy for every output of both max poolings (indices -1 skipped); dx is overwritten.
template <class T>
void max_pool2d_backward(const PoolShape& s, const T* dy, const int32_t* idx, T* dx);

// y = window sum / divisor: the window's size clipped to the padded input when count_include_pad, else
// the number of input elements it covers.
template <class T>
void avg_pool2d_forward(const Pool2dParams& p, bool count_include_pad, const T* x, T* y);
template <class T>
void avg_pool2d_backward(const Pool2dParams& p, bool count_include_pad, const T* dy, T* dx);

template <class T>
void adaptive_avg_pool2d_forward(const PoolShape& s, const T* x, T* y);
template <class T>
void adaptive_avg_pool2d_backward(const PoolShape& s, const T* dy, T* dx);

}  // namespace tf::cpu

// Winograd F(2x2, 3x3) convolution (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016):
// each 2x2 output tile costs 16 multiplies per (input, output) channel pair instead of 36, done as 16 GEMMs
// over transformed tiles. Serves 3x3, stride-1, undilated, ungrouped convolutions with enough channels for
// the GEMMs to pay for the transforms. Legend and layouts: core/conv.h.
#pragma once
#include "core/conv.h"

namespace tf::cpu {

// Whether the Winograd kernels below serve p (all three passes).
bool winograd_serves(const Conv2dParams& p);

// y = conv(x, w) + bias (bias may be null).
template <class T>
void winograd_forward(const Conv2dParams& p, const T* x, const T* w, const T* bias, T* y);

// dx: the forward convolution of dy by the transposed, 180°-rotated weights.
template <class T>
void winograd_backward_data(const Conv2dParams& p, const T* dy, const T* w, T* dx);

// dw: the adjoint of the forward's transforms, summed over every tile of the batch.
template <class T>
void winograd_backward_weight(const Conv2dParams& p, const T* x, const T* dy, T* dw);

}  // namespace tf::cpu

// Direct float32 convolution on CPUs with AVX-512: one vector holds 16 output channels, so a small filter bank
// (LeNet-5's 16 filters of 6x5x5, ResNet's strided 3x3 layers) runs as broadcast-multiply-adds straight from
// the zero-padded input, without the im2col copy and the small-GEMM overheads of the general path.
// Legend and layouts: core/conv.h.
#pragma once
#include "core/conv.h"

namespace tf::cpu {

// Whether the kernels below serve p: the CPU has AVX-512 and p is ungrouped and undilated, with a stride of 1
// or 2 along the rows, filters larger than 1x1 and at most 7 wide, at least 32 taps (C*R*S) and at least 16
// output channels. (A strided 1x1 convolution is a strided copy and a GEMM: faster as im2col, [64,64,16,16]
// to 128 channels at stride 2 ran at 84 GFLOP/s that way and 56 direct.)
bool direct_serves(const Conv2dParams& p);

// y = conv(x, w) + bias (bias may be null).
void direct_forward(const Conv2dParams& p, const float* x, const float* w, const float* bias, float* y);

// Whether direct_backward_data serves p: stride 1, padding below the filter size, at least 3 input channels,
// and the kernels above serve both p and its adjoint (dy convolved with the transposed, rotated weights).
bool direct_serves_backward_data(const Conv2dParams& p);

// dx = d(sum(y * dy))/dx, as the forward convolution of dy by the transposed, 180°-rotated weights.
void direct_backward_data(const Conv2dParams& p, const float* dy, const float* w, float* dx);

// dw = d(sum(y * dy))/dw, summed over the batch.
void direct_backward_weight(const Conv2dParams& p, const float* x, const float* dy, float* dw);

}  // namespace tf::cpu

// CPU kernels of the nn family (dropout's entry points: core/nn.h). Legend: N batch, C channels, L flattened
// spatial size, H/W heights and widths.
#pragma once
#include <cstdint>

#include "core/nn.h"
#include "core/philox.h"

namespace tf::cpu {

// Inverted dropout of one element: x * scale when kept, else 0.
template <class T>
struct DropoutApply {
  T scale;
  TF_HD T operator()(T x, uint8_t keep) const { return keep ? x * scale : T(0); }
};

// y = x for x > 0, else slope * x.
template <class T>
struct PreluApply {
  T slope;
  TF_HD T operator()(T x) const { return x > T(0) ? x : slope * x; }
};

template <class T>
void prelu_forward(const PreluParams& params, const T* x, const T* weight, T* y);
// dx (nullable) = dy * (x > 0 ? 1 : slope); dweight (nullable, num_weights) = sum over x <= 0 of x * dy.
template <class T>
void prelu_backward(const PreluParams& params, const T* x, const T* dy, const T* weight, T* dx, T* dweight);

// PyTorch's nearest / bilinear source-index rules (aten/src/ATen/native/UpSample.h).
template <class T>
void upsample2d_forward(const Upsample2dParams& params, const T* x, T* y);
// Overwrites dx (N, C, in_h, in_w) with the adjoint of upsample2d_forward applied to dy.
template <class T>
void upsample2d_backward(const Upsample2dParams& params, const T* dy, T* dx);

}  // namespace tf::cpu

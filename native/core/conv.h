// conv2d shape validation and output-size formulas, shared by every device's kernels.
// Legend: N batch, C input channels, H W input size, K filters (output channels), R S kernel size,
// P Q output size, G groups. Tensors are contiguous NCHW (x, y) and OIHW (w: [K, C/G, R, S]).
#pragma once
#include <cstdint>

#include "core/on_devices.h"
#include "core/shape.h"

namespace tf {

struct Conv2dParams {
  int64_t N, C, H, W;  // input
  int64_t K, R, S;     // weight [K, C/G, R, S]
  int64_t P, Q;        // output
  int64_t stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, groups;
  // float32 products may round their inputs to TF32 on CUDA tensor cores (lib/kernels/precision.ts: allowTf32;
  // PyTorch's ConvParams carries the same switch). The CPU kernels and float64 ignore it.
  bool allow_tf32 = false;

  int64_t in_per_group() const { return C / groups; }   // Cg
  int64_t out_per_group() const { return K / groups; }  // Kg
  int64_t x_numel() const { return N * C * H * W; }
  int64_t w_numel() const { return K * (C / groups) * R * S; }
  int64_t y_numel() const { return N * K * P * Q; }
  // Length of one output element's dot product: the GEMM reduction size Cg*R*S.
  int64_t reduction() const { return (C / groups) * R * S; }
  bool pointwise() const { return R == 1 && S == 1 && stride_h == 1 && stride_w == 1 && pad_h == 0 && pad_w == 0; }
  // One input channel per group (depthwise, with any channel multiplier K/G): no reduction over channels.
  bool depthwise() const { return C == groups; }
};

// Validates x_shape [N, C, H, W], w_shape [K, C/groups, R, S], stride/padding/dilation (pairs: height, width)
// and groups, and computes the output size. Throws tf::Error naming `op` and the offending argument.
// Every element count and every GEMM dimension the kernels form is proven to fit.
Conv2dParams conv2d_params(const char* op, const Dims& x_shape, const Dims& w_shape, const Dims& stride,
                           const Dims& padding, const Dims& dilation, int64_t groups);

// The convolution whose forward is p's backward-data when p has stride 1, no dilation and no groups: dy
// [N, K, P, Q], padded by R - 1 - pad (non-negative for pad < R), convolved with the transposed, 180°-rotated
// weights [C, K, R, S] into dx [N, C, H, W].
Conv2dParams adjoint_conv(const Conv2dParams& p);

}  // namespace tf

// The entry points, declared once for tf::cpu and tf::cuda. All pointers address contiguous NCHW / OIHW tensors
// from element 0; shapes were validated by conv2d_params. Outputs are overwritten, never accumulated into.
// conv2d_forward: y[N, K, P, Q] = conv(x[N, C, H, W], w[K, C/G, R, S]) + bias[K] (bias may be null).
// conv2d_backward_data: dx[N, C, H, W] = d(sum(y * dy))/dx for dy[N, K, P, Q]: the transposed convolution of dy.
// conv2d_backward_weight: dw[K, C/G, R, S] = d(sum(y * dy))/dw; dbias[K] = dy summed over N, P, Q (skipped
// when null).
#define TF_CONV_ENTRIES                                                                   \
  template <class T>                                                                      \
  void conv2d_forward(const Conv2dParams& p, const T* x, const T* w, const T* bias, T* y); \
  template <class T>                                                                      \
  void conv2d_backward_data(const Conv2dParams& p, const T* dy, const T* w, T* dx);       \
  template <class T>                                                                      \
  void conv2d_backward_weight(const Conv2dParams& p, const T* x, const T* dy, T* dw, T* dbias);

TF_DECLARE_ON_DEVICES(TF_CONV_ENTRIES)

// The dtypes the bindings dispatch, instantiated by each device from this list (inside its namespace).
#define TF_INSTANTIATE_CONV_FOR(T)                                                          \
  template void conv2d_forward<T>(const Conv2dParams&, const T*, const T*, const T*, T*); \
  template void conv2d_backward_data<T>(const Conv2dParams&, const T*, const T*, T*);     \
  template void conv2d_backward_weight<T>(const Conv2dParams&, const T*, const T*, T*, T*);
#define TF_INSTANTIATE_CONV TF_INSTANTIATE_CONV_FOR(float) TF_INSTANTIATE_CONV_FOR(double)

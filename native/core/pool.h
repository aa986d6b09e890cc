// 2-D pooling shape validation and output-size formulas (PyTorch semantics), shared by every device.
// Legend: N batch, C channels, H W input size, P Q output size. x is [N, C, H, W], y is [N, C, P, Q],
// contiguous; max-pooling indices are int32 positions h*W + w inside the sample's input plane.
#pragma once
#include <cstdint>

#include "core/shape.h"

namespace tf {

struct PoolShape {
  int64_t N, C, H, W, P, Q;
  int64_t planes() const { return N * C; }
  int64_t x_numel() const { return N * C * H * W; }
  int64_t y_numel() const { return N * C * P * Q; }
};

// Sliding-window pooling: kernel, stride, padding, dilation per axis (height, width).
struct Pool2dParams : PoolShape {
  int64_t kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dil_h, dil_w;
};

// Validates x_shape [N, C, H, W] and the (height, width) pairs kernel, stride, padding, dilation; computes
// P, Q with floor or ceil rounding (a ceil-mode window must start inside the input or its left padding).
// PyTorch's rule padding <= kernel/2 is enforced. Throws tf::Error naming `op` and the argument.
Pool2dParams pool2d_params(const char* op, const Dims& x_shape, const Dims& kernel, const Dims& stride,
                           const Dims& padding, const Dims& dilation, bool ceil_mode);

// Adaptive pooling of x_shape [N, C, H, W] to out_size [P, Q]: window i along an axis of length In covers
// [floor(i*In/Out), ceil((i+1)*In/Out)).
PoolShape adaptive_pool2d_params(const char* op, const Dims& x_shape, const Dims& out_size);

// Requires a gradient's shape to equal the forward output [N, C, P, Q].
void check_pool_grad_shape(const char* op, const PoolShape& s, const Dims& grad_shape);

// Requires every index to be -1 (an all-padding window) or a position in an H*W input plane.
void check_pool_indices(const char* op, const PoolShape& s, const int32_t* indices);

}  // namespace tf

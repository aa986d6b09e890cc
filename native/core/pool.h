// 2-D pooling shape validation and output-size formulas (PyTorch semantics), shared by every device.
// Legend: N batch, C channels, H W input size, P Q output size. x is [N, C, H, W], y is [N, C, P, Q],
// contiguous; max-pooling indices are int32 positions h*W + w inside the sample's input plane.
#pragma once
#include <cstdint>

#include "core/host_device.h"
#include "core/on_devices.h"
#include "core/shape.h"

namespace tf {

struct PoolShape {
  int64_t N, C, H, W, P, Q;
  TF_HD int64_t planes() const { return N * C; }
  TF_HD int64_t x_numel() const { return N * C * H * W; }
  TF_HD int64_t y_numel() const { return N * C * P * Q; }
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

// Requires every index to be -1 (an all-padding window) or a position in an H*W input plane (host memory).
void check_pool_indices(const char* op, const PoolShape& s, const int32_t* indices);

// The input positions first, first + step, ... (count of them) that one window reads along one axis. Both
// devices find windows with these functions, so they read the same taps.
struct PoolTaps {
  int64_t first, count, step;
};

// Window o of a kernel of size k: taps o*stride - pad + j*dil, j in [0, k), that lie in [0, in).
TF_HD PoolTaps kernel_taps(int64_t o, int64_t k, int64_t stride, int64_t pad, int64_t dil, int64_t in) {
  const int64_t start = o * stride - pad;
  const int64_t lo = start >= 0 ? 0 : (-start + dil - 1) / dil;
  const int64_t reach = (in - start + dil - 1) / dil;
  const int64_t hi = start >= in ? 0 : (k < reach ? k : reach);
  return {start + lo * dil, hi > lo ? hi - lo : 0, dil};
}

// Adaptive window o of `out` over `in`: [floor(o*in/out), ceil((o+1)*in/out)).
TF_HD PoolTaps adaptive_taps(int64_t o, int64_t in, int64_t out) {
  const int64_t begin = o * in / out, end = ((o + 1) * in + out - 1) / out;
  return {begin, end - begin, 1};
}

TF_HD PoolTaps pool_row_taps(const Pool2dParams& p, int64_t oh) {
  return kernel_taps(oh, p.kernel_h, p.stride_h, p.pad_h, p.dil_h, p.H);
}
TF_HD PoolTaps pool_col_taps(const Pool2dParams& p, int64_t ow) {
  return kernel_taps(ow, p.kernel_w, p.stride_w, p.pad_w, p.dil_w, p.W);
}

// PyTorch's avg_pool2d divisor of window (oh, ow): the window clipped to the padded input, or the number of
// input elements it covers.
TF_HD int64_t avg_pool_divisor(const Pool2dParams& p, bool count_include_pad, int64_t oh, int64_t ow,
                               const PoolTaps& rows, const PoolTaps& cols) {
  if (!count_include_pad) return rows.count * cols.count;
  const int64_t h0 = oh * p.stride_h - p.pad_h, w0 = ow * p.stride_w - p.pad_w;
  const int64_t h1 = h0 + p.kernel_h < p.H + p.pad_h ? h0 + p.kernel_h : p.H + p.pad_h;
  const int64_t w1 = w0 + p.kernel_w < p.W + p.pad_w ? w0 + p.kernel_w : p.W + p.pad_w;
  return (h1 - h0) * (w1 - w0);
}

}  // namespace tf

// The pooling entry points, for tf::cpu and tf::cuda. Shapes were validated by pool2d_params /
// adaptive_pool2d_params; outputs and gradients are overwritten.
// max_pool2d_forward / adaptive_max_pool2d_forward: y = max over each window, NaN propagating (the first NaN);
// idx = the position h*W + w in the input plane of its first maximum, or -1 with y = -inf for a window that
// lies entirely in the padding.
// max_pool2d_backward / adaptive_max_pool2d_backward: dx[plane][idx] += dy for every output (-1 skipped), in
// output order. The window geometry is passed so that a device may gather, for each input, over the windows
// covering it (no atomics, the CPU's order); indices not in their window then contribute nothing there, so
// they must come from the matching forward.
// avg_pool2d_*: y = window sum / avg_pool_divisor. adaptive_avg_pool2d_*: divisor = the window's size.
#define TF_POOL_ENTRIES                                                                                       \
  template <class T>                                                                                          \
  void max_pool2d_forward(const Pool2dParams& p, const T* x, T* y, int32_t* idx);                            \
  template <class T>                                                                                          \
  void adaptive_max_pool2d_forward(const PoolShape& s, const T* x, T* y, int32_t* idx);                      \
  template <class T>                                                                                          \
  void max_pool2d_backward(const Pool2dParams& p, const T* dy, const int32_t* idx, T* dx);                   \
  template <class T>                                                                                          \
  void adaptive_max_pool2d_backward(const PoolShape& s, const T* dy, const int32_t* idx, T* dx);             \
  template <class T>                                                                                          \
  void avg_pool2d_forward(const Pool2dParams& p, bool count_include_pad, const T* x, T* y);                  \
  template <class T>                                                                                          \
  void avg_pool2d_backward(const Pool2dParams& p, bool count_include_pad, const T* dy, T* dx);               \
  template <class T>                                                                                          \
  void adaptive_avg_pool2d_forward(const PoolShape& s, const T* x, T* y);                                    \
  template <class T>                                                                                          \
  void adaptive_avg_pool2d_backward(const PoolShape& s, const T* dy, T* dx);

TF_DECLARE_ON_DEVICES(TF_POOL_ENTRIES)

// Each device's definitions are instantiated from this list (inside its namespace).
#define TF_INSTANTIATE_POOL_FOR(T)                                                                 \
  template void max_pool2d_forward<T>(const Pool2dParams&, const T*, T*, int32_t*);               \
  template void adaptive_max_pool2d_forward<T>(const PoolShape&, const T*, T*, int32_t*);         \
  template void max_pool2d_backward<T>(const Pool2dParams&, const T*, const int32_t*, T*);        \
  template void adaptive_max_pool2d_backward<T>(const PoolShape&, const T*, const int32_t*, T*);  \
  template void avg_pool2d_forward<T>(const Pool2dParams&, bool, const T*, T*);                   \
  template void avg_pool2d_backward<T>(const Pool2dParams&, bool, const T*, T*);                  \
  template void adaptive_avg_pool2d_forward<T>(const PoolShape&, const T*, T*);                   \
  template void adaptive_avg_pool2d_backward<T>(const PoolShape&, const T*, T*);
#define TF_INSTANTIATE_POOL TF_INSTANTIATE_POOL_FOR(float) TF_INSTANTIATE_POOL_FOR(double)

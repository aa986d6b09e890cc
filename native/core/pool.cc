#include "core/pool.h"

#include <algorithm>
#include <climits>

namespace tf {

namespace {
void require_pair(const char* op, const char* name, const Dims& d) {
  TF_CHECK(d.size() == 2, Range, op, ": ", name, " must have 2 entries (height, width), got ", dims_str(d));
}

PoolShape input_shape(const char* op, const Dims& x_shape) {
  TF_CHECK(x_shape.size() == 4, Range, op, ": input must be rank 4 (N, C, H, W), got rank ", x_shape.size(), " ",
           dims_str(x_shape));
  checked_numel(x_shape, op, "input");
  PoolShape s{x_shape[0], x_shape[1], x_shape[2], x_shape[3], 0, 0};
  TF_CHECK(s.C >= 1 && s.H >= 1 && s.W >= 1, Range, op, ": input channels, height and width must be >= 1, got ",
           dims_str(x_shape));
  // Indices are int32 positions in one plane; a zero batch skips the product checks above.
  TF_CHECK(checked_mul(s.H, s.W, op, "input plane") <= INT32_MAX, Range, op, ": input plane H*W ", s.H * s.W,
           " exceeds 2^31-1");
  checked_numel({s.C, s.H, s.W}, op, "input sample");
  return s;
}

void check_output(const char* op, const PoolShape& s) {
  checked_numel({s.N, s.C, s.P, s.Q}, op, "output");
  checked_numel({s.C, s.P, s.Q}, op, "output sample");
}
}  // namespace

Pool2dParams pool2d_params(const char* op, const Dims& x_shape, const Dims& kernel, const Dims& stride,
                           const Dims& padding, const Dims& dilation, bool ceil_mode) {
  Pool2dParams p{};
  static_cast<PoolShape&>(p) = input_shape(op, x_shape);
  require_pair(op, "kernel", kernel);
  require_pair(op, "stride", stride);
  require_pair(op, "padding", padding);
  require_pair(op, "dilation", dilation);
  const char* axes[2] = {"height", "width"};
  for (int a = 0; a < 2; ++a)
    TF_CHECK(padding[a] >= 0 && padding[a] <= kernel[a] / 2, Range, op, ": padding along ", axes[a],
             " must be between 0 and half the kernel size ", kernel[a], ", got ", padding[a]);
  p.P = window_out_size(p.H, kernel[0], stride[0], padding[0], dilation[0], ceil_mode, op, "height");
  p.Q = window_out_size(p.W, kernel[1], stride[1], padding[1], dilation[1], ceil_mode, op, "width");
  p.kernel_h = kernel[0], p.kernel_w = kernel[1];
  p.stride_h = stride[0], p.stride_w = stride[1];
  p.pad_h = padding[0], p.pad_w = padding[1];
  p.dil_h = dilation[0], p.dil_w = dilation[1];
  check_output(op, p);
  return p;
}

PoolShape adaptive_pool2d_params(const char* op, const Dims& x_shape, const Dims& out_size) {
  PoolShape s = input_shape(op, x_shape);
  require_pair(op, "outputSize", out_size);
  s.P = out_size[0], s.Q = out_size[1];
  TF_CHECK(s.P >= 1 && s.Q >= 1, Range, op, ": outputSize must be >= 1, got ", dims_str(out_size));
  // window bounds compute i*In
  checked_mul(s.P, s.H, op, "outputSize x input height");
  checked_mul(s.Q, s.W, op, "outputSize x input width");
  check_output(op, s);
  return s;
}

void check_pool_grad_shape(const char* op, const PoolShape& s, const Dims& grad_shape) {
  const Dims expected{s.N, s.C, s.P, s.Q};
  TF_CHECK(grad_shape == expected, Range, op, ": gradOut shape must equal the forward output shape ",
           dims_str(expected), ", got ", dims_str(grad_shape));
}

void check_pool_indices(const char* op, const PoolShape& s, const int32_t* indices) {
  const int64_t n = s.y_numel(), plane = s.H * s.W;
  // A min/max pass, which vectorizes (a check per element took a third of a 2x2 max-pool backward); the
  // offender is looked for only when there is one.
  int32_t lo = -1, hi = -1;
  for (int64_t i = 0; i < n; ++i) {
    lo = std::min(lo, indices[i]);
    hi = std::max(hi, indices[i]);
  }
  if (lo >= -1 && hi < plane) return;
  for (int64_t i = 0; i < n; ++i)
    TF_CHECK(indices[i] >= -1 && indices[i] < plane, Range, op, ": indices[", i, "] = ", indices[i],
             " is outside the input plane of ", plane, " elements");
}

}  // namespace tf

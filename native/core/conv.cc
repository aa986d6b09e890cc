#include "core/conv.h"

#include <climits>

namespace tf {

namespace {
void require_pair(const char* op, const char* name, const Dims& d) {
  TF_CHECK(d.size() == 2, Range, op, ": ", name, " must have 2 entries (height, width), got ", dims_str(d));
}
}  // namespace

Conv2dParams conv2d_params(const char* op, const Dims& x_shape, const Dims& w_shape, const Dims& stride,
                           const Dims& padding, const Dims& dilation, int64_t groups) {
  TF_CHECK(x_shape.size() == 4, Range, op, ": input must be rank 4 (N, C, H, W), got rank ", x_shape.size(), " ",
           dims_str(x_shape));
  TF_CHECK(w_shape.size() == 4, Range, op, ": weight must be rank 4 (K, C/groups, R, S), got rank ", w_shape.size(),
           " ", dims_str(w_shape));
  require_pair(op, "stride", stride);
  require_pair(op, "padding", padding);
  require_pair(op, "dilation", dilation);
  checked_numel(x_shape, op, "input");
  checked_numel(w_shape, op, "weight");
  Conv2dParams p{};
  p.N = x_shape[0], p.C = x_shape[1], p.H = x_shape[2], p.W = x_shape[3];
  p.K = w_shape[0], p.R = w_shape[2], p.S = w_shape[3];
  p.groups = groups;
  TF_CHECK(groups >= 1, Range, op, ": groups must be >= 1, got ", groups);
  TF_CHECK(p.C >= 1, Range, op, ": input channels must be >= 1, got ", dims_str(x_shape));
  TF_CHECK(p.K >= 1, Range, op, ": weight out_channels must be >= 1, got ", dims_str(w_shape));
  TF_CHECK(p.C % groups == 0, Range, op, ": input channels ", p.C, " must be divisible by groups ", groups);
  TF_CHECK(p.K % groups == 0, Range, op, ": weight out_channels ", p.K, " must be divisible by groups ", groups);
  TF_CHECK(w_shape[1] == p.C / groups, Range, op, ": weight in_channels/groups must be ", p.C / groups,
           " to match input channels ", p.C, " / groups ", groups, ", got ", w_shape[1]);
  p.P = window_out_size(p.H, p.R, stride[0], padding[0], dilation[0], false, op, "height");
  p.Q = window_out_size(p.W, p.S, stride[1], padding[1], dilation[1], false, op, "width");
  p.stride_h = stride[0], p.stride_w = stride[1];
  p.pad_h = padding[0], p.pad_w = padding[1];
  p.dil_h = dilation[0], p.dil_w = dilation[1];
  checked_numel({p.N, p.K, p.P, p.Q}, op, "output");
  // A zero batch skips the products above; the kernels still index whole samples.
  checked_numel({p.C, p.H, p.W}, op, "input sample");
  checked_numel({p.K, p.P, p.Q}, op, "output sample");
  // The kernels hand these to BLAS, whose dimensions are 32-bit.
  const int64_t pq = checked_mul(p.P, p.Q, op, "output plane");
  const int64_t crs = checked_mul(checked_mul(p.C / groups, p.R, op, "weight"), p.S, op, "weight");
  TF_CHECK(pq <= INT32_MAX && crs <= INT32_MAX && p.H * p.W <= INT32_MAX, Range, op,
           ": a GEMM dimension exceeds 2^31-1 (output plane ", pq, ", C/groups*R*S ", crs, ")");
  checked_mul(pq, crs, op, "im2col buffer");
  return p;
}

Conv2dParams adjoint_conv(const Conv2dParams& p) {
  Conv2dParams adjoint = p;
  adjoint.C = p.K;
  adjoint.H = p.P;
  adjoint.W = p.Q;
  adjoint.K = p.C;
  adjoint.P = p.H;
  adjoint.Q = p.W;
  adjoint.pad_h = p.R - 1 - p.pad_h;
  adjoint.pad_w = p.S - 1 - p.pad_w;
  return adjoint;
}

}  // namespace tf

// Max, average and adaptive 2-D pooling, forward and backward, and pool2dOutputShape. Buffers are contiguous
// NCHW from element 0, on one device, and share one float dtype; indices are int32; outputs are preallocated
// and overwritten. Backward calls take the gradient's shape and require it to equal the forward output's.
#include "binding/args.h"
#include "binding/registry.h"
#include "core/pool.h"

namespace tf::binding {
namespace {

// kernel, stride, padding, dilation (pairs) and ceilMode at i..i+4; dilation is fixed at 1 when absent.
Pool2dParams read_window(const Napi::CallbackInfo& info, const char* op, const Dims& x_shape, size_t i,
                         bool with_dilation) {
  const Dims kernel = get_dims(info, i, op, "kernel", 1), stride = get_dims(info, i + 1, op, "stride", 1);
  const Dims padding = get_dims(info, i + 2, op, "padding");
  const Dims dilation = with_dilation ? get_dims(info, i + 3, op, "dilation", 1) : Dims{1, 1};
  const bool ceil_mode = get_bool(info, i + (with_dilation ? 4 : 3), op, "ceilMode");
  return pool2d_params(op, x_shape, kernel, stride, padding, dilation, ceil_mode);
}

Buffer read_indices(const Napi::CallbackInfo& info, size_t i, const char* op, int64_t need) {
  Buffer b = get_buffer(info, i, op, "indices", DType::I32);
  require_length(b, need, op, "indices");
  return b;
}

// Forward of max / avg / adaptive pooling: x at 0, xShape at 1, out at 2, then (max) indices at 3.
template <class Params, class Kernel>
Napi::Value forward(const Napi::CallbackInfo& info, const char* op, const Params& p, bool with_indices,
                    Kernel kernel) {
  const Buffer x = get_float(info, 0, op, "x", p.x_numel());
  const Buffer out = get_like(info, 2, op, "out", x, "x", p.y_numel());
  require_disjoint(op, out, p.y_numel(), "out", x, p.x_numel(), "x");
  const Buffer idx = with_indices ? read_indices(info, 3, op, p.y_numel()) : Buffer{};
  if (with_indices) {
    require_disjoint(op, idx, p.y_numel(), "indices", x, p.x_numel(), "x");
    require_disjoint(op, idx, p.y_numel(), "indices", out, p.y_numel(), "out");
  }
  const Device dev = require_one_device(op, {{x, "x"}, {out, "out"}, {idx, "indices"}});
  dispatch_float(x.dtype, op, [&](auto zero) {
    using T = decltype(zero);
    kernel(dev, x.as<T>(), out.as<T>(), idx.as<int32_t>());
    return 0;
  });
  return info.Env().Undefined();
}

// Backward: gradOut at 0, gradOutShape at 1, then (max) indices at 2; gradIn at `grad_in`.
template <class Kernel>
Napi::Value backward(const Napi::CallbackInfo& info, const char* op, const PoolShape& s, bool with_indices,
                     size_t grad_in, Kernel kernel) {
  check_pool_grad_shape(op, s, get_dims(info, 1, op, "gradOutShape"));
  const Buffer dy = get_float(info, 0, op, "gradOut", s.y_numel());
  const Buffer dx = get_like(info, grad_in, op, "gradIn", dy, "gradOut", s.x_numel());
  require_disjoint(op, dx, s.x_numel(), "gradIn", dy, s.y_numel(), "gradOut");
  const Buffer idx = with_indices ? read_indices(info, 2, op, s.y_numel()) : Buffer{};
  const Device dev = require_one_device(op, {{dy, "gradOut"}, {dx, "gradIn"}, {idx, "indices"}});
  if (with_indices) {
    require_disjoint(op, dx, s.x_numel(), "gradIn", idx, s.y_numel(), "indices");
    // The CPU scatters through the indices, so they are checked first. The CUDA kernels gather over the
    // windows covering each input and never address memory through an index, so device indices (which the
    // host cannot read without a synchronization) need no check.
    if (dev == Device::Cpu) check_pool_indices(op, s, idx.as<int32_t>());
  }
  dispatch_float(dy.dtype, op, [&](auto zero) {
    using T = decltype(zero);
    kernel(dev, dy.as<T>(), idx.as<int32_t>(), dx.as<T>());
    return 0;
  });
  return info.Env().Undefined();
}

// maxPool2dForward(x, xShape, out, indices, kernel, stride, padding, dilation, ceilMode)
Napi::Value max_pool2d_forward(const Napi::CallbackInfo& info) {
  constexpr const char* op = "maxPool2dForward";
  require_args(info, 9, op);
  const Pool2dParams p = read_window(info, op, get_dims(info, 1, op, "xShape"), 4, true);
  return forward(info, op, p, true, [&](Device dev, auto x, auto y, int32_t* idx) { TF_ON_DEVICE(dev, max_pool2d_forward(p, x, y, idx)); });
}

// maxPool2dBackward(gradOut, gradOutShape, indices, gradIn, xShape, kernel, stride, padding, dilation, ceilMode)
Napi::Value max_pool2d_backward(const Napi::CallbackInfo& info) {
  constexpr const char* op = "maxPool2dBackward";
  require_args(info, 10, op);
  const Pool2dParams p = read_window(info, op, get_dims(info, 4, op, "xShape"), 5, true);
  return backward(info, op, p, true, 3,
                  [&](Device dev, auto dy, const int32_t* idx, auto dx) { TF_ON_DEVICE(dev, max_pool2d_backward(p, dy, idx, dx)); });
}

// avgPool2dForward(x, xShape, out, kernel, stride, padding, ceilMode, countIncludePad)
Napi::Value avg_pool2d_forward(const Napi::CallbackInfo& info) {
  constexpr const char* op = "avgPool2dForward";
  require_args(info, 8, op);
  const Pool2dParams p = read_window(info, op, get_dims(info, 1, op, "xShape"), 3, false);
  const bool include_pad = get_bool(info, 7, op, "countIncludePad");
  return forward(info, op, p, false,
                 [&](Device dev, auto x, auto y, int32_t*) { TF_ON_DEVICE(dev, avg_pool2d_forward(p, include_pad, x, y)); });
}

// avgPool2dBackward(gradOut, gradOutShape, gradIn, xShape, kernel, stride, padding, ceilMode, countIncludePad)
Napi::Value avg_pool2d_backward(const Napi::CallbackInfo& info) {
  constexpr const char* op = "avgPool2dBackward";
  require_args(info, 9, op);
  const Pool2dParams p = read_window(info, op, get_dims(info, 3, op, "xShape"), 4, false);
  const bool include_pad = get_bool(info, 8, op, "countIncludePad");
  return backward(info, op, p, false, 2,
                  [&](Device dev, auto dy, const int32_t*, auto dx) {
                    TF_ON_DEVICE(dev, avg_pool2d_backward(p, include_pad, dy, dx));
                  });
}

// adaptiveAvgPool2dForward(x, xShape, out, outputSize)
Napi::Value adaptive_avg_pool2d_forward(const Napi::CallbackInfo& info) {
  constexpr const char* op = "adaptiveAvgPool2dForward";
  require_args(info, 4, op);
  const PoolShape s = adaptive_pool2d_params(op, get_dims(info, 1, op, "xShape"), get_dims(info, 3, op, "outputSize"));
  return forward(info, op, s, false, [&](Device dev, auto x, auto y, int32_t*) {
    TF_ON_DEVICE(dev, adaptive_avg_pool2d_forward(s, x, y));
  });
}

// adaptiveAvgPool2dBackward(gradOut, gradOutShape, gradIn, xShape)
Napi::Value adaptive_avg_pool2d_backward(const Napi::CallbackInfo& info) {
  constexpr const char* op = "adaptiveAvgPool2dBackward";
  require_args(info, 4, op);
  const Dims grad_shape = get_dims(info, 1, op, "gradOutShape");
  TF_CHECK(grad_shape.size() == 4, Range, op, ": gradOutShape must be rank 4 (N, C, P, Q), got ", dims_str(grad_shape));
  const PoolShape s = adaptive_pool2d_params(op, get_dims(info, 3, op, "xShape"), {grad_shape[2], grad_shape[3]});
  return backward(info, op, s, false, 2,
                  [&](Device dev, auto dy, const int32_t*, auto dx) {
                    TF_ON_DEVICE(dev, adaptive_avg_pool2d_backward(s, dy, dx));
                  });
}

// adaptiveMaxPool2dForward(x, xShape, out, indices, outputSize)
Napi::Value adaptive_max_pool2d_forward(const Napi::CallbackInfo& info) {
  constexpr const char* op = "adaptiveMaxPool2dForward";
  require_args(info, 5, op);
  const PoolShape s = adaptive_pool2d_params(op, get_dims(info, 1, op, "xShape"), get_dims(info, 4, op, "outputSize"));
  return forward(info, op, s, true,
                 [&](Device dev, auto x, auto y, int32_t* idx) {
                   TF_ON_DEVICE(dev, adaptive_max_pool2d_forward(s, x, y, idx));
                 });
}

// adaptiveMaxPool2dBackward(gradOut, gradOutShape, indices, gradIn, xShape)
Napi::Value adaptive_max_pool2d_backward(const Napi::CallbackInfo& info) {
  constexpr const char* op = "adaptiveMaxPool2dBackward";
  require_args(info, 5, op);
  const Dims grad_shape = get_dims(info, 1, op, "gradOutShape");
  TF_CHECK(grad_shape.size() == 4, Range, op, ": gradOutShape must be rank 4 (N, C, P, Q), got ", dims_str(grad_shape));
  const PoolShape s = adaptive_pool2d_params(op, get_dims(info, 4, op, "xShape"), {grad_shape[2], grad_shape[3]});
  return backward(info, op, s, true, 3,
                  [&](Device dev, auto dy, const int32_t* idx, auto dx) {
                    TF_ON_DEVICE(dev, adaptive_max_pool2d_backward(s, dy, idx, dx));
                  });
}

// pool2dOutputShape(xShape, kernel, stride, padding, dilation, ceilMode) -> [N, C, P, Q]
Napi::Value pool2d_output_shape(const Napi::CallbackInfo& info) {
  constexpr const char* op = "pool2dOutputShape";
  require_args(info, 6, op);
  const Pool2dParams p = read_window(info, op, get_dims(info, 0, op, "xShape"), 1, true);
  return dims_to_js(info.Env(), {p.N, p.C, p.P, p.Q});
}

}  // namespace

void register_pool(Napi::Env env, Napi::Object exports) {
  export_fn(env, exports, "maxPool2dForward", max_pool2d_forward);
  export_fn(env, exports, "maxPool2dBackward", max_pool2d_backward);
  export_fn(env, exports, "avgPool2dForward", avg_pool2d_forward);
  export_fn(env, exports, "avgPool2dBackward", avg_pool2d_backward);
  export_fn(env, exports, "adaptiveAvgPool2dForward", adaptive_avg_pool2d_forward);
  export_fn(env, exports, "adaptiveAvgPool2dBackward", adaptive_avg_pool2d_backward);
  export_fn(env, exports, "adaptiveMaxPool2dForward", adaptive_max_pool2d_forward);
  export_fn(env, exports, "adaptiveMaxPool2dBackward", adaptive_max_pool2d_backward);
  export_fn(env, exports, "pool2dOutputShape", pool2d_output_shape);
}

}  // namespace tf::binding

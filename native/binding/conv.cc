// conv2dForward, conv2dBackwardData, conv2dBackwardWeight, conv2dOutputShape. Shapes are arrays; buffers are
// contiguous NCHW / OIHW from element 0, share one float dtype and one device (typed arrays or device handles);
// outputs are preallocated and overwritten. The three kernels take a last, optional argument allowTf32
// (lib/kernels/precision.ts; absent: false) that lets float32 on cuda use TF32 tensor cores.
#include "binding/args.h"
#include "binding/registry.h"
#include "core/conv.h"

namespace tf::binding {
namespace {

// Reads xShape, wShape and the geometry (stride, padding, dilation, groups at geometry..geometry+3).
Conv2dParams read_params(const Napi::CallbackInfo& info, const char* op, size_t x_shape, size_t w_shape,
                         size_t geometry) {
  const Dims xs = get_dims(info, x_shape, op, "xShape"), ws = get_dims(info, w_shape, op, "wShape");
  const Dims stride = get_dims(info, geometry, op, "stride", 1), padding = get_dims(info, geometry + 1, op, "padding");
  const Dims dilation = get_dims(info, geometry + 2, op, "dilation", 1);
  const int64_t groups = get_int(info, geometry + 3, op, "groups", 1);
  return conv2d_params(op, xs, ws, stride, padding, dilation, groups);
}

bool read_allow_tf32(const Napi::CallbackInfo& info, size_t i, const char* op) {
  return !is_absent(info, i) && get_bool(info, i, op, "allowTf32");
}

Napi::Value conv2d_forward(const Napi::CallbackInfo& info) {
  constexpr const char* op = "conv2dForward";
  require_args(info, 10, op);
  Conv2dParams p = read_params(info, op, 1, 3, 6);
  p.allow_tf32 = read_allow_tf32(info, 10, op);
  const Buffer x = get_float(info, 0, op, "x", p.x_numel());
  const Buffer w = get_like(info, 2, op, "w", x, "x", p.w_numel());
  const Buffer bias = get_like(info, 4, op, "bias", x, "x", p.K, true);
  const bool has_bias = !is_absent(info, 4);
  const Buffer out = get_like(info, 5, op, "out", x, "x", p.y_numel());
  const Device dev = require_one_device(op, {{x, "x"}, {w, "w"}, {bias, "bias"}, {out, "out"}});
  // The kernels read inputs after writing outputs, so an output must not overlap any input.
  require_disjoint(op, out, p.y_numel(), "out", x, x.length, "x");
  require_disjoint(op, out, p.y_numel(), "out", w, w.length, "w");
  require_disjoint(op, out, p.y_numel(), "out", bias, bias.length, "bias");
  dispatch_float(x.dtype, op, [&](auto zero) {
    using T = decltype(zero);
    TF_ON_DEVICE(dev, conv2d_forward<T>(p, x.as<T>(), w.as<T>(), has_bias ? bias.as<T>() : nullptr, out.as<T>()));
    return 0;
  });
  return info.Env().Undefined();
}

Napi::Value conv2d_backward_data(const Napi::CallbackInfo& info) {
  constexpr const char* op = "conv2dBackwardData";
  require_args(info, 9, op);
  Conv2dParams p = read_params(info, op, 4, 2, 5);
  p.allow_tf32 = read_allow_tf32(info, 9, op);
  const Buffer dy = get_float(info, 0, op, "gradOut", p.y_numel());
  const Buffer w = get_like(info, 1, op, "w", dy, "gradOut", p.w_numel());
  const Buffer dx = get_like(info, 3, op, "gradIn", dy, "gradOut", p.x_numel());
  const Device dev = require_one_device(op, {{dy, "gradOut"}, {w, "w"}, {dx, "gradIn"}});
  require_disjoint(op, dx, p.x_numel(), "gradIn", dy, dy.length, "gradOut");
  require_disjoint(op, dx, p.x_numel(), "gradIn", w, w.length, "w");
  dispatch_float(dy.dtype, op, [&](auto zero) {
    using T = decltype(zero);
    TF_ON_DEVICE(dev, conv2d_backward_data<T>(p, dy.as<T>(), w.as<T>(), dx.as<T>()));
    return 0;
  });
  return info.Env().Undefined();
}

Napi::Value conv2d_backward_weight(const Napi::CallbackInfo& info) {
  constexpr const char* op = "conv2dBackwardWeight";
  require_args(info, 10, op);
  Conv2dParams p = read_params(info, op, 1, 4, 6);
  p.allow_tf32 = read_allow_tf32(info, 10, op);
  const Buffer x = get_float(info, 0, op, "x", p.x_numel());
  const Buffer dy = get_like(info, 2, op, "gradOut", x, "x", p.y_numel());
  const Buffer dw = get_like(info, 3, op, "gradW", x, "x", p.w_numel());
  const Buffer dbias = get_like(info, 5, op, "gradBias", x, "x", p.K, true);
  const bool has_bias = !is_absent(info, 5);
  const Device dev = require_one_device(op, {{x, "x"}, {dy, "gradOut"}, {dw, "gradW"}, {dbias, "gradBias"}});
  require_disjoint(op, dw, p.w_numel(), "gradW", x, x.length, "x");
  require_disjoint(op, dw, p.w_numel(), "gradW", dy, dy.length, "gradOut");
  require_disjoint(op, dw, p.w_numel(), "gradW", dbias, dbias.length, "gradBias");
  require_disjoint(op, dbias, p.K, "gradBias", x, x.length, "x");
  require_disjoint(op, dbias, p.K, "gradBias", dy, dy.length, "gradOut");
  dispatch_float(x.dtype, op, [&](auto zero) {
    using T = decltype(zero);
    TF_ON_DEVICE(dev, conv2d_backward_weight<T>(p, x.as<T>(), dy.as<T>(), dw.as<T>(), has_bias ? dbias.as<T>() : nullptr));
    return 0;
  });
  return info.Env().Undefined();
}

Napi::Value conv2d_output_shape(const Napi::CallbackInfo& info) {
  constexpr const char* op = "conv2dOutputShape";
  require_args(info, 6, op);
  const Conv2dParams p = read_params(info, op, 0, 1, 2);
  return dims_to_js(info.Env(), {p.N, p.K, p.P, p.Q});
}

}  // namespace

void register_conv(Napi::Env env, Napi::Object exports) {
  export_fn(env, exports, "conv2dForward", conv2d_forward);
  export_fn(env, exports, "conv2dBackwardData", conv2d_backward_data);
  export_fn(env, exports, "conv2dBackwardWeight", conv2d_backward_weight);
  export_fn(env, exports, "conv2dOutputShape", conv2d_output_shape);
}

}  // namespace tf::binding

// Dropout, PReLU and 2-D upsampling entry points ("?" marks a buffer that may be null), run on the buffers'
// device.
//   dropoutForward(x, n, p, seed, offset, y, mask)          dropoutBackward(gradY, mask, n, p, gradX)
//   preluForward(x, N, C, L, weight, numWeights, y)
//   preluBackward(x, gradY, N, C, L, weight, numWeights, gradX?, gradWeight?)
//   upsample2dForward(x, N, C, inH, inW, outH, outW, mode, alignCorners, scaleH, scaleW, y)
//   upsample2dBackward(gradY, N, C, inH, inW, outH, outW, mode, alignCorners, scaleH, scaleW, gradX)
#include "binding/args.h"
#include "binding/registry.h"
#include "core/nn.h"

namespace tf::binding {
namespace {

Napi::Value dropout_forward(const Napi::CallbackInfo& info) {
  constexpr const char* op = "dropoutForward";
  require_args(info, 7, op);
  DropoutParams params;
  params.n = get_int(info, 1, op, "n");
  params.p = get_number(info, 2, op, "p");
  params.seed = uint64_t(get_int(info, 3, op, "seed"));
  params.offset = uint64_t(get_int(info, 4, op, "offset"));
  validate_dropout(params, op);
  const Buffer x = get_float(info, 0, op, "x", params.n);
  const Buffer y = get_like(info, 5, op, "y", x, "x", params.n);
  const Buffer mask = get_buffer(info, 6, op, "mask", DType::U8);
  require_length(mask, params.n, op, "mask");
  const Device dev = require_one_device(op, {{x, "x"}, {y, "y"}, {mask, "mask"}});
  dispatch_float(x.dtype, op, [&](auto zero) {
    using T = decltype(zero);
    TF_ON_DEVICE(dev, dropout_forward<T>(params, x.as<T>(), y.as<T>(), mask.as<uint8_t>()));
    return 0;
  });
  return info.Env().Undefined();
}

Napi::Value dropout_backward(const Napi::CallbackInfo& info) {
  constexpr const char* op = "dropoutBackward";
  require_args(info, 5, op);
  DropoutParams params;
  params.n = get_int(info, 2, op, "n");
  params.p = get_number(info, 3, op, "p");
  validate_dropout(params, op);
  const Buffer dy = get_float(info, 0, op, "gradY", params.n);
  const Buffer mask = get_buffer(info, 1, op, "mask", DType::U8);
  require_length(mask, params.n, op, "mask");
  const Buffer dx = get_like(info, 4, op, "gradX", dy, "gradY", params.n);
  const Device dev = require_one_device(op, {{dy, "gradY"}, {mask, "mask"}, {dx, "gradX"}});
  dispatch_float(dy.dtype, op, [&](auto zero) {
    using T = decltype(zero);
    TF_ON_DEVICE(dev, dropout_backward<T>(params, dy.as<T>(), mask.as<uint8_t>(), dx.as<T>()));
    return 0;
  });
  return info.Env().Undefined();
}

PreluParams read_prelu(const Napi::CallbackInfo& info, size_t first, const char* op) {
  PreluParams params;
  params.N = get_int(info, first, op, "N");
  params.C = get_int(info, first + 1, op, "C");
  params.L = get_int(info, first + 2, op, "L");
  params.num_weights = get_int(info, first + 4, op, "numWeights");
  return params;
}

Napi::Value prelu_forward(const Napi::CallbackInfo& info) {
  constexpr const char* op = "preluForward";
  require_args(info, 7, op);
  const PreluParams params = read_prelu(info, 1, op);
  const int64_t n = validate_prelu(params, op);
  const Buffer x = get_float(info, 0, op, "x", n);
  const Buffer weight = get_like(info, 4, op, "weight", x, "x", params.num_weights);
  const Buffer y = get_like(info, 6, op, "y", x, "x", n);
  const Device dev = require_one_device(op, {{x, "x"}, {weight, "weight"}, {y, "y"}});
  dispatch_float(x.dtype, op, [&](auto zero) {
    using T = decltype(zero);
    TF_ON_DEVICE(dev, prelu_forward<T>(params, x.as<T>(), weight.as<T>(), y.as<T>()));
    return 0;
  });
  return info.Env().Undefined();
}

Napi::Value prelu_backward(const Napi::CallbackInfo& info) {
  constexpr const char* op = "preluBackward";
  require_args(info, 9, op);
  const PreluParams params = read_prelu(info, 2, op);
  const int64_t n = validate_prelu(params, op);
  const Buffer x = get_float(info, 0, op, "x", n);
  const Buffer dy = get_like(info, 1, op, "gradY", x, "x", n);
  const Buffer weight = get_like(info, 5, op, "weight", x, "x", params.num_weights);
  const Buffer dx = get_like(info, 7, op, "gradX", x, "x", n, true);
  const Buffer dweight = get_like(info, 8, op, "gradWeight", x, "x", params.num_weights, true);
  const Device dev =
      require_one_device(op, {{x, "x"}, {dy, "gradY"}, {weight, "weight"}, {dx, "gradX"}, {dweight, "gradWeight"}});
  dispatch_float(x.dtype, op, [&](auto zero) {
    using T = decltype(zero);
    TF_ON_DEVICE(dev, prelu_backward<T>(params, x.as<T>(), dy.as<T>(), weight.as<T>(), dx.as<T>(), dweight.as<T>()));
    return 0;
  });
  return info.Env().Undefined();
}

// Shared by forward and backward: args 1..10 are N, C, inH, inW, outH, outW, mode, alignCorners, scaleH, scaleW.
Upsample2dParams read_upsample(const Napi::CallbackInfo& info, const char* op) {
  Upsample2dParams p;
  p.N = get_int(info, 1, op, "N");
  p.C = get_int(info, 2, op, "C");
  p.in_h = get_int(info, 3, op, "inH");
  p.in_w = get_int(info, 4, op, "inW");
  p.out_h = get_int(info, 5, op, "outH");
  p.out_w = get_int(info, 6, op, "outW");
  p.mode = parse_upsample_mode(get_string(info, 7, op, "mode"), op);
  p.align_corners = get_bool(info, 8, op, "alignCorners");
  p.scale_h = get_number(info, 9, op, "scaleH");
  p.scale_w = get_number(info, 10, op, "scaleW");
  return p;
}

Napi::Value upsample2d_forward(const Napi::CallbackInfo& info) {
  constexpr const char* op = "upsample2dForward";
  require_args(info, 12, op);
  const Upsample2dParams p = read_upsample(info, op);
  const Upsample2dNumel numel = validate_upsample2d(p, op);
  const Buffer x = get_float(info, 0, op, "x", numel.in);
  const Buffer y = get_like(info, 11, op, "y", x, "x", numel.out);
  const Device dev = require_one_device(op, {{x, "x"}, {y, "y"}});
  dispatch_float(x.dtype, op, [&](auto zero) {
    using T = decltype(zero);
    TF_ON_DEVICE(dev, upsample2d_forward<T>(p, x.as<T>(), y.as<T>()));
    return 0;
  });
  return info.Env().Undefined();
}

Napi::Value upsample2d_backward(const Napi::CallbackInfo& info) {
  constexpr const char* op = "upsample2dBackward";
  require_args(info, 12, op);
  const Upsample2dParams p = read_upsample(info, op);
  const Upsample2dNumel numel = validate_upsample2d(p, op);
  const Buffer dy = get_float(info, 0, op, "gradY", numel.out);
  const Buffer dx = get_like(info, 11, op, "gradX", dy, "gradY", numel.in);
  const Device dev = require_one_device(op, {{dy, "gradY"}, {dx, "gradX"}});
  dispatch_float(dy.dtype, op, [&](auto zero) {
    using T = decltype(zero);
    TF_ON_DEVICE(dev, upsample2d_backward<T>(p, dy.as<T>(), dx.as<T>()));
    return 0;
  });
  return info.Env().Undefined();
}

}  // namespace

void register_nn(Napi::Env env, Napi::Object exports) {
  export_fn(env, exports, "dropoutForward", dropout_forward);
  export_fn(env, exports, "dropoutBackward", dropout_backward);
  export_fn(env, exports, "preluForward", prelu_forward);
  export_fn(env, exports, "preluBackward", prelu_backward);
  export_fn(env, exports, "upsample2dForward", upsample2d_forward);
  export_fn(env, exports, "upsample2dBackward", upsample2d_backward);
}

}  // namespace tf::binding

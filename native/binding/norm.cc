// Batch, layer and group norm entry points, on the buffers' one device. Every buffer is checked (dtype, length)
// before any kernel runs.
//   batchNormForward(x, N, C, L, gamma?, beta?, runningMean?, runningVar?, momentum, eps, y, saveMean, saveInvstd,
//                    fuseRelu, residual?)
//   batchNormInference(x, N, C, L, gamma?, beta?, runningMean, runningVar, eps, fuseRelu, residual?, y)
//   batchNormBackward(x, gradY, N, C, L, gamma?, saveMean, saveInvstd, training, gradX?, gradGamma?, gradBeta?,
//                     reluOutput?)
//   layerNormForward(x, M, D, gamma?, beta?, eps, y, saveMean, saveInvstd)
//   layerNormBackward(x, gradY, M, D, gamma?, saveMean, saveInvstd, gradX?, gradGamma?, gradBeta?)
//   groupNormForward(x, N, C, L, G, gamma?, beta?, eps, y, saveMean, saveInvstd)
//   groupNormBackward(x, gradY, N, C, L, G, gamma?, saveMean, saveInvstd, gradX?, gradGamma?, gradBeta?)
// "?" marks a buffer that may be null.
#include "binding/args.h"
#include "binding/registry.h"
#include "core/norm.h"

namespace tf::binding {
namespace {

// Forward with batch statistics, shared by the three norms; args from `first` on:
// gamma?, beta?, [runningMean?, runningVar?, momentum,] eps, y, saveMean, saveInvstd[, fuseRelu, residual?]
// (the bracketed ones batch norm's only).
void forward_train(const Napi::CallbackInfo& info, const char* op, const NormLayout& layout, size_t first,
                   bool batch) {
  const Buffer x = get_float(info, 0, op, "x", layout.numel());
  const int64_t C = layout.channels, S = layout.num_stats();
  const Buffer gamma = get_like(info, first, op, "gamma", x, "x", C, true);
  const Buffer beta = get_like(info, first + 1, op, "beta", x, "x", C, true);
  size_t i = first + 2;
  Buffer rmean, rvar;
  double momentum = 0;
  if (batch) {
    rmean = get_like(info, i, op, "runningMean", x, "x", S, true);
    rvar = get_like(info, i + 1, op, "runningVar", x, "x", S, true);
    momentum = get_number(info, i + 2, op, "momentum");
    validate_norm_momentum(momentum, op);
    i += 3;
  }
  const double eps = get_number(info, i, op, "eps");
  validate_norm_eps(eps, op);
  const Buffer y = get_like(info, i + 1, op, "y", x, "x", layout.numel());
  const Buffer mean = get_like(info, i + 2, op, "saveMean", x, "x", S);
  const Buffer invstd = get_like(info, i + 3, op, "saveInvstd", x, "x", S);
  const bool relu = batch && get_bool(info, i + 4, op, "fuseRelu");
  const Buffer residual = batch ? get_like(info, i + 5, op, "residual", x, "x", layout.numel(), true) : Buffer{};
  require_disjoint(op, y, layout.numel(), "y", residual, layout.numel(), "residual");
  const Device dev =
      require_one_device(op, {{x, "x"}, {gamma, "gamma"}, {beta, "beta"}, {rmean, "runningMean"},
                              {rvar, "runningVar"}, {y, "y"}, {mean, "saveMean"}, {invstd, "saveInvstd"},
                              {residual, "residual"}});
  dispatch_float(x.dtype, op, [&](auto zero) {
    using T = decltype(zero);
    TF_ON_DEVICE(dev, norm_forward<T>(layout, x.as<T>(), gamma.as<T>(), beta.as<T>(), eps, y.as<T>(), mean.as<T>(),
                                      invstd.as<T>(), rmean.as<T>(), rvar.as<T>(), momentum,
                                      NormEpilogue<T>{relu, residual.as<T>()}));
    return 0;
  });
}

// Backward shared by the three norms; args: x, gradY, <sizes up to first>, gamma?, saveMean, saveInvstd,
// [training,] gradX?, gradGamma?, gradBeta?[, reluOutput?] (the bracketed ones batch norm's only).
void backward(const Napi::CallbackInfo& info, const char* op, const NormLayout& layout, size_t first, bool batch) {
  const Buffer x = get_float(info, 0, op, "x", layout.numel());
  const int64_t n = layout.numel(), C = layout.channels, S = layout.num_stats();
  const Buffer dy = get_like(info, 1, op, "gradY", x, "x", n);
  const Buffer gamma = get_like(info, first, op, "gamma", x, "x", C, true);
  const Buffer mean = get_like(info, first + 1, op, "saveMean", x, "x", S);
  const Buffer invstd = get_like(info, first + 2, op, "saveInvstd", x, "x", S);
  size_t i = first + 3;
  const bool training = batch ? get_bool(info, i++, op, "training") : true;
  const Buffer dx = get_like(info, i, op, "gradX", x, "x", n, true);
  const Buffer dgamma = get_like(info, i + 1, op, "gradGamma", x, "x", C, true);
  const Buffer dbeta = get_like(info, i + 2, op, "gradBeta", x, "x", C, true);
  const Buffer relu_y = batch ? get_like(info, i + 3, op, "reluOutput", x, "x", n, true) : Buffer{};
  require_disjoint(op, dx, n, "gradX", relu_y, n, "reluOutput");
  const Device dev =
      require_one_device(op, {{x, "x"}, {dy, "gradY"}, {gamma, "gamma"}, {mean, "saveMean"}, {invstd, "saveInvstd"},
                              {dx, "gradX"}, {dgamma, "gradGamma"}, {dbeta, "gradBeta"}, {relu_y, "reluOutput"}});
  dispatch_float(x.dtype, op, [&](auto zero) {
    using T = decltype(zero);
    TF_ON_DEVICE(dev, norm_backward<T>(layout, x.as<T>(), dy.as<T>(), mean.as<T>(), invstd.as<T>(), gamma.as<T>(),
                                       training, relu_y.as<T>(), dx.as<T>(), dgamma.as<T>(), dbeta.as<T>()));
    return 0;
  });
}

NormLayout batch_layout(const Napi::CallbackInfo& info, size_t first, const char* op) {
  return batch_norm_layout(get_int(info, first, op, "N"), get_int(info, first + 1, op, "C"),
                           get_int(info, first + 2, op, "L"), op);
}

NormLayout group_layout(const Napi::CallbackInfo& info, size_t first, const char* op) {
  return group_norm_layout(get_int(info, first, op, "N"), get_int(info, first + 1, op, "C"),
                           get_int(info, first + 2, op, "L"), get_int(info, first + 3, op, "G"), op);
}

NormLayout layer_layout(const Napi::CallbackInfo& info, size_t first, const char* op) {
  return layer_norm_layout(get_int(info, first, op, "M"), get_int(info, first + 1, op, "D"), op);
}

Napi::Value batch_norm_forward(const Napi::CallbackInfo& info) {
  constexpr const char* op = "batchNormForward";
  require_args(info, 15, op);
  const NormLayout layout = batch_layout(info, 1, op);
  validate_batch_stats_count(layout, op);
  forward_train(info, op, layout, 4, true);
  return info.Env().Undefined();
}

Napi::Value batch_norm_inference(const Napi::CallbackInfo& info) {
  constexpr const char* op = "batchNormInference";
  require_args(info, 12, op);
  const NormLayout layout = batch_layout(info, 1, op);
  const Buffer x = get_float(info, 0, op, "x", layout.numel());
  const int64_t C = layout.channels;
  const Buffer gamma = get_like(info, 4, op, "gamma", x, "x", C, true);
  const Buffer beta = get_like(info, 5, op, "beta", x, "x", C, true);
  const Buffer rmean = get_like(info, 6, op, "runningMean", x, "x", C);
  const Buffer rvar = get_like(info, 7, op, "runningVar", x, "x", C);
  const double eps = get_number(info, 8, op, "eps");
  validate_norm_eps(eps, op);
  const bool relu = get_bool(info, 9, op, "fuseRelu");
  const Buffer residual = get_like(info, 10, op, "residual", x, "x", layout.numel(), true);
  const Buffer y = get_like(info, 11, op, "y", x, "x", layout.numel());
  require_disjoint(op, y, layout.numel(), "y", residual, layout.numel(), "residual");
  const Device dev =
      require_one_device(op, {{x, "x"}, {gamma, "gamma"}, {beta, "beta"}, {rmean, "runningMean"},
                              {rvar, "runningVar"}, {residual, "residual"}, {y, "y"}});
  dispatch_float(x.dtype, op, [&](auto zero) {
    using T = decltype(zero);
    TF_ON_DEVICE(dev, batch_norm_inference<T>(layout, x.as<T>(), rmean.as<T>(), rvar.as<T>(), gamma.as<T>(),
                                              beta.as<T>(), eps, NormEpilogue<T>{relu, residual.as<T>()}, y.as<T>()));
    return 0;
  });
  return info.Env().Undefined();
}

Napi::Value batch_norm_backward(const Napi::CallbackInfo& info) {
  constexpr const char* op = "batchNormBackward";
  require_args(info, 13, op);
  backward(info, op, batch_layout(info, 2, op), 5, true);
  return info.Env().Undefined();
}

Napi::Value layer_norm_forward(const Napi::CallbackInfo& info) {
  constexpr const char* op = "layerNormForward";
  require_args(info, 9, op);
  forward_train(info, op, layer_layout(info, 1, op), 3, false);
  return info.Env().Undefined();
}

Napi::Value layer_norm_backward(const Napi::CallbackInfo& info) {
  constexpr const char* op = "layerNormBackward";
  require_args(info, 10, op);
  backward(info, op, layer_layout(info, 2, op), 4, false);
  return info.Env().Undefined();
}

Napi::Value group_norm_forward(const Napi::CallbackInfo& info) {
  constexpr const char* op = "groupNormForward";
  require_args(info, 11, op);
  forward_train(info, op, group_layout(info, 1, op), 5, false);
  return info.Env().Undefined();
}

Napi::Value group_norm_backward(const Napi::CallbackInfo& info) {
  constexpr const char* op = "groupNormBackward";
  require_args(info, 12, op);
  backward(info, op, group_layout(info, 2, op), 6, false);
  return info.Env().Undefined();
}

}  // namespace

void register_norm(Napi::Env env, Napi::Object exports) {
  export_fn(env, exports, "batchNormForward", batch_norm_forward);
  export_fn(env, exports, "batchNormInference", batch_norm_inference);
  export_fn(env, exports, "batchNormBackward", batch_norm_backward);
  export_fn(env, exports, "layerNormForward", layer_norm_forward);
  export_fn(env, exports, "layerNormBackward", layer_norm_backward);
  export_fn(env, exports, "groupNormForward", group_norm_forward);
  export_fn(env, exports, "groupNormBackward", group_norm_backward);
}

}  // namespace tf::binding

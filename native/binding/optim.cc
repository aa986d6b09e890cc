// Fused optimizer updates, one call per parameter tensor, in place ("?" marks a buffer that may be null).
// n = param.length; every state buffer shares param's dtype and holds at least n elements.
//   sgdStep(param, grad, momentumBuffer?, lr, momentum, dampening, weightDecay, nesterov, maximize, firstStep)
//   adamStep(param, grad, expAvg, expAvgSq, maxExpAvgSq?, step, lr, beta1, beta2, eps, weightDecay, amsgrad,
//            decoupledWeightDecay, maximize)
//   rmspropStep(param, grad, squareAvg, gradAvg?, momentumBuffer?, lr, alpha, eps, weightDecay, momentum, centered,
//               maximize)
//   adagradStep(param, grad, sum, step, lr, lrDecay, weightDecay, eps, maximize)
//   sumOfSquares(buf) -> number      scaleInPlace(buf, s)      clampInPlace(buf, lo, hi)
#include "binding/args.h"
#include "binding/registry.h"
#include "core/optim.h"
#include "cpu/optim.h"

namespace tf::binding {
namespace {

Napi::Value sgd_step(const Napi::CallbackInfo& info) {
  constexpr const char* op = "sgdStep";
  require_args(info, 10, op);
  SgdParams p;
  p.lr = get_number(info, 3, op, "lr");
  p.momentum = get_number(info, 4, op, "momentum");
  p.dampening = get_number(info, 5, op, "dampening");
  p.weight_decay = get_number(info, 6, op, "weightDecay");
  p.nesterov = get_bool(info, 7, op, "nesterov");
  p.maximize = get_bool(info, 8, op, "maximize");
  p.first_step = get_bool(info, 9, op, "firstStep");
  validate_sgd(p, op);
  const Buffer param = get_float(info, 0, op, "param", 0);
  const Buffer grad = get_like(info, 1, op, "grad", param, "param", param.length);
  const Buffer buf = get_like(info, 2, op, "momentumBuffer", param, "param", param.length, p.momentum == 0);
  require_cpu(op, {{param, "param"}, {grad, "grad"}, {buf, "momentumBuffer"}});
  dispatch_float(param.dtype, op, [&](auto zero) {
    using T = decltype(zero);
    cpu::sgd_step<T>(p, param.length, param.as<T>(), grad.as<T>(), p.momentum != 0 ? buf.as<T>() : nullptr);
    return 0;
  });
  return info.Env().Undefined();
}

Napi::Value adam_step(const Napi::CallbackInfo& info) {
  constexpr const char* op = "adamStep";
  require_args(info, 14, op);
  AdamParams p;
  p.step = get_int(info, 5, op, "step");
  p.lr = get_number(info, 6, op, "lr");
  p.beta1 = get_number(info, 7, op, "beta1");
  p.beta2 = get_number(info, 8, op, "beta2");
  p.eps = get_number(info, 9, op, "eps");
  p.weight_decay = get_number(info, 10, op, "weightDecay");
  p.amsgrad = get_bool(info, 11, op, "amsgrad");
  p.decoupled_weight_decay = get_bool(info, 12, op, "decoupledWeightDecay");
  p.maximize = get_bool(info, 13, op, "maximize");
  validate_adam(p, op);
  const Buffer param = get_float(info, 0, op, "param", 0);
  const Buffer grad = get_like(info, 1, op, "grad", param, "param", param.length);
  const Buffer m = get_like(info, 2, op, "expAvg", param, "param", param.length);
  const Buffer v = get_like(info, 3, op, "expAvgSq", param, "param", param.length);
  const Buffer vmax = get_like(info, 4, op, "maxExpAvgSq", param, "param", param.length, !p.amsgrad);
  require_cpu(op, {{param, "param"}, {grad, "grad"}, {m, "expAvg"}, {v, "expAvgSq"}, {vmax, "maxExpAvgSq"}});
  dispatch_float(param.dtype, op, [&](auto zero) {
    using T = decltype(zero);
    cpu::adam_step<T>(p, param.length, param.as<T>(), grad.as<T>(), m.as<T>(), v.as<T>(),
                      p.amsgrad ? vmax.as<T>() : nullptr);
    return 0;
  });
  return info.Env().Undefined();
}

Napi::Value rmsprop_step(const Napi::CallbackInfo& info) {
  constexpr const char* op = "rmspropStep";
  require_args(info, 12, op);
  RmspropParams p;
  p.lr = get_number(info, 5, op, "lr");
  p.alpha = get_number(info, 6, op, "alpha");
  p.eps = get_number(info, 7, op, "eps");
  p.weight_decay = get_number(info, 8, op, "weightDecay");
  p.momentum = get_number(info, 9, op, "momentum");
  p.centered = get_bool(info, 10, op, "centered");
  p.maximize = get_bool(info, 11, op, "maximize");
  validate_rmsprop(p, op);
  const Buffer param = get_float(info, 0, op, "param", 0);
  const Buffer grad = get_like(info, 1, op, "grad", param, "param", param.length);
  const Buffer sq = get_like(info, 2, op, "squareAvg", param, "param", param.length);
  const Buffer gavg = get_like(info, 3, op, "gradAvg", param, "param", param.length, !p.centered);
  const Buffer buf = get_like(info, 4, op, "momentumBuffer", param, "param", param.length, !(p.momentum > 0));
  require_cpu(op, {{param, "param"}, {grad, "grad"}, {sq, "squareAvg"}, {gavg, "gradAvg"}, {buf, "momentumBuffer"}});
  dispatch_float(param.dtype, op, [&](auto zero) {
    using T = decltype(zero);
    cpu::rmsprop_step<T>(p, param.length, param.as<T>(), grad.as<T>(), sq.as<T>(),
                         p.centered ? gavg.as<T>() : nullptr, p.momentum > 0 ? buf.as<T>() : nullptr);
    return 0;
  });
  return info.Env().Undefined();
}

Napi::Value adagrad_step(const Napi::CallbackInfo& info) {
  constexpr const char* op = "adagradStep";
  require_args(info, 9, op);
  AdagradParams p;
  p.step = get_int(info, 3, op, "step");
  p.lr = get_number(info, 4, op, "lr");
  p.lr_decay = get_number(info, 5, op, "lrDecay");
  p.weight_decay = get_number(info, 6, op, "weightDecay");
  p.eps = get_number(info, 7, op, "eps");
  p.maximize = get_bool(info, 8, op, "maximize");
  validate_adagrad(p, op);
  const Buffer param = get_float(info, 0, op, "param", 0);
  const Buffer grad = get_like(info, 1, op, "grad", param, "param", param.length);
  const Buffer sum = get_like(info, 2, op, "sum", param, "param", param.length);
  require_cpu(op, {{param, "param"}, {grad, "grad"}, {sum, "sum"}});
  dispatch_float(param.dtype, op, [&](auto zero) {
    using T = decltype(zero);
    cpu::adagrad_step<T>(p, param.length, param.as<T>(), grad.as<T>(), sum.as<T>());
    return 0;
  });
  return info.Env().Undefined();
}

Napi::Value sum_of_squares(const Napi::CallbackInfo& info) {
  constexpr const char* op = "sumOfSquares";
  require_args(info, 1, op);
  const Buffer buf = get_float(info, 0, op, "buf", 0);
  require_cpu(op, {{buf, "buf"}});
  const double total = dispatch_float(buf.dtype, op, [&](auto zero) {
    using T = decltype(zero);
    return cpu::sum_of_squares<T>(buf.length, buf.as<T>());
  });
  return Napi::Number::New(info.Env(), total);
}

Napi::Value scale_in_place(const Napi::CallbackInfo& info) {
  constexpr const char* op = "scaleInPlace";
  require_args(info, 2, op);
  const Buffer buf = get_float(info, 0, op, "buf", 0);
  const double s = get_number(info, 1, op, "s");
  require_cpu(op, {{buf, "buf"}});
  dispatch_float(buf.dtype, op, [&](auto zero) {
    using T = decltype(zero);
    cpu::scale_in_place<T>(buf.length, buf.as<T>(), s);
    return 0;
  });
  return info.Env().Undefined();
}

Napi::Value clamp_in_place(const Napi::CallbackInfo& info) {
  constexpr const char* op = "clampInPlace";
  require_args(info, 3, op);
  const Buffer buf = get_float(info, 0, op, "buf", 0);
  const double lo = get_number(info, 1, op, "lo"), hi = get_number(info, 2, op, "hi");
  validate_clamp(lo, hi, op);
  require_cpu(op, {{buf, "buf"}});
  dispatch_float(buf.dtype, op, [&](auto zero) {
    using T = decltype(zero);
    cpu::clamp_in_place<T>(buf.length, buf.as<T>(), lo, hi);
    return 0;
  });
  return info.Env().Undefined();
}

}  // namespace

void register_optim(Napi::Env env, Napi::Object exports) {
  export_fn(env, exports, "sgdStep", sgd_step);
  export_fn(env, exports, "adamStep", adam_step);
  export_fn(env, exports, "rmspropStep", rmsprop_step);
  export_fn(env, exports, "adagradStep", adagrad_step);
  export_fn(env, exports, "sumOfSquares", sum_of_squares);
  export_fn(env, exports, "scaleInPlace", scale_in_place);
  export_fn(env, exports, "clampInPlace", clamp_in_place);
}

}  // namespace tf::binding

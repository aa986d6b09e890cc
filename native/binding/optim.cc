// Fused optimizer updates over a whole parameter group, in place, on the group's device ("?" marks a
// buffer that may be null). `hyper` is the optimizer's hyperparameter object (camelCase, as lib/optim);
// `count` tensors follow, each as consecutive buffer arguments of the parameter's dtype and length:
//   sgdStep(hyper, count, firstSteps[count], ...{param, grad, momentumBuffer?})
//   adamStep(hyper, decoupledWeightDecay, count, steps[count], ...{param, grad, expAvg, expAvgSq, maxExpAvgSq?})
//   rmspropStep(hyper, count, ...{param, grad, squareAvg, gradAvg?, momentumBuffer?})
//   adagradStep(hyper, count, steps[count], ...{param, grad, sum})
// Gradient clipping, over `count` gradient buffers of one dtype:
//   gradNormAccumulate(normType, acc, count, ...grads)   acc (float64, 1 element) += sum |g|^p, or max for Infinity
//   clipByNorm(totalNorm, maxNorm, count, ...grads)       g *= min(1, maxNorm / (totalNorm[0] + 1e-6))
//   clampInPlace(buf, lo, hi)
// validateOptimizer(owner, rule, hyper): the one check of a rule's hyperparameters ('sgd' | 'adam' |
// 'rmsprop' | 'adagrad'); the optimizers' constructors call it, the steps above run it again.
#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include "binding/args.h"
#include "binding/registry.h"
#include "core/optim.h"

namespace tf::binding {
namespace {

// ---- hyperparameter objects ----

// One lookup per field (read every step): an absent field reads as undefined.
Napi::Value field(const Napi::Object& hyper, const char* op, const char* name) {
  Napi::Value v = hyper.Get(name);
  TF_CHECK(!v.IsUndefined(), Type, op, ": hyperparameter ", name, " is missing");
  return v;
}

double number_value(const Napi::Value& v, const char* op, const char* name) {
  TF_CHECK(v.IsNumber(), Type, op, ": ", name, " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

double number_field(const Napi::Object& hyper, const char* op, const char* name) {
  return number_value(field(hyper, op, name), op, name);
}

bool bool_field(const Napi::Object& hyper, const char* op, const char* name) {
  const Napi::Value v = field(hyper, op, name);
  TF_CHECK(v.IsBoolean(), Type, op, ": ", name, " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

Napi::Object hyper_arg(const Napi::CallbackInfo& info, size_t i, const char* op) {
  TF_CHECK(i < info.Length() && info[i].IsObject(), Type, op, ": hyper must be an object");
  return info[i].As<Napi::Object>();
}

SgdParams sgd_params(const Napi::Object& h, const char* op) {
  SgdParams p;
  p.lr = number_field(h, op, "lr");
  p.momentum = number_field(h, op, "momentum");
  p.dampening = number_field(h, op, "dampening");
  p.weight_decay = number_field(h, op, "weightDecay");
  p.nesterov = bool_field(h, op, "nesterov");
  p.maximize = bool_field(h, op, "maximize");
  validate_sgd(p, op);
  return p;
}

AdamParams adam_params(const Napi::Object& h, const char* op) {
  AdamParams p;
  p.lr = number_field(h, op, "lr");
  const Napi::Value betas = field(h, op, "betas");
  TF_CHECK(betas.IsArray() && betas.As<Napi::Array>().Length() == 2, Range, op, ": betas must be a pair of numbers");
  const Napi::Array pair = betas.As<Napi::Array>();
  p.beta1 = number_value(pair.Get(uint32_t(0)), op, "betas[0]");
  p.beta2 = number_value(pair.Get(uint32_t(1)), op, "betas[1]");
  p.eps = number_field(h, op, "eps");
  p.weight_decay = number_field(h, op, "weightDecay");
  p.amsgrad = bool_field(h, op, "amsgrad");
  p.maximize = bool_field(h, op, "maximize");
  validate_adam(p, op);
  return p;
}

RmspropParams rmsprop_params(const Napi::Object& h, const char* op) {
  RmspropParams p;
  p.lr = number_field(h, op, "lr");
  p.alpha = number_field(h, op, "alpha");
  p.eps = number_field(h, op, "eps");
  p.weight_decay = number_field(h, op, "weightDecay");
  p.momentum = number_field(h, op, "momentum");
  p.centered = bool_field(h, op, "centered");
  p.maximize = bool_field(h, op, "maximize");
  validate_rmsprop(p, op);
  return p;
}

AdagradParams adagrad_params(const Napi::Object& h, const char* op) {
  AdagradParams p;
  p.lr = number_field(h, op, "lr");
  p.lr_decay = number_field(h, op, "lrDecay");
  p.weight_decay = number_field(h, op, "weightDecay");
  p.eps = number_field(h, op, "eps");
  p.initial_accumulator_value = number_field(h, op, "initialAccumulatorValue");
  p.maximize = bool_field(h, op, "maximize");
  validate_adagrad(p, op);
  return p;
}

Napi::Value validate_optimizer(const Napi::CallbackInfo& info) {
  require_args(info, 3, "validateOptimizer");
  const std::string owner = get_string(info, 0, "validateOptimizer", "owner");
  const std::string rule = get_string(info, 1, "validateOptimizer", "rule");
  const char* op = owner.c_str();
  const Napi::Object h = hyper_arg(info, 2, op);
  if (rule == "sgd") sgd_params(h, op);
  else if (rule == "adam") adam_params(h, op);
  else if (rule == "rmsprop") rmsprop_params(h, op);
  else if (rule == "adagrad") adagrad_params(h, op);
  else fail(ErrorKind::Range, "validateOptimizer: rule must be 'sgd', 'adam', 'rmsprop' or 'adagrad', got '", rule, "'");
  return info.Env().Undefined();
}

// ---- parameter groups ----

// `count` numbers of the array argument i (steps or first-step flags), each an integer in [lo, hi].
std::vector<int64_t> per_tensor_ints(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name,
                                     int64_t count, int64_t lo, int64_t hi) {
  TF_CHECK(i < info.Length() && info[i].IsArray(), Type, op, ": ", name, " must be an array");
  const Napi::Array a = info[i].As<Napi::Array>();
  TF_CHECK(int64_t(a.Length()) == count, Range, op, ": ", name, " must have ", count, " entries, got ", a.Length());
  std::vector<int64_t> out(static_cast<size_t>(count));
  for (uint32_t k = 0; k < a.Length(); ++k) {
    const Napi::Value v = a.Get(k);
    TF_CHECK(v.IsNumber(), Type, op, ": ", name, "[", k, "] must be a number");
    const double d = v.As<Napi::Number>().DoubleValue();
    TF_CHECK(d == std::floor(d) && d >= double(lo) && d <= double(hi), Range, op, ": ", name, "[", k,
             "] must be an integer in [", lo, ", ", hi, "], got ", d);
    out[k] = int64_t(d);
  }
  return out;
}

// The tensors of a group: `count` runs of buffers from argument `first`, named per rule; a state listed in
// `optional` may be null. Every buffer of a run has the parameter's length; all share one dtype and device.
struct GroupArgs {
  std::vector<std::vector<Buffer>> tensors;  // [tensor][buffer]
  Device device = Device::Cpu;
  DType dtype = DType::F32;
};

// "params[3]": a buffer's name in messages.
std::string indexed(const char* name, int64_t t) { return std::string(name) + "[" + std::to_string(t) + "]"; }

GroupArgs group_args(const Napi::CallbackInfo& info, size_t first, int64_t count, const char* op,
                     std::initializer_list<const char*> names, const std::vector<bool>& present) {
  // This runs every optimizer step for every parameter: names are formatted only on the way to an error (a
  // failing check is repeated with the buffer's indexed name), where formatting them for every buffer cost
  // ~1 us a parameter.
  const std::vector<const char*> name(names);
  const size_t per = name.size();
  require_args(info, first + size_t(count) * per, op);
  GroupArgs g;
  g.tensors.reserve(size_t(count));
  for (int64_t t = 0; t < count; ++t) {
    std::vector<Buffer>& run = g.tensors.emplace_back();
    run.reserve(per);
    for (size_t k = 0; k < per; ++k) {
      const size_t at = first + size_t(t) * per + k;
      const auto read = [&](const char* label, const char* lead_label) {
        if (k == 0) return get_float(info, at, op, label, 0);
        if (!present[k] && is_absent(info, at)) return Buffer{};
        return get_like(info, at, op, label, run[0], lead_label, run[0].length);
      };
      Buffer b;
      try {
        b = read(name[k], name[0]);
      } catch (const Error&) {
        read(indexed(name[k], t).c_str(), indexed(name[0], t).c_str());
        throw;
      }
      TF_CHECK(k != 0 || t == 0 || b.dtype == g.tensors[0][0].dtype, Type, op, ": ", indexed(name[0], t), " is ",
               dtype_name(b.dtype), " but ", indexed(name[0], 0), " is ", dtype_name(g.tensors[0][0].dtype));
      run.push_back(b);
    }
  }
  if (count == 0) return g;
  const Buffer& lead = g.tensors[0][0];
  g.dtype = lead.dtype;
  g.device = require_one_device(op, {{lead, name[0]}});
  // One device for every buffer: a buffer elsewhere is reported against the first, as require_one_device does.
  for (int64_t t = 0; t < count; ++t)
    for (size_t k = 0; k < per; ++k) {
      const Buffer& b = g.tensors[size_t(t)][k];
      if (b.present && (b.device != lead.device || b.device_index != lead.device_index))
        require_one_device(op, {{lead, indexed(name[0], 0).c_str()}, {b, indexed(name[k], t).c_str()}});
    }
  return g;
}

// The group's slots for element type T (the state pointers of absent optional buffers are null).
template <class T>
std::vector<ParamSlot<T>> slots_of(const GroupArgs& g, const std::vector<int64_t>& steps,
                                   const std::vector<int64_t>& first_steps) {
  std::vector<ParamSlot<T>> slots;
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    const std::vector<Buffer>& run = g.tensors[t];
    ParamSlot<T> s;
    s.n = run[0].length;
    s.param = run[0].as<T>();
    s.grad = run[1].as<T>();
    for (size_t k = 2; k < run.size(); ++k) s.state[k - 2] = run[k].as<T>();
    if (!steps.empty()) s.step = steps[t];
    if (!first_steps.empty()) s.first_step = first_steps[t] != 0;
    slots.push_back(s);
  }
  return slots;
}

int64_t count_arg(const Napi::CallbackInfo& info, size_t i, const char* op) {
  return get_int(info, i, op, "count", 0, 1 << 20);
}

Napi::Value sgd_step(const Napi::CallbackInfo& info) {
  constexpr const char* op = "sgdStep";
  require_args(info, 3, op);
  const SgdParams p = sgd_params(hyper_arg(info, 0, op), op);
  const int64_t count = count_arg(info, 1, op);
  const std::vector<int64_t> first = per_tensor_ints(info, 2, op, "firstSteps", count, 0, 1);
  const GroupArgs g = group_args(info, 3, count, op, {"params", "grads", "momentumBuffers"},
                                 {true, true, p.momentum != 0});
  dispatch_float(g.dtype, op, [&](auto zero) {
    using T = decltype(zero);
    TF_ON_DEVICE(g.device, sgd_step<T>(p, slots_of<T>(g, {}, first)));
    return 0;
  });
  return info.Env().Undefined();
}

Napi::Value adam_step(const Napi::CallbackInfo& info) {
  constexpr const char* op = "adamStep";
  require_args(info, 4, op);
  AdamParams p = adam_params(hyper_arg(info, 0, op), op);
  p.decoupled_weight_decay = get_bool(info, 1, op, "decoupledWeightDecay");
  const int64_t count = count_arg(info, 2, op);
  const std::vector<int64_t> steps = per_tensor_ints(info, 3, op, "steps", count, 1, kMaxElements);
  const GroupArgs g = group_args(info, 4, count, op, {"params", "grads", "expAvgs", "expAvgSqs", "maxExpAvgSqs"},
                                 {true, true, true, true, p.amsgrad});
  dispatch_float(g.dtype, op, [&](auto zero) {
    using T = decltype(zero);
    TF_ON_DEVICE(g.device, adam_step<T>(p, slots_of<T>(g, steps, {})));
    return 0;
  });
  return info.Env().Undefined();
}

Napi::Value rmsprop_step(const Napi::CallbackInfo& info) {
  constexpr const char* op = "rmspropStep";
  require_args(info, 2, op);
  const RmspropParams p = rmsprop_params(hyper_arg(info, 0, op), op);
  const int64_t count = count_arg(info, 1, op);
  const GroupArgs g = group_args(info, 2, count, op, {"params", "grads", "squareAvgs", "gradAvgs", "momentumBuffers"},
                                 {true, true, true, p.centered, p.momentum > 0});
  dispatch_float(g.dtype, op, [&](auto zero) {
    using T = decltype(zero);
    TF_ON_DEVICE(g.device, rmsprop_step<T>(p, slots_of<T>(g, {}, {})));
    return 0;
  });
  return info.Env().Undefined();
}

Napi::Value adagrad_step(const Napi::CallbackInfo& info) {
  constexpr const char* op = "adagradStep";
  require_args(info, 3, op);
  const AdagradParams p = adagrad_params(hyper_arg(info, 0, op), op);
  const int64_t count = count_arg(info, 1, op);
  const std::vector<int64_t> steps = per_tensor_ints(info, 2, op, "steps", count, 1, kMaxElements);
  const GroupArgs g = group_args(info, 3, count, op, {"params", "grads", "sums"}, {true, true, true});
  dispatch_float(g.dtype, op, [&](auto zero) {
    using T = decltype(zero);
    TF_ON_DEVICE(g.device, adagrad_step<T>(p, slots_of<T>(g, steps, {})));
    return 0;
  });
  return info.Env().Undefined();
}

// ---- clipping ----

// `count` gradients from argument `first` and a one-element float64 scalar (acc or totalNorm) at `scalar_at`,
// all on one device.
template <class F>
void with_gradients(const Napi::CallbackInfo& info, size_t scalar_at, const char* scalar_name, size_t first,
                    int64_t count, const char* op, F&& f) {
  const Buffer scalar = get_buffer(info, scalar_at, op, scalar_name, DType::F64);
  require_length(scalar, 1, op, scalar_name);
  const GroupArgs g = group_args(info, first, count, op, {"grads"}, {true});
  Device dev = require_one_device(op, {{scalar, scalar_name}});
  if (count > 0) dev = require_one_device(op, {{scalar, scalar_name}, {g.tensors[0][0], "grads[0]"}});
  dispatch_float(g.dtype, op, [&](auto zero) {
    using T = decltype(zero);
    std::vector<Span<T>> spans;
    for (const auto& run : g.tensors) spans.push_back({run[0].as<T>(), run[0].length});
    f(dev, scalar.as<double>(), spans);
    return 0;
  });
}

Napi::Value grad_norm_accumulate(const Napi::CallbackInfo& info) {
  constexpr const char* op = "gradNormAccumulate";
  require_args(info, 3, op);
  const double norm_type = get_number(info, 0, op, "normType");
  validate_norm_type(norm_type, op);
  with_gradients(info, 1, "acc", 3, count_arg(info, 2, op), op, [&](Device dev, double* acc, const auto& spans) {
    using T = std::remove_pointer_t<decltype(spans[0].data)>;
    std::vector<Span<const T>> read;
    for (const Span<T>& s : spans) read.push_back({s.data, s.n});
    TF_ON_DEVICE(dev, accumulate_norm<T>(read, norm_type, acc));
  });
  return info.Env().Undefined();
}

Napi::Value clip_by_norm(const Napi::CallbackInfo& info) {
  constexpr const char* op = "clipByNorm";
  require_args(info, 3, op);
  const double max_norm = get_number(info, 1, op, "maxNorm");
  TF_CHECK(max_norm >= 0, Range, op, ": maxNorm must be a non-negative number, got ", max_norm);
  with_gradients(info, 0, "totalNorm", 3, count_arg(info, 2, op), op,
                 [&](Device dev, double* total, const auto& spans) {
                   using T = std::remove_pointer_t<decltype(spans[0].data)>;
                   TF_ON_DEVICE(dev, clip_by_norm<T>(spans, total, max_norm));
                 });
  return info.Env().Undefined();
}

Napi::Value clamp_in_place(const Napi::CallbackInfo& info) {
  constexpr const char* op = "clampInPlace";
  require_args(info, 3, op);
  const Buffer buf = get_float(info, 0, op, "buf", 0);
  const double lo = get_number(info, 1, op, "lo"), hi = get_number(info, 2, op, "hi");
  validate_clamp(lo, hi, op);
  const Device dev = require_one_device(op, {{buf, "buf"}});
  dispatch_float(buf.dtype, op, [&](auto zero) {
    using T = decltype(zero);
    TF_ON_DEVICE(dev, clamp_in_place<T>(buf.length, buf.as<T>(), lo, hi));
    return 0;
  });
  return info.Env().Undefined();
}

}  // namespace

void register_optim(Napi::Env env, Napi::Object exports) {
  export_fn(env, exports, "validateOptimizer", validate_optimizer);
  export_fn(env, exports, "sgdStep", sgd_step);
  export_fn(env, exports, "adamStep", adam_step);
  export_fn(env, exports, "rmspropStep", rmsprop_step);
  export_fn(env, exports, "adagradStep", adagrad_step);
  export_fn(env, exports, "gradNormAccumulate", grad_norm_accumulate);
  export_fn(env, exports, "clipByNorm", clip_by_norm);
  export_fn(env, exports, "clampInPlace", clamp_in_place);
}

}  // namespace tf::binding

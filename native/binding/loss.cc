// Fused loss entry points, on the device of their buffers (typed arrays: cpu; device handles: cuda).
// Forwards write the reduced loss to `loss` (one element; 'none': the sum of per-sample losses) and
// per-sample losses to `losses` (required for 'none', may be null otherwise); `loss` may be null for
// 'none'. Backwards overwrite gradInput given gradOutput: 1 element for 'mean'/'sum', one per sample for
// 'none'. "?" marks a buffer that may be null; class-index targets are int32. A cpu call range-checks
// the class targets (RangeError); a cuda call does not read them on the host: an out-of-range target
// makes its sample's loss and gradient NaN (core/loss.h).
//   crossEntropyForward(logits, target, N, C, L, weight?, ignoreIndex, labelSmoothing, reduction, losses?, loss?)
//   crossEntropyBackward(logits, target, N, C, L, weight?, ignoreIndex, labelSmoothing, reduction, gradOutput, gradInput)
//   crossEntropyProbForward(logits, target, N, C, L, weight?, labelSmoothing, reduction, losses?, loss?)
//   crossEntropyProbBackward(logits, target, N, C, L, weight?, labelSmoothing, reduction, gradOutput, gradInput)
//   nllForward(logProbs, target, N, C, L, weight?, ignoreIndex, reduction, losses?, loss?)
//   nllBackward(target, N, C, L, weight?, ignoreIndex, reduction, gradOutput, gradInput)
//   multiMarginForward(input, target, N, C, weight?, margin, reduction, losses?, loss?)
//   multiMarginBackward(input, target, N, C, weight?, margin, reduction, gradOutput, gradInput)
//   {mse,l1}LossForward(input, target, n, reduction, losses?, loss?)   ...Backward(input, target, n, reduction, gradOutput, gradInput)
//   smoothL1LossForward(input, target, n, beta, reduction, losses?, loss?)  huberLossForward(input, target, n, delta, ...)
//   bceWithLogitsForward(logits, target, n, posWeight?, lastDim, reduction, losses?, loss?)  ...Backward(..., gradOutput, gradInput)
//   klDivDistillForward(student, teacher, N, C, temperature, losses?, loss?)
//   klDivDistillBackward(student, teacher, N, C, temperature, gradOutput, gradStudent)
#include "binding/args.h"
#include "binding/registry.h"
#include "core/loss.h"

namespace tf::binding {
namespace {

Buffer losses_arg(const Napi::CallbackInfo& info, size_t i, const char* op, const Buffer& like, const char* like_name,
                  int64_t samples, Reduction reduction) {
  TF_CHECK(reduction != Reduction::None || !is_absent(info, i), Type, op,
           ": losses is required for reduction 'none'");
  return get_like(info, i, op, "losses", like, like_name, samples, true);
}

Buffer grad_output_arg(const Napi::CallbackInfo& info, size_t i, const char* op, const Buffer& like,
                       const char* like_name, int64_t samples, Reduction reduction) {
  return get_like(info, i, op, "gradOutput", like, like_name, reduction == Reduction::None ? samples : 1);
}

Reduction reduction_arg(const Napi::CallbackInfo& info, size_t i, const char* op) {
  return parse_reduction(get_string(info, i, op, "reduction"), op);
}

// Int32 class targets (samples); the caller checks every value on cpu (check_targets).
Buffer targets_arg(const Napi::CallbackInfo& info, size_t i, const char* op, const ClassLossParams& p) {
  Buffer t = get_buffer(info, i, op, "target", DType::I32);
  require_length(t, p.samples(), op, "target");
  return t;
}

ClassLossParams sizes_arg(const Napi::CallbackInfo& info, size_t first, const char* op, bool has_l) {
  ClassLossParams p;
  p.N = get_int(info, first, op, "N");
  p.C = get_int(info, first + 1, op, "C");
  p.L = has_l ? get_int(info, first + 2, op, "L") : 1;
  return p;
}

// The reduced loss's output: one element like `like`, optional.
Buffer loss_arg(const Napi::CallbackInfo& info, size_t i, const char* op, const Buffer& like, const char* like_name) {
  return get_like(info, i, op, "loss", like, like_name, 1, true);
}

// The class targets' range check, on cpu only: reading cuda targets would cost a round trip per call, so
// the cuda kernels turn an out-of-range target into a NaN loss instead (core/loss.h).
void check_targets(Device dev, const ClassLossParams& p, const Buffer& target, const char* op) {
  if (dev == Device::Cpu) validate_class_targets(p, target.as<int32_t>(), op);
}

int64_t ignore_index_arg(const Napi::CallbackInfo& info, size_t i, const char* op) {
  return get_int(info, i, op, "ignoreIndex", INT32_MIN, INT32_MAX);
}

// ---- softmax cross-entropy with class-index targets ----

template <bool Backward>
Napi::Value cross_entropy(const Napi::CallbackInfo& info) {
  constexpr const char* op = Backward ? "crossEntropyBackward" : "crossEntropyForward";
  require_args(info, Backward ? 11 : 10, op);
  ClassLossParams p = sizes_arg(info, 2, op, true);
  p.ignore_index = ignore_index_arg(info, 6, op);
  p.label_smoothing = get_number(info, 7, op, "labelSmoothing");
  p.reduction = reduction_arg(info, 8, op);
  validate_class_loss(p, op);
  const Buffer logits = get_float(info, 0, op, "logits", p.numel());
  const Buffer weight = get_like(info, 5, op, "weight", logits, "logits", p.C, true);
  const Buffer out = Backward ? grad_output_arg(info, 9, op, logits, "logits", p.samples(), p.reduction)
                              : losses_arg(info, 9, op, logits, "logits", p.samples(), p.reduction);
  const Buffer grad_in = Backward ? get_like(info, 10, op, "gradInput", logits, "logits", p.numel()) : Buffer{};
  const Buffer loss = Backward ? Buffer{} : loss_arg(info, 10, op, logits, "logits");
  const Buffer target = targets_arg(info, 1, op, p);
  const Device dev = require_one_device(op, {{logits, "logits"}, {target, "target"}, {weight, "weight"},
                                             {out, Backward ? "gradOutput" : "losses"}, {grad_in, "gradInput"},
                                             {loss, "loss"}});
  check_targets(dev, p, target, op);
  dispatch_float(logits.dtype, op, [&](auto zero) {
    using T = decltype(zero);
    if (Backward)
      TF_ON_DEVICE(dev, cross_entropy_backward<T>(p, logits.as<T>(), target.as<int32_t>(), weight.as<T>(),
                                                  out.as<T>(), grad_in.as<T>()));
    else
      TF_ON_DEVICE(dev, cross_entropy_forward<T>(p, logits.as<T>(), target.as<int32_t>(), weight.as<T>(),
                                                 out.as<T>(), loss.as<T>()));
    return 0;
  });
  return info.Env().Undefined();
}

// ---- softmax cross-entropy with probability targets ----

template <bool Backward>
Napi::Value cross_entropy_prob(const Napi::CallbackInfo& info) {
  constexpr const char* op = Backward ? "crossEntropyProbBackward" : "crossEntropyProbForward";
  require_args(info, Backward ? 10 : 9, op);
  ClassLossParams p = sizes_arg(info, 2, op, true);
  p.has_ignore_index = false;
  p.label_smoothing = get_number(info, 6, op, "labelSmoothing");
  p.reduction = reduction_arg(info, 7, op);
  validate_class_loss(p, op);
  const Buffer logits = get_float(info, 0, op, "logits", p.numel());
  const Buffer target = get_like(info, 1, op, "target", logits, "logits", p.numel());
  const Buffer weight = get_like(info, 5, op, "weight", logits, "logits", p.C, true);
  const Buffer out = Backward ? grad_output_arg(info, 8, op, logits, "logits", p.samples(), p.reduction)
                              : losses_arg(info, 8, op, logits, "logits", p.samples(), p.reduction);
  const Buffer grad_in = Backward ? get_like(info, 9, op, "gradInput", logits, "logits", p.numel()) : Buffer{};
  const Buffer loss = Backward ? Buffer{} : loss_arg(info, 9, op, logits, "logits");
  const Device dev = require_one_device(op, {{logits, "logits"}, {target, "target"}, {weight, "weight"},
                                             {out, Backward ? "gradOutput" : "losses"}, {grad_in, "gradInput"},
                                             {loss, "loss"}});
  dispatch_float(logits.dtype, op, [&](auto zero) {
    using T = decltype(zero);
    if (Backward)
      TF_ON_DEVICE(dev, cross_entropy_prob_backward<T>(p, logits.as<T>(), target.as<T>(), weight.as<T>(), out.as<T>(),
                                                       grad_in.as<T>()));
    else
      TF_ON_DEVICE(dev, cross_entropy_prob_forward<T>(p, logits.as<T>(), target.as<T>(), weight.as<T>(), out.as<T>(),
                                                      loss.as<T>()));
    return 0;
  });
  return info.Env().Undefined();
}

// ---- NLL ----

Napi::Value nll_forward(const Napi::CallbackInfo& info) {
  constexpr const char* op = "nllForward";
  require_args(info, 9, op);
  ClassLossParams p = sizes_arg(info, 2, op, true);
  p.ignore_index = ignore_index_arg(info, 6, op);
  p.reduction = reduction_arg(info, 7, op);
  validate_class_loss(p, op);
  const Buffer input = get_float(info, 0, op, "logProbs", p.numel());
  const Buffer weight = get_like(info, 5, op, "weight", input, "logProbs", p.C, true);
  const Buffer losses = losses_arg(info, 8, op, input, "logProbs", p.samples(), p.reduction);
  const Buffer loss = loss_arg(info, 9, op, input, "logProbs");
  const Buffer target = targets_arg(info, 1, op, p);
  const Device dev = require_one_device(
      op, {{input, "logProbs"}, {target, "target"}, {weight, "weight"}, {losses, "losses"}, {loss, "loss"}});
  check_targets(dev, p, target, op);
  dispatch_float(input.dtype, op, [&](auto zero) {
    using T = decltype(zero);
    TF_ON_DEVICE(dev, nll_forward<T>(p, input.as<T>(), target.as<int32_t>(), weight.as<T>(), losses.as<T>(),
                                     loss.as<T>()));
    return 0;
  });
  return info.Env().Undefined();
}

Napi::Value nll_backward(const Napi::CallbackInfo& info) {
  constexpr const char* op = "nllBackward";
  require_args(info, 9, op);
  ClassLossParams p = sizes_arg(info, 1, op, true);
  p.ignore_index = ignore_index_arg(info, 5, op);
  p.reduction = reduction_arg(info, 6, op);
  validate_class_loss(p, op);
  const Buffer grad_out = get_float(info, 7, op, "gradOutput", p.reduction == Reduction::None ? p.samples() : 1);
  const Buffer weight = get_like(info, 4, op, "weight", grad_out, "gradOutput", p.C, true);
  const Buffer grad_in = get_like(info, 8, op, "gradInput", grad_out, "gradOutput", p.numel());
  const Buffer target = targets_arg(info, 0, op, p);
  const Device dev = require_one_device(
      op, {{target, "target"}, {weight, "weight"}, {grad_out, "gradOutput"}, {grad_in, "gradInput"}});
  check_targets(dev, p, target, op);
  dispatch_float(grad_out.dtype, op, [&](auto zero) {
    using T = decltype(zero);
    TF_ON_DEVICE(dev, nll_backward<T>(p, target.as<int32_t>(), weight.as<T>(), grad_out.as<T>(), grad_in.as<T>()));
    return 0;
  });
  return info.Env().Undefined();
}

// ---- multi-class hinge ----

template <bool Backward>
Napi::Value multi_margin(const Napi::CallbackInfo& info) {
  constexpr const char* op = Backward ? "multiMarginBackward" : "multiMarginForward";
  require_args(info, Backward ? 9 : 8, op);
  ClassLossParams p = sizes_arg(info, 2, op, false);
  p.has_ignore_index = false;
  const double margin = get_number(info, 5, op, "margin");
  validate_margin(margin, op);
  p.reduction = reduction_arg(info, 6, op);
  validate_class_loss(p, op);
  const Buffer input = get_float(info, 0, op, "input", p.numel());
  const Buffer weight = get_like(info, 4, op, "weight", input, "input", p.C, true);
  const Buffer out = Backward ? grad_output_arg(info, 7, op, input, "input", p.samples(), p.reduction)
                              : losses_arg(info, 7, op, input, "input", p.samples(), p.reduction);
  const Buffer grad_in = Backward ? get_like(info, 8, op, "gradInput", input, "input", p.numel()) : Buffer{};
  const Buffer loss = Backward ? Buffer{} : loss_arg(info, 8, op, input, "input");
  const Buffer target = targets_arg(info, 1, op, p);
  const Device dev = require_one_device(op, {{input, "input"}, {target, "target"}, {weight, "weight"},
                                             {out, Backward ? "gradOutput" : "losses"}, {grad_in, "gradInput"},
                                             {loss, "loss"}});
  check_targets(dev, p, target, op);
  dispatch_float(input.dtype, op, [&](auto zero) {
    using T = decltype(zero);
    if (Backward)
      TF_ON_DEVICE(dev, multi_margin_backward<T>(p, margin, input.as<T>(), target.as<int32_t>(), weight.as<T>(),
                                                 out.as<T>(), grad_in.as<T>()));
    else
      TF_ON_DEVICE(dev, multi_margin_forward<T>(p, margin, input.as<T>(), target.as<int32_t>(), weight.as<T>(),
                                                out.as<T>(), loss.as<T>()));
    return 0;
  });
  return info.Env().Undefined();
}

// ---- pointwise losses: (input, target, n, [param | posWeight, lastDim], reduction, losses | gradOutput, gradInput) ----

constexpr const char* pointwise_name(PointwiseKind kind, bool backward) {
  switch (kind) {
    case PointwiseKind::Mse: return backward ? "mseLossBackward" : "mseLossForward";
    case PointwiseKind::L1: return backward ? "l1LossBackward" : "l1LossForward";
    case PointwiseKind::SmoothL1: return backward ? "smoothL1LossBackward" : "smoothL1LossForward";
    case PointwiseKind::Huber: return backward ? "huberLossBackward" : "huberLossForward";
    case PointwiseKind::BceWithLogits: break;
  }
  return backward ? "bceWithLogitsBackward" : "bceWithLogitsForward";
}

template <PointwiseKind Kind, bool Backward>
Napi::Value pointwise(const Napi::CallbackInfo& info) {
  constexpr const char* op = pointwise_name(Kind, Backward);
  constexpr bool has_param = Kind == PointwiseKind::SmoothL1 || Kind == PointwiseKind::Huber;
  constexpr bool is_bce = Kind == PointwiseKind::BceWithLogits;
  constexpr size_t extra = has_param ? 1 : is_bce ? 2 : 0;
  require_args(info, 5 + extra + (Backward ? 1 : 0), op);
  PointwiseLossParams p;
  p.kind = Kind;
  p.n = get_int(info, 2, op, "n");
  if (has_param) p.param = get_number(info, 3, op, Kind == PointwiseKind::Huber ? "delta" : "beta");
  if (is_bce) p.last_dim = get_int(info, 4, op, "lastDim");
  p.reduction = reduction_arg(info, 3 + extra, op);
  validate_pointwise_loss(p, op);
  const char* input_name = is_bce ? "logits" : "input";
  const Buffer input = get_float(info, 0, op, input_name, p.n);
  const Buffer target = get_like(info, 1, op, "target", input, input_name, p.n);
  const Buffer pos_weight = is_bce ? get_like(info, 3, op, "posWeight", input, input_name, p.last_dim, true) : Buffer{};
  const size_t out_at = 4 + extra;
  const Buffer out = Backward ? grad_output_arg(info, out_at, op, input, input_name, p.n, p.reduction)
                              : losses_arg(info, out_at, op, input, input_name, p.n, p.reduction);
  const Buffer grad_in = Backward ? get_like(info, out_at + 1, op, "gradInput", input, input_name, p.n) : Buffer{};
  const Buffer loss = Backward ? Buffer{} : loss_arg(info, out_at + 1, op, input, input_name);
  const Device dev = require_one_device(op, {{input, input_name}, {target, "target"}, {pos_weight, "posWeight"},
                                             {out, Backward ? "gradOutput" : "losses"}, {grad_in, "gradInput"},
                                             {loss, "loss"}});
  dispatch_float(input.dtype, op, [&](auto zero) {
    using T = decltype(zero);
    if (Backward)
      TF_ON_DEVICE(dev, pointwise_loss_backward<T>(p, input.as<T>(), target.as<T>(), pos_weight.as<T>(), out.as<T>(),
                                                   grad_in.as<T>()));
    else
      TF_ON_DEVICE(dev, pointwise_loss_forward<T>(p, input.as<T>(), target.as<T>(), pos_weight.as<T>(), out.as<T>(),
                                                  loss.as<T>()));
    return 0;
  });
  return info.Env().Undefined();
}

// ---- distillation KL ----

template <bool Backward>
Napi::Value kl_distill(const Napi::CallbackInfo& info) {
  constexpr const char* op = Backward ? "klDivDistillBackward" : "klDivDistillForward";
  require_args(info, Backward ? 7 : 6, op);
  KlDistillParams p;
  p.N = get_int(info, 2, op, "N");
  p.C = get_int(info, 3, op, "C");
  p.temperature = get_number(info, 4, op, "temperature");
  validate_kl_distill(p, op);
  const Buffer student = get_float(info, 0, op, "student", p.N * p.C);
  const Buffer teacher = get_like(info, 1, op, "teacher", student, "student", p.N * p.C);
  const Buffer out = Backward ? get_like(info, 5, op, "gradOutput", student, "student", 1)
                              : get_like(info, 5, op, "losses", student, "student", p.N, true);
  const Buffer grad = Backward ? get_like(info, 6, op, "gradStudent", student, "student", p.N * p.C) : Buffer{};
  const Buffer loss = Backward ? Buffer{} : loss_arg(info, 6, op, student, "student");
  const Device dev = require_one_device(op, {{student, "student"}, {teacher, "teacher"},
                                             {out, Backward ? "gradOutput" : "losses"}, {grad, "gradStudent"},
                                             {loss, "loss"}});
  dispatch_float(student.dtype, op, [&](auto zero) {
    using T = decltype(zero);
    if (Backward)
      TF_ON_DEVICE(dev, kl_distill_backward<T>(p, student.as<T>(), teacher.as<T>(), out.as<T>(), grad.as<T>()));
    else
      TF_ON_DEVICE(dev, kl_distill_forward<T>(p, student.as<T>(), teacher.as<T>(), out.as<T>(), loss.as<T>()));
    return 0;
  });
  return info.Env().Undefined();
}

}  // namespace

void register_loss(Napi::Env env, Napi::Object exports) {
  export_fn(env, exports, "crossEntropyForward", cross_entropy<false>);
  export_fn(env, exports, "crossEntropyBackward", cross_entropy<true>);
  export_fn(env, exports, "crossEntropyProbForward", cross_entropy_prob<false>);
  export_fn(env, exports, "crossEntropyProbBackward", cross_entropy_prob<true>);
  export_fn(env, exports, "nllForward", nll_forward);
  export_fn(env, exports, "nllBackward", nll_backward);
  export_fn(env, exports, "multiMarginForward", multi_margin<false>);
  export_fn(env, exports, "multiMarginBackward", multi_margin<true>);
  export_fn(env, exports, "mseLossForward", pointwise<PointwiseKind::Mse, false>);
  export_fn(env, exports, "mseLossBackward", pointwise<PointwiseKind::Mse, true>);
  export_fn(env, exports, "l1LossForward", pointwise<PointwiseKind::L1, false>);
  export_fn(env, exports, "l1LossBackward", pointwise<PointwiseKind::L1, true>);
  export_fn(env, exports, "smoothL1LossForward", pointwise<PointwiseKind::SmoothL1, false>);
  export_fn(env, exports, "smoothL1LossBackward", pointwise<PointwiseKind::SmoothL1, true>);
  export_fn(env, exports, "huberLossForward", pointwise<PointwiseKind::Huber, false>);
  export_fn(env, exports, "huberLossBackward", pointwise<PointwiseKind::Huber, true>);
  export_fn(env, exports, "bceWithLogitsForward", pointwise<PointwiseKind::BceWithLogits, false>);
  export_fn(env, exports, "bceWithLogitsBackward", pointwise<PointwiseKind::BceWithLogits, true>);
  export_fn(env, exports, "klDivDistillForward", kl_distill<false>);
  export_fn(env, exports, "klDivDistillBackward", kl_distill<true>);
}

}  // namespace tf::binding

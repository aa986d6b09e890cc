// The update rules of the fused optimizers, one element at a time, following the torch.optim docs; both
// devices run these functors (the CPU over one parameter at a time, CUDA over a group: cuda/optim.cu).
// Arithmetic is in the element type T (as PyTorch does); per-step scalars (bias corrections, decayed
// learning rate) are computed in double on the host first (the *_update_for functions).
#pragma once
#include <cmath>
#include <cstdint>

#include "core/optim.h"
#include "core/philox.h"  // TF_HD

namespace tf::cpu {

// g <- -g if maximize; g <- g + wd * p (coupled weight decay). Shared first step of every rule.
template <class T>
TF_HD T decayed_grad(T g, T p, T weight_decay, bool maximize) {
  if (maximize) g = -g;
  return weight_decay != T(0) ? g + weight_decay * p : g;
}

// SGD: g = decayed_grad; with momentum, buf = g on the first step else momentum * buf + (1 - dampening) g,
// and g = nesterov ? g + momentum * buf : buf; p -= lr * g.
template <class T>
struct SgdUpdate {
  T lr, momentum, dampening, weight_decay;
  bool nesterov, maximize, first_step;
  TF_HD void operator()(T& p, T grad, T* buf) const {
    T g = decayed_grad(grad, p, weight_decay, maximize);
    if (momentum != T(0)) {
      *buf = first_step ? g : momentum * *buf + (T(1) - dampening) * g;
      g = nesterov ? g + momentum * *buf : *buf;
    }
    p -= lr * g;
  }
};

// Adam / AdamW: decoupled decay p *= 1 - lr wd (else coupled into g); m = lerp(m, g, 1 - b1);
// v = b2 v + (1 - b2) g^2; vmax = max(vmax, v) with amsgrad;
// p -= step_size * m / (sqrt(v or vmax) / bias2_sqrt + eps), step_size = lr / (1 - b1^t).
template <class T>
struct AdamUpdate {
  T lr, beta1, beta2, eps, weight_decay, step_size, bias2_sqrt;
  bool amsgrad, decoupled, maximize;
  TF_HD void operator()(T& p, T grad, T& m, T& v, T* vmax) const {
    T g = maximize ? -grad : grad;
    if (weight_decay != T(0)) {
      if (decoupled) p *= T(1) - lr * weight_decay;
      else g += weight_decay * p;
    }
    m += (g - m) * (T(1) - beta1);
    v = beta2 * v + (T(1) - beta2) * g * g;
    T second = v;
    if (amsgrad) second = *vmax = *vmax > v ? *vmax : v;
    p -= step_size * m / (std::sqrt(second) / bias2_sqrt + eps);
  }
};

// RMSprop: sq = alpha sq + (1 - alpha) g^2; centered: ga = lerp(ga, g, 1 - alpha), avg = sqrt(sq - ga^2) + eps,
// else avg = sqrt(sq) + eps; momentum > 0: buf = momentum buf + g / avg, p -= lr buf; else p -= lr g / avg.
template <class T>
struct RmspropUpdate {
  T lr, alpha, eps, weight_decay, momentum;
  bool centered, maximize;
  TF_HD void operator()(T& p, T grad, T& sq, T* grad_avg, T* buf) const {
    const T g = decayed_grad(grad, p, weight_decay, maximize);
    sq = alpha * sq + (T(1) - alpha) * g * g;
    T avg;
    if (centered) {
      *grad_avg += (g - *grad_avg) * (T(1) - alpha);
      avg = std::sqrt(sq - *grad_avg * *grad_avg) + eps;
    } else {
      avg = std::sqrt(sq) + eps;
    }
    if (momentum > T(0)) {
      *buf = momentum * *buf + g / avg;
      p -= lr * *buf;
    } else {
      p -= lr * g / avg;
    }
  }
};

// Adagrad: sum += g^2; p -= clr * g / (sqrt(sum) + eps), clr = lr / (1 + (t - 1) lr_decay).
template <class T>
struct AdagradUpdate {
  T clr, eps, weight_decay;
  bool maximize;
  TF_HD void operator()(T& p, T grad, T& sum) const {
    const T g = decayed_grad(grad, p, weight_decay, maximize);
    sum += g * g;
    p -= clr * g / (std::sqrt(sum) + eps);
  }
};

// Gradient norms: |x|^p of one element, the max that lets NaN win (a NaN gradient makes the norm NaN, as
// torch), and clipping's factor min(1, max_norm / (norm + 1e-6)).
TF_HD double norm_power(double abs_x, double norm_type) {
  return norm_type == 2 ? abs_x * abs_x : norm_type == 1 ? abs_x : std::pow(abs_x, norm_type);
}
TF_HD double combine_max(double a, double b) {
  if (a != a) return a;
  if (b != b) return b;
  return b > a ? b : a;
}
TF_HD double clip_coefficient(double total_norm, double max_norm) {
  const double coef = max_norm / (total_norm + 1e-6);
  return coef < 1 ? coef : 1;
}

// The functors for one parameter at its step: the same host arithmetic for both devices, so the per-step
// scalars are bit-identical.
template <class T>
SgdUpdate<T> sgd_update_for(const SgdParams& p, const ParamSlot<T>& slot) {
  return {T(p.lr), T(p.momentum), T(p.dampening), T(p.weight_decay), p.nesterov, p.maximize, slot.first_step};
}

template <class T>
AdamUpdate<T> adam_update_for(const AdamParams& p, const ParamSlot<T>& slot) {
  const double t = double(slot.step);
  const double bias1 = 1 - std::pow(p.beta1, t), bias2 = 1 - std::pow(p.beta2, t);
  return {T(p.lr),           T(p.beta1),          T(p.beta2), T(p.eps),
          T(p.weight_decay), T(p.lr / bias1),     T(std::sqrt(bias2)),
          p.amsgrad,         p.decoupled_weight_decay, p.maximize};
}

template <class T>
RmspropUpdate<T> rmsprop_update_for(const RmspropParams& p, const ParamSlot<T>&) {
  return {T(p.lr), T(p.alpha), T(p.eps), T(p.weight_decay), T(p.momentum), p.centered, p.maximize};
}

template <class T>
AdagradUpdate<T> adagrad_update_for(const AdagradParams& p, const ParamSlot<T>& slot) {
  return {T(p.lr / (1 + double(slot.step - 1) * p.lr_decay)), T(p.eps), T(p.weight_decay), p.maximize};
}

}  // namespace tf::cpu

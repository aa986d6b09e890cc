// Fused optimizer updates over one parameter tensor of n elements, in place, following the update
// rules published in the torch.optim docs. Arithmetic is in the element type T (as PyTorch does);
// per-step scalars (bias corrections, decayed learning rate) are computed in double first.
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

// momentum_buf may be null when momentum == 0.
template <class T>
void sgd_step(const SgdParams& params, int64_t n, T* param, const T* grad, T* momentum_buf);
// max_exp_avg_sq may be null unless amsgrad.
template <class T>
void adam_step(const AdamParams& params, int64_t n, T* param, const T* grad, T* exp_avg, T* exp_avg_sq,
               T* max_exp_avg_sq);
// grad_avg may be null unless centered; momentum_buf may be null unless momentum > 0.
template <class T>
void rmsprop_step(const RmspropParams& params, int64_t n, T* param, const T* grad, T* square_avg, T* grad_avg,
                  T* momentum_buf);
template <class T>
void adagrad_step(const AdagradParams& params, int64_t n, T* param, const T* grad, T* sum);

// sum of x^2 accumulated in double over fixed blocks, so the result does not depend on the thread count.
template <class T>
double sum_of_squares(int64_t n, const T* x);
template <class T>
void scale_in_place(int64_t n, T* x, double s);
// x = min(max(x, lo), hi) (hi wins when lo > hi, as torch.clamp); NaN stays NaN.
template <class T>
void clamp_in_place(int64_t n, T* x, double lo, double hi);

}  // namespace tf::cpu

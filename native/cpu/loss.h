// CPU kernels of the fused losses. Every forward returns the reduced loss ('none': the sum of the
// per-sample losses) and writes per-sample losses to `losses` when it is non-null; every backward
// overwrites grad_in given the upstream gradient grad_out (one element, or one per sample for 'none').
// Losses accumulate in double; log-softmax uses log-sum-exp with the row maximum subtracted.
#pragma once
#include <cmath>
#include <cstdint>

#include "core/loss.h"
#include "core/philox.h"  // TF_HD

namespace tf::cpu {

// log(1 + exp(x)) without overflow.
template <class A>
TF_HD A softplus(A x) {
  return (x > A(0) ? x : A(0)) + std::log1p(std::exp(-std::fabs(x)));
}

template <class A>
TF_HD A sigmoid(A x) {
  if (x >= A(0)) return A(1) / (A(1) + std::exp(-x));
  const A e = std::exp(x);
  return e / (A(1) + e);
}

template <class A>
TF_HD A sign(A x) {
  return A(x > A(0)) - A(x < A(0));
}

// Pointwise loss functors: loss(x, t) and its derivative in x, in accumulate type A.
template <class A>
struct SquaredError {
  TF_HD A loss(A x, A t) const { return (x - t) * (x - t); }
  TF_HD A grad(A x, A t) const { return A(2) * (x - t); }
};

template <class A>
struct AbsoluteError {
  TF_HD A loss(A x, A t) const { return std::fabs(x - t); }
  TF_HD A grad(A x, A t) const { return sign(x - t); }
};

// Smooth L1 (beta): 0.5 d^2 / beta when |d| < beta, else |d| - 0.5 beta; beta = 0 is L1.
template <class A>
struct SmoothL1 {
  A beta;
  TF_HD A loss(A x, A t) const {
    const A d = std::fabs(x - t);
    return d < beta ? A(0.5) * d * d / beta : d - A(0.5) * beta;
  }
  TF_HD A grad(A x, A t) const { return std::fabs(x - t) < beta ? (x - t) / beta : sign(x - t); }
};

// Huber (delta): 0.5 d^2 when |d| <= delta, else delta (|d| - 0.5 delta).
template <class A>
struct Huber {
  A delta;
  TF_HD A loss(A x, A t) const {
    const A d = std::fabs(x - t);
    return d <= delta ? A(0.5) * d * d : delta * (d - A(0.5) * delta);
  }
  TF_HD A grad(A x, A t) const { return std::fabs(x - t) <= delta ? x - t : delta * sign(x - t); }
};

// BCE with logits and positive-class weight pw: pw t softplus(-x) + (1 - t) softplus(x).
template <class A>
struct BceWithLogits {
  A pos_weight;
  TF_HD A loss(A x, A t) const { return pos_weight * t * softplus(-x) + (A(1) - t) * softplus(x); }
  TF_HD A grad(A x, A t) const { return pos_weight * t * (sigmoid(x) - A(1)) + (A(1) - t) * sigmoid(x); }
};

// Mean divides by n (NaN for n = 0, as PyTorch). pos_weight (nullable) is read only for BCE.
template <class T>
double pointwise_loss_forward(const PointwiseLossParams& params, const T* input, const T* target, const T* pos_weight,
                              T* losses);
template <class T>
void pointwise_loss_backward(const PointwiseLossParams& params, const T* input, const T* target, const T* pos_weight,
                             const T* grad_out, T* grad_in);

// Cross-entropy from logits (N, C, L) with class-index targets, class weights w (nullable), label
// smoothing e, ignore_index (PyTorch): for a kept sample with target y,
//   loss = (1 - e) * w[y] * -logp[y] + (e / C) * sum_c w[c] * -logp[c],
// ignored samples lose 0; 'mean' divides the sum by sum of w[y] over kept samples.
template <class T>
double cross_entropy_forward(const ClassLossParams& params, const T* logits, const int32_t* target, const T* weight,
                             T* losses);
template <class T>
void cross_entropy_backward(const ClassLossParams& params, const T* logits, const int32_t* target, const T* weight,
                            const T* grad_out, T* grad_in);

// Cross-entropy with probability targets (N, C, L): t' = (1 - e) t + e / C,
// loss = -sum_c w[c] t'[c] logp[c]; 'mean' divides by N * L.
template <class T>
double cross_entropy_prob_forward(const ClassLossParams& params, const T* logits, const T* target, const T* weight,
                                  T* losses);
template <class T>
void cross_entropy_prob_backward(const ClassLossParams& params, const T* logits, const T* target, const T* weight,
                                 const T* grad_out, T* grad_in);

// NLL on log-probabilities (N, C, L): loss = -w[y] * input[y]; 'mean' divides by sum of w[y] over kept samples.
// The gradient (-w[y] at the target, 0 elsewhere) does not depend on the input.
template <class T>
double nll_forward(const ClassLossParams& params, const T* log_probs, const int32_t* target, const T* weight,
                   T* losses);
template <class T>
void nll_backward(const ClassLossParams& params, const int32_t* target, const T* weight, const T* grad_out,
                  T* grad_in);

// multi_margin_loss, p = 1, over (N, C) (params.L = 1):
// loss = sum_{c != y} w[y] * max(0, margin - x[y] + x[c]) / C; 'mean' divides by N.
template <class T>
double multi_margin_forward(const ClassLossParams& params, double margin, const T* input, const int32_t* target,
                            const T* weight, T* losses);
template <class T>
void multi_margin_backward(const ClassLossParams& params, double margin, const T* input, const int32_t* target,
                           const T* weight, const T* grad_out, T* grad_in);

// Distillation, student logits s and teacher logits t (N, C), temperature T, batchmean:
//   loss = T^2 / N * sum_n sum_c q[c] (log q[c] - log p[c]),  q = softmax(t / T), p = softmax(s / T)
// (= T^2 * F.kl_div(log_softmax(s / T), softmax(t / T), reduction='batchmean')). losses (nullable, N)
// receives T^2 * KL of each row. Backward writes the student gradient T / N * (p - q) * grad_out[0].
template <class T>
double kl_distill_forward(const KlDistillParams& params, const T* student, const T* teacher, T* losses);
template <class T>
void kl_distill_backward(const KlDistillParams& params, const T* student, const T* teacher, const T* grad_out,
                         T* grad_student);

}  // namespace tf::cpu

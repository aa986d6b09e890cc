// Argument checks, shape rules and entry points of the fused losses (entries declared once for tf::cpu and
// tf::cuda).
// Layout legend: N batch, C classes, L flattened extra dims; logits (N, C, L) put class c of sample
// i = n * L + l at (n * C + c) * L + l, and class-index targets (N, L) put it at i.
#pragma once
#include <cstdint>
#include <string>

#include "core/on_devices.h"

namespace tf {

enum class Reduction { None, Mean, Sum };
// "none" | "mean" | "sum"
Reduction parse_reduction(const std::string& name, const char* op);

// Softmax cross-entropy, NLL and multi-margin over (N, C, L).
struct ClassLossParams {
  int64_t N = 0, C = 0, L = 1;
  int64_t ignore_index = -100;
  bool has_ignore_index = true;
  double label_smoothing = 0;
  Reduction reduction = Reduction::Mean;
  int64_t samples() const { return N * L; }
  int64_t numel() const { return N * C * L; }
};
// Sizes (C >= 1, no overflow) and label_smoothing in [0, 1].
void validate_class_loss(const ClassLossParams& params, const char* op);
// Every target must be in [0, C) or equal ignore_index: RangeError "<op>: target[i] = v is out of range [0, C)".
void validate_class_targets(const ClassLossParams& params, const int32_t* target, const char* op);

enum class PointwiseKind { Mse, L1, SmoothL1, Huber, BceWithLogits };

// Elementwise losses between input and target of n elements. param: beta of smooth L1 (>= 0) or
// delta of Huber (> 0). BCE's optional pos_weight has last_dim entries, element i uses i % last_dim.
struct PointwiseLossParams {
  int64_t n = 0;
  PointwiseKind kind = PointwiseKind::Mse;
  double param = 0;
  int64_t last_dim = 1;
  Reduction reduction = Reduction::Mean;
};
void validate_pointwise_loss(const PointwiseLossParams& params, const char* op);

// multi_margin_loss with p = 1 over logits (N, C): margin is finite.
void validate_margin(double margin, const char* op);

// Distillation KL over logits (N, C): temperature is finite and > 0.
struct KlDistillParams {
  int64_t N = 0, C = 0;
  double temperature = 1;
};
void validate_kl_distill(const KlDistillParams& params, const char* op);

}  // namespace tf

// Every forward writes per-sample losses to `losses` when it is non-null and the reduced loss to loss[0]
// when `loss` is non-null ('none': the sum of the per-sample losses); on cuda both stay on the device.
// Every backward overwrites grad_in given the upstream gradient grad_out (one element, or one per sample for
// 'none'). Losses accumulate in double; log-softmax uses log-sum-exp with the row maximum subtracted.
// Infinite logits: a term whose coefficient (target mass, class weight, label smoothing share) is 0 adds 0 even
// where its log-probability is -inf (0 log 0 = 0; cpu::weigh), so masked logits give the finite loss, +inf
// when the target's own logit is -inf, and finite gradients; a row with +inf, or all -inf and not ignored,
// is NaN (its softmax is undefined), as PyTorch. An ignored sample loses 0 with a zero gradient whatever its
// logits. BCE with logits at +-inf is 0 or +inf, and a multi-margin sample of class weight 0 loses 0, by the
// same rule.
// Class targets: the cpu binding range-checks them first (validate_class_targets); on cuda, where reading
// them would cost a round trip, a target outside [0, C) that is not ignore_index makes that sample's loss
// and gradient NaN (and so the reduced loss), and is never used as an index.
//
// pointwise_loss: mean divides by n (NaN for n = 0, as PyTorch); pos_weight (nullable) is read only by BCE.
// cross_entropy (class-index targets, weights w (nullable), label smoothing e, ignore_index, PyTorch): for a
//   kept sample with target y, loss = (1 - e) * w[y] * -logp[y] + (e / C) * sum_c w[c] * -logp[c]; ignored
//   samples lose 0; 'mean' divides the sum by the sum of w[y] over kept samples.
// cross_entropy_prob (probability targets (N, C, L)): t' = (1 - e) t + e / C, loss = -sum_c w[c] t'[c] logp[c];
//   'mean' divides by N * L.
// nll (log-probabilities): loss = -w[y] * input[y]; 'mean' divides by the sum of w[y] over kept samples. Its
//   gradient (-w[y] at the target, 0 elsewhere) does not depend on the input.
// multi_margin (p = 1, (N, C), params.L = 1): loss = sum_{c != y} w[y] * max(0, margin - x[y] + x[c]) / C;
//   'mean' divides by N.
// kl_distill (student s, teacher t, temperature T, batchmean):
//   loss = T^2 / N * sum_n sum_c q[c] (log q[c] - log p[c]),  q = softmax(t / T), p = softmax(s / T);
//   losses (N) receives T^2 * KL of each row; backward writes T / N * (p - q) * grad_out[0].
#define TF_LOSS_ENTRIES                                                                                         \
  template <class T>                                                                                            \
  void pointwise_loss_forward(const PointwiseLossParams& params, const T* input, const T* target,               \
                              const T* pos_weight, T* losses, T* loss);                                         \
  template <class T>                                                                                            \
  void pointwise_loss_backward(const PointwiseLossParams& params, const T* input, const T* target,              \
                               const T* pos_weight, const T* grad_out, T* grad_in);                             \
  template <class T>                                                                                            \
  void cross_entropy_forward(const ClassLossParams& params, const T* logits, const int32_t* target,             \
                             const T* weight, T* losses, T* loss);                                              \
  template <class T>                                                                                            \
  void cross_entropy_backward(const ClassLossParams& params, const T* logits, const int32_t* target,            \
                              const T* weight, const T* grad_out, T* grad_in);                                  \
  template <class T>                                                                                            \
  void cross_entropy_prob_forward(const ClassLossParams& params, const T* logits, const T* target,              \
                                  const T* weight, T* losses, T* loss);                                         \
  template <class T>                                                                                            \
  void cross_entropy_prob_backward(const ClassLossParams& params, const T* logits, const T* target,             \
                                   const T* weight, const T* grad_out, T* grad_in);                             \
  template <class T>                                                                                            \
  void nll_forward(const ClassLossParams& params, const T* log_probs, const int32_t* target, const T* weight,    \
                   T* losses, T* loss);                                                                         \
  template <class T>                                                                                            \
  void nll_backward(const ClassLossParams& params, const int32_t* target, const T* weight, const T* grad_out,    \
                    T* grad_in);                                                                                \
  template <class T>                                                                                            \
  void multi_margin_forward(const ClassLossParams& params, double margin, const T* input, const int32_t* target, \
                            const T* weight, T* losses, T* loss);                                               \
  template <class T>                                                                                            \
  void multi_margin_backward(const ClassLossParams& params, double margin, const T* input,                      \
                             const int32_t* target, const T* weight, const T* grad_out, T* grad_in);            \
  template <class T>                                                                                            \
  void kl_distill_forward(const KlDistillParams& params, const T* student, const T* teacher, T* losses,         \
                          T* loss);                                                                             \
  template <class T>                                                                                            \
  void kl_distill_backward(const KlDistillParams& params, const T* student, const T* teacher,                   \
                           const T* grad_out, T* grad_student);

TF_DECLARE_ON_DEVICES(TF_LOSS_ENTRIES)

// The dtypes the bindings dispatch, instantiated by each device inside its namespace.
#define TF_INSTANTIATE_LOSS_FOR(T)                                                                                  \
  template void pointwise_loss_forward<T>(const PointwiseLossParams&, const T*, const T*, const T*, T*, T*);        \
  template void pointwise_loss_backward<T>(const PointwiseLossParams&, const T*, const T*, const T*, const T*, T*); \
  template void cross_entropy_forward<T>(const ClassLossParams&, const T*, const int32_t*, const T*, T*, T*);       \
  template void cross_entropy_backward<T>(const ClassLossParams&, const T*, const int32_t*, const T*, const T*,     \
                                          T*);                                                                      \
  template void cross_entropy_prob_forward<T>(const ClassLossParams&, const T*, const T*, const T*, T*, T*);        \
  template void cross_entropy_prob_backward<T>(const ClassLossParams&, const T*, const T*, const T*, const T*, T*); \
  template void nll_forward<T>(const ClassLossParams&, const T*, const int32_t*, const T*, T*, T*);                 \
  template void nll_backward<T>(const ClassLossParams&, const int32_t*, const T*, const T*, T*);                    \
  template void multi_margin_forward<T>(const ClassLossParams&, double, const T*, const int32_t*, const T*, T*,     \
                                        T*);                                                                        \
  template void multi_margin_backward<T>(const ClassLossParams&, double, const T*, const int32_t*, const T*,        \
                                         const T*, T*);                                                             \
  template void kl_distill_forward<T>(const KlDistillParams&, const T*, const T*, T*, T*);                          \
  template void kl_distill_backward<T>(const KlDistillParams&, const T*, const T*, const T*, T*);
#define TF_INSTANTIATE_LOSS TF_INSTANTIATE_LOSS_FOR(float) TF_INSTANTIATE_LOSS_FOR(double)

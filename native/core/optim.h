// Hyper-parameters, argument checks and the entry points of the fused optimizer updates (PyTorch
// torch.optim rules), declared once for tf::cpu and tf::cuda.
//
// An update takes a whole parameter group: every parameter with its gradient and state tensors (a
// ParamSlot each). The CPU runs its per-parameter fused kernel over each slot in turn; CUDA updates the
// whole group in one launch per 12 tensors / 320 chunks of 4096 elements (multi-tensor apply, cuda/optim.cu).
#pragma once
#include <cstdint>
#include <vector>

#include "core/on_devices.h"

namespace tf {

struct SgdParams {
  double lr = 0, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false, maximize = false;
};
void validate_sgd(const SgdParams& params, const char* op);

struct AdamParams {
  double lr = 0, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  bool amsgrad = false, decoupled_weight_decay = false, maximize = false;
};
void validate_adam(const AdamParams& params, const char* op);

struct RmspropParams {
  double lr = 0, alpha = 0.99, eps = 1e-8, weight_decay = 0, momentum = 0;
  bool centered = false, maximize = false;
};
void validate_rmsprop(const RmspropParams& params, const char* op);

struct AdagradParams {
  double lr = 0, lr_decay = 0, weight_decay = 0, eps = 1e-10;
  // The sum's starting value: the kernels never read it (the caller fills the state), it is validated here
  // with the rest so that the optimizer's checks live in one place.
  double initial_accumulator_value = 0;
  bool maximize = false;
};
void validate_adagrad(const AdagradParams& params, const char* op);

// clampInPlace bounds: not NaN.
void validate_clamp(double lo, double hi, const char* op);
// A gradient norm's order: > 0 (Infinity: the largest absolute value).
void validate_norm_type(double norm_type, const char* op);

// One parameter of a group: n elements of the parameter, its gradient and up to three state tensors, in the
// order each rule lists them (SGD: momentum buffer; Adam: exp_avg, exp_avg_sq, max_exp_avg_sq; RMSprop:
// square_avg, grad_avg, momentum_buffer; Adagrad: sum). A state the configuration does not use may be null.
template <class T>
struct ParamSlot {
  int64_t n = 0;
  T* param = nullptr;
  const T* grad = nullptr;
  T* state[3] = {nullptr, nullptr, nullptr};
  int64_t step = 1;         // this parameter's 1-based step count (Adam's bias correction, Adagrad's decay)
  bool first_step = false;  // SGD: the momentum buffer is new, so it is set to the gradient
};
// Checks a slot's step (>= 1), naming the op and the parameter's position in the group.
void validate_step(int64_t step, int64_t position, const char* op);

// n elements at data: one tensor of a list (gradient norms and clipping).
template <class T>
struct Span {
  T* data = nullptr;
  int64_t n = 0;
};

}  // namespace tf

// sgd_step / adam_step / rmsprop_step / adagrad_step: the rule over every slot of a group, in place.
// accumulate_norm: acc[0] (one double) += sum over every element x of every span of |x|^norm_type, or, for
// norm_type = Infinity, acc[0] = max(acc[0], max |x|) (NaN wins); accumulated in double.
// clip_by_norm: every element of every span *= min(1, max_norm / (total_norm[0] + 1e-6)), reading the norm
// from memory on the spans' device (no host round trip on cuda); nothing is written when the factor is 1.
// clamp_in_place: x = min(max(x, lo), hi) (hi wins when lo > hi, as torch.clamp); NaN stays NaN.
#define TF_OPTIM_ENTRIES                                                                                     \
  template <class T>                                                                                         \
  void sgd_step(const SgdParams& params, const std::vector<ParamSlot<T>>& group);                            \
  template <class T>                                                                                         \
  void adam_step(const AdamParams& params, const std::vector<ParamSlot<T>>& group);                          \
  template <class T>                                                                                         \
  void rmsprop_step(const RmspropParams& params, const std::vector<ParamSlot<T>>& group);                    \
  template <class T>                                                                                         \
  void adagrad_step(const AdagradParams& params, const std::vector<ParamSlot<T>>& group);                    \
  template <class T>                                                                                         \
  void accumulate_norm(const std::vector<Span<const T>>& spans, double norm_type, double* acc);             \
  template <class T>                                                                                         \
  void clip_by_norm(const std::vector<Span<T>>& spans, const double* total_norm, double max_norm);          \
  template <class T>                                                                                         \
  void clamp_in_place(int64_t n, T* x, double lo, double hi);

TF_DECLARE_ON_DEVICES(TF_OPTIM_ENTRIES)

// The dtypes the bindings dispatch, instantiated by each device inside its namespace.
#define TF_INSTANTIATE_OPTIM_FOR(T)                                                          \
  template void sgd_step<T>(const SgdParams&, const std::vector<ParamSlot<T>>&);             \
  template void adam_step<T>(const AdamParams&, const std::vector<ParamSlot<T>>&);           \
  template void rmsprop_step<T>(const RmspropParams&, const std::vector<ParamSlot<T>>&);     \
  template void adagrad_step<T>(const AdagradParams&, const std::vector<ParamSlot<T>>&);     \
  template void accumulate_norm<T>(const std::vector<Span<const T>>&, double, double*);      \
  template void clip_by_norm<T>(const std::vector<Span<T>>&, const double*, double);         \
  template void clamp_in_place<T>(int64_t, T*, double, double);
#define TF_INSTANTIATE_OPTIM TF_INSTANTIATE_OPTIM_FOR(float) TF_INSTANTIATE_OPTIM_FOR(double)

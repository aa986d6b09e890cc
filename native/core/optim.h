// Hyper-parameters and argument checks of the fused optimizer updates (PyTorch torch.optim rules).
#pragma once
#include <cstdint>

namespace tf {

struct SgdParams {
  double lr = 0, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false, maximize = false;
  // The momentum buffer is set to the (decayed) gradient instead of being blended into.
  bool first_step = false;
};
void validate_sgd(const SgdParams& params, const char* op);

struct AdamParams {
  int64_t step = 1;  // 1-based step number used for bias correction
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
  int64_t step = 1;  // 1-based
  double lr = 0, lr_decay = 0, weight_decay = 0, eps = 1e-10;
  bool maximize = false;
};
void validate_adagrad(const AdagradParams& params, const char* op);

// clampInPlace bounds: not NaN.
void validate_clamp(double lo, double hi, const char* op);

}  // namespace tf

#include "core/optim.h"

#include <cmath>

#include "core/error.h"

namespace tf {
namespace {

void require_nonnegative(double v, const char* op, const char* name) {
  TF_CHECK(std::isfinite(v) && v >= 0, Range, op, ": ", name, " must be a finite non-negative number, got ", v);
}

void require_beta(double v, const char* op, const char* name) {
  TF_CHECK(v >= 0 && v < 1, Range, op, ": ", name, " must be in [0, 1), got ", v);
}

}  // namespace

void validate_sgd(const SgdParams& p, const char* op) {
  require_nonnegative(p.lr, op, "lr");
  require_nonnegative(p.momentum, op, "momentum");
  require_nonnegative(p.dampening, op, "dampening");
  require_nonnegative(p.weight_decay, op, "weightDecay");
  TF_CHECK(!p.nesterov || (p.momentum > 0 && p.dampening == 0), Range, op,
           ": nesterov needs momentum > 0 and dampening 0, got momentum ", p.momentum, " and dampening ",
           p.dampening);
}

void validate_adam(const AdamParams& p, const char* op) {
  require_nonnegative(p.lr, op, "lr");
  require_beta(p.beta1, op, "betas[0]");
  require_beta(p.beta2, op, "betas[1]");
  require_nonnegative(p.eps, op, "eps");
  require_nonnegative(p.weight_decay, op, "weightDecay");
}

void validate_rmsprop(const RmspropParams& p, const char* op) {
  require_nonnegative(p.lr, op, "lr");
  TF_CHECK(p.alpha >= 0 && p.alpha <= 1, Range, op, ": alpha must be in [0, 1], got ", p.alpha);
  require_nonnegative(p.eps, op, "eps");
  require_nonnegative(p.weight_decay, op, "weightDecay");
  require_nonnegative(p.momentum, op, "momentum");
}

void validate_adagrad(const AdagradParams& p, const char* op) {
  require_nonnegative(p.lr, op, "lr");
  require_nonnegative(p.lr_decay, op, "lrDecay");
  require_nonnegative(p.weight_decay, op, "weightDecay");
  require_nonnegative(p.initial_accumulator_value, op, "initialAccumulatorValue");
  require_nonnegative(p.eps, op, "eps");
}

void validate_step(int64_t step, int64_t position, const char* op) {
  TF_CHECK(step >= 1, Range, op, ": steps[", position, "] must be >= 1, got ", step);
}

void validate_norm_type(double norm_type, const char* op) {
  TF_CHECK(norm_type > 0, Range, op, ": normType must be a positive number or Infinity, got ", norm_type);
}

void validate_clamp(double lo, double hi, const char* op) {
  TF_CHECK(!std::isnan(lo) && !std::isnan(hi), Range, op, ": bounds must not be NaN, got [", lo, ", ", hi, "]");
}

}  // namespace tf

#include "core/loss.h"

#include <cmath>

#include "core/error.h"
#include "core/shape.h"

namespace tf {

Reduction parse_reduction(const std::string& name, const char* op) {
  if (name == "none") return Reduction::None;
  if (name == "mean") return Reduction::Mean;
  if (name == "sum") return Reduction::Sum;
  fail(ErrorKind::Range, op, ": reduction must be 'none', 'mean' or 'sum', got '", name, "'");
}

void validate_class_loss(const ClassLossParams& params, const char* op) {
  checked_numel({params.N, params.C, params.L}, op, "input");
  TF_CHECK(params.C >= 1, Range, op, ": number of classes C must be >= 1, got ", params.C);
  TF_CHECK(params.label_smoothing >= 0 && params.label_smoothing <= 1, Range, op,
           ": labelSmoothing must be in [0, 1], got ", params.label_smoothing);
}

void validate_class_targets(const ClassLossParams& params, const int32_t* target, const char* op) {
  for (int64_t i = 0; i < params.samples(); ++i) {
    const int64_t t = target[i];
    if (params.has_ignore_index && t == params.ignore_index) continue;
    TF_CHECK(t >= 0 && t < params.C, Range, op, ": target[", i, "] = ", t, " is out of range [0, ", params.C, ")");
  }
}

void validate_pointwise_loss(const PointwiseLossParams& params, const char* op) {
  TF_CHECK(params.n >= 0, Range, op, ": n must be >= 0, got ", params.n);
  if (params.kind == PointwiseKind::SmoothL1)
    TF_CHECK(std::isfinite(params.param) && params.param >= 0, Range, op, ": beta must be finite and >= 0, got ",
             params.param);
  if (params.kind == PointwiseKind::Huber)
    TF_CHECK(std::isfinite(params.param) && params.param > 0, Range, op, ": delta must be finite and > 0, got ",
             params.param);
  TF_CHECK(params.last_dim >= 1, Range, op, ": lastDim must be >= 1, got ", params.last_dim);
}

void validate_margin(double margin, const char* op) {
  TF_CHECK(std::isfinite(margin), Range, op, ": margin must be finite, got ", margin);
}

void validate_kl_distill(const KlDistillParams& params, const char* op) {
  checked_numel({params.N, params.C}, op, "input");
  TF_CHECK(params.C >= 1, Range, op, ": number of classes C must be >= 1, got ", params.C);
  TF_CHECK(std::isfinite(params.temperature) && params.temperature > 0, Range, op,
           ": temperature must be finite and > 0, got ", params.temperature);
}

}  // namespace tf

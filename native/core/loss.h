// Argument checks and shape rules of the fused losses.
// Layout legend: N batch, C classes, L flattened extra dims; logits (N, C, L) put class c of sample
// i = n * L + l at (n * C + c) * L + l, and class-index targets (N, L) put it at i.
#pragma once
#include <cstdint>
#include <string>

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

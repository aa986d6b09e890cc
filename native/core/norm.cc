#include "core/norm.h"

#include <cmath>

#include "core/shape.h"

namespace tf {

NormLayout batch_norm_layout(int64_t N, int64_t C, int64_t L, const char* op) {
  checked_numel({N, C, L}, op, "x");
  NormLayout layout;
  layout.outer = N;
  layout.channels = C;
  layout.inner = L;
  layout.groups = C;
  layout.per_sample = false;
  return layout;
}

NormLayout layer_norm_layout(int64_t M, int64_t D, const char* op) {
  checked_numel({M, D}, op, "x");
  NormLayout layout;
  layout.outer = M;
  layout.channels = D;
  layout.inner = 1;
  layout.groups = 1;
  return layout;
}

NormLayout group_norm_layout(int64_t N, int64_t C, int64_t L, int64_t G, const char* op) {
  checked_numel({N, C, L}, op, "x");
  TF_CHECK(G >= 1, Range, op, ": groups must be >= 1, got ", G);
  TF_CHECK(C % G == 0, Range, op, ": channels C = ", C, " must be divisible by groups G = ", G);
  NormLayout layout;
  layout.outer = N;
  layout.channels = C;
  layout.inner = L;
  layout.groups = G;
  return layout;
}

void validate_norm_eps(double eps, const char* op) {
  TF_CHECK(std::isfinite(eps) && eps >= 0, Range, op, ": eps must be finite and >= 0, got ", eps);
}

void validate_norm_momentum(double momentum, const char* op) {
  TF_CHECK(momentum >= 0 && momentum <= 1, Range, op, ": momentum must be in [0, 1], got ", momentum);
}

void validate_batch_stats_count(const NormLayout& layout, const char* op) {
  const int64_t count = layout.outer * layout.inner;
  TF_CHECK(count != 1 || layout.channels == 0, Range, op,
           ": expected more than 1 value per channel when training, got N*L = 1");
}

}  // namespace tf

// Shape rules and argument checks of the normalization family (batch, layer and group norm).
//
// All three normalize x viewed as (outer, channels, inner) — element (o, c, l) at
// (o * channels + c) * inner + l — over sets of elements that share one mean and one invstd
// ("statistics"), then apply a per-channel affine gamma[c], beta[c]:
//   batch norm  x (N, C, L):  outer N, channels C, inner L; one statistic per channel, over (N, L).
//   layer norm  x (M, D):     outer M, channels D, inner 1; one statistic per row, over D.
//   group norm  x (N, C, L):  outer N, channels C, inner L; one statistic per (n, group), over (C/G, L).
#pragma once
#include <cstdint>

namespace tf {

struct NormLayout {
  int64_t outer = 0, channels = 0, inner = 0;
  // Channels are split into `groups` consecutive runs; a statistic covers one run, either for each
  // outer index separately (per_sample: layer/group norm) or across all of them (batch norm).
  int64_t groups = 1;
  bool per_sample = true;

  int64_t numel() const { return outer * channels * inner; }
  int64_t channels_per_group() const { return groups ? channels / groups : 0; }
  int64_t num_stats() const { return per_sample ? outer * groups : groups; }
  // Elements covered by one statistic.
  int64_t stat_count() const { return (per_sample ? 1 : outer) * channels_per_group() * inner; }
  int64_t stat_index(int64_t o, int64_t c) const {
    const int64_t g = c / channels_per_group();
    return per_sample ? o * groups + g : g;
  }
};

// Each builder checks sizes (>= 0, element count without overflow) and returns the layout.
// batch norm: x is (N, C, L), L the product of spatial dims (1 for (N, C) input).
NormLayout batch_norm_layout(int64_t N, int64_t C, int64_t L, const char* op);
// layer norm over the last D elements of M rows.
NormLayout layer_norm_layout(int64_t M, int64_t D, const char* op);
// group norm: G must divide C (G >= 1).
NormLayout group_norm_layout(int64_t N, int64_t C, int64_t L, int64_t G, const char* op);

// eps must be finite and >= 0.
void validate_norm_eps(double eps, const char* op);
// momentum must lie in [0, 1].
void validate_norm_momentum(double momentum, const char* op);
// Batch-norm training needs more than one value per channel (PyTorch's rule), unless the batch is empty.
void validate_batch_stats_count(const NormLayout& layout, const char* op);

}  // namespace tf

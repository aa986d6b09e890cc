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

#include "core/host_device.h"
#include "core/on_devices.h"

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

// y = (x - mean) * scale + shift (+ r, a residual), then max(y, 0) when relu: the normalized-affine map of
// one channel, on both devices.
template <class T>
struct NormAffine {
  T mean, scale, shift;
  bool relu;
  TF_HD T operator()(T x) const { return rectified((x - mean) * scale + shift); }
  TF_HD T operator()(T x, T r) const { return rectified((x - mean) * scale + shift + r); }
  TF_HD T rectified(T y) const { return relu && y < T(0) ? T(0) : y; }
};

// What follows the normalization in the same pass: a residual added elementwise (same layout as x; null
// for none), then a ReLU.
template <class T>
struct NormEpilogue {
  bool relu = false;
  const T* residual = nullptr;
};

}  // namespace tf

// The entry points of the family, for tf::cpu and tf::cuda, over a NormLayout: element (o, c, l) of x sits at
// (o * channels + c) * inner + l; statistic s = layout.stat_index(o, c). Statistics accumulate in double.
// gamma/beta may be null (no affine: 1 and 0).
//
// norm_forward (training): computes each statistic's mean and biased variance, writes save_mean and
// save_invstd = 1 / sqrt(var + eps) (num_stats each), and y = NormAffine{mean[s], invstd[s] * gamma[c], beta[c]}
// then the epilogue. When running_mean / running_var are non-null, updates them in place:
// r = (1 - momentum) r + momentum * s with the unbiased variance var * n / (n - 1) (PyTorch), skipped for
// empty statistics. An empty statistic gets mean 0, var 0.
// batch_norm_inference: the same map with the running statistics, invstd = 1 / sqrt(running_var + eps).
// norm_backward: writes (overwrites) whichever of dx (numel), dgamma, dbeta (channels each) is non-null.
// batch_stats = false treats mean/invstd as constants (batch norm in eval mode): dx = dy * gamma * invstd.
// Otherwise, with xhat = (x - mean) * invstd, a = dy * gamma and K = stat_count:
// dx = invstd / K * (K a - sum(a) - xhat * sum(a * xhat)). relu_y, when non-null, is the output of a forward
// with the fused ReLU (batch norm only): dy then counts only where relu_y > 0.
#define TF_NORM_ENTRIES                                                                                          \
  template <class T>                                                                                             \
  void norm_forward(const NormLayout& layout, const T* x, const T* gamma, const T* beta, double eps, T* y,      \
                    T* save_mean, T* save_invstd, T* running_mean, T* running_var, double momentum,             \
                    NormEpilogue<T> epilogue);                                                                   \
  template <class T>                                                                                             \
  void batch_norm_inference(const NormLayout& layout, const T* x, const T* running_mean, const T* running_var, \
                            const T* gamma, const T* beta, double eps, NormEpilogue<T> epilogue, T* y);         \
  template <class T>                                                                                             \
  void norm_backward(const NormLayout& layout, const T* x, const T* dy, const T* mean, const T* invstd,        \
                     const T* gamma, bool batch_stats, const T* relu_y, T* dx, T* dgamma, T* dbeta);

TF_DECLARE_ON_DEVICES(TF_NORM_ENTRIES)

// Each device's definitions are instantiated from this list (inside its namespace).
#define TF_INSTANTIATE_NORM_FOR(T)                                                                               \
  template void norm_forward<T>(const NormLayout&, const T*, const T*, const T*, double, T*, T*, T*, T*, T*,   \
                                double, NormEpilogue<T>);                                                        \
  template void batch_norm_inference<T>(const NormLayout&, const T*, const T*, const T*, const T*, const T*,   \
                                        double, NormEpilogue<T>, T*);                                            \
  template void norm_backward<T>(const NormLayout&, const T*, const T*, const T*, const T*, const T*, bool,    \
                                 const T*, T*, T*, T*);
#define TF_INSTANTIATE_NORM TF_INSTANTIATE_NORM_FOR(float) TF_INSTANTIATE_NORM_FOR(double)

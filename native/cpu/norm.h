// CPU kernels of the normalization family over a NormLayout (see core/norm.h):
// element (o, c, l) of x sits at (o * channels + c) * inner + l; statistic s = layout.stat_index(o, c).
// Statistics accumulate in double. gamma/beta may be null (no affine: 1 and 0).
#pragma once
#include <cstdint>

#include "core/norm.h"
#include "core/philox.h"  // TF_HD

namespace tf::cpu {

// y = (x - mean) * scale + shift (+ r, a residual), then max(y, 0) when relu: the normalized-affine map of
// one channel.
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

// Training forward: computes each statistic's mean and biased variance, writes save_mean and
// save_invstd = 1 / sqrt(var + eps) (num_stats each), and y. When running_mean / running_var are
// non-null, updates them in place: r = (1 - momentum) r + momentum * s with the unbiased variance
// var * n / (n - 1) (PyTorch), skipped for empty statistics. An empty statistic gets mean 0, var 0.
// The epilogue (a residual, a ReLU) runs in the same pass.
template <class T>
void norm_forward(const NormLayout& layout, const T* x, const T* gamma, const T* beta, double eps, T* y,
                  T* save_mean, T* save_invstd, T* running_mean, T* running_var, double momentum,
                  NormEpilogue<T> epilogue);

// y = NormAffine{mean[s], invstd[s] * gamma[c], beta[c], relu}(x, residual) with given statistics (inference).
template <class T>
void norm_apply(const NormLayout& layout, const T* x, const T* mean, const T* invstd, const T* gamma, const T* beta,
                NormEpilogue<T> epilogue, T* y);

// Batch-norm inference with running statistics: invstd = 1 / sqrt(running_var + eps), then the epilogue.
template <class T>
void batch_norm_inference(const NormLayout& layout, const T* x, const T* running_mean, const T* running_var,
                          const T* gamma, const T* beta, double eps, NormEpilogue<T> epilogue, T* y);

// Backward of norm_forward given its saved mean/invstd. Writes (overwrites) whichever of dx (numel),
// dgamma, dbeta (channels each) is non-null. batch_stats = false treats mean/invstd as constants
// (batch norm in eval mode): dx = dy * gamma * invstd. Otherwise, with xhat = (x - mean) * invstd,
// a = dy * gamma and K = stat_count: dx = invstd / K * (K a - sum(a) - xhat * sum(a * xhat)).
// relu_y, when non-null, is the output of a forward with the fused ReLU (batch norm only: per-channel rows):
// dy then counts only where relu_y > 0, the ReLU's backward folded into the same passes.
template <class T>
void norm_backward(const NormLayout& layout, const T* x, const T* dy, const T* mean, const T* invstd, const T* gamma,
                   bool batch_stats, const T* relu_y, T* dx, T* dgamma, T* dbeta);

}  // namespace tf::cpu

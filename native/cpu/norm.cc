// Legend: outer o (N for batch/group norm, rows M for layer norm), channel c, inner l (spatial),
// statistic s. See core/norm.h for how the three norms map onto the layout.
#include "cpu/norm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/thread_pool.h"

namespace tf::cpu {
namespace {

// Enough elements per task that pool overhead stays small.

// Calls f(c, base) for each (o, c) row of inner elements that statistic s covers; base = (o*channels + c)*inner.
template <class F>
void for_each_row(const NormLayout& layout, int64_t s, F&& f) {
  const int64_t cpg = layout.channels_per_group();
  const int64_t g = layout.per_sample ? s % layout.groups : s;
  const int64_t o_begin = layout.per_sample ? s / layout.groups : 0;
  const int64_t o_end = layout.per_sample ? o_begin + 1 : layout.outer;
  for (int64_t o = o_begin; o < o_end; ++o)
    for (int64_t c = g * cpg; c < (g + 1) * cpg; ++c) f(c, (o * layout.channels + c) * layout.inner);
}

template <class T>
T param_or(const T* p, int64_t i, T fallback) {
  return p ? p[i] : fallback;
}

}  // namespace

template <class T>
void norm_apply(const NormLayout& layout, const T* x, const T* mean, const T* invstd, const T* gamma, const T* beta,
                bool relu, T* y) {
  const int64_t C = layout.channels, L = layout.inner;
  parallel_for(layout.outer * C, grain_for(L), [&](int64_t begin, int64_t end) {
    for (int64_t oc = begin; oc < end; ++oc) {
      const int64_t c = oc % C, s = layout.stat_index(oc / C, c);
      const NormAffine<T> f{mean[s], invstd[s] * param_or(gamma, c, T(1)), param_or(beta, c, T(0)), relu};
      const T* xr = x + oc * L;
      T* yr = y + oc * L;
      for (int64_t l = 0; l < L; ++l) yr[l] = f(xr[l]);
    }
  });
}

template <class T>
void norm_forward(const NormLayout& layout, const T* x, const T* gamma, const T* beta, double eps, T* y,
                  T* save_mean, T* save_invstd, T* running_mean, T* running_var, double momentum) {
  const int64_t L = layout.inner, count = layout.stat_count();
  parallel_for(layout.num_stats(), grain_for(count), [&](int64_t begin, int64_t end) {
    for (int64_t s = begin; s < end; ++s) {
      double sum = 0;
      for_each_row(layout, s, [&](int64_t, int64_t base) {
        for (int64_t l = 0; l < L; ++l) sum += double(x[base + l]);
      });
      const double mean = count ? sum / double(count) : 0.0;
      double sq = 0;  // second pass: no cancellation when |mean| >> std
      for_each_row(layout, s, [&](int64_t, int64_t base) {
        for (int64_t l = 0; l < L; ++l) {
          const double d = double(x[base + l]) - mean;
          sq += d * d;
        }
      });
      const double var = count ? sq / double(count) : 0.0;
      save_mean[s] = T(mean);
      save_invstd[s] = T(1.0 / std::sqrt(var + eps));
      if (running_mean && count > 0) running_mean[s] = T((1 - momentum) * double(running_mean[s]) + momentum * mean);
      if (running_var && count > 0) {
        const double unbiased = count > 1 ? var * double(count) / double(count - 1) : var;
        running_var[s] = T((1 - momentum) * double(running_var[s]) + momentum * unbiased);
      }
    }
  });
  norm_apply(layout, x, save_mean, save_invstd, gamma, beta, false, y);
}

template <class T>
void batch_norm_inference(const NormLayout& layout, const T* x, const T* running_mean, const T* running_var,
                          const T* gamma, const T* beta, double eps, bool relu, T* y) {
  std::vector<T> invstd(size_t(layout.num_stats()));
  for (size_t s = 0; s < invstd.size(); ++s) invstd[s] = T(1.0 / std::sqrt(double(running_var[s]) + eps));
  norm_apply(layout, x, running_mean, invstd.data(), gamma, beta, relu, y);
}

template <class T>
void norm_backward(const NormLayout& layout, const T* x, const T* dy, const T* mean, const T* invstd, const T* gamma,
                   bool batch_stats, T* dx, T* dgamma, T* dbeta) {
  const int64_t C = layout.channels, L = layout.inner;
  if (dgamma || dbeta) {
    parallel_for(C, grain_for(layout.outer * L), [&](int64_t begin, int64_t end) {
      for (int64_t c = begin; c < end; ++c) {
        double sum_dy = 0, sum_dy_xhat = 0;
        for (int64_t o = 0; o < layout.outer; ++o) {
          const int64_t s = layout.stat_index(o, c), base = (o * C + c) * L;
          const double m = double(mean[s]), is = double(invstd[s]);
          for (int64_t l = 0; l < L; ++l) {
            const double g = double(dy[base + l]);
            sum_dy += g;
            sum_dy_xhat += g * (double(x[base + l]) - m) * is;
          }
        }
        if (dgamma) dgamma[c] = T(sum_dy_xhat);
        if (dbeta) dbeta[c] = T(sum_dy);
      }
    });
  }
  if (!dx) return;
  if (!batch_stats) {
    // dx = dy * gamma * invstd: the affine map with mean 0 and shift 0 applied to dy.
    const std::vector<T> zeros(size_t(layout.num_stats()), T(0));
    norm_apply(layout, dy, zeros.data(), invstd, gamma, static_cast<const T*>(nullptr), false, dx);
    return;
  }
  const int64_t count = layout.stat_count();
  parallel_for(layout.num_stats(), grain_for(count), [&](int64_t begin, int64_t end) {
    for (int64_t s = begin; s < end; ++s) {
      const double m = double(mean[s]), is = double(invstd[s]);
      double sum_a = 0, sum_a_xhat = 0;
      for_each_row(layout, s, [&](int64_t c, int64_t base) {
        const double gm = double(param_or(gamma, c, T(1)));
        for (int64_t l = 0; l < L; ++l) {
          const double a = double(dy[base + l]) * gm;
          sum_a += a;
          sum_a_xhat += a * (double(x[base + l]) - m) * is;
        }
      });
      const double k = count ? is / double(count) : 0.0;
      for_each_row(layout, s, [&](int64_t c, int64_t base) {
        const double gm = double(param_or(gamma, c, T(1)));
        for (int64_t l = 0; l < L; ++l) {
          const double xhat = (double(x[base + l]) - m) * is;
          dx[base + l] = T(double(dy[base + l]) * gm * is - k * (sum_a + xhat * sum_a_xhat));
        }
      });
    }
  });
}

#define TF_INSTANTIATE_NORM(T)                                                                                    \
  template void norm_forward<T>(const NormLayout&, const T*, const T*, const T*, double, T*, T*, T*, T*, T*,      \
                                double);                                                                          \
  template void norm_apply<T>(const NormLayout&, const T*, const T*, const T*, const T*, const T*, bool, T*);     \
  template void batch_norm_inference<T>(const NormLayout&, const T*, const T*, const T*, const T*, const T*,      \
                                        double, bool, T*);                                                        \
  template void norm_backward<T>(const NormLayout&, const T*, const T*, const T*, const T*, const T*, bool, T*,   \
                                 T*, T*);
TF_INSTANTIATE_NORM(float)
TF_INSTANTIATE_NORM(double)
#undef TF_INSTANTIATE_NORM

}  // namespace tf::cpu

// Legend: outer o (N for batch/group norm, rows M for layer norm), channel c, inner l (spatial),
// statistic s. See core/norm.h for how the three norms map onto the layout.
//
// Sums: see cpu/sums.h.
#include "cpu/norm.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

#include "core/thread_pool.h"
#include "cpu/avx512.h"
#include "cpu/sums.h"

namespace tf::cpu {
namespace {

using sums::fold;
using sums::kAcc;
using sums::kVecWidth;
using sums::load;
using sums::Vec;

// The epilogue of the elements from `offset` on (its residual moved along with x).
template <class T>
NormEpilogue<T> offset_by(NormEpilogue<T> epilogue, int64_t offset) {
  if (epilogue.residual) epilogue.residual += offset;
  return epilogue;
}

template <class T>
T param_or(const T* p, int64_t i, T fallback) {
  return p ? p[i] : fallback;
}

// Calls f(s, c0, base) for every span of statistics [s_begin, s_end), in memory order: a span is the
// channels [c0, c0 + cpg) of one sample, cpg * inner contiguous elements from base. A batch-norm
// statistic has one span per sample, spread through x; walking adjacent statistics sample by sample
// reads one contiguous run per sample instead, long enough for the hardware prefetcher.
template <class F>
void for_each_span(const NormLayout& layout, int64_t s_begin, int64_t s_end, F&& f) {
  const int64_t cpg = layout.channels_per_group(), L = layout.inner;
  if (layout.per_sample) {
    for (int64_t s = s_begin; s < s_end; ++s) f(s, (s % layout.groups) * cpg, s * cpg * L);
    return;
  }
  for (int64_t o = 0; o < layout.outer; ++o)
    for (int64_t s = s_begin; s < s_end; ++s) f(s, s * cpg, (o * layout.channels + s * cpg) * L);
}

// Statistics handled together: enough that a run of their spans fills kTileBytes, so that the
// run is long enough to stream and the tile's data is still in cache for the second pass.
constexpr int64_t kTileBytes = int64_t(32) << 10;

template <class T>
int64_t stats_per_tile(const NormLayout& layout) {
  const int64_t span_bytes = layout.channels_per_group() * layout.inner * int64_t(sizeof(T));
  return std::max<int64_t>(1, kTileBytes / std::max<int64_t>(1, span_bytes));
}

// Count, mean and sum of squared deviations of one statistic, in double. Each block is summed
// around a shift (the mean so far) so that the squares do not cancel when |mean| >> std, then
// merged with the exact pairwise update of Chan, Golub and LeVeque.
struct Moments {
  double n = 0, mean = 0, m2 = 0;

  template <class T>
  void add(const T* x, int64_t len) {
    for (int64_t i = 0; i < len; i += kSumBlock) add_block(x + i, std::min(kSumBlock, len - i));
  }

 private:
  template <class T>
  void add_block(const T* x, int64_t len) {
    const T shift = n > 0 ? T(mean) : x[0];
    Vec<T> s1[kAcc] = {}, s2[kAcc] = {};
    int64_t i = 0;
    for (; i + kAcc * kVecWidth<T> <= len; i += kAcc * kVecWidth<T>)
      for (int a = 0; a < kAcc; ++a) {
        const Vec<T> d = load(x + i + a * kVecWidth<T>) - shift;
        s1[a] += d;
        s2[a] += d * d;
      }
    double b1 = fold(s1), b2 = fold(s2);
    for (; i < len; ++i) {
      const double d = double(x[i]) - double(shift);
      b1 += d;
      b2 += d * d;
    }
    const double nb = double(len), total = n + nb;
    const double delta = double(shift) + b1 / nb - mean;
    mean += delta * nb / total;
    m2 += b2 - b1 * b1 / nb + delta * delta * n * nb / total;
    n = total;
  }
};

// g where y > 0, else 0 (also for a NaN or infinite g), as bit masks: a select the compiler keeps in vector
// registers, where a branch per element on a random ReLU mask ran the fused backward 10x slower.
template <class T>
Vec<T> keep_where_positive(Vec<T> g, Vec<T> y) {
  using Bits [[gnu::vector_size(16)]] = std::conditional_t<sizeof(T) == 4, int32_t, int64_t>;
  const Bits keep = y > T(0);
  Bits bits;
  std::memcpy(&bits, &g, sizeof bits);
  bits &= keep;
  std::memcpy(&g, &bits, sizeof g);
  return g;
}

// Adds sum(a) and sum(a * (x - m)) over len elements to sum_a and sum_ax, with a = dy * w[i] when
// kWeighted (layer norm: gamma changes every element) and a = dy otherwise; when kMasked, a counts only where
// relu_y > 0 (the output of a forward with a fused ReLU).
template <bool kWeighted, bool kMasked, class T>
void add_grad_sums(const T* x, const T* dy, const T* w, const T* relu_y, int64_t len, T m, double& sum_a,
                   double& sum_ax) {
  for (int64_t b = 0; b < len; b += kSumBlock) {
    const int64_t b_end = std::min(len, b + kSumBlock);
    Vec<T> sa[kAcc] = {}, sax[kAcc] = {};
    int64_t i = b;
    for (; i + kAcc * kVecWidth<T> <= b_end; i += kAcc * kVecWidth<T>)
      for (int a = 0; a < kAcc; ++a) {
        const int64_t k = i + a * kVecWidth<T>;
        Vec<T> g = kWeighted ? load(dy + k) * load(w + k) : load(dy + k);
        if constexpr (kMasked) g = keep_where_positive<T>(g, load(relu_y + k));
        sa[a] += g;
        sax[a] += g * (load(x + k) - m);
      }
    sum_a += fold(sa);
    sum_ax += fold(sax);
    for (; i < b_end; ++i) {
      const double g = kMasked && !(relu_y[i] > T(0)) ? 0.0 : kWeighted ? double(dy[i]) * double(w[i]) : double(dy[i]);
      sum_a += g;
      sum_ax += g * (double(x[i]) - double(m));
    }
  }
}

// dx = a * a_scale - (x - m) * slope - offset over len elements, with a = dy * w[i] when kWeighted and
// a = dy otherwise (the row's gamma then folded into a_scale), masked like add_grad_sums. In double: the terms
// can nearly cancel, as in a statistic of one or two elements, whose dx is zero.
template <bool kWeighted, bool kMasked, class T>
TF_AVX512_CLONES void grad_input(const T* x, const T* dy, const T* w, const T* relu_y, int64_t len, double m,
                                 double a_scale, double slope, double offset, T* dx) {
  T masked[kSumBlock];
  for (int64_t b = 0; b < len; b += kSumBlock) {
    const int64_t n = std::min(kSumBlock, len - b);
    const T* g = dy + b;
    if constexpr (kMasked) {
      int64_t i = 0;
      for (; i + kVecWidth<T> <= n; i += kVecWidth<T>) {
        const Vec<T> v = keep_where_positive<T>(load(dy + b + i), load(relu_y + b + i));
        std::memcpy(masked + i, &v, sizeof v);
      }
      for (; i < n; ++i) masked[i] = relu_y[b + i] > T(0) ? dy[b + i] : T(0);
      g = masked;
    }
    for (int64_t i = 0; i < n; ++i) {
      const double a = kWeighted ? double(g[i]) * double(w[b + i]) : double(g[i]);
      dx[b + i] = T(a * a_scale - (double(x[b + i]) - m) * slope - offset);
    }
  }
}

// Applies NormAffine and the epilogue to one statistic's span: channels [c0, c0 + channels) of one sample,
// inner each (the residual at the same offsets as x).
template <bool kResidual, class T>
TF_AVX512_CLONES void apply_span_with(const T* x, int64_t c0, int64_t channels, int64_t inner, T mean, T invstd,
                                      const T* gamma, const T* beta, bool relu, const T* residual, T* y) {
  if (inner == 1) {
    for (int64_t c = 0; c < channels; ++c) {
      const NormAffine<T> f{mean, invstd * param_or(gamma, c0 + c, T(1)), param_or(beta, c0 + c, T(0)), relu};
      y[c] = kResidual ? f(x[c], residual[c]) : f(x[c]);
    }
    return;
  }
  for (int64_t c = 0; c < channels; ++c) {
    const NormAffine<T> f{mean, invstd * param_or(gamma, c0 + c, T(1)), param_or(beta, c0 + c, T(0)), relu};
    const T* xr = x + c * inner;
    const T* rr = kResidual ? residual + c * inner : nullptr;
    T* yr = y + c * inner;
    // Unrolled so that this short vector loop's speed does not hinge on where it lands in the code.
#pragma GCC unroll 4
    for (int64_t l = 0; l < inner; ++l) yr[l] = kResidual ? f(xr[l], rr[l]) : f(xr[l]);
  }
}

template <class T>
void apply_span(const T* x, int64_t c0, int64_t channels, int64_t inner, T mean, T invstd, const T* gamma,
                const T* beta, NormEpilogue<T> epilogue, T* y) {
  if (epilogue.residual)
    apply_span_with<true>(x, c0, channels, inner, mean, invstd, gamma, beta, epilogue.relu, epilogue.residual, y);
  else
    apply_span_with<false>(x, c0, channels, inner, mean, invstd, gamma, beta, epilogue.relu, epilogue.residual, y);
}

// dgamma[c] = sum over o, l of dy * xhat, dbeta[c] = sum of dy, for per-sample statistics (layer and
// group norm), where a channel's terms span every statistic: a reduction over o, split by channel.
template <class T>
void per_sample_param_grads(const NormLayout& layout, const T* x, const T* dy, const T* mean, const T* invstd,
                            T* dgamma, T* dbeta) {
  const int64_t C = layout.channels, L = layout.inner, cpg = layout.channels_per_group();
  parallel_for(C, grain_for(layout.outer * L), [&](int64_t begin, int64_t end) {
    std::vector<double> acc_dy(size_t(end - begin), 0.0), acc_dy_xhat(size_t(end - begin), 0.0);
    for (int64_t o = 0; o < layout.outer; ++o) {
      for (int64_t c = begin; c < end;) {
        // Channels up to the end of c's group share a statistic; with inner 1 (layer norm) this
        // inner loop runs along a contiguous row and vectorizes across channels.
        const int64_t group_end = std::min(end, (c / cpg + 1) * cpg), s = layout.stat_index(o, c);
        const T m = mean[s];
        const double is = double(invstd[s]);
        for (; c < group_end; ++c) {
          const int64_t base = (o * C + c) * L;
          double sum_dy = 0, sum_dy_xm = 0;
          if (L == 1) {
            sum_dy = double(dy[base]);
            sum_dy_xm = sum_dy * (double(x[base]) - double(m));
          } else {
            const T* none = nullptr;
            add_grad_sums<false, false>(x + base, dy + base, none, none, L, m, sum_dy, sum_dy_xm);
          }
          acc_dy[size_t(c - begin)] += sum_dy;
          acc_dy_xhat[size_t(c - begin)] += sum_dy_xm * is;
        }
      }
    }
    for (int64_t c = begin; c < end; ++c) {
      if (dgamma) dgamma[c] = T(acc_dy_xhat[size_t(c - begin)]);
      if (dbeta) dbeta[c] = T(acc_dy[size_t(c - begin)]);
    }
  });
}

}  // namespace

template <class T>
void norm_apply(const NormLayout& layout, const T* x, const T* mean, const T* invstd, const T* gamma, const T* beta,
                NormEpilogue<T> epilogue, T* y) {
  const int64_t C = layout.channels, L = layout.inner;
  parallel_for(layout.outer * C, grain_for(L), [&](int64_t begin, int64_t end) {
    for (int64_t oc = begin; oc < end; ++oc) {
      const int64_t c = oc % C, s = layout.stat_index(oc / C, c);
      apply_span(x + oc * L, c, 1, L, mean[s], invstd[s], gamma, beta, offset_by(epilogue, oc * L), y + oc * L);
    }
  });
}

template <class T>
void norm_forward(const NormLayout& layout, const T* x, const T* gamma, const T* beta, double eps, T* y,
                  T* save_mean, T* save_invstd, T* running_mean, T* running_var, double momentum,
                  NormEpilogue<T> epilogue) {
  const int64_t L = layout.inner, cpg = layout.channels_per_group(), count = layout.stat_count();
  const int64_t num_stats = layout.num_stats(), threads = num_threads(), tile = stats_per_tile<T>(layout);
  // Normalizing a tile right after measuring it finds its elements still in cache, but splits the
  // output pass by statistic, which is uneven across threads when there are few statistics.
  const bool fuse_apply = num_stats % threads == 0 || num_stats >= 8 * threads;
  parallel_for(num_stats, grain_for(count), [&](int64_t begin, int64_t end) {
    std::vector<Moments> moments(size_t(std::min(tile, end - begin)));
    for (int64_t s_begin = begin; s_begin < end; s_begin += tile) {
      const int64_t s_end = std::min(end, s_begin + tile);
      std::fill(moments.begin(), moments.end(), Moments{});
      for_each_span(layout, s_begin, s_end,
                    [&](int64_t s, int64_t, int64_t base) { moments[size_t(s - s_begin)].add(x + base, cpg * L); });
      for (int64_t s = s_begin; s < s_end; ++s) {
        const Moments& ms = moments[size_t(s - s_begin)];
        const double mean = count ? ms.mean : 0.0, var = count ? std::max(0.0, ms.m2 / double(count)) : 0.0;
        save_mean[s] = T(mean);
        save_invstd[s] = T(1.0 / std::sqrt(var + eps));
        if (running_mean && count > 0)
          running_mean[s] = T((1 - momentum) * double(running_mean[s]) + momentum * mean);
        if (running_var && count > 0) {
          const double unbiased = count > 1 ? var * double(count) / double(count - 1) : var;
          running_var[s] = T((1 - momentum) * double(running_var[s]) + momentum * unbiased);
        }
      }
      if (fuse_apply)
        for_each_span(layout, s_begin, s_end, [&](int64_t s, int64_t c0, int64_t base) {
          apply_span(x + base, c0, cpg, L, save_mean[s], save_invstd[s], gamma, beta, offset_by(epilogue, base),
                     y + base);
        });
    }
  });
  if (!fuse_apply) norm_apply(layout, x, save_mean, save_invstd, gamma, beta, epilogue, y);
}

template <class T>
void batch_norm_inference(const NormLayout& layout, const T* x, const T* running_mean, const T* running_var,
                          const T* gamma, const T* beta, double eps, NormEpilogue<T> epilogue, T* y) {
  std::vector<T> invstd(size_t(layout.num_stats()));
  for (size_t s = 0; s < invstd.size(); ++s) invstd[s] = T(1.0 / std::sqrt(double(running_var[s]) + eps));
  norm_apply(layout, x, running_mean, invstd.data(), gamma, beta, epilogue, y);
}

template <class T>
void norm_backward(const NormLayout& layout, const T* x, const T* dy, const T* mean, const T* invstd, const T* gamma,
                   bool batch_stats, const T* relu_y, T* dx, T* dgamma, T* dbeta) {
  const int64_t L = layout.inner, cpg = layout.channels_per_group(), count = layout.stat_count();
  const bool param_grads = dgamma || dbeta, batch_dx = dx && batch_stats;
  // Batch-norm channels lie within one statistic, so the per-statistic pass below also yields their
  // dgamma and dbeta; per-sample statistics need a separate reduction over samples.
  const bool param_grads_per_stat = param_grads && !layout.per_sample;
  if (param_grads && layout.per_sample) per_sample_param_grads(layout, x, dy, mean, invstd, dgamma, dbeta);
  // Cutting a span into one row per channel would give layer norm (inner 1) rows of one element, so its
  // span is taken whole, with gamma as per-element weights.
  const bool whole_span = layout.per_sample && L == 1;
  const T* none = nullptr;
  if (batch_dx || param_grads_per_stat) {
    const int64_t tile = stats_per_tile<T>(layout);
    parallel_for(layout.num_stats(), grain_for(count), [&](int64_t begin, int64_t end) {
      const size_t tile_stats = size_t(std::min(tile, end - begin));
      // Per statistic of the tile: sum(a) and sum(a * (x - mean)) with a = dy * gamma; per channel of
      // the tile (batch norm only): sum(dy) and sum(dy * (x - mean)).
      std::vector<double> sum_a(tile_stats), sum_a_xm(tile_stats);
      std::vector<double> channel_dy(param_grads_per_stat ? tile_stats * size_t(cpg) : 0);
      std::vector<double> channel_dy_xm(channel_dy.size());
      for (int64_t s_begin = begin; s_begin < end; s_begin += tile) {
        const int64_t s_end = std::min(end, s_begin + tile);
        std::fill(sum_a.begin(), sum_a.end(), 0.0);
        std::fill(sum_a_xm.begin(), sum_a_xm.end(), 0.0);
        std::fill(channel_dy.begin(), channel_dy.end(), 0.0);
        std::fill(channel_dy_xm.begin(), channel_dy_xm.end(), 0.0);
        for_each_span(layout, s_begin, s_end, [&](int64_t s, int64_t c0, int64_t base) {
          const size_t t = size_t(s - s_begin);
          if (whole_span) {
            if (gamma)
              add_grad_sums<true, false>(x + base, dy + base, gamma + c0, none, cpg, mean[s], sum_a[t], sum_a_xm[t]);
            else
              add_grad_sums<false, false>(x + base, dy + base, none, none, cpg, mean[s], sum_a[t], sum_a_xm[t]);
            return;
          }
          for (int64_t j = 0; j < cpg; ++j) {
            double sum_dy = 0, sum_dy_xm = 0;
            const int64_t row = base + j * L;
            if (relu_y)  // the fused ReLU's mask
              add_grad_sums<false, true>(x + row, dy + row, none, relu_y + row, L, mean[s], sum_dy, sum_dy_xm);
            else
              add_grad_sums<false, false>(x + row, dy + row, none, none, L, mean[s], sum_dy, sum_dy_xm);
            const double gm = double(param_or(gamma, c0 + j, T(1)));
            sum_a[t] += gm * sum_dy;
            sum_a_xm[t] += gm * sum_dy_xm;
            if (param_grads_per_stat) {
              channel_dy[t * size_t(cpg) + size_t(j)] += sum_dy;
              channel_dy_xm[t * size_t(cpg) + size_t(j)] += sum_dy_xm;
            }
          }
        });
        if (param_grads_per_stat)
          for (int64_t s = s_begin; s < s_end; ++s)
            for (int64_t j = 0; j < cpg; ++j) {
              const size_t i = size_t((s - s_begin) * cpg + j);
              if (dgamma) dgamma[s * cpg + j] = T(channel_dy_xm[i] * double(invstd[s]));
              if (dbeta) dbeta[s * cpg + j] = T(channel_dy[i]);
            }
        if (!batch_dx) continue;
        // dx = invstd / K * (K a - sum(a) - xhat * sum(a * xhat)) with xhat = (x - m) * invstd.
        for_each_span(layout, s_begin, s_end, [&](int64_t s, int64_t c0, int64_t base) {
          const size_t t = size_t(s - s_begin);
          const double m = double(mean[s]), is = double(invstd[s]), k = count ? is / double(count) : 0.0;
          const double slope = k * is * is * sum_a_xm[t], offset = k * sum_a[t];
          if (whole_span) {
            if (gamma)
              grad_input<true, false>(x + base, dy + base, gamma + c0, none, cpg, m, is, slope, offset, dx + base);
            else
              grad_input<false, false>(x + base, dy + base, none, none, cpg, m, is, slope, offset, dx + base);
            return;
          }
          for (int64_t j = 0; j < cpg; ++j) {
            const int64_t row = base + j * L;
            const double a_scale = double(param_or(gamma, c0 + j, T(1))) * is;
            if (relu_y)
              grad_input<false, true>(x + row, dy + row, none, relu_y + row, L, m, a_scale, slope, offset, dx + row);
            else
              grad_input<false, false>(x + row, dy + row, none, none, L, m, a_scale, slope, offset, dx + row);
          }
        });
      }
    });
  }
  if (dx && !batch_stats) {
    // dx = dy * gamma * invstd: the affine map with mean 0 and shift 0 applied to dy (where relu_y > 0).
    const std::vector<T> zeros(size_t(layout.num_stats()), T(0));
    norm_apply(layout, dy, zeros.data(), invstd, gamma, static_cast<const T*>(nullptr), NormEpilogue<T>{}, dx);
    if (relu_y)
      parallel_for(layout.numel(), kTaskWork, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) dx[i] = relu_y[i] > T(0) ? dx[i] : T(0);
      });
  }
}

template void norm_apply<float>(const NormLayout&, const float*, const float*, const float*, const float*,
                                const float*, NormEpilogue<float>, float*);
template void norm_apply<double>(const NormLayout&, const double*, const double*, const double*, const double*,
                                 const double*, NormEpilogue<double>, double*);
TF_INSTANTIATE_NORM

}  // namespace tf::cpu

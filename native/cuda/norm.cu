// CUDA batch, layer and group norm: the entry points of core/norm.h, with the CPU's semantics (statistics in
// double, the normalized-affine map NormAffine in the element type).
//
// Legend (core/norm.h): outer o, channel c, inner l, statistic s; K = the elements of one statistic. A
// statistic's elements are its spans: one per sample for batch norm (channel s of every sample, L elements
// each), one for layer and group norm (cpg * L contiguous elements); element i of a statistic is element
// i % span_len of span i / span_len.
//
// Work mapping:
// - forward (training) and the backward's statistic pass: a block per (statistic, chunk) (a grid-stride loop
//   over statistics). A statistic is one chunk unless statistics are few and large (chunks_for), when each
//   chunk's block leaves a partial result (moments, or gradient sums) and a second kernel over the same blocks
//   merges them in chunk order. A block reduces in double with block_all_reduce (cuda/block_reduce.h): the
//   variance in two passes over its chunk (the mean first, then the squared deviations: no cancellation when
//   |mean| >> std), chunks merged with Chan's update; then it writes y (or dx) over its chunk, re-read from L2.
// - layer / group norm dgamma, dbeta: one block a channel, over its outer * L elements; for L = 1 (layer norm)
//   a block of 32 neighbouring channels instead, a warp a row at a time (column_param_grads_kernel).
// - inference and eval-mode dx: elementwise, one thread an element.
// Every sum is a fixed tree over a fixed assignment of elements to threads: results are deterministic.
#include "cuda/kernel.h"

#include <cmath>

#include "core/norm.h"
#include "cuda/block_reduce.h"
#include "cuda/runtime.h"

namespace tf::cuda {
namespace {

constexpr int kThreads = 256;

// A NormLayout as device code reads it (NormLayout's helpers are host functions).
struct StatSpans {
  int64_t C, L, cpg, groups, count, span_len;
  bool per_sample;

  explicit StatSpans(const NormLayout& layout)
      : C(layout.channels), L(layout.inner), cpg(layout.channels_per_group()), groups(layout.groups),
        count(layout.stat_count()), span_len(layout.channels_per_group() * layout.inner),
        per_sample(layout.per_sample) {}

  // The position in x of element i of statistic s, and its channel.
  __device__ int64_t at(int64_t s, int64_t i, int64_t& c) const {
    const int64_t span = i / span_len, j = i - span * span_len;
    const int64_t c0 = (per_sample ? s % groups : s) * cpg;
    c = c0 + j / L;
    return per_sample ? s * span_len + j : (span * C + c0) * L + j;
  }
};

template <class T>
__device__ T param_or(const T* p, int64_t i, T fallback) {
  return p ? p[i] : fallback;
}

// The gradient that reaches the normalization: dy, or 0 where a fused ReLU's output is not positive.
template <class T>
__device__ double masked_grad(const T* dy, const T* relu_y, int64_t at) {
  return relu_y && !(relu_y[at] > T(0)) ? 0.0 : double(dy[at]);
}

struct Plus {
  __device__ double operator()(double a, double b) const { return a + b; }
};

// sum(a) and sum(a * (x - mean)) of one statistic (16 bytes: one block reduction).
struct GradSums {
  double a, a_xm;
};
struct GradSumsPlus {
  __device__ GradSums operator()(GradSums u, GradSums v) const { return {u.a + v.a, u.a_xm + v.a_xm}; }
};

// Count, mean and sum of squared deviations of some elements of a statistic.
struct Moments {
  double n, mean, m2;
};

// The exact pairwise update of Chan, Golub and LeVeque (an empty side leaves the other as it is).
__device__ Moments merge(const Moments& a, const Moments& b) {
  if (a.n == 0) return b;
  if (b.n == 0) return a;
  const double n = a.n + b.n, delta = b.mean - a.mean;
  return {n, a.mean + delta * b.n / n, a.m2 + b.m2 + delta * delta * a.n * b.n / n};
}

// The elements [begin, end) of a statistic that block (s, blockIdx.y) handles: chunk blockIdx.y of gridDim.y.
struct Chunk {
  int64_t begin, end;
};
__device__ Chunk chunk_of(const StatSpans& sp) {
  const int64_t len = (sp.count + gridDim.y - 1) / gridDim.y, begin = blockIdx.y * len;
  const int64_t end = begin + len < sp.count ? begin + len : sp.count;
  return {begin < end ? begin : end, end};
}

// Threads a block for `count` elements: whole warps, about 8 elements a thread, at most kThreads.
int threads_for(int64_t count) {
  int threads = kWarpSize;
  while (threads < kThreads && int64_t(threads) * 8 < count) threads *= 2;
  return threads;
}

// Chunks a statistic is split into, each a block: when statistics are few and large (batch norm over a big
// batch: a few hundred channels of many thousand elements), one block a statistic would leave most of the GPU
// idle. Enough chunks for kTargetBlocks blocks in all, each of at least kMinChunk elements.
constexpr int64_t kTargetBlocks = 2 * 132;  // two blocks on each SM of an H100
constexpr int64_t kMinChunk = 16 * kThreads;

int64_t chunks_for(int64_t num_stats, int64_t count) {
  if (num_stats == 0 || num_stats >= kTargetBlocks) return 1;
  const int64_t by_size = count / kMinChunk, by_grid = (kTargetBlocks + num_stats - 1) / num_stats;
  const int64_t chunks = by_size < by_grid ? by_size : by_grid;
  return chunks > 1 ? chunks : 1;
}


// The arguments of norm_forward (core/norm.h), as the forward kernels take them.
template <class T>
struct ForwardArgs {
  const T *x, *gamma, *beta;
  double eps;
  T *y, *save_mean, *save_invstd, *running_mean, *running_var;
  double momentum;
  bool relu;
  const T* residual;
};

// The arguments of norm_backward's statistic pass; write_dx: dx from batch statistics.
template <class T>
struct BackwardArgs {
  const T *x, *dy, *mean, *invstd, *gamma, *relu_y;
  bool write_dx;
  T *dx, *dgamma, *dbeta;
};

// ---------------------------------------------------------------------------------------------------------
// Kernels
//
// A statistic's work is done by the blocks (s, 0 .. chunks-1). With one chunk the block has the whole
// statistic and finishes it at once; otherwise each block leaves its chunk's partial result in scratch and a
// second kernel, over the same blocks, combines the partials (in chunk order: deterministic) and finishes.

// Moments of the chunk: its mean, then the squared deviations from it (no cancellation when |mean| >> std).
template <class T>
__device__ Moments chunk_moments(const StatSpans& sp, int64_t s, Chunk ch, const T* x) {
  int64_t c;
  double sum = 0;
  for (int64_t i = ch.begin + threadIdx.x; i < ch.end; i += blockDim.x) sum += double(x[sp.at(s, i, c)]);
  sum = block_all_reduce(sum, 0.0, Plus());
  const double n = double(ch.end - ch.begin), mean = n > 0 ? sum / n : 0.0;
  double m2 = 0;
  for (int64_t i = ch.begin + threadIdx.x; i < ch.end; i += blockDim.x) {
    const double d = double(x[sp.at(s, i, c)]) - mean;
    m2 += d * d;
  }
  return {n, mean, block_all_reduce(m2, 0.0, Plus())};
}

// Given the statistic's moments: its saved and running statistics (by the chunk-0 block), and y over the chunk.
template <class T>
__device__ void normalize_chunk(const StatSpans& sp, int64_t s, Chunk ch, const Moments& m, const ForwardArgs<T>& a) {
  const double var = m.n > 0 ? m.m2 / m.n : 0.0;
  const T mean_t = T(m.mean), invstd_t = T(1.0 / sqrt(var + a.eps));
  if (threadIdx.x == 0 && blockIdx.y == 0) {
    a.save_mean[s] = mean_t;
    a.save_invstd[s] = invstd_t;
    if (a.running_mean && sp.count > 0)
      a.running_mean[s] = T((1 - a.momentum) * double(a.running_mean[s]) + a.momentum * m.mean);
    if (a.running_var && sp.count > 0) {
      const double unbiased = sp.count > 1 ? var * double(sp.count) / double(sp.count - 1) : var;
      a.running_var[s] = T((1 - a.momentum) * double(a.running_var[s]) + a.momentum * unbiased);
    }
  }
  int64_t c;
  for (int64_t i = ch.begin + threadIdx.x; i < ch.end; i += blockDim.x) {
    const int64_t at = sp.at(s, i, c);
    const NormAffine<T> f{mean_t, invstd_t * param_or(a.gamma, c, T(1)), param_or(a.beta, c, T(0)), a.relu};
    a.y[at] = a.residual ? f(a.x[at], a.residual[at]) : f(a.x[at]);
  }
}

template <class T>
__global__ void norm_forward_kernel(StatSpans sp, int64_t num_stats, ForwardArgs<T> a, Moments* partials) {
  for (int64_t s = blockIdx.x; s < num_stats; s += gridDim.x) {
    const Chunk ch = chunk_of(sp);
    const Moments m = chunk_moments(sp, s, ch, a.x);
    if (gridDim.y == 1) normalize_chunk(sp, s, ch, m, a);
    else if (threadIdx.x == 0) partials[s * gridDim.y + blockIdx.y] = m;
  }
}

template <class T>
__global__ void norm_forward_finish_kernel(StatSpans sp, int64_t num_stats, ForwardArgs<T> a, const Moments* partials) {
  for (int64_t s = blockIdx.x; s < num_stats; s += gridDim.x) {
    Moments m{0, 0, 0};
    for (unsigned b = 0; b < gridDim.y; ++b) m = merge(m, partials[s * gridDim.y + b]);
    normalize_chunk(sp, s, chunk_of(sp), m, a);
  }
}

// sum(a) and sum(a * (x - mean)) over the chunk, a = dy * gamma (masked by a fused ReLU). Per-sample statistics
// span channels, so gamma weighs each element; a batch-norm statistic has one channel, so its sums are taken
// over dy alone (they are its dgamma, dbeta) and scaled by gamma when finishing.
template <class T>
__device__ GradSums chunk_grad_sums(const StatSpans& sp, int64_t s, Chunk ch, const BackwardArgs<T>& a) {
  const double m = double(a.mean[s]);
  int64_t c;
  GradSums sums{0, 0};
  for (int64_t i = ch.begin + threadIdx.x; i < ch.end; i += blockDim.x) {
    const int64_t at = sp.at(s, i, c);
    const double g = masked_grad(a.dy, a.relu_y, at);
    const double w = sp.per_sample ? g * double(param_or(a.gamma, c, T(1))) : g;
    sums.a += w;
    sums.a_xm += w * (double(a.x[at]) - m);
  }
  return block_all_reduce(sums, GradSums{0, 0}, GradSumsPlus());
}

// Given the statistic's sums: batch norm's dgamma, dbeta (by the chunk-0 block), then, when write_dx,
// dx = a * invstd - (x - mean) * invstd^3 / K * sum(a (x - mean)) - invstd / K * sum(a) over the chunk, in double.
template <class T>
__device__ void finish_grad_chunk(const StatSpans& sp, int64_t s, Chunk ch, GradSums sums, const BackwardArgs<T>& a) {
  const double m = double(a.mean[s]), is = double(a.invstd[s]);
  if (!sp.per_sample) {
    if (threadIdx.x == 0 && blockIdx.y == 0) {
      if (a.dgamma) a.dgamma[s] = T(sums.a_xm * is);
      if (a.dbeta) a.dbeta[s] = T(sums.a);
    }
    const double gm = double(param_or(a.gamma, s, T(1)));
    sums = {sums.a * gm, sums.a_xm * gm};
  }
  if (!a.write_dx) return;
  const double k = sp.count ? is / double(sp.count) : 0.0;
  const double slope = k * is * is * sums.a_xm, offset = k * sums.a;
  int64_t c;
  for (int64_t i = ch.begin + threadIdx.x; i < ch.end; i += blockDim.x) {
    const int64_t at = sp.at(s, i, c);
    const double g = masked_grad(a.dy, a.relu_y, at) * double(param_or(a.gamma, c, T(1)));
    a.dx[at] = T(g * is - (double(a.x[at]) - m) * slope - offset);
  }
}

template <class T>
__global__ void norm_backward_kernel(StatSpans sp, int64_t num_stats, BackwardArgs<T> a, GradSums* partials) {
  for (int64_t s = blockIdx.x; s < num_stats; s += gridDim.x) {
    const Chunk ch = chunk_of(sp);
    const GradSums sums = chunk_grad_sums(sp, s, ch, a);
    if (gridDim.y == 1) finish_grad_chunk(sp, s, ch, sums, a);
    else if (threadIdx.x == 0) partials[s * gridDim.y + blockIdx.y] = sums;
  }
}

template <class T>
__global__ void norm_backward_finish_kernel(StatSpans sp, int64_t num_stats, BackwardArgs<T> a,
                                            const GradSums* partials) {
  for (int64_t s = blockIdx.x; s < num_stats; s += gridDim.x) {
    GradSums sums{0, 0};
    for (unsigned b = 0; b < gridDim.y; ++b) sums = GradSumsPlus()(sums, partials[s * gridDim.y + b]);
    finish_grad_chunk(sp, s, chunk_of(sp), sums, a);
  }
}

// dgamma[c] = sum over o, l of dy * xhat and dbeta[c] = sum of dy, for per-sample statistics (layer and group
// norm), where channel c's elements belong to one statistic per sample: one block a channel.
template <class T>
__global__ void per_sample_param_grads_kernel(StatSpans sp, int64_t outer, const T* x, const T* dy, const T* mean,
                                              const T* invstd, T* dgamma, T* dbeta) {
  const int64_t count = outer * sp.L;
  for (int64_t c = blockIdx.x; c < sp.C; c += gridDim.x) {
    GradSums sums{0, 0};
    for (int64_t i = threadIdx.x; i < count; i += blockDim.x) {
      const int64_t o = i / sp.L, at = (o * sp.C + c) * sp.L + (i - o * sp.L), s = o * sp.groups + c / sp.cpg;
      const double g = double(dy[at]);
      sums.a += g;
      sums.a_xm += g * (double(x[at]) - double(mean[s])) * double(invstd[s]);
    }
    sums = block_all_reduce(sums, GradSums{0, 0}, GradSumsPlus());
    if (threadIdx.x != 0) continue;
    if (dgamma) dgamma[c] = T(sums.a_xm);
    if (dbeta) dbeta[c] = T(sums.a);
  }
}

// The same for inner 1 (layer norm, group norm of (N, C) input), where channel c's elements form column c of an
// (outer, C) matrix: a warp takes 32 neighbouring channels of one row (its loads coalesce, where a block a
// channel would read one element per row) and the block's kColumnWarps warps split the rows; their partial
// sums are then added in warp order.
constexpr int kColumnWarps = 8;

template <class T>
__global__ void column_param_grads_kernel(StatSpans sp, int64_t outer, const T* x, const T* dy, const T* mean,
                                          const T* invstd, T* dgamma, T* dbeta) {
  TF_SHARED(GradSums, partials, kColumnWarps * kWarpSize);
  const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
  for (int64_t c0 = blockIdx.x * int64_t(kWarpSize); c0 < sp.C; c0 += int64_t(gridDim.x) * kWarpSize) {
    const int64_t c = c0 + lane;
    GradSums sums{0, 0};
    if (c < sp.C)
      for (int64_t o = warp; o < outer; o += kColumnWarps) {
        const int64_t at = o * sp.C + c, s = o * sp.groups + c / sp.cpg;
        const double g = double(dy[at]);
        sums.a += g;
        sums.a_xm += g * (double(x[at]) - double(mean[s])) * double(invstd[s]);
      }
    partials[warp * kWarpSize + lane] = sums;
    __syncthreads();
    if (warp == 0 && c < sp.C) {
      for (int w = 1; w < kColumnWarps; ++w) sums = GradSumsPlus()(sums, partials[w * kWarpSize + lane]);
      if (dgamma) dgamma[c] = T(sums.a_xm);
      if (dbeta) dbeta[c] = T(sums.a);
    }
    // The next columns' partials overwrite these.
    __syncthreads();
  }
}

// Per-channel statistics of the elementwise kernels: the running ones (inference) or a saved invstd with
// mean 0 (eval-mode dx = dy * gamma * invstd).
template <class T>
struct RunningStats {
  const T* mean;
  const T* var;
  double eps;
  __device__ T mean_of(int64_t c) const { return mean[c]; }
  __device__ T invstd_of(int64_t c) const { return T(1.0 / sqrt(double(var[c]) + eps)); }
};
template <class T>
struct SavedInvstd {
  const T* invstd;
  __device__ T mean_of(int64_t) const { return T(0); }
  __device__ T invstd_of(int64_t c) const { return invstd[c]; }
};

// y = NormAffine{mean_c, invstd_c * gamma[c], beta[c], relu}(x, residual), then 0 where relu_mask (when given)
// is not positive; channel c = (i / L) % C.
template <class T, class Stats>
__global__ void channel_affine_kernel(int64_t n, int64_t C, int64_t L, Stats stats, const T* x, const T* gamma,
                                      const T* beta, bool relu, const T* residual, const T* relu_mask, T* y) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t c = (i / L) % C;
    const NormAffine<T> f{stats.mean_of(c), stats.invstd_of(c) * param_or(gamma, c, T(1)), param_or(beta, c, T(0)),
                          relu};
    const T v = residual ? f(x[i], residual[i]) : f(x[i]);
    y[i] = relu_mask && !(relu_mask[i] > T(0)) ? T(0) : v;
  }
}

template <class T, class Stats>
void channel_affine(const char* name, const NormLayout& layout, const Stats& stats, const T* x, const T* gamma,
                    const T* beta, bool relu, const T* residual, const T* relu_mask, T* y) {
  const int64_t n = layout.numel();
  launch(name, channel_affine_kernel<T, Stats>, grid_for(n, kThreads), dim3(kThreads), 0, n, layout.channels,
         layout.inner, stats, x, gamma, beta, relu, residual, relu_mask, y);
}

// ---------------------------------------------------------------------------------------------------------
// Launchers

// Launches `kernel` over every (statistic, chunk) block, then, with more than one chunk a statistic, `finish`
// over the same blocks to combine the partials (Partial each) it left.
template <class Partial, class Args>
void launch_stat_pass(const char* name, const char* finish_name, const StatSpans& sp, int64_t num_stats,
                      void (*kernel)(StatSpans, int64_t, Args, Partial*),
                      void (*finish)(StatSpans, int64_t, Args, const Partial*), const Args& args) {
  const int64_t chunks = chunks_for(num_stats, sp.count);
  const dim3 grid(grid_for(num_stats, 1).x, unsigned(chunks)), block(threads_for((sp.count + chunks - 1) / chunks));
  if (chunks == 1) return launch(name, kernel, grid, block, 0, sp, num_stats, args, static_cast<Partial*>(nullptr));
  const Scratch partials(size_t(num_stats * chunks) * sizeof(Partial));
  launch(name, kernel, grid, block, 0, sp, num_stats, args, partials.as<Partial>());
  launch(finish_name, finish, grid, block, 0, sp, num_stats, args, static_cast<const Partial*>(partials.as<Partial>()));
}

}  // namespace

template <class T>
void norm_forward(const NormLayout& layout, const T* x, const T* gamma, const T* beta, double eps, T* y,
                  T* save_mean, T* save_invstd, T* running_mean, T* running_var, double momentum,
                  NormEpilogue<T> epilogue) {
  const ForwardArgs<T> args{x, gamma, beta, eps, y, save_mean, save_invstd, running_mean, running_var, momentum,
                            epilogue.relu, epilogue.residual};
  launch_stat_pass("norm_forward", "norm_forward_finish", StatSpans(layout), layout.num_stats(),
                   norm_forward_kernel<T>, norm_forward_finish_kernel<T>, args);
}

template <class T>
void batch_norm_inference(const NormLayout& layout, const T* x, const T* running_mean, const T* running_var,
                          const T* gamma, const T* beta, double eps, NormEpilogue<T> epilogue, T* y) {
  channel_affine("batch_norm_inference", layout, RunningStats<T>{running_mean, running_var, eps}, x, gamma, beta,
                 epilogue.relu, epilogue.residual, static_cast<const T*>(nullptr), y);
}

template <class T>
void norm_backward(const NormLayout& layout, const T* x, const T* dy, const T* mean, const T* invstd, const T* gamma,
                   bool batch_stats, const T* relu_y, T* dx, T* dgamma, T* dbeta) {
  const StatSpans sp(layout);
  const bool param_grads = dgamma || dbeta, batch_dx = dx && batch_stats;
  if (param_grads && layout.per_sample && layout.inner == 1)
    launch("norm_backward_params", column_param_grads_kernel<T>, grid_for(layout.channels, kWarpSize),
           dim3(kColumnWarps * kWarpSize), 0, sp, layout.outer, x, dy, mean, invstd, dgamma, dbeta);
  else if (param_grads && layout.per_sample)
    launch("norm_backward_params", per_sample_param_grads_kernel<T>, grid_for(layout.channels, 1),
           dim3(threads_for(layout.outer * layout.inner)), 0, sp, layout.outer, x, dy, mean, invstd, dgamma, dbeta);
  if (batch_dx || (param_grads && !layout.per_sample))
    launch_stat_pass("norm_backward", "norm_backward_finish", sp, layout.num_stats(), norm_backward_kernel<T>,
                     norm_backward_finish_kernel<T>,
                     BackwardArgs<T>{x, dy, mean, invstd, gamma, relu_y, batch_dx, dx, dgamma, dbeta});
  if (dx && !batch_stats)
    channel_affine("norm_backward_eval", layout, SavedInvstd<T>{invstd}, dy, gamma, static_cast<const T*>(nullptr),
                   false, static_cast<const T*>(nullptr), relu_y, dx);
}

TF_INSTANTIATE_NORM

}  // namespace tf::cuda

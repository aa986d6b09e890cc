// CUDA fused losses: the CUDA side of core/loss.h, with the CPU's arithmetic (cpu/loss.cc: double
// accumulation, the same functors and row coefficients).
//
// Legend: N batch, C classes, L extra dims, sample i = n * L + l, class c of sample i at (n * C + c) * L + l.
//
// A forward is two launches: the first computes each sample's loss (a warp per sample for the losses over a
// class row, a thread per sample or element otherwise), writes it to `losses` when asked, and leaves one
// Partial per block (the block's loss sum, and the weight sum that a weighted mean divides by); the second,
// one block, sums the partials in a fixed order and writes the reduced loss to device memory. The loss never
// visits the host. A backward whose 'mean' divides by a weight sum computes that sum on the device the same
// way, and the gradient kernel reads it from device memory.
#include "cuda/kernel.h"

#include <cmath>
#include <optional>

#include "core/loss.h"
#include "cpu/loss.h"
#include "cuda/block_reduce.h"
#include "cuda/runtime.h"

namespace tf::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kWarpsPerBlock = kThreads / kWarpSize;
// Blocks of a first stage, so that the second sums at most this many partials.
constexpr int64_t kMaxBlocks = 256;
constexpr double kInfinity = HUGE_VAL;
constexpr double kNaN = NAN;

// A block's share of a reduction: the sum of its samples' losses and of their 'mean' weights.
struct Partial {
  double loss, weight;
};

struct AddPartials {
  __device__ Partial operator()(Partial a, Partial b) const { return {a.loss + b.loss, a.weight + b.weight}; }
};
struct Plus {
  __device__ double operator()(double a, double b) const { return a + b; }
};
// std::max's rule, as the CPU's running maximum: a NaN never replaces the maximum.
struct MaxSkippingNaN {
  __device__ double operator()(double a, double b) const { return a < b ? b : a; }
};

// Where the 'mean' denominator comes from: a count known on the host, or a weight sum in device memory.
struct Denominator {
  const double* on_device;  // null: use `count`
  double count;
  __device__ double value() const { return on_device ? *on_device : count; }
};

// The upstream gradient of sample i (the CPU's Upstream, with the denominator read on the device).
template <class T>
struct Upstream {
  const T* grad_out;
  Reduction reduction;
  Denominator denom;
  __device__ double operator()(int64_t i) const {
    if (reduction == Reduction::None) return double(grad_out[i]);
    if (reduction == Reduction::Sum) return double(grad_out[0]);
    return double(grad_out[0]) / denom.value();
  }
};

template <class T>
__device__ double weight_of(const T* weight, int64_t c) {
  return weight ? double(weight[c]) : 1.0;
}

// The C class values of one sample, stride L apart.
struct ClassGeometry {
  int64_t C, L;
  __device__ int64_t offset(int64_t i) const { return (i / L) * C * L + i % L; }
};

// A target as the kernels see it: ignored, a class in [0, C), or out of range (NaN loss; never an index).
struct ClassTarget {
  int64_t y;
  bool ignored, valid;
};

struct TargetRule {
  const int32_t* target;
  int64_t C, ignore_index;
  bool has_ignore_index;
  __device__ ClassTarget operator()(int64_t i) const {
    const int64_t y = target[i];
    const bool ignored = has_ignore_index && y == ignore_index;
    return {y, ignored, !ignored && y >= 0 && y < C};
  }
};

// ---------------------------------------------------------------------------------------------------------
// Warp helpers: every lane of the warp calls them for the same row, lane k visiting classes k, k + 32, ...

__device__ int lane_id() { return threadIdx.x % kWarpSize; }

template <class F>
__device__ double warp_sum(int64_t C, F term) {
  double acc = 0;
  for (int64_t c = lane_id(); c < C; c += kWarpSize) acc += term(c);
  return warp_all_reduce(acc, Plus());
}

// log sum_c exp(scale * z[c]), with the maximum subtracted (the CPU's logsumexp).
template <class T>
__device__ double warp_logsumexp(const T* z, int64_t stride, int64_t C, double scale) {
  using std::exp, std::isinf, std::log;
  double mx = -kInfinity;
  for (int64_t c = lane_id(); c < C; c += kWarpSize) mx = MaxSkippingNaN()(mx, scale * double(z[c * stride]));
  mx = warp_all_reduce(mx, MaxSkippingNaN());
  if (isinf(mx) && mx < 0) return mx;
  return mx + log(warp_sum(C, [&](int64_t c) { return exp(scale * double(z[c * stride]) - mx); }));
}

// ---------------------------------------------------------------------------------------------------------
// Rows of the softmax cross-entropies: per sample, loss = multiplier * (constant + sum_c a[c] * -logp[c]) with
// logp = log_softmax(scale * z), and d loss / d z[c] = multiplier * scale * (softmax[c] * sum(a) - a[c]).
// make(i) (called by the whole warp) gives skip (loss and gradient 0), invalid (NaN), constant, a(c), and the
// sample's weight in a weighted mean.

template <class T>
struct IndexTargetRow {
  const T* weight;
  ClassTarget t;
  double at_target, smooth;
  bool skip, invalid;
  double constant;
  __device__ double a(int64_t c) const { return (c == t.y ? at_target : 0.0) + smooth * weight_of(weight, c); }
  __device__ double mean_weight() const { return skip ? 0.0 : invalid ? kNaN : weight_of(weight, t.y); }
};

template <class T>
struct IndexTargetRows {
  TargetRule targets;
  const T* weight;
  double keep, smooth;
  __device__ IndexTargetRow<T> make(int64_t i) const {
    const ClassTarget t = targets(i);
    return {weight, t, t.valid ? keep * weight_of(weight, t.y) : 0.0, smooth, t.ignored, !t.ignored && !t.valid, 0.0};
  }
};

template <class T>
struct ProbTargetRow {
  const T* target;  // the sample's first class
  int64_t stride;
  const T* weight;
  double keep, smooth;
  bool skip, invalid;
  double constant;
  __device__ double a(int64_t c) const { return weight_of(weight, c) * (keep * double(target[c * stride]) + smooth); }
  __device__ double mean_weight() const { return 1.0; }
};

template <class T>
struct ProbTargetRows {
  ClassGeometry geometry;
  const T* target;
  const T* weight;
  double keep, smooth;
  __device__ ProbTargetRow<T> make(int64_t i) const {
    return {target + geometry.offset(i), geometry.L, weight, keep, smooth, false, false, 0.0};
  }
};

// Distillation: a = q = softmax(scale * teacher), constant = sum q log q.
template <class T>
struct TeacherRow {
  const T* teacher;
  int64_t stride;
  double scale, lse;
  bool skip, invalid;
  double constant;
  __device__ double log_q(int64_t c) const { return scale * double(teacher[c * stride]) - lse; }
  __device__ double a(int64_t c) const { return std::exp(log_q(c)); }
  __device__ double mean_weight() const { return 1.0; }
};

template <class T>
struct TeacherRows {
  ClassGeometry geometry;
  const T* teacher;
  double scale;
  __device__ TeacherRow<T> make(int64_t i) const {
    TeacherRow<T> row{teacher + geometry.offset(i), geometry.L, scale, 0.0, false, false, 0.0};
    row.lse = warp_logsumexp(row.teacher, row.stride, geometry.C, scale);
    row.constant = warp_sum(geometry.C, [&](int64_t c) { return cpu::weigh(row.a(c), row.log_q(c)); });
    return row;
  }
};

// ---------------------------------------------------------------------------------------------------------
// Kernels

// The block's partial: its threads' (loss, weight) summed, written by thread 0.
__device__ void write_partial(Partial acc, Partial* partials) {
  acc = block_all_reduce(acc, Partial{0, 0}, AddPartials());
  if (threadIdx.x == 0) partials[blockIdx.x] = acc;
}

// One warp a sample: losses[i] and the block partials of the softmax cross-entropies.
template <class T, class Rows>
__global__ void softmax_xent_forward_kernel(ClassGeometry g, int64_t samples, const T* logits, double scale,
                                            double multiplier, Rows rows, T* losses, Partial* partials) {
  const int64_t warps = int64_t(gridDim.x) * kWarpsPerBlock;
  Partial acc{0, 0};
  for (int64_t i = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) / kWarpSize; i < samples; i += warps) {
    const auto row = rows.make(i);
    double loss = 0;
    if (row.invalid) {
      loss = kNaN;
    } else if (!row.skip) {
      const T* z = logits + g.offset(i);
      const double lse = warp_logsumexp(z, g.L, g.C, scale);
      // The whole warp takes the same branch inside sum_weighed: warp_sum gives every lane the sum.
      loss = multiplier * (row.constant + cpu::sum_weighed([&](auto times) {
                             return warp_sum(g.C, [&](int64_t c) {
                               return times(row.a(c), lse - scale * double(z[c * g.L]));
                             });
                           }));
    }
    if (lane_id() == 0) {
      if (losses) losses[i] = T(loss);
      acc = {acc.loss + loss, acc.weight + row.mean_weight()};
    }
  }
  write_partial(acc, partials);
}

template <class T, class Rows>
__global__ void softmax_xent_backward_kernel(ClassGeometry g, int64_t samples, const T* logits, double scale,
                                             double multiplier, Rows rows, Upstream<T> upstream, T* grad_in) {
  using std::exp;
  const int64_t warps = int64_t(gridDim.x) * kWarpsPerBlock;
  for (int64_t i = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) / kWarpSize; i < samples; i += warps) {
    const auto row = rows.make(i);
    T* out = grad_in + g.offset(i);
    if (row.skip || row.invalid) {
      for (int64_t c = lane_id(); c < g.C; c += kWarpSize) out[c * g.L] = T(row.skip ? 0.0 : kNaN);
      continue;
    }
    const T* z = logits + g.offset(i);
    const double lse = warp_logsumexp(z, g.L, g.C, scale);
    const double total = warp_sum(g.C, [&](int64_t c) { return row.a(c); });
    const double grad = upstream(i) * multiplier * scale;
    for (int64_t c = lane_id(); c < g.C; c += kWarpSize)
      out[c * g.L] = T(grad * (exp(scale * double(z[c * g.L]) - lse) * total - row.a(c)));
  }
}

// One thread a sample or element: losses[i] = sample(i).loss and the block partials.
template <class T, class Sample>
__global__ void per_sample_forward_kernel(int64_t count, Sample sample, T* losses, Partial* partials) {
  Partial acc{0, 0};
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x) {
    const Partial p = sample(i);
    if (losses) losses[i] = T(p.loss);
    acc = {acc.loss + p.loss, acc.weight + p.weight};
  }
  write_partial(acc, partials);
}

// One block: the partials summed in a fixed order; loss[0] = the reduced loss (mean: divided by the weight
// sum or by `denom.count`), denom_out[0] = the denominator. Either output may be null.
template <class T>
__global__ void finish_kernel(const Partial* partials, int64_t count, Reduction reduction, bool weighted,
                              double count_denom, T* loss, double* denom_out) {
  Partial acc{0, 0};
  for (int64_t k = threadIdx.x; k < count; k += blockDim.x) acc = AddPartials()(acc, partials[k]);
  acc = block_all_reduce(acc, Partial{0, 0}, AddPartials());
  if (threadIdx.x != 0) return;
  const double denom = weighted ? acc.weight : count_denom;
  if (loss) *loss = T(reduction == Reduction::Mean ? acc.loss / denom : acc.loss);
  if (denom_out) *denom_out = denom;
}

// The pointwise losses' element functor: make(i) as the CPU's visit_pointwise.
template <class T, class Make>
struct PointwiseSample {
  Make make;
  const T* input;
  const T* target;
  __device__ Partial operator()(int64_t i) const { return {make(i).loss(double(input[i]), double(target[i])), 0.0}; }
};

template <class T, class Make>
__global__ void pointwise_backward_kernel(int64_t n, Make make, const T* input, const T* target, Upstream<T> upstream,
                                          T* grad_in) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    grad_in[i] = T(upstream(i) * make(i).grad(double(input[i]), double(target[i])));
}

// NLL's loss and kept weight of sample i.
template <class T>
struct NllSample {
  ClassGeometry geometry;
  TargetRule targets;
  const T* log_probs;
  const T* weight;
  __device__ Partial operator()(int64_t i) const {
    const ClassTarget t = targets(i);
    if (t.ignored) return {0.0, 0.0};
    if (!t.valid) return {kNaN, kNaN};
    const double w = weight_of(weight, t.y);
    return {-cpu::weigh(w, double(log_probs[geometry.offset(i) + t.y * geometry.L])), w};
  }
};

// Only the kept weight of sample i (the 'mean' denominator of the class-index backwards).
template <class T>
struct KeptWeightSample {
  TargetRule targets;
  const T* weight;
  __device__ Partial operator()(int64_t i) const {
    const ClassTarget t = targets(i);
    return {0.0, t.ignored ? 0.0 : t.valid ? weight_of(weight, t.y) : kNaN};
  }
};

// One thread an element of grad_in (N, C, L): -w[y] * upstream at the target class, 0 elsewhere.
template <class T>
__global__ void nll_backward_kernel(ClassGeometry g, int64_t numel, TargetRule targets, const T* weight,
                                    Upstream<T> upstream, T* grad_in) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < numel; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t l = e % g.L, c = (e / g.L) % g.C, n = e / (g.L * g.C);
    const int64_t i = n * g.L + l;
    const ClassTarget t = targets(i);
    grad_in[e] = T(t.ignored ? 0.0 : !t.valid ? kNaN : c == t.y ? -weight_of(weight, t.y) * upstream(i) : 0.0);
  }
}

template <class T>
__global__ void multi_margin_forward_kernel(int64_t N, int64_t C, double margin, const T* input, TargetRule targets,
                                            const T* weight, T* losses, Partial* partials) {
  const int64_t warps = int64_t(gridDim.x) * kWarpsPerBlock;
  Partial acc{0, 0};
  for (int64_t i = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) / kWarpSize; i < N; i += warps) {
    const T* x = input + i * C;
    const ClassTarget t = targets(i);
    double loss = kNaN;
    if (t.valid) {
      const double at_target = double(x[t.y]);
      const double sum = warp_sum(C, [&](int64_t c) {
        const double hinge = margin - at_target + double(x[c]);
        return c != t.y && hinge > 0 ? hinge : 0.0;
      });
      loss = cpu::weigh(weight_of(weight, t.y), sum) / double(C);
    }
    if (lane_id() == 0) {
      if (losses) losses[i] = T(loss);
      acc.loss += loss;
    }
  }
  write_partial(acc, partials);
}

template <class T>
__global__ void multi_margin_backward_kernel(int64_t N, int64_t C, double margin, const T* input, TargetRule targets,
                                             const T* weight, Upstream<T> upstream, T* grad_in) {
  const int64_t warps = int64_t(gridDim.x) * kWarpsPerBlock;
  for (int64_t i = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) / kWarpSize; i < N; i += warps) {
    const T* x = input + i * C;
    T* out = grad_in + i * C;
    const ClassTarget t = targets(i);
    if (!t.valid) {
      for (int64_t c = lane_id(); c < C; c += kWarpSize) out[c] = T(kNaN);
      continue;
    }
    const double g = upstream(i) * weight_of(weight, t.y) / double(C);
    const double at_target = double(x[t.y]);
    // Each lane writes its classes other than y; lane 0 writes y, the sum of the others' (negated).
    const double active = warp_sum(C, [&](int64_t c) {
      const bool on = c != t.y && margin - at_target + double(x[c]) > 0;
      if (c != t.y) out[c] = T(on ? g : 0.0);
      return on ? g : 0.0;
    });
    if (lane_id() == 0) out[t.y] = T(-active);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Launchers


int64_t blocks_for(int64_t teams, int64_t teams_per_block) {
  const int64_t blocks = (teams + teams_per_block - 1) / teams_per_block;
  return blocks < 1 ? 1 : blocks > kMaxBlocks ? kMaxBlocks : blocks;
}

// The first stage of a forward (launch(partials, grid)), then the second into loss / denom_out.
template <class T, class Stage>
void reduce_forward(const char* name, int64_t blocks, Reduction reduction, bool weighted, double count_denom,
                    T* loss, double* denom_out, Stage&& stage) {
  Scratch partials(size_t(blocks) * sizeof(Partial));
  stage(partials.as<Partial>(), dim3(unsigned(blocks)));
  launch(name, finish_kernel<T>, dim3(1), dim3(kThreads), 0, static_cast<const Partial*>(partials.as<Partial>()),
         blocks, reduction, weighted, count_denom, loss, denom_out);
}

template <class T, class Rows>
void softmax_xent_forward(const char* name, ClassGeometry g, int64_t samples, const T* logits, double scale,
                          double multiplier, Reduction reduction, bool weighted, double count_denom, Rows rows,
                          T* losses, T* loss) {
  const int64_t blocks = blocks_for(samples, kWarpsPerBlock);
  reduce_forward(name, blocks, reduction, weighted, count_denom, loss, nullptr, [&](Partial* partials, dim3 grid) {
    launch(name, softmax_xent_forward_kernel<T, Rows>, grid, dim3(kThreads), 0, g, samples, logits, scale,
           multiplier, rows, losses, partials);
  });
}

template <class T, class Rows>
void softmax_xent_backward(const char* name, ClassGeometry g, int64_t samples, const T* logits, double scale,
                           double multiplier, Rows rows, Upstream<T> upstream, T* grad_in) {
  launch(name, softmax_xent_backward_kernel<T, Rows>, dim3(unsigned(blocks_for(samples, kWarpsPerBlock))),
         dim3(kThreads), 0, g, samples, logits, scale, multiplier, rows, upstream, grad_in);
}

template <class T, class Sample>
void per_sample_forward(const char* name, int64_t count, Sample sample, Reduction reduction, bool weighted,
                        double count_denom, T* losses, T* loss, double* denom_out) {
  reduce_forward(name, blocks_for(count, kThreads), reduction, weighted, count_denom, loss, denom_out,
                 [&](Partial* partials, dim3 grid) {
                   launch(name, per_sample_forward_kernel<T, Sample>, grid, dim3(kThreads), 0, count, sample, losses,
                          partials);
                 });
}

// Runs backward(upstream) with the 'mean' denominator of the class-index losses: the kept weight sum,
// computed on the device into scratch when the reduction is 'mean'.
template <class T, class Backward>
void with_kept_weight_upstream(const char* name, const ClassLossParams& p, TargetRule targets, const T* weight,
                               const T* grad_out, Backward&& backward) {
  Upstream<T> upstream{grad_out, p.reduction, {nullptr, 0.0}};
  std::optional<Scratch> denom;
  if (p.reduction == Reduction::Mean) {
    denom.emplace(sizeof(double));
    per_sample_forward<T>(name, p.samples(), KeptWeightSample<T>{targets, weight}, p.reduction, true, 0.0, nullptr,
                          nullptr, denom->as<double>());
    upstream.denom.on_device = denom->as<double>();
  }
  backward(upstream);
}

TargetRule target_rule(const ClassLossParams& p, const int32_t* target) {
  return {target, p.C, p.ignore_index, p.has_ignore_index};
}

template <class T>
IndexTargetRows<T> index_rows(const ClassLossParams& p, const int32_t* target, const T* weight) {
  return {target_rule(p, target), weight, 1 - p.label_smoothing, p.label_smoothing / double(p.C)};
}

template <class T>
ProbTargetRows<T> prob_rows(const ClassLossParams& p, const T* target, const T* weight) {
  return {{p.C, p.L}, target, weight, 1 - p.label_smoothing, p.label_smoothing / double(p.C)};
}

// make(i): the pointwise functor of element i (cpu/loss.h): one for every element, or BCE's with its
// pos_weight (pos_weight[i % last_dim], 1 when absent).
template <class F>
struct MakeConstant {
  F f;
  __device__ F operator()(int64_t) const { return f; }
};

template <class T>
struct MakeBce {
  const T* pos_weight;
  int64_t last_dim;
  __device__ cpu::BceWithLogits<double> operator()(int64_t i) const {
    return {pos_weight ? double(pos_weight[i % last_dim]) : 1.0};
  }
};

// Calls run(make) with make(i) the pointwise functor of element i, as the CPU does.
template <class T, class Run>
void visit_pointwise(const PointwiseLossParams& p, const T* pos_weight, Run&& run) {
  switch (p.kind) {
    case PointwiseKind::Mse: return run(MakeConstant<cpu::SquaredError<double>>{{}});
    case PointwiseKind::L1: return run(MakeConstant<cpu::AbsoluteError<double>>{{}});
    case PointwiseKind::SmoothL1: return run(MakeConstant<cpu::SmoothL1<double>>{{p.param}});
    case PointwiseKind::Huber: return run(MakeConstant<cpu::Huber<double>>{{p.param}});
    case PointwiseKind::BceWithLogits: break;
  }
  run(MakeBce<T>{pos_weight, p.last_dim});
}

}  // namespace

template <class T>
void pointwise_loss_forward(const PointwiseLossParams& p, const T* input, const T* target, const T* pos_weight,
                            T* losses, T* loss) {
  visit_pointwise(p, pos_weight, [&](auto make) {
    using Make = decltype(make);
    per_sample_forward<T>("pointwise_loss_forward", p.n, PointwiseSample<T, Make>{make, input, target}, p.reduction,
                          false, double(p.n), losses, loss, nullptr);
  });
}

template <class T>
void pointwise_loss_backward(const PointwiseLossParams& p, const T* input, const T* target, const T* pos_weight,
                             const T* grad_out, T* grad_in) {
  if (p.n == 0) return;
  const Upstream<T> upstream{grad_out, p.reduction, {nullptr, double(p.n)}};
  visit_pointwise(p, pos_weight, [&](auto make) {
    launch("pointwise_loss_backward", pointwise_backward_kernel<T, decltype(make)>, grid_for(p.n, kThreads),
           dim3(kThreads), 0, p.n, make, input, target, upstream, grad_in);
  });
}

template <class T>
void cross_entropy_forward(const ClassLossParams& p, const T* logits, const int32_t* target, const T* weight,
                           T* losses, T* loss) {
  softmax_xent_forward("cross_entropy_forward", ClassGeometry{p.C, p.L}, p.samples(), logits, 1.0, 1.0, p.reduction,
                       true, 0.0, index_rows(p, target, weight), losses, loss);
}

template <class T>
void cross_entropy_backward(const ClassLossParams& p, const T* logits, const int32_t* target, const T* weight,
                            const T* grad_out, T* grad_in) {
  if (p.samples() == 0) return;
  with_kept_weight_upstream<T>("cross_entropy_backward", p, target_rule(p, target), weight, grad_out,
                               [&](Upstream<T> upstream) {
                                 softmax_xent_backward("cross_entropy_backward", ClassGeometry{p.C, p.L}, p.samples(),
                                                       logits, 1.0, 1.0, index_rows(p, target, weight), upstream,
                                                       grad_in);
                               });
}

template <class T>
void cross_entropy_prob_forward(const ClassLossParams& p, const T* logits, const T* target, const T* weight,
                                T* losses, T* loss) {
  softmax_xent_forward("cross_entropy_prob_forward", ClassGeometry{p.C, p.L}, p.samples(), logits, 1.0, 1.0,
                       p.reduction, false, double(p.samples()), prob_rows(p, target, weight), losses, loss);
}

template <class T>
void cross_entropy_prob_backward(const ClassLossParams& p, const T* logits, const T* target, const T* weight,
                                 const T* grad_out, T* grad_in) {
  if (p.samples() == 0) return;
  const Upstream<T> upstream{grad_out, p.reduction, {nullptr, double(p.samples())}};
  softmax_xent_backward("cross_entropy_prob_backward", ClassGeometry{p.C, p.L}, p.samples(), logits, 1.0, 1.0,
                        prob_rows(p, target, weight), upstream, grad_in);
}

template <class T>
void nll_forward(const ClassLossParams& p, const T* log_probs, const int32_t* target, const T* weight, T* losses,
                 T* loss) {
  per_sample_forward<T>("nll_forward", p.samples(),
                        NllSample<T>{ClassGeometry{p.C, p.L}, target_rule(p, target), log_probs, weight}, p.reduction,
                        true, 0.0, losses, loss, nullptr);
}

template <class T>
void nll_backward(const ClassLossParams& p, const int32_t* target, const T* weight, const T* grad_out, T* grad_in) {
  if (p.numel() == 0) return;
  with_kept_weight_upstream<T>("nll_backward", p, target_rule(p, target), weight, grad_out, [&](Upstream<T> upstream) {
    launch("nll_backward", nll_backward_kernel<T>, grid_for(p.numel(), kThreads), dim3(kThreads), 0,
           ClassGeometry{p.C, p.L}, p.numel(), target_rule(p, target), weight, upstream, grad_in);
  });
}

template <class T>
void multi_margin_forward(const ClassLossParams& p, double margin, const T* input, const int32_t* target,
                          const T* weight, T* losses, T* loss) {
  const int64_t blocks = blocks_for(p.N, kWarpsPerBlock);
  reduce_forward("multi_margin_forward", blocks, p.reduction, false, double(p.N), loss, static_cast<double*>(nullptr),
                 [&](Partial* partials, dim3 grid) {
                   launch("multi_margin_forward", multi_margin_forward_kernel<T>, grid, dim3(kThreads), 0, p.N, p.C,
                          margin, input, target_rule(p, target), weight, losses, partials);
                 });
}

template <class T>
void multi_margin_backward(const ClassLossParams& p, double margin, const T* input, const int32_t* target,
                           const T* weight, const T* grad_out, T* grad_in) {
  if (p.N == 0) return;
  const Upstream<T> upstream{grad_out, p.reduction, {nullptr, double(p.N)}};
  launch("multi_margin_backward", multi_margin_backward_kernel<T>, dim3(unsigned(blocks_for(p.N, kWarpsPerBlock))),
         dim3(kThreads), 0, p.N, p.C, margin, input, target_rule(p, target), weight, upstream, grad_in);
}

template <class T>
void kl_distill_forward(const KlDistillParams& p, const T* student, const T* teacher, T* losses, T* loss) {
  const double scale = 1.0 / p.temperature;
  const ClassGeometry g{p.C, 1};
  softmax_xent_forward("kl_distill_forward", g, p.N, student, scale, p.temperature * p.temperature, Reduction::Mean,
                       false, double(p.N), TeacherRows<T>{g, teacher, scale}, losses, loss);
}

template <class T>
void kl_distill_backward(const KlDistillParams& p, const T* student, const T* teacher, const T* grad_out,
                         T* grad_student) {
  if (p.N == 0) return;
  const double scale = 1.0 / p.temperature;
  const ClassGeometry g{p.C, 1};
  const Upstream<T> upstream{grad_out, Reduction::Mean, {nullptr, double(p.N)}};
  softmax_xent_backward("kl_distill_backward", g, p.N, student, scale, p.temperature * p.temperature,
                        TeacherRows<T>{g, teacher, scale}, upstream, grad_student);
}

TF_INSTANTIATE_LOSS

}  // namespace tf::cuda

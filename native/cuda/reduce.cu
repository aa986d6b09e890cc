// CUDA reductions and row-wise softmax: the CUDA side of cpu/reduce.h's reduce, softmax and softmax_backward,
// with the same signatures and semantics (index ops are in cuda/index.cu).
//
// Legend: o an output (a reduced block, or a softmax row), outer the number of outputs, count the elements of
// one reduced block, p an element's row-major position within its block (what ARGMAX returns), n a softmax
// row's length. A team is the threads that compute one output together: one thread, one warp or one block.
#include "cuda/kernel.h"

#include <cmath>
#include <type_traits>

#include "core/error.h"
#include "core/strided.h"
#include "core/reduce.h"
#include "cuda/block_reduce.h"

namespace tf::cuda {


namespace {

constexpr int kThreads = 256;
// (std::numeric_limits is host-only in device code without --expt-relaxed-constexpr.)
constexpr double kInfinity = HUGE_VAL;

// ---------------------------------------------------------------------------------------------------------
// Teams: who computes one output. all_reduce() gives every member the combination of all members' values.

struct ThreadTeam {
  __device__ int64_t id() const { return blockIdx.x * int64_t(blockDim.x) + threadIdx.x; }
  __device__ int64_t teams() const { return int64_t(gridDim.x) * blockDim.x; }
  __device__ int rank() const { return 0; }
  __device__ int size() const { return 1; }
  template <class V, class F>
  __device__ V all_reduce(V v, V, F) const {
    return v;
  }
};

struct WarpTeam {
  __device__ int64_t id() const { return (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) / kWarpSize; }
  __device__ int64_t teams() const { return int64_t(gridDim.x) * blockDim.x / kWarpSize; }
  __device__ int rank() const { return threadIdx.x % kWarpSize; }
  __device__ int size() const { return kWarpSize; }
  template <class V, class F>
  __device__ V all_reduce(V v, V, F combine) const {
    return warp_all_reduce(v, combine);
  }
};

struct BlockTeam {
  __device__ int64_t id() const { return blockIdx.x; }
  __device__ int64_t teams() const { return gridDim.x; }
  __device__ int rank() const { return threadIdx.x; }
  __device__ int size() const { return blockDim.x; }
  template <class V, class F>
  __device__ V all_reduce(V v, V identity, F combine) const {
    return block_all_reduce(v, identity, combine);
  }
};

// ---------------------------------------------------------------------------------------------------------
// Kernels

struct Plus {
  __device__ double operator()(double a, double b) const { return a + b; }
};
struct Times {
  __device__ double operator()(double a, double b) const { return a * b; }
};
// std::max's rule, as the CPU's running maxima: a NaN never replaces the maximum.
struct MaxSkippingNaN {
  template <class V>
  __device__ V operator()(V a, V b) const {
    return a < b ? b : a;
  }
};

// A candidate extreme: its value and its position in the block (-1: none yet). Plain data: it crosses lanes and
// shared memory as bytes (block_reduce.h).
struct Pick {
  double value;
  int64_t pos;
};

// The CPU's rule over two candidates: the first NaN wins, else the strictly better value, else the earlier
// position. Taking one element at a time in position order this is the CPU's scan; it is associative and
// commutative, so the team may combine in any order and still find the first extreme.
template <bool kMax>
struct FirstExtreme {
  __device__ Pick operator()(Pick a, Pick b) const {
    if (a.pos < 0) return b;
    if (b.pos < 0) return a;
    const bool a_nan = a.value != a.value, b_nan = b.value != b.value;
    if (a_nan != b_nan) return a_nan ? a : b;
    if (!a_nan) {
      if (kMax ? b.value > a.value : b.value < a.value) return b;
      if (kMax ? a.value > b.value : a.value < b.value) return a;
    }
    return a.pos < b.pos ? a : b;
  }
};

// One reduced block as seen by one member of a team: the member visits positions rank, rank + size, ...
template <class T, class Team>
struct BlockView {
  const FlatStrides<1>& block;
  const T* base;
  int64_t count;
  Team team;

  // acc = add(acc, value, p) over this member's elements, then combined over the team.
  template <class V, class Add, class Combine>
  __device__ V fold(V identity, Add add, Combine combine) const {
    V acc = identity;
    for (int64_t p = team.rank(); p < count; p += team.size()) {
      int64_t off[1];
      block.offsets(p, off);
      acc = add(acc, double(base[off[0]]), p);
    }
    return team.all_reduce(acc, identity, combine);
  }

  template <class Combine>
  __device__ double fold_values(double identity, Combine combine) const {
    return fold(identity, [combine](double acc, double v, int64_t) { return combine(acc, v); }, combine);
  }

  __device__ double sum() const { return fold_values(0.0, Plus()); }
};

// The value of `op` over one block (the CPU's reduce_block); for MAX/MIN/ARGMAX/ARGMIN also the position.
template <ReduceOp op, class T, class Team>
__device__ Pick reduce_block(const BlockView<T, Team>& view, double param) {
  using std::exp, std::fabs, std::isinf, std::log, std::pow, std::sqrt;
  const double count = double(view.count);
  if constexpr (op == ReduceOp::SUM) {
    return {view.sum(), 0};
  } else if constexpr (op == ReduceOp::MEAN) {
    return {view.sum() / count, 0};
  } else if constexpr (op == ReduceOp::PROD) {
    return {view.fold_values(1.0, Times()), 0};
  } else if constexpr (op == ReduceOp::VAR) {
    const double mean = view.sum() / count;
    const double sq = view.fold(0.0, [mean](double acc, double v, int64_t) { return acc + (v - mean) * (v - mean); },
                                Plus());
    return {sq / (count - param > 0 ? count - param : 0.0), 0};
  } else if constexpr (op == ReduceOp::LOGSUMEXP) {
    const double shift = logsumexp_shift(view.fold_values(-kInfinity, MaxSkippingNaN()));
    const double acc = view.fold(0.0, [shift](double acc, double v, int64_t) { return acc + exp(v - shift); }, Plus());
    return {shift + log(acc), 0};
  } else if constexpr (op == ReduceOp::NORM) {
    if (isinf(param))
      return {view.fold(0.0, [](double acc, double v, int64_t) { return MaxSkippingNaN()(acc, fabs(v)); },
                        MaxSkippingNaN()),
              0};
    const double acc = view.fold(
        0.0,
        [param](double acc, double v, int64_t) {
          return acc + (param == 2 ? v * v : param == 1 ? fabs(v) : pow(fabs(v), param));
        },
        Plus());
    return {param == 2 ? sqrt(acc) : param == 1 ? acc : pow(acc, 1.0 / param), 0};
  } else {
    constexpr bool kMax = op == ReduceOp::MAX || op == ReduceOp::ARGMAX;
    const FirstExtreme<kMax> combine;
    return view.fold(Pick{0, -1}, [combine](Pick acc, double v, int64_t p) { return combine(acc, Pick{v, p}); },
                     combine);
  }
}

// out[o] / index[o] for every output o, one team each.
template <ReduceOp op, class T, class Team>
__global__ void reduce_kernel(FlatStrides<1> kept, FlatStrides<1> block, int64_t outer, int64_t count, const T* x,
                              T* out, int32_t* index, double param) {
  const Team team;
  constexpr bool kPicks = op == ReduceOp::MAX || op == ReduceOp::MIN || op == ReduceOp::ARGMAX ||
                          op == ReduceOp::ARGMIN;
  constexpr bool kArg = op == ReduceOp::ARGMAX || op == ReduceOp::ARGMIN;
  for (int64_t o = team.id(); o < outer; o += team.teams()) {
    int64_t base[1];
    kept.offsets(o, base);
    const Pick result = reduce_block<op>(BlockView<T, Team>{block, x + base[0], count, team}, param);
    if (team.rank() != 0) continue;
    if (!kArg) out[o] = T(result.value);
    if (kPicks && index) index[o] = int32_t(result.pos);
  }
}

// Row-wise softmax over contiguous rows (the CPU's arithmetic: the maximum and exponentials in T, their sum in
// double).
template <class T, class Team>
__global__ void softmax_kernel(const T* x, T* y, int64_t rows, int64_t n, bool log_softmax) {
  using std::exp, std::log;
  const Team team;
  for (int64_t r = team.id(); r < rows; r += team.teams()) {
    const T* xr = x + r * n;
    T* yr = y + r * n;
    T mx = T(-kInfinity);
    for (int64_t i = team.rank(); i < n; i += team.size()) mx = MaxSkippingNaN()(mx, xr[i]);
    mx = team.all_reduce(mx, T(-kInfinity), MaxSkippingNaN());
    double sum = 0;
    for (int64_t i = team.rank(); i < n; i += team.size()) {
      const T e = exp(xr[i] - mx);
      yr[i] = e;
      sum += e;
    }
    sum = team.all_reduce(sum, 0.0, Plus());
    if (log_softmax) {
      const T lse = T(log(sum)) + mx;
      for (int64_t i = team.rank(); i < n; i += team.size()) yr[i] = xr[i] - lse;
    } else {
      const T inv = T(1.0 / sum);
      for (int64_t i = team.rank(); i < n; i += team.size()) yr[i] *= inv;
    }
  }
}

// gx = y * (g - sum(g * y)), or g - exp(y) * sum(g) for log-softmax; the sums in double.
template <class T, class Team>
__global__ void softmax_backward_kernel(const T* g, const T* y, T* gx, int64_t rows, int64_t n, bool log_softmax) {
  using std::exp;
  const Team team;
  for (int64_t r = team.id(); r < rows; r += team.teams()) {
    const T* gr = g + r * n;
    const T* yr = y + r * n;
    T* out = gx + r * n;
    double dot = 0;
    for (int64_t i = team.rank(); i < n; i += team.size()) dot += log_softmax ? double(gr[i]) : double(gr[i]) * yr[i];
    const T total = T(team.all_reduce(dot, 0.0, Plus()));
    for (int64_t i = team.rank(); i < n; i += team.size())
      out[i] = log_softmax ? gr[i] - exp(yr[i]) * total : yr[i] * (gr[i] - total);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Launchers

// Teams of `Team` for `outer` outputs: one launch, with a grid that covers them (loops cover the rest).
template <class Team>
dim3 grid_of_teams(int64_t outer) {
  if constexpr (std::is_same_v<Team, ThreadTeam>) return grid_for(outer, kThreads);
  else if constexpr (std::is_same_v<Team, WarpTeam>) return grid_for(outer, kThreads / kWarpSize);
  else return grid_for(outer, 1);
}

template <ReduceOp op, class T, class Team>
void launch_reduce(const char* name, const StridedLayout<1>& kept, const StridedLayout<1>& block, const T* x, T* out,
                   int32_t* index, double param) {
  launch(name, reduce_kernel<op, T, Team>, grid_of_teams<Team>(kept.numel), dim3(kThreads), 0,
         FlatStrides<1>(kept), FlatStrides<1>(block), kept.numel, block.numel, x, out, index, param);
}

// Which team computes one output: a thread when neighbouring outputs are neighbours in memory and there are
// enough of them to fill the GPU (a column reduction such as x.sum(0): a warp's loads then coalesce), or when
// blocks are tiny; a warp for blocks up to 32 elements a lane; else a block.
constexpr int64_t kEnoughThreads = 2048;

template <ReduceOp op, class T>
void reduce_with(const char* name, const StridedLayout<1>& kept, const StridedLayout<1>& block, const T* x, T* out,
                 int32_t* index, double param) {
  const int64_t count = block.numel;
  const bool columns =
      kept.strides[0][kept.ndim - 1] == 1 && kept.inner() >= kWarpSize && kept.numel >= kEnoughThreads;
  if (columns || count <= 8) return launch_reduce<op, T, ThreadTeam>(name, kept, block, x, out, index, param);
  if (count <= 32 * kWarpSize) return launch_reduce<op, T, WarpTeam>(name, kept, block, x, out, index, param);
  launch_reduce<op, T, BlockTeam>(name, kept, block, x, out, index, param);
}

// A warp a row for rows up to 32 elements a lane, else a block a row; args are the kernel's.
template <class Kernel, class... Args>
void launch_rows(const char* name, Kernel warp_kernel, Kernel block_kernel, int64_t rows, int64_t n,
                 const Args&... args) {
  if (n <= 32 * kWarpSize)
    launch(name, warp_kernel, grid_of_teams<WarpTeam>(rows), dim3(kThreads), 0, args...);
  else
    launch(name, block_kernel, grid_of_teams<BlockTeam>(rows), dim3(kThreads), 0, args...);
}

}  // namespace

template <class T>
void reduce(ReduceOp op, const ReduceShape& shape, const T* x, T* out, int32_t* index, double param) {
  const StridedLayout<1> block(shape.reduced_shape, {&shape.reduced_strides});
  const StridedLayout<1> kept(shape.kept_shape, {&shape.kept_strides});
  if (kept.numel == 0) return;
  switch (op) {
#define TF_CASE(name, js) \
  case ReduceOp::name: return reduce_with<ReduceOp::name, T>("reduce " js, kept, block, x, out, index, param);
    TF_REDUCE_OPS(TF_CASE)
#undef TF_CASE
    default: fail(ErrorKind::Range, "reduce: unknown op ", int(op));
  }
}

template <class T>
void softmax(const T* x, T* y, int64_t rows, int64_t n, bool log) {
  if (rows == 0 || n == 0) return;
  launch_rows(log ? "log_softmax" : "softmax", softmax_kernel<T, WarpTeam>, softmax_kernel<T, BlockTeam>, rows, n, x, y,
              rows, n, log);
}

template <class T>
void softmax_backward(const T* g, const T* y, T* gx, int64_t rows, int64_t n, bool log) {
  if (rows == 0 || n == 0) return;
  launch_rows(log ? "log_softmax_backward" : "softmax_backward", softmax_backward_kernel<T, WarpTeam>,
              softmax_backward_kernel<T, BlockTeam>, rows, n, g, y, gx, rows, n, log);
}

TF_INSTANTIATE_REDUCE

}  // namespace tf::cuda

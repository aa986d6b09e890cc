// CUDA optimizer updates, gradient norms and clipping: the CUDA side of core/optim.h.
//
// Multi-tensor apply (PyTorch's multi_tensor_apply): a group of tensors is cut into chunks of kChunk
// elements, and one launch updates up to kMaxTensors tensors / kMaxBlocks chunks, block b taking chunk
// block_chunk[b] of tensor block_tensor[b]. The pointers, sizes and per-tensor update functors (which hold
// the step's learning rate and bias corrections) travel in a table passed by value as the kernel's
// parameter, so a step uploads no metadata: the launch itself carries it. A group larger than one table
// takes several launches; a tensor cut between two launches continues as entry 0 of the next.
//
// Legend: t a tensor's entry in the table, c a chunk of it, i an element.
#include "cuda/kernel.h"

#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

#include "core/optim.h"
#include "cpu/optim.h"
#include "cuda/block_reduce.h"
#include "cuda/runtime.h"

namespace tf::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kChunk = 4096;
constexpr int kMaxTensors = 12;
constexpr int kMaxBlocks = 320;
// What kernel parameters may hold on every architecture we build for (4 KiB, less a margin for the rest).
constexpr size_t kMaxParamBytes = 4000;

// One tensor's entry: up to kPointers pointers of n elements each (the parameter first), and what its
// update needs beyond them (an update functor, or nothing).
template <class T, int kPointers, class Extra>
struct TensorEntry {
  T* ptr[kPointers];
  int64_t n;
  Extra extra;
};

struct NoExtra {};

template <class T, int kPointers, class Extra, class Shared>
struct TensorTable {
  TensorEntry<T, kPointers, Extra> tensors[kMaxTensors];
  unsigned char block_tensor[kMaxBlocks];
  int32_t block_chunk[kMaxBlocks];
  Shared shared;  // the same for every tensor of the launch
};

// ---------------------------------------------------------------------------------------------------------
// Kernels

// Block b runs Op over elements [begin, end) of its chunk.
template <class Op, class Table>
__global__ void multi_tensor_kernel(Table table) {
  const auto& entry = table.tensors[table.block_tensor[blockIdx.x]];
  const int64_t begin = int64_t(table.block_chunk[blockIdx.x]) * kChunk;
  const int64_t end = begin + kChunk < entry.n ? begin + kChunk : entry.n;
  Op::run(entry, table.shared, begin, end);
}

// The optimizer rules: entry.extra is the tensor's update functor (cpu/optim.h), pointers as ParamSlot.
struct SgdOp {
  template <class Entry, class Shared>
  __device__ static void run(const Entry& e, const Shared&, int64_t begin, int64_t end) {
    for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x)
      e.extra(e.ptr[0][i], e.ptr[1][i], e.ptr[2] ? e.ptr[2] + i : nullptr);
  }
};

struct AdamOp {
  template <class Entry, class Shared>
  __device__ static void run(const Entry& e, const Shared&, int64_t begin, int64_t end) {
    for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x)
      e.extra(e.ptr[0][i], e.ptr[1][i], e.ptr[2][i], e.ptr[3][i], e.ptr[4] ? e.ptr[4] + i : nullptr);
  }
};

struct RmspropOp {
  template <class Entry, class Shared>
  __device__ static void run(const Entry& e, const Shared&, int64_t begin, int64_t end) {
    for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x)
      e.extra(e.ptr[0][i], e.ptr[1][i], e.ptr[2][i], e.ptr[3] ? e.ptr[3] + i : nullptr,
              e.ptr[4] ? e.ptr[4] + i : nullptr);
  }
};

struct AdagradOp {
  template <class Entry, class Shared>
  __device__ static void run(const Entry& e, const Shared&, int64_t begin, int64_t end) {
    for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) e.extra(e.ptr[0][i], e.ptr[1][i], e.ptr[2][i]);
  }
};

// max over non-negative doubles (and NaN) as their bit patterns, which order the same way: an atomicMax on
// 64-bit integers. NaN (0x7ff8...) is above +inf (0x7ff0...), so a NaN gradient makes the norm NaN.
__device__ void atomic_max_nonnegative(double* address, double v) {
  unsigned long long bits;
  memcpy(&bits, &v, sizeof bits);
  atomicMax(reinterpret_cast<unsigned long long*>(address), bits);
}

struct NormShared {
  double norm_type;
  double* acc;
};

// acc += this chunk's sum of |x|^p (or acc = max(acc, max |x|)): a block reduction, then one atomic.
struct NormOp {
  template <class Entry>
  __device__ static void run(const Entry& e, const NormShared& s, int64_t begin, int64_t end) {
    using std::fabs, std::isinf;
    const bool max_norm = isinf(s.norm_type);
    double acc = 0;
    for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
      const double a = fabs(double(e.ptr[0][i]));
      acc = max_norm ? cpu::combine_max(acc, a) : acc + cpu::norm_power(a, s.norm_type);
    }
    if (max_norm) {
      acc = block_all_reduce(acc, 0.0, [](double a, double b) { return cpu::combine_max(a, b); });
      if (threadIdx.x == 0) atomic_max_nonnegative(s.acc, acc);
    } else {
      acc = block_all_reduce(acc, 0.0, [](double a, double b) { return a + b; });
      if (threadIdx.x == 0) atomicAdd(s.acc, acc);
    }
  }
};

struct ClipShared {
  const double* total_norm;
  double max_norm;
};

struct ClipOp {
  template <class Entry>
  __device__ static void run(const Entry& e, const ClipShared& s, int64_t begin, int64_t end) {
    const double coef = cpu::clip_coefficient(*s.total_norm, s.max_norm);
    if (coef >= 1) return;
    using T = std::remove_reference_t<decltype(e.ptr[0][0])>;
    const T scale = T(coef);
    for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) e.ptr[0][i] *= scale;
  }
};

template <class T>
__global__ void clamp_kernel(T* x, int64_t n, T lo, T hi) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const T v = x[i] < lo ? lo : x[i];
    x[i] = v > hi ? hi : v;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Launchers

// Fills tables with the entries' chunks and launches Op over each full table, then over the rest.
template <class Op, class T, int kPointers, class Extra, class Shared>
void multi_tensor_apply(const char* name, const std::vector<TensorEntry<T, kPointers, Extra>>& entries,
                        const Shared& shared) {
  using Table = TensorTable<T, kPointers, Extra, Shared>;
  static_assert(sizeof(Table) <= kMaxParamBytes, "multi_tensor_apply: the table exceeds the kernel parameter limit");
  static_assert(kMaxTensors <= 256, "multi_tensor_apply: block_tensor holds 8-bit entries");
  Table table;
  std::memset(&table, 0, sizeof table);
  table.shared = shared;
  int tensors = 0, blocks = 0;
  const auto flush = [&] {
    launch(name, multi_tensor_kernel<Op, Table>, dim3(unsigned(blocks)), dim3(kThreads), 0, table);
    blocks = 0;
  };
  for (const auto& entry : entries) {
    if (entry.n == 0) continue;
    if (tensors == kMaxTensors) {
      flush();
      tensors = 0;
    }
    table.tensors[tensors++] = entry;
    const int64_t chunks = (entry.n + kChunk - 1) / kChunk;
    for (int64_t c = 0; c < chunks; ++c) {
      table.block_tensor[blocks] = static_cast<unsigned char>(tensors - 1);
      table.block_chunk[blocks] = int32_t(c);
      if (++blocks < kMaxBlocks) continue;
      flush();
      // The tensor's remaining chunks go on in the next launch, where it is the first entry.
      table.tensors[0] = entry;
      tensors = 1;
    }
  }
  if (blocks > 0) flush();
}

template <class T, int kPointers, class Update>
using UpdateEntry = TensorEntry<T, kPointers, Update>;

// The group's entries: each slot's parameter, gradient and `states` state pointers, and its update functor.
template <int kStates, class T, class MakeUpdate>
auto update_entries(const std::vector<ParamSlot<T>>& group, MakeUpdate make_update) {
  using Entry = UpdateEntry<T, 2 + kStates, decltype(make_update(group[0]))>;
  std::vector<Entry> entries;
  entries.reserve(group.size());
  for (const ParamSlot<T>& slot : group) {
    Entry e{};
    e.ptr[0] = slot.param;
    e.ptr[1] = const_cast<T*>(slot.grad);  // read only: Ops never write ptr[1]
    for (int k = 0; k < kStates; ++k) e.ptr[2 + k] = slot.state[k];
    e.n = slot.n;
    e.extra = make_update(slot);
    entries.push_back(e);
  }
  return entries;
}

template <class T, class S>
std::vector<TensorEntry<T, 1, NoExtra>> span_entries(const std::vector<Span<S>>& spans) {
  std::vector<TensorEntry<T, 1, NoExtra>> entries;
  entries.reserve(spans.size());
  for (const Span<S>& s : spans) entries.push_back({{const_cast<T*>(s.data)}, s.n, {}});
  return entries;
}

}  // namespace

template <class T>
void sgd_step(const SgdParams& p, const std::vector<ParamSlot<T>>& group) {
  if (group.empty()) return;
  multi_tensor_apply<SgdOp>("sgd_step", update_entries<1>(group, [&](const ParamSlot<T>& s) {
                              return cpu::sgd_update_for(p, s);
                            }),
                            NoExtra{});
}

template <class T>
void adam_step(const AdamParams& p, const std::vector<ParamSlot<T>>& group) {
  if (group.empty()) return;
  multi_tensor_apply<AdamOp>("adam_step", update_entries<3>(group, [&](const ParamSlot<T>& s) {
                               return cpu::adam_update_for(p, s);
                             }),
                             NoExtra{});
}

template <class T>
void rmsprop_step(const RmspropParams& p, const std::vector<ParamSlot<T>>& group) {
  if (group.empty()) return;
  multi_tensor_apply<RmspropOp>("rmsprop_step", update_entries<3>(group, [&](const ParamSlot<T>& s) {
                                  return cpu::rmsprop_update_for(p, s);
                                }),
                                NoExtra{});
}

template <class T>
void adagrad_step(const AdagradParams& p, const std::vector<ParamSlot<T>>& group) {
  if (group.empty()) return;
  multi_tensor_apply<AdagradOp>("adagrad_step", update_entries<1>(group, [&](const ParamSlot<T>& s) {
                                  return cpu::adagrad_update_for(p, s);
                                }),
                                NoExtra{});
}

template <class T>
void accumulate_norm(const std::vector<Span<const T>>& spans, double norm_type, double* acc) {
  multi_tensor_apply<NormOp>("grad_norm", span_entries<T>(spans), NormShared{norm_type, acc});
}

template <class T>
void clip_by_norm(const std::vector<Span<T>>& spans, const double* total_norm, double max_norm) {
  multi_tensor_apply<ClipOp>("clip_by_norm", span_entries<T>(spans), ClipShared{total_norm, max_norm});
}

template <class T>
void clamp_in_place(int64_t n, T* x, double lo, double hi) {
  if (n == 0) return;
  launch("clamp_in_place", clamp_kernel<T>, grid_for(n, kThreads), dim3(kThreads), 0, x, n, T(lo), T(hi));
}

TF_INSTANTIATE_OPTIM

}  // namespace tf::cuda

// CUDA index gathers and scatters: the CUDA side of cpu/reduce.h's index_select, index_add, gather and
// scatter_add, with the same signatures and semantics. Indices were range-checked by the caller.
//
// Legend: a contiguous [outer, dim, inner] tensor is indexed along its middle dim; the picked side is
// [outer, n_idx, inner]. o, j, i index those three dims; k = (o * n_idx + j) * inner + i is a picked element.
//
// The accumulating ops (index_add, scatter_add) add with atomicAdd, since several picked elements may land
// on one target. Float additions then happen in whatever order the threads reach them, so their sums may
// differ from the CPU's (and between runs) in the last bits; integer sums are exact.
#include "cuda/kernel.h"

#include "core/reduce.h"
#include "cuda/runtime.h"

namespace tf::cuda {
namespace {

constexpr int kThreads = 256;

// ---------------------------------------------------------------------------------------------------------
// Kernels

// How an op maps the picked element k to the full tensor: its index is idx[j] (index_select, index_add) or
// idx[k] (gather, scatter_add), and it reads the full tensor into the picked one or adds the picked one into
// the full one.
template <bool kPerElement, bool kAccumulate>
struct IndexKind {
  static constexpr bool per_element = kPerElement, accumulate = kAccumulate;
};
using SelectKind = IndexKind<false, false>;
using AddKind = IndexKind<false, true>;
using GatherKind = IndexKind<true, false>;
using ScatterAddKind = IndexKind<true, true>;

// One thread a picked element, in a grid-stride loop: neighbouring threads take neighbouring i, so the
// picked side and each indexed run of the full side are read or written coalesced.
template <class Kind, class T>
__global__ void index_kernel(const T* src, const int32_t* idx, T* dst, int64_t dim, int64_t n_idx, int64_t inner,
                             int64_t picked) {
  for (int64_t k = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; k < picked;
       k += int64_t(gridDim.x) * blockDim.x) {
    const int64_t i = k % inner, oj = k / inner, j = oj % n_idx, o = oj / n_idx;
    const int64_t full = (o * dim + idx[Kind::per_element ? k : j]) * inner + i;
    if constexpr (Kind::accumulate) atomicAdd(dst + full, src[k]);
    else dst[k] = src[full];
  }
}

// first = the least position k with idx[k] outside [0, dim), by atomicMin (left at ~0 when there is none).
__global__ void first_out_of_range_kernel(const int32_t* idx, int64_t n, int64_t dim, unsigned long long* first) {
  for (int64_t k = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; k < n; k += int64_t(gridDim.x) * blockDim.x)
    if (idx[k] < 0 || idx[k] >= dim) atomicMin(first, static_cast<unsigned long long>(k));
}

// ---------------------------------------------------------------------------------------------------------
// Launchers

template <class Kind, class T>
void launch_index(const char* name, const T* src, const int32_t* idx, T* dst, int64_t outer, int64_t dim,
                  int64_t n_idx, int64_t inner) {
  const int64_t picked = outer * n_idx * inner;
  if (picked == 0) return;
  launch(name, index_kernel<Kind, T>, grid_for(picked, kThreads), dim3(kThreads), 0, src, idx, dst, dim, n_idx, inner,
         picked);
}

}  // namespace

template <class T>
void index_select(const T* x, const int32_t* idx, T* out, int64_t outer, int64_t dim, int64_t n_idx, int64_t inner) {
  launch_index<SelectKind>("index_select", x, idx, out, outer, dim, n_idx, inner);
}

template <class T>
void index_add(const T* src, const int32_t* idx, T* out, int64_t outer, int64_t dim, int64_t n_idx, int64_t inner) {
  launch_index<AddKind>("index_add", src, idx, out, outer, dim, n_idx, inner);
}

template <class T>
void gather(const T* x, const int32_t* idx, T* out, int64_t outer, int64_t dim, int64_t n_idx, int64_t inner) {
  launch_index<GatherKind>("gather", x, idx, out, outer, dim, n_idx, inner);
}

template <class T>
void scatter_add(const T* src, const int32_t* idx, T* out, int64_t outer, int64_t dim, int64_t n_idx, int64_t inner) {
  launch_index<ScatterAddKind>("scatter_add", src, idx, out, outer, dim, n_idx, inner);
}

// Synchronizes: the bindings validate indices before any kernel reads through them.
IndexOutOfRange find_index_out_of_range(const int32_t* idx, int64_t n, int64_t dim) {
  if (n == 0) return {-1, 0};
  const int device = current_device();
  constexpr unsigned long long kNone = ~0ull;
  auto* first = static_cast<unsigned long long*>(allocate(device, sizeof(unsigned long long)));
  unsigned long long found = kNone;
  try {
    upload(device, first, &found, sizeof found);
    launch("first_out_of_range", first_out_of_range_kernel, grid_for(n, kThreads), dim3(kThreads), 0, idx, n, dim,
           first);
    download(device, &found, first, sizeof found);
  } catch (...) {
    release(device, first);
    throw;
  }
  release(device, first);
  if (found == kNone) return {-1, 0};
  int32_t value = 0;
  download(device, &value, idx + found, sizeof value);
  return {int64_t(found), value};
}

TF_INSTANTIATE_INDEX_OPS

}  // namespace tf::cuda

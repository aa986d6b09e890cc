// Entry points of the reduce family, declared once for tf::cpu and tf::cuda: reductions, softmax and
// index gathers/scatters.
//
// Reductions see the input as a strided view whose dims are ordered [kept..., reduced...]; the output is
// contiguous over the kept dims. Float inputs accumulate in double.
#pragma once
#include <cmath>
#include <cstdint>

#include "core/host_device.h"
#include "core/on_devices.h"
#include "core/shape.h"
#include "include/ops.h"

namespace tf {

// What LOGSUMEXP subtracts before exponentiating, given the block's maximum (NaN skipped): the maximum, or 0
// when it is infinite (inf - inf would be NaN). So a block with +inf gives +inf, one all -inf (or empty) -inf,
// and a NaN anywhere NaN (never hidden behind an infinite maximum), as PyTorch.
TF_HD double logsumexp_shift(double max) { return std::isinf(max) ? 0.0 : max; }

struct ReduceShape {
  Dims kept_shape, kept_strides;        // output dims and the input's strides along them
  Dims reduced_shape, reduced_strides;  // reduced dims and the input's strides along them
};

// The first out-of-range entry of an index array: position -1 when every idx[k], k < n, is in [0, dim).
struct IndexOutOfRange {
  int64_t position;
  int32_t value;
};

}  // namespace tf

// reduce: out[i] = op over the reduced block i. `param`: correction for VAR, p for NORM. `index` (may be
// null) receives the flat position within the reduced block of the max/min for MAX/MIN/ARGMAX/ARGMIN (the
// first one on ties; NaN wins). For ARGMAX/ARGMIN only `index` is written.
// softmax: row-wise softmax or log-softmax over contiguous rows of length n (numerically stable).
// softmax_backward: gx = y * (g - sum(g * y)) or, for log-softmax, g - exp(y) * sum(g).
// Index ops work over a contiguous [outer, dim, inner] layout; indices were range-checked by the caller.
// index_select: out[o, j, i] = x[o, idx[j], i]; index_add: out[o, idx[j], i] += src[o, j, i].
// gather: out[o, j, i] = x[o, idx[o, j, i], i]; scatter_add: out[o, idx[o, j, i], i] += src[o, j, i].
#define TF_REDUCE_ENTRIES                                                                                         \
  template <class T>                                                                                              \
  void reduce(ReduceOp op, const ReduceShape& shape, const T* x, T* out, int32_t* index, double param);           \
  template <class T>                                                                                              \
  void softmax(const T* x, T* y, int64_t rows, int64_t n, bool log);                                              \
  template <class T>                                                                                              \
  void softmax_backward(const T* g, const T* y, T* gx, int64_t rows, int64_t n, bool log);                        \
  template <class T>                                                                                              \
  void index_select(const T* x, const int32_t* idx, T* out, int64_t outer, int64_t dim, int64_t n_idx,            \
                    int64_t inner);                                                                               \
  template <class T>                                                                                              \
  void index_add(const T* src, const int32_t* idx, T* out, int64_t outer, int64_t dim, int64_t n_idx,            \
                 int64_t inner);                                                                                  \
  template <class T>                                                                                              \
  void gather(const T* x, const int32_t* idx, T* out, int64_t outer, int64_t dim, int64_t n_idx, int64_t inner); \
  template <class T>                                                                                              \
  void scatter_add(const T* src, const int32_t* idx, T* out, int64_t outer, int64_t dim, int64_t n_idx,          \
                   int64_t inner);

TF_DECLARE_ON_DEVICES(TF_REDUCE_ENTRIES)

// The dtypes the bindings dispatch: each device's definitions are instantiated from these lists (inside its
// namespace), so the two devices cannot offer different ones.
#define TF_INSTANTIATE_REDUCE_FOR(T) \
  template void reduce<T>(ReduceOp, const ReduceShape&, const T*, T*, int32_t*, double);
#define TF_INSTANTIATE_SOFTMAX_FOR(T)                                              \
  template void softmax<T>(const T*, T*, int64_t, int64_t, bool);                  \
  template void softmax_backward<T>(const T*, const T*, T*, int64_t, int64_t, bool);
#define TF_INSTANTIATE_REDUCE                                                                              \
  TF_INSTANTIATE_REDUCE_FOR(float) TF_INSTANTIATE_REDUCE_FOR(double) TF_INSTANTIATE_REDUCE_FOR(int32_t) \
  TF_INSTANTIATE_SOFTMAX_FOR(float) TF_INSTANTIATE_SOFTMAX_FOR(double)
#define TF_INSTANTIATE_INDEX_FOR(T)                                                                       \
  template void index_select<T>(const T*, const int32_t*, T*, int64_t, int64_t, int64_t, int64_t);       \
  template void index_add<T>(const T*, const int32_t*, T*, int64_t, int64_t, int64_t, int64_t);          \
  template void gather<T>(const T*, const int32_t*, T*, int64_t, int64_t, int64_t, int64_t);             \
  template void scatter_add<T>(const T*, const int32_t*, T*, int64_t, int64_t, int64_t, int64_t);
#define TF_INSTANTIATE_INDEX_OPS \
  TF_INSTANTIATE_INDEX_FOR(float) TF_INSTANTIATE_INDEX_FOR(double) TF_INSTANTIATE_INDEX_FOR(int32_t)

namespace tf::cuda {

// The device-side range check the index ops need before they run (the host cannot read device indices).
// It reads the answer back, so it synchronizes the stream: one round trip per index op.
IndexOutOfRange find_index_out_of_range(const int32_t* idx, int64_t n, int64_t dim);

}  // namespace tf::cuda

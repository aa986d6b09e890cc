// N-d strided iteration shared by elementwise, copy and reduction kernels.
// Operands are described by (offset, strides) over one common shape; a stride of 0 broadcasts.
#pragma once
#include <array>
#include <cstdint>

#include "core/host_device.h"
#include "core/shape.h"


namespace tf {

constexpr int kMaxDims = 16;

// Shape and per-operand strides after merging dims that are contiguous for every operand, so the
// innermost loop is as long as possible. NOps operands.
template <int NOps>
struct StridedLayout {
  int ndim = 0;
  std::array<int64_t, kMaxDims> shape{};
  std::array<std::array<int64_t, kMaxDims>, NOps> strides{};
  int64_t numel = 1;

  StridedLayout(const Dims& dims, const std::array<const Dims*, NOps>& op_strides) {
    for (size_t d = 0; d < dims.size(); ++d) {
      if (dims[d] == 1) continue;  // size-1 dims never move the pointer
      const bool merge = ndim > 0 && [&] {
        for (int k = 0; k < NOps; ++k)
          if (strides[k][ndim - 1] != (*op_strides[k])[d] * dims[d]) return false;
        return true;
      }();
      if (merge) {
        shape[ndim - 1] *= dims[d];
        for (int k = 0; k < NOps; ++k) strides[k][ndim - 1] = (*op_strides[k])[d];
      } else {
        shape[ndim] = dims[d];
        for (int k = 0; k < NOps; ++k) strides[k][ndim] = (*op_strides[k])[d];
        ++ndim;
      }
    }
    for (int d = 0; d < ndim; ++d) numel *= shape[d];
    if (ndim == 0) {  // a scalar (or all-ones shape) is one element
      ndim = 1;
      shape[0] = 1;
      for (int k = 0; k < NOps; ++k) strides[k][0] = 0;
    }
    for (size_t d = 0; d < dims.size(); ++d)
      if (dims[d] == 0) numel = 0;
  }

  int64_t inner() const { return shape[ndim - 1]; }
  int64_t rows() const { return numel == 0 ? 0 : numel / inner(); }

  // Element offsets of each operand at the start of row `r` (row = all dims but the innermost).
  std::array<int64_t, NOps> row_offsets(int64_t r) const { return row_cursor(r).off; }

  // A row's index over the outer dims and its operands' offsets, for walking rows in order.
  struct RowCursor {
    std::array<int64_t, kMaxDims> index{};
    std::array<int64_t, NOps> off{};
  };

  RowCursor row_cursor(int64_t r) const {
    RowCursor c;
    for (int d = ndim - 2; d >= 0; --d) {
      c.index[d] = r % shape[d];
      r /= shape[d];
      for (int k = 0; k < NOps; ++k) c.off[k] += c.index[d] * strides[k][d];
    }
    return c;
  }

  // Moves c to the next row by carrying through the index, without the divisions of row_cursor (one per
  // outer dim: on rows of 16 elements they cost more than the row's work).
  void next_row(RowCursor& c) const {
    for (int d = ndim - 2; d >= 0; --d) {
      for (int k = 0; k < NOps; ++k) c.off[k] += strides[k][d];
      if (++c.index[d] < shape[d]) return;
      c.index[d] = 0;
      for (int k = 0; k < NOps; ++k) c.off[k] -= shape[d] * strides[k][d];
    }
  }
};

// A StridedLayout as plain arrays that a CUDA kernel takes by value (device code cannot index std::array
// without --expt-relaxed-constexpr): the operands' offsets of any element by its row-major position.
template <int NOps>
struct FlatStrides {
  int ndim;
  int64_t shape[kMaxDims];
  int64_t strides[NOps][kMaxDims];

  explicit FlatStrides(const StridedLayout<NOps>& layout) : ndim(layout.ndim), shape{}, strides{} {
    for (int d = 0; d < ndim; ++d) {
      shape[d] = layout.shape[d];
      for (int k = 0; k < NOps; ++k) strides[k][d] = layout.strides[k][d];
    }
  }

  // off[k] = operand k's element offset at row-major position i of the shape.
  TF_HD void offsets(int64_t i, int64_t (&off)[NOps]) const {
    if (ndim == 1) {  // one merged dim: no division (64-bit divisions are slow on a GPU)
      for (int k = 0; k < NOps; ++k) off[k] = i * strides[k][0];
      return;
    }
    for (int k = 0; k < NOps; ++k) off[k] = 0;
    for (int d = ndim - 1; d >= 0; --d) {
      const int64_t q = i / shape[d], index = i - q * shape[d];
      for (int k = 0; k < NOps; ++k) off[k] += index * strides[k][d];
      i = q;
    }
  }
};

}  // namespace tf

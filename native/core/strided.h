// N-d strided iteration shared by elementwise, copy and reduction kernels.
// Operands are described by (offset, strides) over one common shape; a stride of 0 broadcasts.
#pragma once
#include <array>
#include <cstdint>

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
  std::array<int64_t, NOps> row_offsets(int64_t r) const {
    std::array<int64_t, NOps> off{};
    for (int d = ndim - 2; d >= 0; --d) {
      const int64_t i = r % shape[d];
      r /= shape[d];
      for (int k = 0; k < NOps; ++k) off[k] += i * strides[k][d];
    }
    return off;
  }
};

}  // namespace tf

// Shape arithmetic with overflow checks, shared by every op's validation.
#pragma once
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/error.h"

namespace tf {

using Dims = std::vector<int64_t>;

// Largest element count any tensor may have: keeps byte counts (x8) and pointer offsets in range.
constexpr int64_t kMaxElements = int64_t(1) << 53;

// a*b, throwing a RangeError naming `what` when it leaves [0, kMaxElements].
int64_t checked_mul(int64_t a, int64_t b, const char* op, const char* what);

// Product of dims; every dim must be >= 0 and the product <= kMaxElements.
int64_t checked_numel(const Dims& dims, const char* op, const char* what);

std::string dims_str(const Dims& dims);

// Output length of a sliding window (conv/pool): floor or ceil of
// (in + 2*pad - dilation*(k-1) - 1)/stride + 1. Throws when it is <= 0 and in > 0.
int64_t window_out_size(int64_t in, int64_t k, int64_t stride, int64_t pad, int64_t dilation, bool ceil_mode,
                        const char* op, const char* axis);

// One past the largest element index a strided view reaches (0 for an empty view), checked for overflow.
int64_t strided_extent(const Dims& shape, const Dims& strides, int64_t offset, const char* op, const char* what);

}  // namespace tf

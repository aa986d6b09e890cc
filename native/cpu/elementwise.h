// The CPU side of the elementwise family (entry points: core/elementwise.h) and the row walk its loops share.
#pragma once
#include <algorithm>
#include <array>
#include <cstdint>

#include "core/elementwise.h"
#include "core/thread_pool.h"

namespace tf::cpu {

// Calls f(row_offsets, inner_length) for every row of the layout, on the thread pool when large.
template <int N, class F>
void for_each_row(const StridedLayout<N>& layout, F&& f) {
  // Rows longer than a task are cut into pieces, so a contiguous tensor (one merged row) still spreads
  // over the pool.
  const int64_t inner = layout.inner();
  const int64_t piece = std::min(inner, 2 * kTaskWork), pieces = piece == 0 ? 0 : (inner + piece - 1) / piece;
  parallel_for(layout.rows() * pieces, grain_for(piece), [&](int64_t t0, int64_t t1) {
    auto cursor = layout.row_cursor(t0 / pieces);
    for (int64_t t = t0, p = t0 % pieces; t < t1; ++t) {
      const int64_t begin = p * piece;
      std::array<int64_t, N> off = cursor.off;
      for (int k = 0; k < N; ++k) off[k] += begin * layout.strides[k][layout.ndim - 1];
      f(off, std::min(piece, inner - begin));
      if (++p == pieces) {
        p = 0;
        layout.next_row(cursor);
      }
    }
  });
}

}  // namespace tf::cpu

// Reductions split over the pool: one contiguous range of work items and one partial sum per thread, added up
// at the end in a fixed order, so the result does not depend on which thread ran which range.
#pragma once
#include <algorithm>
#include <cstdint>

#include "core/thread_pool.h"
#include "cpu/scratch.h"

namespace tf::cpu {

// out[0, size) = the sum over parts of fn(begin, end, partial), where each call covers one contiguous range
// of [0, items) and overwrites its own `size`-element partial (zeros for an empty range). The first part
// writes out itself. Each part runs its own GEMMs whole (gemm does not split inside a parallel_for).
template <class T, class F>
void sum_over_threads(int64_t items, int64_t size, T* out, F&& fn) {
  const int64_t parts = std::max<int64_t>(1, std::min<int64_t>(num_threads(), items));
  T* partials = scratch<T, Scratch::kPartials>((parts - 1) * size);
  parallel_for(parts, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c)
      fn(items * c / parts, items * (c + 1) / parts, c == 0 ? out : partials + (c - 1) * size);
  });
  for (int64_t c = 1; c < parts; ++c) {
    const T* partial = partials + (c - 1) * size;
    for (int64_t i = 0; i < size; ++i) out[i] += partial[i];
  }
}

}  // namespace tf::cpu

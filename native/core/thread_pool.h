// A small fixed thread pool for the CPU kernels. After a job its workers poll briefly for the next one, then
// sleep on a condition variable (see thread_pool.cc).
#pragma once
#include <algorithm>
#include <cstdint>
#include <functional>

namespace tf {

// Threads used by parallel_for, the caller included. Default: min(hardware threads, 8).
int num_threads();
void set_num_threads(int n);

// Elements of work worth handing to another thread.
constexpr int64_t kTaskWork = int64_t(1) << 14;

// Items per chunk so that a chunk holds about kTaskWork elements of work.
inline int64_t grain_for(int64_t work_per_item) {
  return std::max<int64_t>(1, kTaskWork / std::max<int64_t>(1, work_per_item));
}

// Calls fn(begin, end) over disjoint chunks covering [0, n). Runs inline when n < 2*grain, when one
// thread is configured, when called from inside another parallel_for, or when the pool is busy serving
// another JS thread (worker_threads): results never depend on the split.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace tf

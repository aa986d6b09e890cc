// A small thread pool for the CPU kernels, shared by every JS thread of the process (main and worker_threads).
// After a job its workers poll briefly for the next one, then sleep on a condition variable (see thread_pool.cc).
#pragma once
#include <algorithm>
#include <cstdint>
#include <functional>

namespace tf {

// Threads a parallel_for called from this thread uses, itself included: the calling JS thread's own setting
// (set_num_threads), min(hardware threads, 8) until it sets one. Inside a chunk of a parallel_for it is the
// setting of the thread that started the parallel_for.
int num_threads();
void set_num_threads(int n);

// Whether this thread is running a chunk of a parallel_for (a nested parallel_for runs inline).
bool in_parallel_for();

// Elements of work worth handing to another thread.
constexpr int64_t kTaskWork = int64_t(1) << 14;

// Items per chunk so that a chunk holds about kTaskWork elements of work.
inline int64_t grain_for(int64_t work_per_item) {
  return std::max<int64_t>(1, kTaskWork / std::max<int64_t>(1, work_per_item));
}

// Calls fn(begin, end) over the chunks [n * c / chunks, n * (c + 1) / chunks), c < chunks, with
// chunks = min(num_threads(), n / grain), or once over [0, n) when that is below 2 or when called from inside
// another parallel_for. The chunks depend on nothing else: when the pool is busy with another JS thread's job
// (worker_threads), the caller runs the same chunks itself, one after another, so no result depends on what
// the process's other threads are doing.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace tf

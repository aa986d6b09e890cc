// A small fixed thread pool for CPU kernels other than GEMM (OpenBLAS has its own threads).
// Workers sleep on a condition variable between jobs: no spinning that would steal cycles from BLAS.
#pragma once
#include <cstdint>
#include <functional>

namespace tf {

// Threads used by parallel_for, the caller included. Default: min(hardware threads, 8).
int num_threads();
void set_num_threads(int n);

// Calls fn(begin, end) over disjoint chunks covering [0, n). Runs inline when n < 2*grain, when one
// thread is configured, when called from inside another parallel_for, or when the pool is busy serving
// another JS thread (worker_threads): results never depend on the split.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace tf

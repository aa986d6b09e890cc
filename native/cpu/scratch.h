// Per-thread scratch memory that grows to the largest request and is reused by later calls (pool threads
// live as long as the process), so kernels do not allocate per call.
#pragma once
#include <cstdint>
#include <vector>

namespace tf::cpu {

// Buffers one thread may hold at the same time; each slot is a separate allocation.
enum class Scratch {
  kColumns,
  kPartials,
  kTransformedInput,
  kTransformedOutput,
  kTransformedWeights,
  kRows,
  kPaddedInput,
  kTransposedGrad,
  kAdjointWeights,
  kTransposedTiles,
};

template <class T, Scratch Slot>
T* scratch(int64_t n) {
  thread_local std::vector<T> buffer;
  if (int64_t(buffer.size()) < n) buffer.resize(size_t(n));
  return buffer.data();
}

}  // namespace tf::cpu

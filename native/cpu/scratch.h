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
  kPackedA,
  kPackedB,
};

// Scratch starts on a 64-byte boundary, a cache line and an AVX-512 vector: the kernels that keep one vector
// per element position would otherwise split every load across two lines (the batch-in-lanes weight gradient
// of a 3x3 convolution: 46 -> 63 GFLOP/s aligned).
constexpr int64_t kScratchAlign = 64;

template <class T, Scratch Slot>
T* scratch(int64_t n) {
  thread_local std::vector<T> buffer;
  constexpr int64_t slack = kScratchAlign / int64_t(sizeof(T));
  if (int64_t(buffer.size()) < n + slack) buffer.resize(size_t(n + slack));
  const uintptr_t at = reinterpret_cast<uintptr_t>(buffer.data());
  return reinterpret_cast<T*>((at + kScratchAlign - 1) & ~uintptr_t(kScratchAlign - 1));
}

}  // namespace tf::cpu

// Warp and block reductions for the CUDA kernels (include after cuda/kernel.h).
//
// Values of any trivially copyable type whose size is a multiple of 4 bytes (float, double, int64_t, or a
// struct such as a (value, position) pair) are shuffled as 32-bit words, so one reduction serves every
// accumulator. Blocks must be whole warps: blockDim.x a multiple of warpSize, at most 1024 threads.
#pragma once
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace tf::cuda {

constexpr int kWarpSize = 32;
constexpr unsigned kFullMask = 0xffffffffu;

// v of the lane `lane ^ lane_mask`; every lane of the warp must call it.
template <class T>
__device__ T shfl_xor(T v, int lane_mask) {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) % 4 == 0, "shfl_xor: 4-byte words only");
  uint32_t words[sizeof(T) / 4];
  memcpy(words, &v, sizeof(T));
  for (uint32_t& w : words) w = __shfl_xor_sync(kFullMask, w, lane_mask);
  memcpy(&v, words, sizeof(T));
  return v;
}

// combine() over the 32 lanes of the warp; every lane gets the result. A butterfly: at each step two lanes
// combine the same pair of values, so with a commutative combine (all of ours) every lane ends with the same
// bits.
template <class T, class F>
__device__ T warp_all_reduce(T v, F combine) {
  for (int lane_mask = kWarpSize / 2; lane_mask > 0; lane_mask /= 2) v = combine(v, shfl_xor(v, lane_mask));
  return v;
}

// A warp's partial result in shared memory, as bytes: one array serves every accumulator type, so that
// the emulator, which keys TF_SHARED arrays by their source line, sees one size at this line even when a
// kernel reduces a float and then a double.
struct alignas(16) PartialSlot {
  unsigned char bytes[16];
};

// combine() over the whole block; every thread gets the result. `identity` stands in for the missing warps
// of a block smaller than 32 warps. Every thread of the block must call it (it has two barriers), and it may
// be called again at once: the first barrier keeps a fast warp from overwriting partials still being read.
template <class T, class F>
__device__ T block_all_reduce(T v, T identity, F combine) {
  static_assert(sizeof(T) <= sizeof(PartialSlot), "block_all_reduce: values of at most 16 bytes");
  TF_SHARED(PartialSlot, partials, kWarpSize);
  const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
  const int warps = blockDim.x / kWarpSize;
  v = warp_all_reduce(v, combine);
  __syncthreads();
  if (lane == 0) memcpy(partials[warp].bytes, &v, sizeof(T));
  __syncthreads();
  T partial = identity;
  if (lane < warps) memcpy(&partial, partials[lane].bytes, sizeof(T));
  return warp_all_reduce(partial, combine);
}

}  // namespace tf::cuda

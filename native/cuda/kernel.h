// Included first by every .cu file. In the real build nvcc compiles the kernels against cuda_runtime.h; in
// the emulated build (TF_CUDA_EMULATE) g++ compiles the same sources against cuda/emu/, which provides the
// same names and runs kernels on the CPU. launch() is the only way kernels are started.
#pragma once
#include <cstddef>
#include <cstdint>
#include <tuple>
#include <utility>

#if defined(TF_CUDA_EMULATE)
#include "cuda/emu/emu.h"
#else
#include <cuda_runtime.h>
#endif

namespace tf::cuda {

// The current device's stream (cuda/runtime.cu).
cudaStream_t current_stream();
// Throws tf::Error naming the kernel and its launch shape (cuda/runtime.cu).
[[noreturn]] void launch_failed(const char* name, dim3 grid, dim3 block, size_t shared_bytes, cudaError_t err);
// Records the kernel as the stream's latest launch, so that an error found at the next synchronization
// can name it (cuda/runtime.cu).
void note_launch(const char* name, dim3 grid, dim3 block);

constexpr int kMaxGridX = 2147483647;

// Blocks for a grid-stride loop over n items with `threads` threads a block, capped at `max_blocks`
// (the loops cover the rest).
inline dim3 grid_for(int64_t n, int threads, int64_t max_blocks = 65536) {
  const int64_t blocks = (n + threads - 1) / threads;
  return dim3(unsigned(blocks < 1 ? 1 : (blocks > max_blocks ? max_blocks : blocks)));
}

// Enqueues kernel<<<grid, block, shared_bytes>>>(args...) on the current stream and returns at once.
// Arguments are converted to the kernel's parameter types here, on the host. An empty grid is a no-op.
template <class... P, class... A>
void launch(const char* name, void (*kernel)(P...), dim3 grid, dim3 block, size_t shared_bytes, A&&... args) {
  static_assert(sizeof...(P) == sizeof...(A), "launch: argument count differs from the kernel's parameters");
  if (uint64_t(grid.x) * grid.y * grid.z == 0) return;
  note_launch(name, grid, block);
#if defined(TF_CUDA_EMULATE)
  std::tuple<P...> params(std::forward<A>(args)...);
  const cudaError_t err = emu::launch(name, current_stream(), grid, block, shared_bytes,
                                      [kernel, params]() { std::apply(kernel, params); });
#else
  kernel<<<grid, block, shared_bytes, current_stream()>>>(P(std::forward<A>(args))...);
  const cudaError_t err = cudaGetLastError();
#endif
  if (err != cudaSuccess) launch_failed(name, grid, block, shared_bytes, err);
}

}  // namespace tf::cuda

#if !defined(TF_CUDA_EMULATE)
// A block-shared array of `count` T (the emulation defines these with bounds checks in checked mode).
#define TF_SHARED(T, name, count) __shared__ T name[count]
// The launch's dynamic shared memory as T*.
#define TF_DYNAMIC_SHARED(T, name)                                  \
  extern __shared__ __align__(16) unsigned char tf_dynamic_shared_[]; \
  T* name = reinterpret_cast<T*>(tf_dynamic_shared_)
#endif

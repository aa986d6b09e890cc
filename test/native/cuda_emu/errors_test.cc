// Misuse that a GPU would hang on, corrupt memory with or reject: each must be reported with the kernel's
// name and what happened, and the process must go on (the next kernel runs normally).
#include <cstdint>

#include "check.h"

using tf::cuda::launch;

namespace {

__global__ void fill_kernel(int* out, int value) { out[threadIdx.x] = value; }

// Runs a correct kernel after an error: the emulator must have recovered its workers and fibers.
void check_recovered() {
  emu_test::DeviceArray<int> d(64);
  launch("fill", fill_kernel, dim3(1), dim3(64), 0, d.get(), 7);
  const auto out = d.download();
  CHECK_EQ(std::count(out.begin(), out.end(), 7), 64);
}

__global__ void barrier_in_branch_kernel(int* out) {
  if (threadIdx.x < 16) __syncthreads();
  out[threadIdx.x] = 1;
}

__global__ void early_return_kernel(int* out) {
  if (threadIdx.x == 5) return;
  __syncthreads();
  out[threadIdx.x] = 1;
}

__global__ void two_barriers_kernel(int* out) {
  if (threadIdx.x < 16) {
    __syncthreads();
  } else {
    __syncthreads();
  }
  out[threadIdx.x] = 1;
}

__global__ void shuffle_exited_lane_kernel(int* out) {
  // Lane 0 exits before any lane reaches the shuffle.
  if (threadIdx.x == 0) return;
  out[threadIdx.x] = __shfl_sync(0xffffffffu, int(threadIdx.x), 0);
}

__global__ void shuffle_exited_lane_late_kernel(int* out) {
  // Lanes 0..30 reach the shuffle before lane 31 exits.
  if (threadIdx.x == 31) return;
  out[threadIdx.x] = __shfl_down_sync(0xffffffffu, int(threadIdx.x), 1);
}

__global__ void shuffle_missing_lane_kernel(int* out) {
  out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, int(threadIdx.x), 1);
}

__global__ void shuffle_without_self_kernel(int* out) {
  out[threadIdx.x] = __shfl_sync(threadIdx.x == 2 ? 0x3u : 0xffffffffu, int(threadIdx.x), 0);
}

__global__ void divergent_collectives_kernel(int* out) {
  if (threadIdx.x < 16)
    out[threadIdx.x] = __shfl_sync(0xffffffffu, int(threadIdx.x), 0);
  else
    out[threadIdx.x] = __shfl_sync(0xffffffffu, int(threadIdx.x), 1);
}

__global__ void shared_out_of_bounds_kernel(float* out) {
  TF_SHARED(float, tile, 32);
  tile[threadIdx.x] = 1.0f;
  out[threadIdx.x] = tile[threadIdx.x];
}

__global__ void dynamic_shared_out_of_bounds_kernel(float* out) {
  TF_DYNAMIC_SHARED(float, cache);
  cache[threadIdx.x] = 1.0f;
  out[threadIdx.x] = cache[threadIdx.x];
}

__global__ void write_past_end_kernel(float* out, int n) {
  for (int i = threadIdx.x; i <= n; i += blockDim.x) out[i] = 1.0f;  // <= : one element too many
}

__global__ void write_before_start_kernel(float* out) {
  if (threadIdx.x == 0) out[-1] = 1.0f;
}

}  // namespace

TEST(barrier_inside_a_branch_is_divergence) {
  emu_test::DeviceArray<int> d(64);
  launch("barrier_in_branch", barrier_in_branch_kernel, dim3(2), dim3(64), 0, d.get());
  EXPECT_KERNEL_ERROR(cudaErrorLaunchFailure, "kernel 'barrier_in_branch'", "divergent __syncthreads()",
                      "threads 16..63 exited while threads 0..15 wait at __syncthreads() at", "errors_test.cc:");
  check_recovered();
}

TEST(thread_returning_before_a_barrier_is_divergence) {
  emu_test::DeviceArray<int> d(64);
  launch("early_return", early_return_kernel, dim3(1), dim3(64), 0, d.get());
  EXPECT_KERNEL_ERROR(cudaErrorLaunchFailure, "kernel 'early_return' block (0,0,0)",
                      "thread (5,0,0) exited while threads 0..4, 6..63 wait");
  check_recovered();
}

TEST(threads_at_different_barriers_are_divergence) {
  emu_test::DeviceArray<int> d(64);
  launch("two_barriers", two_barriers_kernel, dim3(1), dim3(64), 0, d.get());
  EXPECT_KERNEL_ERROR(cudaErrorLaunchFailure, "kernel 'two_barriers'", "thread (16,0,0)",
                      "divergent __syncthreads(): it waits at", "while threads 0..15 wait at");
  check_recovered();
}

TEST(shuffle_mask_naming_an_exited_lane) {
  emu_test::DeviceArray<int> d(32);
  launch("shuffle_exited", shuffle_exited_lane_kernel, dim3(1), dim3(32), 0, d.get());
  EXPECT_KERNEL_ERROR(cudaErrorLaunchFailure, "kernel 'shuffle_exited'", "thread (1,0,0)",
                      "__shfl_sync(mask 0xffffffff)", "names lanes 0x00000001 that have exited");
  launch("shuffle_exited_late", shuffle_exited_lane_late_kernel, dim3(1), dim3(32), 0, d.get());
  EXPECT_KERNEL_ERROR(cudaErrorLaunchFailure, "kernel 'shuffle_exited_late'", "thread (31,0,0) exited while",
                      "waits at __shfl_down_sync(mask 0xffffffff)", "whose mask names it");
  check_recovered();
}

TEST(shuffle_mask_naming_a_missing_lane_or_not_the_caller) {
  emu_test::DeviceArray<int> d(40);
  launch("shuffle_missing", shuffle_missing_lane_kernel, dim3(1), dim3(40), 0, d.get());
  EXPECT_KERNEL_ERROR(cudaErrorLaunchFailure, "kernel 'shuffle_missing'", "thread (32,0,0)",
                      "names lanes 0xffffff00 that do not exist (this warp has 8 lanes)");
  launch("shuffle_without_self", shuffle_without_self_kernel, dim3(1), dim3(32), 0, d.get());
  EXPECT_KERNEL_ERROR(cudaErrorLaunchFailure, "thread (2,0,0)", "the calling lane 2 is not in the mask");
  check_recovered();
}

TEST(lanes_at_different_collectives_are_divergence) {
  emu_test::DeviceArray<int> d(32);
  launch("divergent_collectives", divergent_collectives_kernel, dim3(1), dim3(32), 0, d.get());
  EXPECT_KERNEL_ERROR(cudaErrorLaunchFailure, "kernel 'divergent_collectives'", "divergent warp: thread (0,0,0)",
                      "named in the mask, waits at __shfl_sync(mask 0xffffffff) at");
  check_recovered();
}

TEST(shared_array_index_out_of_bounds) {
  if (!emu::checked()) return emu_test::skip("needs TENSORFORGE_EMU_CHECKED=1");
  emu_test::DeviceArray<float> d(64);
  launch("shared_oob", shared_out_of_bounds_kernel, dim3(1), dim3(33), 0, d.get());
  EXPECT_KERNEL_ERROR(cudaErrorIllegalAddress, "kernel 'shared_oob' block (0,0,0): thread (32,0,0)",
                      "shared array 'tile' index 32 is out of bounds [0, 32)");
  launch("dynamic_oob", dynamic_shared_out_of_bounds_kernel, dim3(1), dim3(20), 16 * sizeof(float), d.get());
  EXPECT_KERNEL_ERROR(cudaErrorIllegalAddress, "thread (16,0,0)", "shared array 'cache' index 16 is out of bounds [0, 16)");
  check_recovered();
}

TEST(write_outside_a_device_allocation) {
  if (!emu::checked()) return emu_test::skip("needs TENSORFORGE_EMU_CHECKED=1");
  const int n = 1000;
  emu_test::DeviceArray<float> d(n);
  launch("write_past_end", write_past_end_kernel, dim3(1), dim3(128), 0, d.get(), n);
  EXPECT_KERNEL_ERROR(cudaErrorIllegalAddress, "kernel 'write_past_end' wrote outside device allocation",
                      "of 4000 bytes: byte offsets 4000..4003 (past its end)");
  launch("write_before_start", write_before_start_kernel, dim3(1), dim3(32), 0, d.get());
  EXPECT_KERNEL_ERROR(cudaErrorIllegalAddress, "kernel 'write_before_start'", "byte offsets -4..-1 (before its start)");
  // The padding reads as NaN in checked mode, so that an out-of-bounds read shows in results.
  float past_end = 0.0f;
  CHECK_EQ(cudaMemcpy(&past_end, d.get() + n, sizeof(float), cudaMemcpyDeviceToHost), cudaErrorInvalidValue);
  CHECK(emu::last_error_message().find("runs past the end of allocation") != std::string::npos);
  CHECK_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  std::memcpy(&past_end, d.get() + n, sizeof(float));
  CHECK(std::isnan(past_end));
  check_recovered();
}

TEST(out_of_memory_and_bad_pointers) {
  size_t free_bytes = 0, total = 0;
  CHECK_EQ(cudaMemGetInfo(&free_bytes, &total), cudaSuccess);
  void* p = nullptr;
  CHECK_EQ(cudaMalloc(&p, total + 1), cudaErrorMemoryAllocation);
  CHECK(emu::last_error_message().find("TENSORFORGE_EMU_MEMORY") != std::string::npos);
  CHECK_EQ(cudaGetLastError(), cudaErrorMemoryAllocation);
  CHECK_EQ(cudaGetLastError(), cudaSuccess);
  // Two allocations of 60% of the memory: the second does not fit.
  void* a = nullptr;
  CHECK_EQ(cudaMalloc(&a, free_bytes / 10 * 6), cudaSuccess);
  CHECK_EQ(cudaMalloc(&p, free_bytes / 10 * 6), cudaErrorMemoryAllocation);
  CHECK_EQ(cudaFree(a), cudaSuccess);
  CHECK_EQ(cudaGetLastError(), cudaErrorMemoryAllocation);

  int host = 0;
  CHECK_EQ(cudaFree(&host), cudaErrorInvalidValue);
  CHECK(emu::last_error_message().find("is not a live device allocation") != std::string::npos);
  CHECK_EQ(cudaMalloc(&a, 1024), cudaSuccess);
  CHECK(emu::check_pointer(a));
  CHECK(emu::check_pointer(static_cast<char*>(a) + 1023));
  CHECK(!emu::check_pointer(static_cast<char*>(a) + 1024));
  CHECK(!emu::check_pointer(&host));
  CHECK_EQ(cudaFree(static_cast<char*>(a) + 8), cudaErrorInvalidValue);
  CHECK(emu::last_error_message().find("points 8 bytes into allocation") != std::string::npos);
  CHECK_EQ(cudaFree(a), cudaSuccess);
  CHECK_EQ(cudaFree(a), cudaErrorInvalidValue);
  CHECK(!emu::check_pointer(a));
  cudaGetLastError();
}

TEST(launch_pointer_arguments_outside_allocations) {
  if (!emu::checked()) return emu_test::skip("needs TENSORFORGE_EMU_CHECKED=1");
  float* p = nullptr;
  CHECK_EQ(cudaMalloc(&p, 100 * sizeof(float)), cudaSuccess);
  int host = 0;
  CHECK_EQ(emu::check_launch_pointers("axpy", p, p + 100, static_cast<const float*>(nullptr), 2.0f, 7), cudaSuccess);
  CHECK_EQ(emu::check_launch_pointers("axpy", p, 2.0f, &host), cudaErrorInvalidValue);
  CHECK(emu::last_error_message().find("kernel 'axpy' argument 2: pointer") != std::string::npos);
  CHECK_EQ(emu::check_launch_pointers("axpy", p + 101), cudaErrorInvalidValue);
  CHECK_EQ(cudaFree(p), cudaSuccess);
  CHECK_EQ(emu::check_launch_pointers("axpy", p), cudaErrorInvalidValue);
  CHECK_EQ(cudaGetLastError(), cudaSuccess);  // like a launch error, not sticky
}

TEST(invalid_launch_configurations_fail_at_once) {
  emu_test::DeviceArray<int> d(64);
  const auto rejected = [&](dim3 grid, dim3 block, size_t shared, const std::string& why) {
    try {
      launch("fill", fill_kernel, grid, block, shared, d.get(), 1);
      emu_test::fail(__FILE__, __LINE__, "launch accepted: " + why);
    } catch (const std::runtime_error& e) {
      const std::string text = e.what();
      if (text.find("cudaErrorInvalidConfiguration") == std::string::npos || text.find(why) == std::string::npos)
        emu_test::fail(__FILE__, __LINE__, "wrong error: " + text);
    }
  };
  rejected(dim3(1), dim3(2048), 0, "a block must have 1 to 1024 threads, not 2048");
  rejected(dim3(1), dim3(32, 32, 2), 0, "not 2048");
  rejected(dim3(1), dim3(1, 1, 128), 0, "limited to (1024,1024,64)");
  rejected(dim3(1, 70000), dim3(32), 0, "grid dimensions must lie in");
  rejected(dim3(1), dim3(32), 64 * 1024, "dynamic shared memory is limited to 49152 bytes");
  CHECK_EQ(cudaGetLastError(), cudaSuccess);  // a failed launch is not sticky: kernel.h already reported it
  check_recovered();
}

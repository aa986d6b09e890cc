// The runtime API: device properties, streams (ordering, queries, events, cross-stream waits) and the cost
// of launches, blocks and fiber switches.
#include <atomic>
#include <chrono>
#include <thread>

#include "check.h"

using tf::cuda::grid_for;
using tf::cuda::launch;

namespace {

__global__ void add_kernel(float* x, float v, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    x[i] += v;
}

// Spins until the host sets *gate: the stream is provably busy meanwhile.
__global__ void gate_kernel(const int* gate, int* seen) {
  while (__atomic_load_n(gate, __ATOMIC_ACQUIRE) == 0) std::this_thread::yield();
  *seen = 1;
}

__global__ void copy_flag_kernel(int* out, const int* seen) { *out = *seen; }

__global__ void index_kernel(int* out, int64_t n) {
  const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i < n) out[i] = int(i);
}

__global__ void barriers_kernel(int* out, int rounds) {
  int v = 0;
  for (int r = 0; r < rounds; ++r) {
    v += r;
    __syncthreads();
  }
  out[blockIdx.x * blockDim.x + threadIdx.x] = v;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TEST(device_properties_and_versions) {
  int count = 0;
  CHECK_EQ(cudaGetDeviceCount(&count), cudaSuccess);
  CHECK_EQ(count, 1);
  cudaDeviceProp prop;
  CHECK_EQ(cudaGetDeviceProperties(&prop, 0), cudaSuccess);
  CHECK_EQ(std::string(prop.name), std::string("tensorforge emulated CUDA device (CPU)"));
  CHECK_EQ(prop.major, 9);
  CHECK_EQ(prop.minor, 0);
  CHECK_EQ(prop.warpSize, 32);
  CHECK_EQ(prop.maxThreadsPerBlock, 1024);
  CHECK_EQ(prop.sharedMemPerBlock, size_t(48 * 1024));
  CHECK_EQ(prop.totalGlobalMem, size_t(8) << 30);
  CHECK(prop.multiProcessorCount >= 1);
  CHECK_EQ(cudaGetDeviceProperties(&prop, 1), cudaErrorInvalidDevice);
  CHECK_EQ(cudaSetDevice(1), cudaErrorInvalidDevice);
  CHECK_EQ(cudaGetLastError(), cudaErrorInvalidDevice);
  CHECK_EQ(cudaSetDevice(0), cudaSuccess);
  int device = -1, version = 0;
  CHECK_EQ(cudaGetDevice(&device), cudaSuccess);
  CHECK_EQ(device, 0);
  CHECK_EQ(cudaRuntimeGetVersion(&version), cudaSuccess);
  CHECK_EQ(version, 13000);
  CHECK_EQ(std::string(cudaGetErrorName(cudaErrorMemoryAllocation)), std::string("cudaErrorMemoryAllocation"));
  CHECK_EQ(std::string(cudaGetErrorString(cudaErrorMemoryAllocation)), std::string("out of memory"));

  size_t free_before = 0, free_after = 0, total = 0;
  CHECK_EQ(cudaMemGetInfo(&free_before, &total), cudaSuccess);
  void* p = nullptr;
  CHECK_EQ(cudaMalloc(&p, 1000), cudaSuccess);
  CHECK_EQ(cudaMemGetInfo(&free_after, &total), cudaSuccess);
  CHECK_EQ(free_before - free_after, size_t(1024));  // rounded up to the 256-byte alignment
  CHECK_EQ(reinterpret_cast<uintptr_t>(p) % 256, uintptr_t(0));
  CHECK_EQ(cudaFree(p), cudaSuccess);
}

TEST(stream_runs_copies_and_kernels_in_order) {
  cudaStream_t stream;
  CHECK_EQ(cudaStreamCreate(&stream), cudaSuccess);
  emu_test::current = stream;
  const int64_t n = 50001;
  float* pinned = nullptr;
  CHECK_EQ(cudaMallocHost(&pinned, n * sizeof(float)), cudaSuccess);
  const auto x = emu_test::random_floats(size_t(n), 11);
  std::copy(x.begin(), x.end(), pinned);
  emu_test::DeviceArray<float> d{size_t(n)};
  CHECK_EQ(cudaMemsetAsync(d.get(), 0, n * sizeof(float), stream), cudaSuccess);
  CHECK_EQ(cudaMemcpyAsync(d.get(), pinned, n * sizeof(float), cudaMemcpyHostToDevice, stream), cudaSuccess);
  for (int k = 0; k < 10; ++k) launch("add", add_kernel, grid_for(n, 256, 16), dim3(256), 0, d.get(), 1.0f, n);
  CHECK_EQ(cudaMemcpyAsync(pinned, d.get(), n * sizeof(float), cudaMemcpyDeviceToHost, stream), cudaSuccess);
  cudaEvent_t done;
  CHECK_EQ(cudaEventCreate(&done), cudaSuccess);
  CHECK_EQ(cudaEventRecord(done, stream), cudaSuccess);
  CHECK_EQ(cudaEventSynchronize(done), cudaSuccess);
  CHECK_EQ(cudaEventQuery(done), cudaSuccess);
  int wrong = 0;
  for (int64_t i = 0; i < n; ++i) {
    float expected = x[size_t(i)];
    for (int k = 0; k < 10; ++k) expected += 1.0f;
    wrong += pinned[i] != expected;
  }
  CHECK_EQ(wrong, 0);
  CHECK_EQ(cudaStreamSynchronize(stream), cudaSuccess);
  CHECK_EQ(cudaEventDestroy(done), cudaSuccess);
  CHECK_EQ(cudaFreeHost(pinned), cudaSuccess);
  CHECK_EQ(cudaStreamDestroy(stream), cudaSuccess);
  CHECK_EQ(cudaStreamSynchronize(stream), cudaErrorInvalidResourceHandle);
  cudaGetLastError();
}

TEST(stream_query_events_and_cross_stream_waits) {
  cudaStream_t producer, consumer;
  CHECK_EQ(cudaStreamCreateWithFlags(&producer, cudaStreamNonBlocking), cudaSuccess);
  CHECK_EQ(cudaStreamCreateWithFlags(&consumer, cudaStreamNonBlocking), cudaSuccess);
  emu_test::DeviceArray<int> gate(std::vector<int>{0}), seen(std::vector<int>{0}), out(std::vector<int>{-1});
  cudaEvent_t start, produced;
  CHECK_EQ(cudaEventCreate(&start), cudaSuccess);
  CHECK_EQ(cudaEventCreateWithFlags(&produced, cudaEventDisableTiming), cudaSuccess);
  CHECK_EQ(cudaEventRecord(start, producer), cudaSuccess);
  emu_test::current = producer;
  launch("gate", gate_kernel, dim3(1), dim3(1), 0, gate.get(), seen.get());
  CHECK_EQ(cudaEventRecord(produced, producer), cudaSuccess);
  CHECK_EQ(cudaStreamWaitEvent(consumer, produced, 0), cudaSuccess);
  emu_test::current = consumer;
  launch("copy_flag", copy_flag_kernel, dim3(1), dim3(1), 0, out.get(), seen.get());
  // The start event's time is taken before the gate opens: the gate kernel lasts at least the sleep.
  while (cudaEventQuery(start) == cudaErrorNotReady) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK_EQ(cudaStreamQuery(producer), cudaErrorNotReady);
  CHECK_EQ(cudaStreamQuery(consumer), cudaErrorNotReady);
  CHECK_EQ(cudaEventQuery(produced), cudaErrorNotReady);
  __atomic_store_n(gate.get(), 1, __ATOMIC_RELEASE);
  CHECK_EQ(cudaStreamSynchronize(consumer), cudaSuccess);
  CHECK_EQ(out.download()[0], 1);  // the consumer ran after the producer's kernel
  CHECK_EQ(cudaStreamQuery(producer), cudaSuccess);
  float ms = -1.0f;
  cudaEvent_t end;
  CHECK_EQ(cudaEventCreate(&end), cudaSuccess);
  CHECK_EQ(cudaEventRecord(end, producer), cudaSuccess);
  CHECK_EQ(cudaEventSynchronize(end), cudaSuccess);
  CHECK_EQ(cudaEventElapsedTime(&ms, start, end), cudaSuccess);
  CHECK(ms >= 20.0f);
  for (cudaEvent_t e : {start, produced, end}) CHECK_EQ(cudaEventDestroy(e), cudaSuccess);
  CHECK_EQ(cudaStreamDestroy(producer), cudaSuccess);
  CHECK_EQ(cudaStreamDestroy(consumer), cudaSuccess);
}

TEST(legacy_stream_waits_for_blocking_streams) {
  cudaStream_t blocking;
  CHECK_EQ(cudaStreamCreate(&blocking), cudaSuccess);
  emu_test::DeviceArray<int> gate(std::vector<int>{0}), seen(std::vector<int>{0});
  emu_test::current = blocking;
  launch("gate", gate_kernel, dim3(1), dim3(1), 0, gate.get(), seen.get());
  std::thread opener([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    __atomic_store_n(gate.get(), 1, __ATOMIC_RELEASE);
  });
  // cudaMemcpy runs on the legacy stream, which first waits for the gate kernel.
  CHECK_EQ(seen.download()[0], 1);
  opener.join();
  CHECK_EQ(cudaStreamDestroy(blocking), cudaSuccess);
}

TEST(a_million_threads_without_barriers_run_fast) {
  const int64_t n = 1 << 20;
  emu_test::DeviceArray<int> d{size_t(n)};
  launch("index", index_kernel, grid_for(n, 256, 1 << 20), dim3(256), 0, d.get(), n);  // warm up the fibers
  CHECK_EQ(cudaDeviceSynchronize(), cudaSuccess);
  const int reps = 5;
  const auto start = std::chrono::steady_clock::now();
  for (int r = 0; r < reps; ++r) launch("index", index_kernel, grid_for(n, 256, 1 << 20), dim3(256), 0, d.get(), n);
  CHECK_EQ(cudaDeviceSynchronize(), cudaSuccess);
  const double per_launch = seconds_since(start) / reps;
  const auto out = d.download();
  int wrong = 0;
  for (int64_t i = 0; i < n; ++i) wrong += out[size_t(i)] != int(i);
  CHECK_EQ(wrong, 0);
  CHECK(per_launch < 0.5);
  std::printf("      1M threads (4096 blocks of 256): %.1f ms a launch, %.2f us a block, %.1f ns a thread\n",
              per_launch * 1e3, per_launch / 4096 * 1e6, per_launch / double(n) * 1e9);

  // Fiber switches: at every barrier each of the 256 threads switches once, to the next one.
  const int rounds = 200, blocks = 8;
  emu_test::DeviceArray<int> b(size_t(blocks) * 256);
  const auto barrier_start = std::chrono::steady_clock::now();
  launch("barriers", barriers_kernel, dim3(blocks), dim3(256), 0, b.get(), rounds);
  CHECK_EQ(cudaDeviceSynchronize(), cudaSuccess);
  const double seconds = seconds_since(barrier_start);
  CHECK_EQ(b.download()[255], rounds * (rounds - 1) / 2);
  std::printf("      __syncthreads: %.0f ns a barrier for 256 threads, %.1f ns a thread (one fiber switch)\n",
              seconds / (rounds * double(blocks)) * 1e9, seconds / (rounds * double(blocks) * 256) * 1e9);

  const int launches = 2000;
  const auto launch_start = std::chrono::steady_clock::now();
  for (int r = 0; r < launches; ++r) launch("index", index_kernel, dim3(1), dim3(64), 0, d.get(), int64_t(64));
  CHECK_EQ(cudaDeviceSynchronize(), cudaSuccess);
  std::printf("      %.1f us a launch of one 64-thread block\n", seconds_since(launch_start) / launches * 1e6);
}

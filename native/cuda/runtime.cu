// Devices, streams, the caching allocator, pinned staging and CUDA errors (cuda/runtime.h). Only CUDA runtime
// API calls, so the emulated build compiles this file unchanged against cuda/emu/.
#include "cuda/kernel.h"
// kernel.h first: it provides the CUDA runtime API, real or emulated.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "cuda/runtime.h"

namespace tf::cuda {
namespace {

// Size classes: requests below 1 MiB round up to 512 bytes, larger ones to 2 MiB, so the blocks a
// training step frees are the sizes its next step asks for.
constexpr size_t kSmallLimit = size_t(1) << 20;
constexpr size_t kSmallGranule = 512;
constexpr size_t kLargeGranule = size_t(2) << 20;
// A cached large block serves a request when it wastes at most an eighth of it.
constexpr size_t kLargeSlackDivisor = 8;
// Host<->device copies go through pinned buffers of this size, one chunk each.
constexpr size_t kStagingBytes = size_t(4) << 20;

size_t size_class(size_t bytes) {
  const size_t granule = bytes < kSmallLimit ? kSmallGranule : kLargeGranule;
  return (bytes + granule - 1) / granule * granule;
}

std::string shape_str(dim3 d) {
  std::ostringstream os;
  os << "(" << d.x << ", " << d.y << ", " << d.z << ")";
  return os.str();
}

std::string describe(cudaError_t err) {
  std::string s = std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err);
#if defined(TF_CUDA_EMULATE)
  const std::string detail = emu::last_error_message();
  if (!detail.empty()) s += " (" + detail + ")";
#endif
  return s;
}

struct Staging {
  void* host = nullptr;
  cudaEvent_t copied = nullptr;  // recorded after the last copy that used `host`
};

struct LaunchRecord {
  const char* name = nullptr;
  dim3 grid, block;
};

struct Device {
  int index = 0;
  std::once_flag started;
  cudaStream_t stream = nullptr;

  // The allocator and the staging pool: the JS thread and download workers share them.
  std::mutex mutex;
  std::multimap<size_t, void*> cached;       // free blocks by size
  std::unordered_map<void*, size_t> in_use;  // handed-out blocks and their sizes
  MemoryStats stats{};
  std::deque<Staging> idle_staging;  // oldest copy first

  std::mutex launch_mutex;
  LaunchRecord latest;

  // Download workers copy off the JS thread: the counters are atomics.
  std::atomic<int64_t> uploads{0}, upload_bytes{0}, downloads{0}, download_bytes{0};
};

// The error's text, then the error cleared (when it is not sticky) so the next call starts clean.
std::string take_error(cudaError_t err) {
  std::string text = describe(err);
  cudaGetLastError();
  return text;
}

// Throws tf::Error "cuda: <what> on device D failed: <error>" unless err is cudaSuccess.
void check(cudaError_t err, int device, const char* what) {
  if (err == cudaSuccess) return;
  fail(ErrorKind::Generic, "cuda: ", what, " on device ", device, " failed: ", take_error(err));
}

// For calls that wait for the stream: an error there may have been raised by any kernel enqueued before,
// so the message names the latest one.
void check_sync(cudaError_t err, Device& d, const char* what) {
  if (err == cudaSuccess) return;
  const std::string text = take_error(err);
  LaunchRecord latest;
  {
    std::lock_guard<std::mutex> lock(d.launch_mutex);
    latest = d.latest;
  }
  std::string context = latest.name ? std::string("latest kernel launched: ") + latest.name + ", grid " +
                                          shape_str(latest.grid) + ", block " + shape_str(latest.block)
                                    : std::string("no kernel launched yet");
  fail(ErrorKind::Generic, "cuda: ", what, " on device ", d.index, " failed: ", text, " (", context, ")");
}

// The device states live until the process exits and are never destroyed: at exit the CUDA runtime may
// already be torn down, and destroying streams or freeing memory then would fail.
struct Registry {
  int count = 0;
  std::vector<Device*> devices;
};

Registry& registry() {
  static Registry* r = [] {
    auto* reg = new Registry;
    if (cudaGetDeviceCount(&reg->count) != cudaSuccess) {
      cudaGetLastError();
      reg->count = 0;
    }
    for (int i = 0; i < reg->count; ++i) {
      reg->devices.push_back(new Device);
      reg->devices.back()->index = i;
    }
    return reg;
  }();
  return *r;
}

// The device this thread made current through the runtime; -1 before the first.
thread_local int t_current = -1;

// Device `index` with its stream created, made current on the calling thread.
Device& activate(int index) {
  Registry& reg = registry();
  TF_CHECK(index >= 0 && index < reg.count, Range, "cuda: device ", index, " does not exist (",
           reg.count == 0 ? std::string("no CUDA device is usable") : std::to_string(reg.count) + " devices", ")");
  Device& d = *reg.devices[size_t(index)];
  if (t_current != index) {
    check(cudaSetDevice(index), index, "cudaSetDevice");
    t_current = index;
  }
  std::call_once(d.started, [&] {
    check(cudaStreamCreateWithFlags(&d.stream, cudaStreamNonBlocking), index, "cudaStreamCreateWithFlags");
  });
  return d;
}

void note_reserved(Device& d, size_t bytes) {
  d.stats.reserved += int64_t(bytes);
  d.stats.max_reserved = std::max(d.stats.max_reserved, d.stats.reserved);
}

// Frees every cached block; d.mutex held. The stream is drained first: a cached block may still be read by
// work enqueued before it was released.
void free_cached(Device& d) {
  check_sync(cudaStreamSynchronize(d.stream), d, "cudaStreamSynchronize before releasing the cache");
  for (const auto& [bytes, ptr] : d.cached) {
    check(cudaFree(ptr), d.index, "cudaFree");
    d.stats.reserved -= int64_t(bytes);
  }
  d.cached.clear();
}

// A cached block of the size class, or nullptr; d.mutex held.
void* take_cached(Device& d, size_t bytes) {
  const auto it = d.cached.lower_bound(bytes);
  if (it == d.cached.end()) return nullptr;
  const bool fits = bytes < kSmallLimit ? it->first == bytes : it->first - bytes <= bytes / kLargeSlackDivisor;
  if (!fits) return nullptr;
  void* ptr = it->second;
  d.in_use.emplace(ptr, it->first);
  d.cached.erase(it);
  return ptr;
}

// A fresh block from the driver, releasing the cache and retrying once when the device is full; d.mutex held.
void* take_fresh(Device& d, size_t bytes, size_t requested) {
  void* ptr = nullptr;
  cudaError_t err = cudaMalloc(&ptr, bytes);
  if (err == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    free_cached(d);
    err = cudaMalloc(&ptr, bytes);
    if (err == cudaErrorMemoryAllocation) {
      cudaGetLastError();  // the message below says all there is
      fail(ErrorKind::Range, "cuda: out of memory allocating ", requested, " bytes on device ", d.index,
           " (allocated ", d.stats.allocated, ", reserved ", d.stats.reserved, ")");
    }
  }
  check(err, d.index, "cudaMalloc");
  d.in_use.emplace(ptr, bytes);
  note_reserved(d, bytes);
  return ptr;
}

// At most this many idle staging buffers are kept; more exist only while several threads copy at once.
constexpr size_t kMaxStaging = 4;

// A staging buffer whose previous copy has finished: a finished idle one, else a new one while the pool is
// small, else the oldest idle one once its copy finishes.

Staging acquire_staging(Device& d) {
  Staging s;
  {
    std::lock_guard<std::mutex> lock(d.mutex);
    const auto done = std::find_if(d.idle_staging.begin(), d.idle_staging.end(), [](const Staging& st) {
      return cudaEventQuery(st.copied) == cudaSuccess;
    });
    const bool grow = done == d.idle_staging.end() && d.idle_staging.size() < kMaxStaging;
    if (!grow) {
      const auto pick = done != d.idle_staging.end() ? done : d.idle_staging.begin();
      s = *pick;
      d.idle_staging.erase(pick);
    }
  }
  if (s.host) {
    check_sync(cudaEventSynchronize(s.copied), d, "waiting for a staging copy");
    return s;
  }
  check(cudaMallocHost(&s.host, kStagingBytes), d.index, "cudaMallocHost (a pinned staging buffer)");
  check(cudaEventCreateWithFlags(&s.copied, cudaEventDisableTiming), d.index, "cudaEventCreateWithFlags");
  return s;
}

void release_staging(Device& d, const Staging& s) {
  std::lock_guard<std::mutex> lock(d.mutex);
  d.idle_staging.push_back(s);
}

}  // namespace

int device_count() { return registry().count; }

void use_device(int device) { activate(device); }

int current_device() { return t_current < 0 ? 0 : t_current; }

cudaStream_t current_stream() { return activate(current_device()).stream; }

void note_launch(const char* name, dim3 grid, dim3 block) {
  Device& d = activate(current_device());
  std::lock_guard<std::mutex> lock(d.launch_mutex);
  d.latest = {name, grid, block};
}

void launch_failed(const char* name, dim3 grid, dim3 block, size_t shared_bytes, cudaError_t err) {
  fail(ErrorKind::Generic, "cuda: kernel ", name, " failed to launch (grid ", shape_str(grid), ", block ",
       shape_str(block), ", ", shared_bytes, " bytes of dynamic shared memory): ", take_error(err));
}

// In the emulator's checked mode a block is bounded by the bytes its tensor asked for, in stream order: an
// overrun into a cached block's slack, or a kernel writing a released block, is reported like a write past a
// cudaMalloc'd buffer. Nothing on a GPU.
cudaError_t mark_in_use(Device& d, void* ptr, size_t bytes) {
#if defined(TF_CUDA_EMULATE)
  return emu::set_extent_async(ptr, bytes, d.stream);
#else
  return cudaSuccess;
#endif
}

void* allocate(int device, size_t bytes) {
  if (bytes == 0) return nullptr;
  Device& d = activate(device);
  const size_t size = size_class(bytes);
  std::lock_guard<std::mutex> lock(d.mutex);
  void* ptr = take_cached(d, size);
  if (!ptr) ptr = take_fresh(d, size, bytes);
  check(mark_in_use(d, ptr, bytes), d.index, "marking a block in use");
  d.stats.allocated += int64_t(size);
  d.stats.max_allocated = std::max(d.stats.max_allocated, d.stats.allocated);
  d.stats.allocations += 1;
  return ptr;
}

void release(int device, void* ptr) noexcept {
  if (!ptr) return;
  Registry& reg = registry();
  if (device < 0 || device >= reg.count) return;
  Device& d = *reg.devices[size_t(device)];
  std::lock_guard<std::mutex> lock(d.mutex);
  const auto it = d.in_use.find(ptr);
  if (it == d.in_use.end()) return;
  if (mark_in_use(d, ptr, 0) != cudaSuccess) cudaGetLastError();  // noexcept: the block stays usable
  d.cached.emplace(it->second, ptr);
  d.stats.allocated -= int64_t(it->second);
  d.stats.allocations -= 1;
  d.in_use.erase(it);
}

MemoryStats memory_stats(int device) {
  Device& d = activate(device);
  std::lock_guard<std::mutex> lock(d.mutex);
  return d.stats;
}

void reset_peak_stats(int device) {
  Device& d = activate(device);
  std::lock_guard<std::mutex> lock(d.mutex);
  d.stats.max_allocated = d.stats.allocated;
  d.stats.max_reserved = d.stats.reserved;
}

void empty_cache(int device) {
  Device& d = activate(device);
  std::lock_guard<std::mutex> lock(d.mutex);
  free_cached(d);
}

TransferStats transfer_stats(int device) {
  Device& d = activate(device);
  return {d.uploads.load(), d.upload_bytes.load(), d.downloads.load(), d.download_bytes.load()};
}

void upload(int device, void* dst, const void* src, size_t bytes) {
  Device& d = activate(device);
  d.uploads += 1;
  d.upload_bytes += int64_t(bytes);
  for (size_t done = 0; done < bytes; done += kStagingBytes) {
    const size_t n = std::min(kStagingBytes, bytes - done);
    const Staging s = acquire_staging(d);
    std::memcpy(s.host, static_cast<const char*>(src) + done, n);
    const cudaError_t copy =
        cudaMemcpyAsync(static_cast<char*>(dst) + done, s.host, n, cudaMemcpyHostToDevice, d.stream);
    const cudaError_t record = copy == cudaSuccess ? cudaEventRecord(s.copied, d.stream) : copy;
    release_staging(d, s);
    check(record, device, "cudaMemcpyAsync (host to device)");
  }
}

void download(int device, void* dst, const void* src, size_t bytes) {
  Device& d = activate(device);
  d.downloads += 1;
  d.download_bytes += int64_t(bytes);
  for (size_t done = 0; done < bytes; done += kStagingBytes) {
    const size_t n = std::min(kStagingBytes, bytes - done);
    const Staging s = acquire_staging(d);
    cudaError_t err =
        cudaMemcpyAsync(s.host, static_cast<const char*>(src) + done, n, cudaMemcpyDeviceToHost, d.stream);
    if (err == cudaSuccess) err = cudaEventRecord(s.copied, d.stream);
    if (err == cudaSuccess) err = cudaEventSynchronize(s.copied);
    if (err == cudaSuccess) std::memcpy(static_cast<char*>(dst) + done, s.host, n);
    release_staging(d, s);
    check_sync(err, d, "copying device to host");
  }
}

void copy_on_device(int device, void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return;
  Device& d = activate(device);
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, d.stream), device,
        "cudaMemcpyAsync (device to device)");
}

void fill_zero(int device, void* dst, size_t bytes) {
  if (bytes == 0) return;
  Device& d = activate(device);
  check(cudaMemsetAsync(dst, 0, bytes, d.stream), device, "cudaMemsetAsync");
}

void synchronize(int device) {
  Device& d = activate(device);
  check_sync(cudaStreamSynchronize(d.stream), d, "cudaStreamSynchronize");
}

}  // namespace tf::cuda

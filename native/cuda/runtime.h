// The host side of the CUDA device, the same code in the real and the emulated build: per device one
// non-blocking stream, a caching allocator, pinned staging for host<->device copies, and errors turned into
// tf::Error. Nothing here aborts the process.
//
// Every entry takes the device index explicitly; launches go to the stream of the device selected last on
// the calling thread (use_device), which is what cuda/kernel.h's current_stream() returns. All work on a
// device is ordered on its one stream, so memory freed here may be handed to later work at once.
#pragma once
#include <cstddef>
#include <cstdint>

namespace tf::cuda {

// Devices the runtime can use; 0 when CUDA is not usable (no driver, no device). Never throws.
int device_count();
// Makes `device` the calling thread's current device: its stream receives the launches that follow.
// Throws tf::Error (Range) for an index outside [0, device_count()).
void use_device(int device);
// The calling thread's current device (0 before any use_device): launchers that need scratch memory
// allocate it there.
int current_device();

// Byte counts of one device's caching allocator. Sizes are block sizes (requests rounded to the size class).
struct MemoryStats {
  int64_t allocated;      // bytes in blocks handed out and not yet freed
  int64_t reserved;       // bytes obtained from cudaMalloc: allocated plus the cache
  int64_t max_allocated;  // peaks since start or the last reset_peak_stats
  int64_t max_reserved;
  int64_t allocations;    // blocks handed out and not yet freed
};

// `bytes` of device memory (nullptr for 0). Served from the cache when a free block of the size class
// exists; otherwise cudaMalloc, and on out-of-memory the cache is released and cudaMalloc tried once more
// before tf::Error "cuda: out of memory allocating N bytes on device D (allocated A, reserved R)".
void* allocate(int device, size_t bytes);
// Returns a block from allocate() to the cache (never cudaFree). Work already enqueued that uses it runs
// before any later work that receives it, on the one stream. nullptr is ignored. Never throws.
void release(int device, void* ptr) noexcept;

// Device scratch for one launcher's kernels on the current device, returned to the cache when the launcher
// returns: the stream runs the launches already enqueued that use it before any later work that receives
// the block, so it need not wait for them.
class Scratch {
 public:
  explicit Scratch(size_t bytes) : device_(current_device()), ptr_(allocate(device_, bytes)) {}
  ~Scratch() { release(device_, ptr_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  template <class P>
  P* as() const {
    return static_cast<P*>(ptr_);
  }

 private:
  int device_;
  void* ptr_;
};

MemoryStats memory_stats(int device);
void reset_peak_stats(int device);
// Returns every cached block to the driver (after the device's pending work finishes).
void empty_cache(int device);

// Host<->device copies made through upload() and download() on one device since the process started: a
// test can assert that a training step copies nothing it did not ask for. Device-to-device copies are not
// counted.
struct TransferStats {
  int64_t uploads, upload_bytes;      // host to device
  int64_t downloads, download_bytes;  // device to host
};
TransferStats transfer_stats(int device);

// Enqueues bytes from host `src` to device `dst`: src is copied into a pinned staging buffer first, so the
// caller may reuse it at once. Returns before the device copy finishes.
void upload(int device, void* dst, const void* src, size_t bytes);
// Copies device `src` to host `dst` after all work enqueued before it; returns when dst holds the bytes.
void download(int device, void* dst, const void* src, size_t bytes);
// Enqueues copying `bytes` from device `src` to device `dst` (both on `device`).
void copy_on_device(int device, void* dst, const void* src, size_t bytes);
// Enqueues zero-filling `bytes` at device `dst`.
void fill_zero(int device, void* dst, size_t bytes);
// Waits for all work enqueued on the device. An error raised by a kernel names the latest kernel launched.
void synchronize(int device);

}  // namespace tf::cuda

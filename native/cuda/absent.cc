// Built when CUDA is not compiled in: the addon reports why, the device count is 0 and every other device
// entry throws that reason.
#include "core/error.h"
#include "cuda/device.h"
#include "cuda/runtime.h"

namespace tf::cuda {
namespace {

constexpr const char* kReason = "tensorforge was built without CUDA (TF_CUDA=OFF, or no nvcc found at build time)";

[[noreturn]] void unavailable() { fail(ErrorKind::Generic, "cuda: not available: ", kReason); }

}  // namespace

RuntimeInfo runtime_info() { return {false, false, 0, 0, {}, kReason}; }

int device_count() { return 0; }
void use_device(int) { unavailable(); }
int current_device() { unavailable(); }
void* allocate(int, size_t) { unavailable(); }
void release(int, void*) noexcept {}
MemoryStats memory_stats(int) { unavailable(); }
void reset_peak_stats(int) { unavailable(); }
void empty_cache(int) { unavailable(); }
TransferStats transfer_stats(int) { unavailable(); }
void upload(int, void*, const void*, size_t) { unavailable(); }
void download(int, void*, const void*, size_t) { unavailable(); }
void copy_on_device(int, void*, const void*, size_t) { unavailable(); }
void fill_zero(int, void*, size_t) { unavailable(); }
void synchronize(int) { unavailable(); }

}  // namespace tf::cuda

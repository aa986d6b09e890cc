// The emulated CUDA device: the subset of the CUDA runtime API that tensorforge uses, with the same names,
// types and semantics as cuda_runtime.h, and the CUDA execution model for kernels compiled by a host C++
// compiler (threadIdx & co., __syncthreads, warp collectives, atomics, shared memory). Kernels run on the
// CPU: a block's threads are fibers on one emulator worker; see native/cuda/README.md, "The emulated
// execution model".
//
// Environment: TENSORFORGE_EMU_DEVICES (devices, default 1), TENSORFORGE_EMU_MEMORY (bytes per device,
// default 8 GiB), TENSORFORGE_EMU_CHECKED=1 (red zones, bounds-checked shared arrays), TENSORFORGE_EMU_WORKERS
// (threads that run blocks, default the hardware's).
#pragma once
#include <math.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <type_traits>

// ---------------------------------------------------------------------------------------------------------
// Runtime API (values as in driver_types.h, so that logs read the same in both builds)

enum cudaError {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInitializationError = 3,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorInvalidDevicePointer = 17,
  cudaErrorInvalidMemcpyDirection = 21,
  cudaErrorInsufficientDriver = 35,
  cudaErrorNoDevice = 100,
  cudaErrorInvalidDevice = 101,
  cudaErrorInvalidResourceHandle = 400,
  cudaErrorNotReady = 600,
  cudaErrorIllegalAddress = 700,
  cudaErrorLaunchOutOfResources = 701,
  cudaErrorAssert = 710,
  cudaErrorLaunchFailure = 719,
};
typedef enum cudaError cudaError_t;

enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4,
};

constexpr unsigned cudaStreamDefault = 0x0;
constexpr unsigned cudaStreamNonBlocking = 0x1;
constexpr unsigned cudaEventDefault = 0x0;
constexpr unsigned cudaEventBlockingSync = 0x1;
constexpr unsigned cudaEventDisableTiming = 0x2;
constexpr unsigned cudaHostAllocDefault = 0x0;
constexpr unsigned cudaHostAllocPortable = 0x1;
constexpr unsigned cudaHostAllocMapped = 0x2;
constexpr unsigned cudaHostAllocWriteCombined = 0x4;

struct uint3 {
  unsigned x, y, z;
};

struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned vx = 1, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
  constexpr operator uint3() const { return uint3{x, y, z}; }
};

typedef struct CUstream_st* cudaStream_t;
typedef struct CUevent_st* cudaEvent_t;

struct cudaDeviceProp {
  char name[256];
  size_t totalGlobalMem;
  size_t sharedMemPerBlock;
  size_t sharedMemPerBlockOptin;
  int regsPerBlock;
  int warpSize;
  int maxThreadsPerBlock;
  int maxThreadsDim[3];
  int maxGridSize[3];
  int major;
  int minor;
  int multiProcessorCount;
  int maxThreadsPerMultiProcessor;
  int concurrentKernels;
  int unifiedAddressing;
};

const char* cudaGetErrorString(cudaError_t err);
const char* cudaGetErrorName(cudaError_t err);
cudaError_t cudaGetLastError();
cudaError_t cudaPeekAtLastError();

cudaError_t cudaGetDeviceCount(int* count);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaGetDevice(int* device);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device);
cudaError_t cudaRuntimeGetVersion(int* version);
cudaError_t cudaDriverGetVersion(int* version);
cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes);
cudaError_t cudaDeviceSynchronize();

cudaError_t cudaMalloc(void** ptr, size_t size);
cudaError_t cudaFree(void* ptr);
cudaError_t cudaMallocHost(void** ptr, size_t size);
cudaError_t cudaHostAlloc(void** ptr, size_t size, unsigned flags);
cudaError_t cudaFreeHost(void* ptr);
cudaError_t cudaMemcpy(void* dst, const void* src, size_t count, cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t count, cudaMemcpyKind kind,
                            cudaStream_t stream = 0);
cudaError_t cudaMemset(void* ptr, int value, size_t count);
cudaError_t cudaMemsetAsync(void* ptr, int value, size_t count, cudaStream_t stream = 0);

// cuda_runtime.h's typed conveniences.
template <class T>
cudaError_t cudaMalloc(T** ptr, size_t size) {
  return cudaMalloc(reinterpret_cast<void**>(ptr), size);
}
template <class T>
cudaError_t cudaMallocHost(T** ptr, size_t size, unsigned flags = 0) {
  return cudaHostAlloc(reinterpret_cast<void**>(ptr), size, flags);
}
template <class T>
cudaError_t cudaHostAlloc(T** ptr, size_t size, unsigned flags) {
  return cudaHostAlloc(reinterpret_cast<void**>(ptr), size, flags);
}

cudaError_t cudaStreamCreate(cudaStream_t* stream);
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned flags);
cudaError_t cudaStreamDestroy(cudaStream_t stream);
cudaError_t cudaStreamSynchronize(cudaStream_t stream);
cudaError_t cudaStreamQuery(cudaStream_t stream);
cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned flags = 0);

cudaError_t cudaEventCreate(cudaEvent_t* event);
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned flags);
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream = 0);
cudaError_t cudaEventQuery(cudaEvent_t event);
cudaError_t cudaEventSynchronize(cudaEvent_t event);
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end);
cudaError_t cudaEventDestroy(cudaEvent_t event);

// ---------------------------------------------------------------------------------------------------------
// The emulator's own API (for cuda/kernel.h, the runtime and the tests)

namespace emu {

// Validates the launch like CUDA (cudaErrorInvalidConfiguration, cudaErrorInvalidResourceHandle) and
// enqueues `body` to run once per thread of grid x block on `stream`; returns at once.
cudaError_t launch(const char* name, cudaStream_t stream, dim3 grid, dim3 block, size_t shared_bytes,
                   std::function<void()> body);
// The detailed text of the last error a runtime call returned on this host thread (for a kernel error:
// the kernel, block, thread and what happened); empty when none.
std::string last_error_message();
// Whether p points into a live device allocation (its requested bytes, not the padding).
bool check_pointer(const void* p);
// TENSORFORGE_EMU_CHECKED: red zones around allocations, bounds-checked shared arrays.
bool checked();
// Checked mode, in stream order: only the first `bytes` of the allocation starting at ptr are in use from
// here on (a caching allocator handing a block out for a smaller request, or taking it back with 0); writes
// beyond them are reported like writes past the end, and bytes leaving use read as NaN. No-op otherwise.
cudaError_t set_extent_async(void* ptr, size_t bytes, cudaStream_t stream);

namespace detail {
cudaError_t check_launch_pointer(const char* kernel, int index, const void* p);
}  // namespace detail

// Checked mode: every pointer among a launch's arguments must be null or point into a live device
// allocation (or just past its end); otherwise cudaErrorInvalidValue, with last_error_message() naming the
// kernel, the argument's position and the pointer. cudaSuccess outside checked mode.
template <class... A>
cudaError_t check_launch_pointers(const char* kernel, const A&... args) {
  if (!checked()) return cudaSuccess;
  cudaError_t err = cudaSuccess;
  int index = 0;
  const auto check = [&](const auto& arg) {
    if constexpr (std::is_pointer_v<std::decay_t<decltype(arg)>>)
      if (err == cudaSuccess) err = detail::check_launch_pointer(kernel, index, arg);
    ++index;
  };
  (check(args), ...);
  return err;
}

namespace detail {

// The running thread's coordinates; the scheduler points tls_thread at the fiber it switches to.
struct ThreadView {
  uint3 thread_idx;
  uint3 block_idx;
  dim3 block_dim;
  dim3 grid_dim;
};
extern __thread ThreadView* tls_thread __attribute__((visibility("hidden")));

enum class Collective : uint8_t { kSyncWarp, kShflIdx, kShflUp, kShflDown, kShflXor, kBallot, kAny, kAll, kExchange };

int syncthreads(int predicate, const char* file, int line);
uint64_t warp_collective(Collective op, unsigned mask, uint64_t value, int arg, int width, const char* file,
                         int line);
unsigned activemask(const char* file, int line);
[[noreturn]] void kernel_fault(const std::string& what);

// A warp collective that exchanges whole fragments (mma.sync, ldmatrix: cuda/emu/tensor_core.h): every lane of
// `mask` arrives with a pointer to its own operands and results, and once all have arrived together (same
// call site, same mask) the last one runs complete(lanes, mask) once for the warp, lanes[l] being lane l's
// pointer (null outside the mask). `name` names the instruction in divergence reports.
using ExchangeFn = void (*)(void* const* lanes, unsigned mask);
void warp_exchange(const char* name, unsigned mask, void* lane_data, ExchangeFn complete, const char* file, int line);
// The calling lane's index in its warp.
unsigned lane_id();
// Whether [p, p + bytes) lies in the running block's shared memory (static and dynamic).
bool in_shared(const void* p, size_t bytes);

// cp.async (cuda/emu/tensor_core.h): a copy of `bytes` from global to shared memory that the calling thread
// issues now and the emulator performs at the cp_async_wait that covers its group, so that a kernel reading the
// destination too early reads what was there before (in checked mode NaN: the destination is poisoned at issue).
// Only the first src_bytes are read; the rest of the destination is zero-filled. A thread that exits with copies
// not yet waited for is a kernel error.
void cp_async(void* dst, const void* src, unsigned bytes, unsigned src_bytes, const char* file, int line);
// cp.async.commit_group: the copies issued since the last commit form one group.
void cp_async_commit();
// cp.async.wait_group n: performs every committed group but the newest `n`.
void cp_async_wait(int n, const char* file, int line);

struct SharedSpan {
  void* data;
  size_t bytes;
};
SharedSpan static_shared(size_t bytes, size_t align, const char* name, const char* file, int line);
SharedSpan dynamic_shared();
[[noreturn]] void shared_out_of_bounds(const char* name, long long index, size_t count);

template <class T>
T shuffle(Collective op, unsigned mask, T var, int arg, int width, const char* file, int line) {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8, "shuffle: values of at most 8 bytes");
  uint64_t bits = 0;
  std::memcpy(&bits, &var, sizeof(T));
  bits = warp_collective(op, mask, bits, arg, width, file, line);
  T out;
  std::memcpy(&out, &bits, sizeof(T));
  return out;
}

// Read-modify-write through compare-and-swap on the value's bits (float/double add, min/max).
template <class T, class F>
T atomic_update(T* address, F update) {
  using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  static_assert(sizeof(T) == sizeof(Bits), "atomic_update: 4- or 8-byte values");
  Bits* bits = reinterpret_cast<Bits*>(address);
  Bits old_bits = __atomic_load_n(bits, __ATOMIC_RELAXED);
  for (;;) {
    T old_value;
    std::memcpy(&old_value, &old_bits, sizeof(T));
    const T new_value = update(old_value);
    Bits new_bits;
    std::memcpy(&new_bits, &new_value, sizeof(T));
    if (__atomic_compare_exchange_n(bits, &old_bits, new_bits, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
      return old_value;
  }
}

}  // namespace detail

// A block-shared array (TF_SHARED, TF_DYNAMIC_SHARED): indexes like T[], decays to T*, and in checked mode
// reports an index outside [0, count) as a kernel error naming the array.
template <class T>
class SharedArray {
 public:
  SharedArray(detail::SharedSpan span, const char* name)
      : data_(static_cast<T*>(span.data)), count_(span.bytes / sizeof(T)), name_(name), checked_(checked()) {}
  template <class I, class = std::enable_if_t<std::is_integral_v<I> || std::is_enum_v<I>>>
  T& operator[](I index) const {
    if (checked_ && (static_cast<long long>(index) < 0 || static_cast<unsigned long long>(index) >= count_))
      detail::shared_out_of_bounds(name_, static_cast<long long>(index), count_);
    return data_[index];
  }
  operator T*() const { return data_; }
  size_t size() const { return count_; }

 private:
  T* data_;
  size_t count_;
  const char* name_;
  bool checked_;
};

}  // namespace emu

// ---------------------------------------------------------------------------------------------------------
// Device code

#define __global__
#define __device__
#define __host__
#define __constant__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
// Plain __shared__ variables: one per worker thread, and a block's fibers all run on one worker.
#define __shared__ static thread_local

#define threadIdx (::emu::detail::tls_thread->thread_idx)
#define blockIdx (::emu::detail::tls_thread->block_idx)
#define blockDim (::emu::detail::tls_thread->block_dim)
#define gridDim (::emu::detail::tls_thread->grid_dim)
inline constexpr int warpSize = 32;

#define TF_SHARED(T, name, count) \
  ::emu::SharedArray<T> name(::emu::detail::static_shared(sizeof(T) * (count), alignof(T), #name, __FILE__, __LINE__), #name)
#define TF_DYNAMIC_SHARED(T, name) ::emu::SharedArray<T> name(::emu::detail::dynamic_shared(), #name)

// Barriers and warp collectives identify their call site by the caller's source location.
inline void __syncthreads(const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  emu::detail::syncthreads(0, file, line);
}
inline int __syncthreads_count(int predicate, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return emu::detail::syncthreads(predicate, file, line);
}
inline int __syncthreads_and(int predicate, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  const dim3 b = blockDim;
  return emu::detail::syncthreads(predicate, file, line) == int(b.x * b.y * b.z);
}
inline int __syncthreads_or(int predicate, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return emu::detail::syncthreads(predicate, file, line) != 0;
}
inline void __syncwarp(unsigned mask = 0xffffffffu, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  emu::detail::warp_collective(emu::detail::Collective::kSyncWarp, mask, 0, 0, warpSize, file, line);
}
// The lanes of the warp that reach this call together (those that diverged away are found blocked elsewhere).
inline unsigned __activemask(const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return emu::detail::activemask(file, line);
}

template <class T>
T __shfl_sync(unsigned mask, T var, int src_lane, int width = warpSize, const char* file = __builtin_FILE(),
              int line = __builtin_LINE()) {
  return emu::detail::shuffle(emu::detail::Collective::kShflIdx, mask, var, src_lane, width, file, line);
}
template <class T>
T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = warpSize, const char* file = __builtin_FILE(),
                 int line = __builtin_LINE()) {
  return emu::detail::shuffle(emu::detail::Collective::kShflUp, mask, var, int(delta), width, file, line);
}
template <class T>
T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = warpSize, const char* file = __builtin_FILE(),
                   int line = __builtin_LINE()) {
  return emu::detail::shuffle(emu::detail::Collective::kShflDown, mask, var, int(delta), width, file, line);
}
template <class T>
T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = warpSize, const char* file = __builtin_FILE(),
                  int line = __builtin_LINE()) {
  return emu::detail::shuffle(emu::detail::Collective::kShflXor, mask, var, lane_mask, width, file, line);
}
inline unsigned __ballot_sync(unsigned mask, int predicate, const char* file = __builtin_FILE(),
                              int line = __builtin_LINE()) {
  return unsigned(emu::detail::warp_collective(emu::detail::Collective::kBallot, mask, predicate != 0, 0, warpSize,
                                               file, line));
}
inline int __any_sync(unsigned mask, int predicate, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return int(emu::detail::warp_collective(emu::detail::Collective::kAny, mask, predicate != 0, 0, warpSize, file,
                                          line));
}
inline int __all_sync(unsigned mask, int predicate, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return int(emu::detail::warp_collective(emu::detail::Collective::kAll, mask, predicate != 0, 0, warpSize, file,
                                          line));
}

inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __threadfence_block() { __atomic_signal_fence(__ATOMIC_SEQ_CST); }
[[noreturn]] inline void __trap() { emu::detail::kernel_fault("__trap() called"); }

// Atomics: real host atomics, since a kernel's blocks run on several workers at once. The overload sets are
// CUDA's, so that code that would not compile with nvcc does not compile here either.
#define TF_EMU_ATOMIC_FETCH(name, builtin, T) \
  inline T name(T* address, T value) { return builtin(address, value, __ATOMIC_RELAXED); }
#define TF_EMU_ATOMIC_UPDATE(name, T, expr) \
  inline T name(T* address, T value) {      \
    return emu::detail::atomic_update(address, [value](T old) { return expr; }); \
  }
TF_EMU_ATOMIC_FETCH(atomicAdd, __atomic_fetch_add, int)
TF_EMU_ATOMIC_FETCH(atomicAdd, __atomic_fetch_add, unsigned)
TF_EMU_ATOMIC_FETCH(atomicAdd, __atomic_fetch_add, unsigned long long)
TF_EMU_ATOMIC_UPDATE(atomicAdd, float, old + value)
TF_EMU_ATOMIC_UPDATE(atomicAdd, double, old + value)
TF_EMU_ATOMIC_FETCH(atomicSub, __atomic_fetch_sub, int)
TF_EMU_ATOMIC_FETCH(atomicSub, __atomic_fetch_sub, unsigned)
TF_EMU_ATOMIC_FETCH(atomicOr, __atomic_fetch_or, int)
TF_EMU_ATOMIC_FETCH(atomicOr, __atomic_fetch_or, unsigned)
TF_EMU_ATOMIC_FETCH(atomicOr, __atomic_fetch_or, unsigned long long)
TF_EMU_ATOMIC_FETCH(atomicAnd, __atomic_fetch_and, int)
TF_EMU_ATOMIC_FETCH(atomicAnd, __atomic_fetch_and, unsigned)
TF_EMU_ATOMIC_FETCH(atomicAnd, __atomic_fetch_and, unsigned long long)
TF_EMU_ATOMIC_FETCH(atomicXor, __atomic_fetch_xor, int)
TF_EMU_ATOMIC_FETCH(atomicXor, __atomic_fetch_xor, unsigned)
TF_EMU_ATOMIC_FETCH(atomicXor, __atomic_fetch_xor, unsigned long long)
TF_EMU_ATOMIC_FETCH(atomicExch, __atomic_exchange_n, int)
TF_EMU_ATOMIC_FETCH(atomicExch, __atomic_exchange_n, unsigned)
TF_EMU_ATOMIC_FETCH(atomicExch, __atomic_exchange_n, unsigned long long)
TF_EMU_ATOMIC_UPDATE(atomicExch, float, ((void)old, value))
TF_EMU_ATOMIC_UPDATE(atomicMax, int, old < value ? value : old)
TF_EMU_ATOMIC_UPDATE(atomicMax, unsigned, old < value ? value : old)
TF_EMU_ATOMIC_UPDATE(atomicMax, long long, old < value ? value : old)
TF_EMU_ATOMIC_UPDATE(atomicMax, unsigned long long, old < value ? value : old)
TF_EMU_ATOMIC_UPDATE(atomicMin, int, value < old ? value : old)
TF_EMU_ATOMIC_UPDATE(atomicMin, unsigned, value < old ? value : old)
TF_EMU_ATOMIC_UPDATE(atomicMin, long long, value < old ? value : old)
TF_EMU_ATOMIC_UPDATE(atomicMin, unsigned long long, value < old ? value : old)
#undef TF_EMU_ATOMIC_FETCH
#undef TF_EMU_ATOMIC_UPDATE

#define TF_EMU_ATOMIC_CAS(T)                                                                 \
  inline T atomicCAS(T* address, T compare, T value) {                                       \
    __atomic_compare_exchange_n(address, &compare, value, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED); \
    return compare;                                                                          \
  }
TF_EMU_ATOMIC_CAS(int)
TF_EMU_ATOMIC_CAS(unsigned)
TF_EMU_ATOMIC_CAS(unsigned long long)
#undef TF_EMU_ATOMIC_CAS

// The device math library beyond <cmath>.
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline double rsqrt(double x) { return 1.0 / sqrt(x); }
inline float __expf(float x) { return expf(x); }
inline float __logf(float x) { return logf(x); }
inline float __powf(float x, float y) { return powf(x, y); }
inline float __fdividef(float x, float y) { return x / y; }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }
inline int __float_as_int(float x) { int r; std::memcpy(&r, &x, 4); return r; }
inline float __int_as_float(int x) { float r; std::memcpy(&r, &x, 4); return r; }
inline unsigned __float_as_uint(float x) { unsigned r; std::memcpy(&r, &x, 4); return r; }
inline float __uint_as_float(unsigned x) { float r; std::memcpy(&r, &x, 4); return r; }
inline long long __double_as_longlong(double x) { long long r; std::memcpy(&r, &x, 8); return r; }
inline double __longlong_as_double(long long x) { double r; std::memcpy(&r, &x, 8); return r; }
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz(unsigned(x)); }
inline int __clzll(long long x) { return x == 0 ? 64 : __builtin_clzll((unsigned long long)x); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __ffsll(long long x) { return __builtin_ffsll(x); }
template <class T>
T __ldg(const T* p) { return *p; }

// CUDA's global min/max overloads; the floating-point ones ignore a NaN operand, like fminf/fmaxf.
#define TF_EMU_MIN_MAX(A, B, R, MIN, MAX)                 \
  inline R min(A a, B b) { return MIN(static_cast<R>(a), static_cast<R>(b)); } \
  inline R max(A a, B b) { return MAX(static_cast<R>(a), static_cast<R>(b)); }
#define TF_EMU_INT_MIN(a, b) ((b) < (a) ? (b) : (a))
#define TF_EMU_INT_MAX(a, b) ((a) < (b) ? (b) : (a))
#define TF_EMU_MIN_MAX_INT(A, B, R) TF_EMU_MIN_MAX(A, B, R, TF_EMU_INT_MIN, TF_EMU_INT_MAX)
TF_EMU_MIN_MAX_INT(int, int, int)
TF_EMU_MIN_MAX_INT(unsigned, unsigned, unsigned)
TF_EMU_MIN_MAX_INT(int, unsigned, unsigned)
TF_EMU_MIN_MAX_INT(unsigned, int, unsigned)
TF_EMU_MIN_MAX_INT(long, long, long)
TF_EMU_MIN_MAX_INT(unsigned long, unsigned long, unsigned long)
TF_EMU_MIN_MAX_INT(long long, long long, long long)
TF_EMU_MIN_MAX_INT(unsigned long long, unsigned long long, unsigned long long)
TF_EMU_MIN_MAX(float, float, float, fminf, fmaxf)
TF_EMU_MIN_MAX(double, double, double, fmin, fmax)
TF_EMU_MIN_MAX(float, double, double, fmin, fmax)
TF_EMU_MIN_MAX(double, float, double, fmin, fmax)
#undef TF_EMU_MIN_MAX_INT
#undef TF_EMU_INT_MIN
#undef TF_EMU_INT_MAX
#undef TF_EMU_MIN_MAX

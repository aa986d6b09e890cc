// The emulated CUDA runtime API: devices, device memory (with red zones in checked mode), streams as host
// threads that run their queues in order (with the legacy default stream's implicit synchronization),
// events, and errors that a kernel raises surfacing at the next synchronization.
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "cuda/emu/internal.h"

namespace emu::detail {

namespace {
long long env_integer(const char* name, long long fallback, long long minimum) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  char* end = nullptr;
  const long long value = std::strtoll(text, &end, 10);
  if (*end != '\0' || value < minimum) {
    std::fprintf(stderr, "tensorforge emulated CUDA: ignoring %s=%s (expected an integer >= %lld)\n", name, text,
                 minimum);
    return fallback;
  }
  return value;
}
}  // namespace

const Config& config() {
  static const Config instance{
      int(env_integer("TENSORFORGE_EMU_DEVICES", 1, 0)),
      size_t(env_integer("TENSORFORGE_EMU_MEMORY", 8ll << 30, 0)),
      env_integer("TENSORFORGE_EMU_CHECKED", 0, 0) != 0,
      int(env_integer("TENSORFORGE_EMU_WORKERS", std::max(1u, std::thread::hardware_concurrency()), 1)),
  };
  return instance;
}

}  // namespace emu::detail

using emu::detail::config;
using emu::detail::Kernel;
using emu::detail::KernelError;

namespace {

constexpr int kRuntimeVersion = 13000;
constexpr size_t kAlignment = 256;  // cudaMalloc's guarantee
constexpr size_t kRedZone = 256;    // each side, checked mode
// Red zones read as NaN in float and double (0x7fc0a5a5), and are unlikely to be written by accident.
constexpr unsigned char kZonePattern[4] = {0xa5, 0xa5, 0xc0, 0x7f};

// --- Errors ---------------------------------------------------------------------------------------------

thread_local cudaError_t tls_last_error = cudaSuccess;  // of a synchronous call, until cudaGetLastError
thread_local std::string tls_message;

// Returns `code` from a runtime call: remembers its text for emu::last_error_message(), and, when `sticky`,
// as the thread's last error (cudaGetLastError).
cudaError_t fail(cudaError_t code, std::string message, bool sticky = true) {
  tls_message = std::move(message);
  if (sticky) tls_last_error = code;
  return code;
}

cudaError_t surface(KernelError error) {
  if (error.code == cudaSuccess) return cudaSuccess;
  return fail(error.code, std::move(error.message), false);
}

std::string pointer_text(const void* p) {
  char text[32];
  std::snprintf(text, sizeof text, "%p", p);
  return text;
}

// --- Streams --------------------------------------------------------------------------------------------

using Op = std::function<KernelError()>;

// A stream's queue and the host thread that runs it. Tickets number the queued operations from 1; an
// operation is done when `completed` reaches its ticket.
class StreamState {
 public:
  explicit StreamState(bool blocking) : blocking_(blocking), thread_([this] { run(); }) {}
  ~StreamState() {
    {
      std::lock_guard<std::mutex> lock(m_);
      stop_ = true;
    }
    work_.notify_all();
    // The last reference can be a queued operation of this very stream (a wait on its own event).
    if (thread_.get_id() == std::this_thread::get_id())
      thread_.detach();
    else
      thread_.join();
  }
  bool blocking() const { return blocking_; }

  uint64_t enqueue(Op op) {
    uint64_t ticket;
    {
      std::lock_guard<std::mutex> lock(m_);
      queue_.push_back(std::move(op));
      ticket = ++enqueued_;
    }
    work_.notify_one();
    return ticket;
  }
  uint64_t last_ticket() {
    std::lock_guard<std::mutex> lock(m_);
    return enqueued_;
  }
  bool done(uint64_t ticket) {
    std::lock_guard<std::mutex> lock(m_);
    return completed_ >= ticket;
  }
  void wait(uint64_t ticket) {
    std::unique_lock<std::mutex> lock(m_);
    done_.wait(lock, [&] { return completed_ >= ticket; });
  }
  // The first error of an operation up to `ticket`, cleared when `take`.
  KernelError error(uint64_t ticket, bool take) {
    std::lock_guard<std::mutex> lock(m_);
    if (error_.code == cudaSuccess || error_ticket_ > ticket) return KernelError{};
    if (!take) return error_;
    KernelError out = std::move(error_);
    error_ = KernelError{};
    return out;
  }

 private:
  void run() {
    for (;;) {
      Op op;
      {
        std::unique_lock<std::mutex> lock(m_);
        work_.wait(lock, [this] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) return;
        op = std::move(queue_.front());
        queue_.pop_front();
      }
      KernelError e = op();
      {
        std::lock_guard<std::mutex> lock(m_);
        ++completed_;
        if (e.code != cudaSuccess && error_.code == cudaSuccess) {
          error_ = std::move(e);
          error_ticket_ = completed_;
        }
      }
      done_.notify_all();
    }
  }

  const bool blocking_;
  std::mutex m_;
  std::condition_variable work_, done_;
  std::deque<Op> queue_;
  uint64_t enqueued_ = 0, completed_ = 0;
  bool stop_ = false;
  KernelError error_;
  uint64_t error_ticket_ = 0;
  std::thread thread_;  // last: starts once the members it uses exist
};

using StreamPtr = std::shared_ptr<StreamState>;
struct Waypoint {
  StreamPtr stream;
  uint64_t ticket;
};
struct Recording {
  Waypoint at;  // stream is null until the first cudaEventRecord
  std::shared_ptr<std::chrono::steady_clock::time_point> time;
};

}  // namespace

struct CUstream_st {
  StreamPtr state;
};

struct CUevent_st {
  std::mutex m;
  Recording recording;
};

namespace {

struct Streams {
  std::mutex m;
  CUstream_st legacy{std::make_shared<StreamState>(true)};
  std::set<CUstream_st*> created;
};

Streams& streams() {
  // Never destroyed: stream threads may still run at exit.
  static Streams& instance = *new Streams;
  return instance;
}

// The state behind a handle (0 is the legacy default stream), or null for an unknown handle.
StreamPtr resolve(cudaStream_t stream) {
  Streams& s = streams();
  std::lock_guard<std::mutex> lock(s.m);
  if (stream == nullptr) return s.legacy.state;
  return s.created.count(stream) ? stream->state : nullptr;
}

std::vector<Waypoint> all_streams_now() {
  Streams& s = streams();
  std::lock_guard<std::mutex> lock(s.m);
  std::vector<Waypoint> out{{s.legacy.state, s.legacy.state->last_ticket()}};
  for (CUstream_st* c : s.created) out.push_back({c->state, c->state->last_ticket()});
  return out;
}

// Enqueues `op` on `stream` after the work it must follow under the legacy default stream's rule: work on
// the legacy stream waits for all earlier work of blocking streams, and theirs for its earlier work.
// Returns the op's ticket and the waypoints it waited for.
std::pair<uint64_t, std::vector<Waypoint>> submit(const StreamPtr& stream, Op op) {
  std::vector<Waypoint> after;
  if (stream->blocking()) {
    const StreamPtr legacy = streams().legacy.state;
    if (stream == legacy) {
      for (Waypoint& w : all_streams_now())
        if (w.stream != legacy && w.stream->blocking()) after.push_back(std::move(w));
    } else {
      after.push_back({legacy, legacy->last_ticket()});
    }
    for (const Waypoint& w : after)
      if (!w.stream->done(w.ticket))
        stream->enqueue([w] {
          w.stream->wait(w.ticket);
          return KernelError{};
        });
  }
  return {stream->enqueue(std::move(op)), std::move(after)};
}

// Waits for the waypoints and returns (clearing) the first error of the work up to them.
cudaError_t finish(const std::vector<Waypoint>& waypoints) {
  for (const Waypoint& w : waypoints) w.stream->wait(w.ticket);
  KernelError first;
  for (const Waypoint& w : waypoints) {
    KernelError e = w.stream->error(w.ticket, true);
    if (first.code == cudaSuccess) first = std::move(e);
  }
  return surface(std::move(first));
}

// Runs `op` on the legacy stream and waits for it, as the synchronous copies do.
cudaError_t run_on_legacy(Op op) {
  auto [ticket, after] = submit(streams().legacy.state, std::move(op));
  after.push_back({streams().legacy.state, ticket});
  return finish(after);
}

void wait_for_device() {
  for (const Waypoint& w : all_streams_now()) w.stream->wait(w.ticket);
}

// --- Devices --------------------------------------------------------------------------------------------

thread_local int tls_device = 0;

cudaError_t require_device(const char* api) {
  if (config().devices > 0) return cudaSuccess;
  return fail(cudaErrorNoDevice, std::string(api) + ": no emulated device (TENSORFORGE_EMU_DEVICES=0)");
}

// --- Memory ---------------------------------------------------------------------------------------------

struct Allocation {
  char* raw;       // what aligned_alloc returned: red zone, user bytes, padding, red zone
  size_t size;     // requested
  size_t padded;   // size rounded up to kAlignment, accounted against the device's memory
  size_t zone;     // kRedZone in checked mode, else 0
  int device;
};

struct Memory {
  std::mutex m;
  std::map<uintptr_t, Allocation> live;  // by user address
  std::vector<size_t> used = std::vector<size_t>(size_t(std::max(1, config().devices)), 0);
  std::set<void*> host;
};

Memory& memory() {
  static Memory& instance = *new Memory;
  return instance;
}

// The allocation whose padded range holds p (memory().m held), or live.end().
std::map<uintptr_t, Allocation>::iterator find_allocation(Memory& mem, const void* p) {
  const auto address = reinterpret_cast<uintptr_t>(p);
  auto it = mem.live.upper_bound(address);
  if (it == mem.live.begin()) return mem.live.end();
  --it;
  return address < it->first + it->second.padded ? it : mem.live.end();
}

// Fills n bytes from a 4-byte aligned address with the zone pattern.
void fill_zone(unsigned char* p, size_t n) {
  for (size_t i = 0; i < n; ++i) p[i] = kZonePattern[i & 3];
}

// The guard byte expected at offset i of an allocation (negative: the front red zone): NaN bytes in the
// padding, the zone pattern around (both zones start 256-byte aligned, so the pattern follows the address).
unsigned char guard_byte(long long i, long long padded) {
  return i < 0 || i >= padded ? kZonePattern[size_t(i) & 3] : 0xff;
}

// The first and last offsets in [from, to) of `user` whose guard byte was overwritten; first == to if none.
std::pair<long long, long long> overwritten(const unsigned char* user, long long from, long long to,
                                            long long padded) {
  long long first = to, last = to;
  for (long long i = from; i < to; ++i)
    if (user[i] != guard_byte(i, padded)) {
      if (first == to) first = i;
      last = i;
    }
  return {first, last};
}

// Checked mode: whether [p, p + count) lies inside one live allocation's requested bytes; `role` names the
// argument in the error.
cudaError_t check_device_range(const char* api, const char* role, const void* p, size_t count) {
  Memory& mem = memory();
  std::lock_guard<std::mutex> lock(mem.m);
  const auto it = find_allocation(mem, p);
  if (it == mem.live.end())
    return fail(cudaErrorInvalidValue,
                std::string(api) + ": " + role + " " + pointer_text(p) + " is not in a live device allocation");
  const size_t offset = reinterpret_cast<uintptr_t>(p) - it->first;
  if (offset + count > it->second.size)
    return fail(cudaErrorInvalidValue, std::string(api) + ": " + role + " " + pointer_text(p) + " + " +
                                           std::to_string(count) + " bytes runs past the end of allocation " +
                                           pointer_text(reinterpret_cast<void*>(it->first)) + " of " +
                                           std::to_string(it->second.size) + " bytes");
  return cudaSuccess;
}

bool is_device(const void* p) {
  Memory& mem = memory();
  std::lock_guard<std::mutex> lock(mem.m);
  return find_allocation(mem, p) != mem.live.end();
}

// Validates a copy's device side(s) in checked mode.
cudaError_t check_copy(const char* api, void* dst, const void* src, size_t count, cudaMemcpyKind kind) {
  if (kind < cudaMemcpyHostToHost || kind > cudaMemcpyDefault)
    return fail(cudaErrorInvalidMemcpyDirection, std::string(api) + ": kind " + std::to_string(int(kind)) +
                                                     " is not a cudaMemcpyKind");
  if ((dst == nullptr || src == nullptr) && count > 0)
    return fail(cudaErrorInvalidValue, std::string(api) + ": null " + (dst == nullptr ? "dst" : "src"));
  if (!config().checked || count == 0) return cudaSuccess;
  const bool dst_device = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice ||
                          (kind == cudaMemcpyDefault && is_device(dst));
  const bool src_device = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice ||
                          (kind == cudaMemcpyDefault && is_device(src));
  const cudaError_t dst_error = dst_device ? check_device_range(api, "dst", dst, count) : cudaSuccess;
  if (dst_error != cudaSuccess) return dst_error;
  return src_device ? check_device_range(api, "src", src, count) : cudaSuccess;
}

cudaError_t check_memset(const char* api, void* p, size_t count) {
  if (p == nullptr && count > 0) return fail(cudaErrorInvalidValue, std::string(api) + ": null pointer");
  if (!config().checked || count == 0) return cudaSuccess;
  return check_device_range(api, "ptr", p, count);
}

Op copy_op(void* dst, const void* src, size_t count) {
  return [=] {
    std::memcpy(dst, src, count);
    return KernelError{};
  };
}

Op memset_op(void* p, int value, size_t count) {
  return [=] {
    std::memset(p, value, count);
    return KernelError{};
  };
}

#define TF_EMU_ERRORS(X)                                                                           \
  X(cudaSuccess, "no error")                                                                       \
  X(cudaErrorInvalidValue, "invalid argument")                                                     \
  X(cudaErrorMemoryAllocation, "out of memory")                                                    \
  X(cudaErrorInitializationError, "initialization error")                                          \
  X(cudaErrorInvalidConfiguration, "invalid configuration argument")                               \
  X(cudaErrorInvalidDevicePointer, "invalid device pointer")                                       \
  X(cudaErrorInvalidMemcpyDirection, "invalid copy direction for memcpy")                          \
  X(cudaErrorInsufficientDriver, "CUDA driver version is insufficient for CUDA runtime version")   \
  X(cudaErrorNoDevice, "no CUDA-capable device is detected")                                       \
  X(cudaErrorInvalidDevice, "invalid device ordinal")                                              \
  X(cudaErrorInvalidResourceHandle, "invalid resource handle")                                     \
  X(cudaErrorNotReady, "device not ready")                                                         \
  X(cudaErrorIllegalAddress, "an illegal memory access was encountered")                           \
  X(cudaErrorLaunchOutOfResources, "too many resources requested for launch")                      \
  X(cudaErrorAssert, "device-side assert triggered")                                               \
  X(cudaErrorLaunchFailure, "unspecified launch failure")

}  // namespace

// --- The emulator's API ------------------------------------------------------------------------------------

namespace emu {

namespace detail {

KernelError verify_red_zones(const std::string& kernel) {
  Memory& mem = memory();
  std::lock_guard<std::mutex> lock(mem.m);
  KernelError error;
  for (auto& [address, a] : mem.live) {
    if (a.zone == 0) continue;
    auto* user = reinterpret_cast<unsigned char*>(address);
    const long long size = (long long)a.size, padded = (long long)a.padded, zone = (long long)a.zone;
    const auto before = overwritten(user, -zone, 0, padded);
    const auto after = overwritten(user, size, padded + zone, padded);
    const bool bad_before = before.first != 0, bad_after = after.first != padded + zone;
    if (!bad_before && !bad_after) continue;
    if (error.code == cudaSuccess) {
      const auto range = bad_before ? before : after;
      error.code = cudaErrorIllegalAddress;
      error.message = "kernel '" + kernel + "' wrote outside device allocation " + pointer_text(user) + " of " +
                      std::to_string(a.size) + " bytes: byte offsets " + std::to_string(range.first) + ".." +
                      std::to_string(range.second) + (bad_before ? " (before its start)" : " (past its end)") +
                      " were overwritten";
    }
    // Restored, so that the next kernel is not blamed for it.
    fill_zone(user - zone, size_t(zone));
    std::memset(user + size, 0xff, size_t(padded - size));
    fill_zone(user + padded, size_t(zone));
  }
  return error;
}

cudaError_t check_launch_pointer(const char* kernel, int index, const void* p) {
  if (p == nullptr) return cudaSuccess;
  Memory& mem = memory();
  std::lock_guard<std::mutex> lock(mem.m);
  const auto address = reinterpret_cast<uintptr_t>(p);
  auto it = mem.live.upper_bound(address);
  if (it != mem.live.begin() && address <= std::prev(it)->first + std::prev(it)->second.size) return cudaSuccess;
  return fail(cudaErrorInvalidValue,
              std::string("kernel '") + kernel + "' argument " + std::to_string(index) + ": pointer " +
                  pointer_text(p) + " is not in a live device allocation",
              false);
}

}  // namespace detail

std::string last_error_message() { return tls_message; }

bool checked() { return config().checked; }

bool check_pointer(const void* p) {
  Memory& mem = memory();
  std::lock_guard<std::mutex> lock(mem.m);
  const auto it = find_allocation(mem, p);
  return it != mem.live.end() && reinterpret_cast<uintptr_t>(p) < it->first + it->second.size;
}

cudaError_t launch(const char* name, cudaStream_t stream, dim3 grid, dim3 block, size_t shared_bytes,
                   std::function<void()> body) {
  const auto shape = [](dim3 d) {
    return "(" + std::to_string(d.x) + "," + std::to_string(d.y) + "," + std::to_string(d.z) + ")";
  };
  const auto invalid = [&](const std::string& why) {
    return fail(cudaErrorInvalidConfiguration, std::string("kernel '") + name + "' grid " + shape(grid) + " block " +
                                                   shape(block) + " shared " + std::to_string(shared_bytes) +
                                                   " bytes: " + why,
                false);
  };
  if (config().devices == 0) return fail(cudaErrorNoDevice, std::string("kernel '") + name + "': no device", false);
  const uint64_t threads = uint64_t(block.x) * block.y * block.z;
  if (threads == 0 || threads > detail::kMaxThreadsPerBlock)
    return invalid("a block must have 1 to " + std::to_string(detail::kMaxThreadsPerBlock) + " threads, not " +
                   std::to_string(threads));
  if (block.x > 1024 || block.y > 1024 || block.z > 64)
    return invalid("block dimensions are limited to (1024,1024,64)");
  if (grid.x == 0 || grid.y == 0 || grid.z == 0 || grid.x > 2147483647u || grid.y > 65535 || grid.z > 65535)
    return invalid("grid dimensions must lie in [1, (2147483647,65535,65535)]");
  if (shared_bytes > detail::kMaxSharedBytes)
    return invalid("dynamic shared memory is limited to " + std::to_string(detail::kMaxSharedBytes) + " bytes");
  const StreamPtr state = resolve(stream);
  if (!state)
    return fail(cudaErrorInvalidResourceHandle,
                std::string("kernel '") + name + "': stream " + pointer_text(stream) + " does not exist", false);
  submit(state, [kernel = Kernel{name, grid, block, shared_bytes, std::move(body)}] {
    KernelError e = detail::run_kernel(kernel);
    if (config().checked) {
      KernelError zones = detail::verify_red_zones(kernel.name);
      if (e.code == cudaSuccess) e = std::move(zones);
    }
    return e;
  });
  return cudaSuccess;
}

}  // namespace emu

// --- The CUDA runtime API -------------------------------------------------------------------------------

const char* cudaGetErrorString(cudaError_t err) {
  switch (err) {
#define TF_EMU_ERROR_STRING(code, text) \
  case code: return text;
    TF_EMU_ERRORS(TF_EMU_ERROR_STRING)
#undef TF_EMU_ERROR_STRING
  }
  return "unrecognized error code";
}

const char* cudaGetErrorName(cudaError_t err) {
  switch (err) {
#define TF_EMU_ERROR_NAME(code, text) \
  case code: return #code;
    TF_EMU_ERRORS(TF_EMU_ERROR_NAME)
#undef TF_EMU_ERROR_NAME
  }
  return "cudaErrorUnknown";
}

namespace {
// The last error: a synchronous call's, else the first pending kernel error of any stream.
cudaError_t last_error(bool take) {
  if (tls_last_error != cudaSuccess) {
    const cudaError_t e = tls_last_error;
    if (take) tls_last_error = cudaSuccess;
    return e;
  }
  for (const Waypoint& w : all_streams_now()) {
    KernelError e = w.stream->error(UINT64_MAX, take);
    if (e.code != cudaSuccess) return surface(std::move(e));
  }
  return cudaSuccess;
}
}  // namespace

cudaError_t cudaGetLastError() { return last_error(true); }
cudaError_t cudaPeekAtLastError() { return last_error(false); }

cudaError_t cudaGetDeviceCount(int* count) {
  if (count == nullptr) return fail(cudaErrorInvalidValue, "cudaGetDeviceCount: count is null");
  *count = config().devices;
  return require_device("cudaGetDeviceCount");
}

cudaError_t cudaSetDevice(int device) {
  if (require_device("cudaSetDevice") != cudaSuccess) return cudaErrorNoDevice;
  if (device < 0 || device >= config().devices)
    return fail(cudaErrorInvalidDevice, "cudaSetDevice: device " + std::to_string(device) + " is not in [0, " +
                                            std::to_string(config().devices) + ")");
  tls_device = device;
  return cudaSuccess;
}

cudaError_t cudaGetDevice(int* device) {
  if (device == nullptr) return fail(cudaErrorInvalidValue, "cudaGetDevice: device is null");
  if (require_device("cudaGetDevice") != cudaSuccess) return cudaErrorNoDevice;
  *device = tls_device;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (prop == nullptr) return fail(cudaErrorInvalidValue, "cudaGetDeviceProperties: prop is null");
  if (require_device("cudaGetDeviceProperties") != cudaSuccess) return cudaErrorNoDevice;
  if (device < 0 || device >= config().devices)
    return fail(cudaErrorInvalidDevice, "cudaGetDeviceProperties: device " + std::to_string(device) +
                                            " is not in [0, " + std::to_string(config().devices) + ")");
  *prop = cudaDeviceProp{};
  std::snprintf(prop->name, sizeof prop->name, "tensorforge emulated CUDA device (CPU)");
  prop->totalGlobalMem = config().memory;
  prop->sharedMemPerBlock = emu::detail::kMaxSharedBytes;
  prop->sharedMemPerBlockOptin = emu::detail::kMaxSharedBytes;
  prop->regsPerBlock = 65536;
  prop->warpSize = warpSize;
  prop->maxThreadsPerBlock = int(emu::detail::kMaxThreadsPerBlock);
  prop->maxThreadsDim[0] = 1024;
  prop->maxThreadsDim[1] = 1024;
  prop->maxThreadsDim[2] = 64;
  prop->maxGridSize[0] = 2147483647;
  prop->maxGridSize[1] = 65535;
  prop->maxGridSize[2] = 65535;
  prop->major = 9;
  prop->minor = 0;
  prop->multiProcessorCount = config().workers;
  prop->maxThreadsPerMultiProcessor = 2048;
  prop->concurrentKernels = 1;
  prop->unifiedAddressing = 1;
  return cudaSuccess;
}

cudaError_t cudaRuntimeGetVersion(int* version) {
  if (version == nullptr) return fail(cudaErrorInvalidValue, "cudaRuntimeGetVersion: version is null");
  *version = kRuntimeVersion;
  return cudaSuccess;
}

cudaError_t cudaDriverGetVersion(int* version) {
  if (version == nullptr) return fail(cudaErrorInvalidValue, "cudaDriverGetVersion: version is null");
  *version = kRuntimeVersion;
  return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  if (free_bytes == nullptr || total_bytes == nullptr) return fail(cudaErrorInvalidValue, "cudaMemGetInfo: null");
  if (require_device("cudaMemGetInfo") != cudaSuccess) return cudaErrorNoDevice;
  Memory& mem = memory();
  std::lock_guard<std::mutex> lock(mem.m);
  *total_bytes = config().memory;
  *free_bytes = config().memory - mem.used[size_t(tls_device)];
  return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize() { return finish(all_streams_now()); }

cudaError_t cudaMalloc(void** ptr, size_t size) {
  if (ptr == nullptr) return fail(cudaErrorInvalidValue, "cudaMalloc: ptr is null");
  if (require_device("cudaMalloc") != cudaSuccess) return cudaErrorNoDevice;
  *ptr = nullptr;
  if (size == 0) return cudaSuccess;
  const size_t zone = config().checked ? kRedZone : 0;
  Memory& mem = memory();
  std::lock_guard<std::mutex> lock(mem.m);
  size_t& used = mem.used[size_t(tls_device)];
  const size_t limit = config().memory;
  const size_t padded = size > limit ? limit + 1 : (size + kAlignment - 1) / kAlignment * kAlignment;
  if (padded > limit - used)
    return fail(cudaErrorMemoryAllocation,
                "cudaMalloc: " + std::to_string(size) + " bytes requested on emulated device " +
                    std::to_string(tls_device) + ", which has " + std::to_string(used) + " of its " +
                    std::to_string(limit) + " bytes in use (TENSORFORGE_EMU_MEMORY)");
  auto* raw = static_cast<char*>(std::aligned_alloc(kAlignment, padded + 2 * zone));
  if (raw == nullptr)
    return fail(cudaErrorMemoryAllocation, "cudaMalloc: the host could not allocate " + std::to_string(size) + " bytes");
  char* user = raw + zone;
  if (zone > 0) {
    // The padding and fresh memory read as NaN, so that reading uninitialized or out-of-bounds data shows.
    fill_zone(reinterpret_cast<unsigned char*>(raw), zone);
    std::memset(user, 0xff, padded);
    fill_zone(reinterpret_cast<unsigned char*>(user + padded), zone);
  }
  mem.live.emplace(reinterpret_cast<uintptr_t>(user), Allocation{raw, size, padded, zone, tls_device});
  used += padded;
  *ptr = user;
  return cudaSuccess;
}

cudaError_t cudaFree(void* ptr) {
  if (ptr == nullptr) return cudaSuccess;
  // Like CUDA, freeing waits for the device: a queued kernel may still use the memory.
  wait_for_device();
  Memory& mem = memory();
  std::lock_guard<std::mutex> lock(mem.m);
  const auto it = mem.live.find(reinterpret_cast<uintptr_t>(ptr));
  if (it == mem.live.end()) {
    const auto inside = find_allocation(mem, ptr);
    return fail(cudaErrorInvalidValue,
                "cudaFree: " + pointer_text(ptr) +
                    (inside == mem.live.end()
                         ? std::string(" is not a live device allocation (freed twice, or not from cudaMalloc)")
                         : " points " + std::to_string(reinterpret_cast<uintptr_t>(ptr) - inside->first) +
                               " bytes into allocation " + pointer_text(reinterpret_cast<void*>(inside->first))));
  }
  mem.used[size_t(it->second.device)] -= it->second.padded;
  std::free(it->second.raw);
  mem.live.erase(it);
  return cudaSuccess;
}

cudaError_t cudaHostAlloc(void** ptr, size_t size, unsigned flags) {
  if (ptr == nullptr) return fail(cudaErrorInvalidValue, "cudaHostAlloc: ptr is null");
  if (flags & ~(cudaHostAllocPortable | cudaHostAllocMapped | cudaHostAllocWriteCombined))
    return fail(cudaErrorInvalidValue, "cudaHostAlloc: unknown flags " + std::to_string(flags));
  *ptr = nullptr;
  if (size == 0) return cudaSuccess;
  void* p = std::aligned_alloc(kAlignment, (size + kAlignment - 1) / kAlignment * kAlignment);
  if (p == nullptr)
    return fail(cudaErrorMemoryAllocation, "cudaHostAlloc: could not allocate " + std::to_string(size) + " bytes");
  Memory& mem = memory();
  std::lock_guard<std::mutex> lock(mem.m);
  mem.host.insert(p);
  *ptr = p;
  return cudaSuccess;
}

cudaError_t cudaMallocHost(void** ptr, size_t size) { return cudaHostAlloc(ptr, size, cudaHostAllocDefault); }

cudaError_t cudaFreeHost(void* ptr) {
  if (ptr == nullptr) return cudaSuccess;
  // Pinned buffers are the source or target of queued async copies.
  wait_for_device();
  Memory& mem = memory();
  std::lock_guard<std::mutex> lock(mem.m);
  if (mem.host.erase(ptr) == 0)
    return fail(cudaErrorInvalidValue, "cudaFreeHost: " + pointer_text(ptr) + " is not from cudaHostAlloc");
  std::free(ptr);
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t count, cudaMemcpyKind kind) {
  if (const cudaError_t err = check_copy("cudaMemcpy", dst, src, count, kind); err != cudaSuccess) return err;
  return run_on_legacy(copy_op(dst, src, count));
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t count, cudaMemcpyKind kind, cudaStream_t stream) {
  if (const cudaError_t err = check_copy("cudaMemcpyAsync", dst, src, count, kind); err != cudaSuccess) return err;
  const StreamPtr state = resolve(stream);
  if (!state) return fail(cudaErrorInvalidResourceHandle, "cudaMemcpyAsync: unknown stream " + pointer_text(stream));
  submit(state, copy_op(dst, src, count));
  return cudaSuccess;
}

cudaError_t cudaMemset(void* ptr, int value, size_t count) {
  if (const cudaError_t err = check_memset("cudaMemset", ptr, count); err != cudaSuccess) return err;
  return run_on_legacy(memset_op(ptr, value, count));
}

cudaError_t cudaMemsetAsync(void* ptr, int value, size_t count, cudaStream_t stream) {
  if (const cudaError_t err = check_memset("cudaMemsetAsync", ptr, count); err != cudaSuccess) return err;
  const StreamPtr state = resolve(stream);
  if (!state) return fail(cudaErrorInvalidResourceHandle, "cudaMemsetAsync: unknown stream " + pointer_text(stream));
  submit(state, memset_op(ptr, value, count));
  return cudaSuccess;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned flags) {
  if (stream == nullptr) return fail(cudaErrorInvalidValue, "cudaStreamCreateWithFlags: stream is null");
  if (flags & ~cudaStreamNonBlocking)
    return fail(cudaErrorInvalidValue, "cudaStreamCreateWithFlags: unknown flags " + std::to_string(flags));
  auto* handle = new CUstream_st{std::make_shared<StreamState>((flags & cudaStreamNonBlocking) == 0)};
  Streams& s = streams();
  std::lock_guard<std::mutex> lock(s.m);
  s.created.insert(handle);
  *stream = handle;
  return cudaSuccess;
}

cudaError_t cudaStreamCreate(cudaStream_t* stream) { return cudaStreamCreateWithFlags(stream, cudaStreamDefault); }

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  Streams& s = streams();
  {
    std::lock_guard<std::mutex> lock(s.m);
    if (stream == nullptr || s.created.erase(stream) == 0)
      return fail(cudaErrorInvalidResourceHandle, "cudaStreamDestroy: unknown stream " + pointer_text(stream));
  }
  // Its queued work still runs: the state's destructor (when the last waiter lets go) drains and joins.
  StreamPtr state = std::move(stream->state);
  delete stream;
  state->wait(state->last_ticket());
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  const StreamPtr state = resolve(stream);
  if (!state) return fail(cudaErrorInvalidResourceHandle, "cudaStreamSynchronize: unknown stream " + pointer_text(stream));
  if (stream == nullptr) return run_on_legacy([] { return KernelError{}; });
  return finish({{state, state->last_ticket()}});
}

cudaError_t cudaStreamQuery(cudaStream_t stream) {
  const StreamPtr state = resolve(stream);
  if (!state) return fail(cudaErrorInvalidResourceHandle, "cudaStreamQuery: unknown stream " + pointer_text(stream));
  return state->done(state->last_ticket()) ? cudaSuccess : cudaErrorNotReady;
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned flags) {
  if (event == nullptr) return fail(cudaErrorInvalidValue, "cudaEventCreateWithFlags: event is null");
  if (flags & ~(cudaEventBlockingSync | cudaEventDisableTiming))
    return fail(cudaErrorInvalidValue, "cudaEventCreateWithFlags: unknown flags " + std::to_string(flags));
  *event = new CUevent_st;
  return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t* event) { return cudaEventCreateWithFlags(event, cudaEventDefault); }

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  if (event == nullptr) return fail(cudaErrorInvalidResourceHandle, "cudaEventRecord: event is null");
  const StreamPtr state = resolve(stream);
  if (!state) return fail(cudaErrorInvalidResourceHandle, "cudaEventRecord: unknown stream " + pointer_text(stream));
  auto time = std::make_shared<std::chrono::steady_clock::time_point>();
  const uint64_t ticket = submit(state, [time] {
                            *time = std::chrono::steady_clock::now();
                            return KernelError{};
                          }).first;
  std::lock_guard<std::mutex> lock(event->m);
  event->recording = {{state, ticket}, std::move(time)};
  return cudaSuccess;
}

namespace {
Recording recorded(cudaEvent_t event) {
  std::lock_guard<std::mutex> lock(event->m);
  return event->recording;
}
}  // namespace

cudaError_t cudaEventQuery(cudaEvent_t event) {
  if (event == nullptr) return fail(cudaErrorInvalidResourceHandle, "cudaEventQuery: event is null");
  const Waypoint w = recorded(event).at;
  return !w.stream || w.stream->done(w.ticket) ? cudaSuccess : cudaErrorNotReady;
}

cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  if (event == nullptr) return fail(cudaErrorInvalidResourceHandle, "cudaEventSynchronize: event is null");
  const Waypoint w = recorded(event).at;
  if (w.stream) w.stream->wait(w.ticket);
  return cudaSuccess;
}

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  if (ms == nullptr || start == nullptr || end == nullptr)
    return fail(cudaErrorInvalidValue, "cudaEventElapsedTime: null argument");
  const Recording a = recorded(start), b = recorded(end);
  if (!a.at.stream || !b.at.stream)
    return fail(cudaErrorInvalidResourceHandle, "cudaEventElapsedTime: an event was never recorded");
  if (!a.at.stream->done(a.at.ticket) || !b.at.stream->done(b.at.ticket)) return cudaErrorNotReady;
  *ms = std::chrono::duration<float, std::milli>(*b.time - *a.time).count();
  return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  if (event == nullptr) return fail(cudaErrorInvalidResourceHandle, "cudaEventDestroy: event is null");
  delete event;
  return cudaSuccess;
}

cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned flags) {
  if (event == nullptr) return fail(cudaErrorInvalidResourceHandle, "cudaStreamWaitEvent: event is null");
  const StreamPtr state = resolve(stream);
  if (!state) return fail(cudaErrorInvalidResourceHandle, "cudaStreamWaitEvent: unknown stream " + pointer_text(stream));
  const Waypoint w = recorded(event).at;
  if (w.stream)
    submit(state, [w] {
      w.stream->wait(w.ticket);
      return KernelError{};
    });
  return cudaSuccess;
}

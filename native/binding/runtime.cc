// backendInfo() and thread settings.
#include <malloc.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "binding/args.h"
#include "binding/registry.h"
#include "core/thread_pool.h"
#include "cpu/gemm.h"
#include "cuda/device.h"

namespace tf::binding {
namespace {

Napi::Value backend_info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  Napi::Object gemm = Napi::Object::New(env);
  gemm.Set("backend", cpu::gemm_backend());
  gemm.Set("detail", cpu::gemm_backend_detail());
  gemm.Set("threads", num_threads());  // large products split over our pool (cpu/gemm.cc)
  out.Set("gemm", gemm);
  out.Set("threads", num_threads());
  out.Set("napiVersion", NAPI_VERSION);

  const cuda::RuntimeInfo rt = cuda::runtime_info();
  Napi::Object c = Napi::Object::New(env);
  c.Set("compiled", rt.compiled);
  c.Set("emulated", rt.emulated);
  c.Set("runtimeVersion", rt.runtime_version);
  c.Set("driverVersion", rt.driver_version);
  Napi::Array devices = Napi::Array::New(env, rt.devices.size());
  for (size_t i = 0; i < rt.devices.size(); ++i) {
    const auto& d = rt.devices[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("index", d.index);
    o.Set("name", d.name);
    o.Set("computeCapability", std::to_string(d.major) + "." + std::to_string(d.minor));
    o.Set("totalMemory", double(d.total_memory));
    o.Set("multiprocessors", d.multiprocessors);
    devices.Set(uint32_t(i), o);
  }
  c.Set("devices", devices);
  if (!rt.reason.empty()) c.Set("reason", rt.reason);
  out.Set("cuda", c);
  return out;
}

// setNumThreads(n): the calling JS thread's count, for the CPU kernels (GEMMs included) it runs; other JS
// threads (worker_threads) keep theirs.
Napi::Value set_threads(const Napi::CallbackInfo& info) {
  set_num_threads(int(get_int(info, 0, "setNumThreads", "n", 1, 256)));
  return info.Env().Undefined();
}

Napi::Value get_threads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), num_threads()); }

// pageOffset(buffer): where an ArrayBuffer's memory starts within its 4 KiB page, so that the TypeScript
// allocator can start large tensors on a page boundary.
Napi::Value page_offset(const Napi::CallbackInfo& info) {
  TF_CHECK(info.Length() >= 1 && info[0].IsArrayBuffer(), Type, "pageOffset: buffer must be an ArrayBuffer");
  const auto address = reinterpret_cast<std::uintptr_t>(info[0].As<Napi::ArrayBuffer>().Data());
  return Napi::Number::New(info.Env(), double(address % 4096));
}

}  // namespace

void register_runtime(Napi::Env env, Napi::Object exports) {
  cpu::gemm_init();
  // Tensor buffers are large and short-lived. glibc maps every block above 32 MB fresh from the kernel
  // (zeroed pages, one fault per 4 KB on first write, unmapped again on free), which made a 16M-element
  // add spend three quarters of its time in page faults; served from the heap, a freed block is reused
  // warm. TENSORFORGE_MALLOC_TUNING=0 leaves the process's malloc settings alone.
  const char* tuning = std::getenv("TENSORFORGE_MALLOC_TUNING");
  if (!tuning || std::string(tuning) != "0") {
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
  }
  export_fn(env, exports, "backendInfo", backend_info);
  export_fn(env, exports, "setNumThreads", set_threads);
  export_fn(env, exports, "getNumThreads", get_threads);
  export_fn(env, exports, "pageOffset", page_offset);
}

}  // namespace tf::binding

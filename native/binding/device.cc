// Device memory for the TypeScript layer. A device handle is an opaque object that owns a block of the
// caching allocator (cuda/runtime.h); only objects created here carry the type tag, so a forged object is
// rejected wherever a tensor argument is read (args.cc: get_buffer).
//   deviceCount()                                     usable CUDA devices; 0 when none (never throws)
//   deviceAlloc(device, dtype, length, zero)          a handle; dtype 0 f32, 1 f64, 2 i32, 3 u8
//   deviceFree(handle)                                memory back to the cache; idempotent
//   deviceUpload(handle, offset, src)                 src (typed array of the handle's dtype) at element offset
//   deviceDownload(handle, offset, dst)               dst.length elements from element offset; synchronizes
//   deviceDownloadAsync(handle, offset, dst)          the same as a Promise, waiting off the JS thread
//   deviceSynchronize(device), deviceEmptyCache(device), deviceResetPeakStats(device)
//   deviceMemoryStats(device)                         {allocated, reserved, maxAllocated, maxReserved, allocations}
//   deviceTransferStats(device)                       {uploads, uploadBytes, downloads, downloadBytes} so far
//   deviceHandleInfo(handle)                          {device, dtype, length, freed}
// Handles report their bytes to V8 as external memory, so garbage collection (whose finalizer frees a
// handle that was never freed) keeps pace with device allocation.
#include <memory>

#include "binding/args.h"
#include "binding/registry.h"
#include "cuda/device.h"
#include "cuda/runtime.h"

namespace tf::binding {

namespace {

constexpr napi_type_tag kDeviceHandleTag = {0x7f3a9c1e5b2d4a60ULL, 0x91c4e8d2a6b7f305ULL};

// Returns a block's memory to its device's cache and its bytes to V8's external-memory count. Never
// throws: finalizers call it.
void free_block(napi_env env, DeviceBlock& block) {
  if (block.freed) return;
  block.freed = true;
  cuda::release(block.device, block.ptr);
  int64_t external = 0;
  napi_adjust_external_memory(env, -int64_t(block.bytes()), &external);
}

// The backstop for handles dropped without deviceFree.
void finalize_block(napi_env env, void* data, void*) {
  std::unique_ptr<DeviceBlock> block(static_cast<DeviceBlock*>(data));
  free_block(env, *block);
}

// A device index argument naming an existing device; without one, the error says why there is none.
int get_device(const Napi::CallbackInfo& info, size_t i, const char* op) {
  const int64_t device = get_int(info, i, op, "device", 0, INT32_MAX);
  const int count = cuda::device_count();
  if (count == 0) fail(ErrorKind::Generic, op, ": no CUDA device is usable: ", cuda::runtime_info().reason);
  TF_CHECK(device < count, Range, op, ": device ", device, " does not exist (", count, " CUDA devices)");
  return int(device);
}

// The block of a handle argument, freed or not.
DeviceBlock& get_any_block(const Napi::CallbackInfo& info, size_t i, const char* op) {
  DeviceBlock* block = i < info.Length() ? device_block_of(info.Env(), info[i]) : nullptr;
  TF_CHECK(block, Type, op, ": handle must be a device handle from deviceAlloc");
  return *block;
}

// The live block of a handle argument.
DeviceBlock& get_block(const Napi::CallbackInfo& info, size_t i, const char* op) {
  DeviceBlock& block = get_any_block(info, i, op);
  TF_CHECK(!block.freed, Type, op, ": handle was freed");
  return block;
}

// The host side of a copy: a typed array of the handle's dtype whose elements fit at `offset`.
struct HostRange {
  DeviceBlock& block;
  Buffer host;
  size_t device_offset_bytes, bytes;
  char* device_ptr() const { return static_cast<char*>(block.ptr) + device_offset_bytes; }
};

HostRange get_host_range(const Napi::CallbackInfo& info, const char* op, const char* name) {
  require_args(info, 3, op);
  DeviceBlock& block = get_block(info, 0, op);
  const int64_t offset = get_int(info, 1, op, "offset");
  TF_CHECK(info[2].IsTypedArray(), Type, op, ": ", name, " must be a typed array");
  const Buffer host = get_buffer(info, 2, op, name, block.dtype);
  TF_CHECK(offset <= block.length && host.length <= block.length - offset, Range, op, ": ", host.length,
           " elements at offset ", offset, " exceed the handle's ", block.length, " elements");
  const size_t size = dtype_size(block.dtype);
  cuda::use_device(block.device);
  return {block, host, size_t(offset) * size, size_t(host.length) * size};
}

Napi::Value device_count(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), cuda::device_count());
}

Napi::Value device_alloc(const Napi::CallbackInfo& info) {
  constexpr const char* op = "deviceAlloc";
  require_args(info, 4, op);
  const int device = get_device(info, 0, op);
  auto block = std::make_unique<DeviceBlock>();
  block->device = device;
  block->dtype = DType(get_int(info, 1, op, "dtype", 0, 3));
  block->length = get_int(info, 2, op, "length");
  const bool zero = get_bool(info, 3, op, "zero");
  block->ptr = cuda::allocate(device, block->bytes());
  Napi::Env env = info.Env();
  Napi::Object handle = Napi::Object::New(env);
  const napi_status wrapped = napi_wrap(env, handle, block.get(), finalize_block, nullptr, nullptr);
  if (wrapped != napi_ok) {
    cuda::release(device, block->ptr);
    fail(ErrorKind::Generic, op, ": could not attach the device block to its handle");
  }
  DeviceBlock& live = *block.release();  // owned by the handle now: finalize_block deletes it
  handle.TypeTag(&kDeviceHandleTag);
  Napi::MemoryManagement::AdjustExternalMemory(env, int64_t(live.bytes()));
  if (zero) cuda::fill_zero(device, live.ptr, live.bytes());
  return handle;
}

Napi::Value device_free(const Napi::CallbackInfo& info) {
  free_block(info.Env(), get_any_block(info, 0, "deviceFree"));
  return info.Env().Undefined();
}

Napi::Value device_upload(const Napi::CallbackInfo& info) {
  const HostRange r = get_host_range(info, "deviceUpload", "src");
  cuda::upload(r.block.device, r.device_ptr(), r.host.data, r.bytes);
  return info.Env().Undefined();
}

Napi::Value device_download(const Napi::CallbackInfo& info) {
  const HostRange r = get_host_range(info, "deviceDownload", "dst");
  cuda::download(r.block.device, r.host.data, r.device_ptr(), r.bytes);
  return info.Env().Undefined();
}

// Downloads a snapshot of the range taken when the call was made: the range is first copied on the device
// into a private block (ordered on the stream), so kernels enqueued afterwards, or freeing the handle,
// cannot change what arrives. The worker thread waits for the copy and fills dst.
class DownloadWorker : public Napi::AsyncWorker {
 public:
  DownloadWorker(Napi::Env env, const HostRange& r, Napi::TypedArray dst)
      : Napi::AsyncWorker(env, "tensorforge:deviceDownloadAsync"),
        deferred_(Napi::Promise::Deferred::New(env)),
        dst_ref_(Napi::Persistent(dst)),
        dst_(r.host.data),
        bytes_(r.bytes),
        snapshot_(r.block.device, bytes_) {
    cuda::copy_on_device(snapshot_.device, snapshot_.ptr, r.device_ptr(), bytes_);
  }

  Napi::Promise promise() const { return deferred_.Promise(); }

  void Execute() override {
    try {
      cuda::download(snapshot_.device, dst_, snapshot_.ptr, bytes_);
    } catch (const std::exception& e) {
      SetError(std::string("deviceDownloadAsync: ") + e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  // A block of the caching allocator owned for the worker's lifetime.
  struct Scratch {
    int device;
    void* ptr;
    Scratch(int d, size_t bytes) : device(d), ptr(cuda::allocate(d, bytes)) {}
    ~Scratch() { cuda::release(device, ptr); }
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
  };

  Napi::Promise::Deferred deferred_;
  Napi::Reference<Napi::TypedArray> dst_ref_;  // keeps dst's memory alive while the worker writes it
  void* dst_;
  size_t bytes_;
  Scratch snapshot_;
};

Napi::Value device_download_async(const Napi::CallbackInfo& info) {
  const HostRange r = get_host_range(info, "deviceDownloadAsync", "dst");
  auto* worker = new DownloadWorker(info.Env(), r, info[2].As<Napi::TypedArray>());
  const Napi::Promise promise = worker->promise();
  worker->Queue();  // the worker deletes itself when done
  return promise;
}

Napi::Value device_synchronize(const Napi::CallbackInfo& info) {
  cuda::synchronize(get_device(info, 0, "deviceSynchronize"));
  return info.Env().Undefined();
}

Napi::Value device_memory_stats(const Napi::CallbackInfo& info) {
  const cuda::MemoryStats s = cuda::memory_stats(get_device(info, 0, "deviceMemoryStats"));
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("allocated", double(s.allocated));
  out.Set("reserved", double(s.reserved));
  out.Set("maxAllocated", double(s.max_allocated));
  out.Set("maxReserved", double(s.max_reserved));
  out.Set("allocations", double(s.allocations));
  return out;
}

Napi::Value device_transfer_stats(const Napi::CallbackInfo& info) {
  const cuda::TransferStats s = cuda::transfer_stats(get_device(info, 0, "deviceTransferStats"));
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("uploads", double(s.uploads));
  out.Set("uploadBytes", double(s.upload_bytes));
  out.Set("downloads", double(s.downloads));
  out.Set("downloadBytes", double(s.download_bytes));
  return out;
}

Napi::Value device_empty_cache(const Napi::CallbackInfo& info) {
  cuda::empty_cache(get_device(info, 0, "deviceEmptyCache"));
  return info.Env().Undefined();
}

Napi::Value device_reset_peak_stats(const Napi::CallbackInfo& info) {
  cuda::reset_peak_stats(get_device(info, 0, "deviceResetPeakStats"));
  return info.Env().Undefined();
}

Napi::Value device_handle_info(const Napi::CallbackInfo& info) {
  const DeviceBlock& block = get_any_block(info, 0, "deviceHandleInfo");
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("device", block.device);
  out.Set("dtype", int(block.dtype));
  out.Set("length", double(block.length));
  out.Set("freed", block.freed);
  return out;
}

}  // namespace

DeviceBlock* device_block_of(Napi::Env env, Napi::Value v) {
  if (!v.IsObject() || !v.As<Napi::Object>().CheckTypeTag(&kDeviceHandleTag)) return nullptr;
  void* data = nullptr;
  if (napi_unwrap(env, v, &data) != napi_ok) return nullptr;
  return static_cast<DeviceBlock*>(data);
}

void register_device(Napi::Env env, Napi::Object exports) {
  export_fn(env, exports, "deviceCount", device_count);
  export_fn(env, exports, "deviceAlloc", device_alloc);
  export_fn(env, exports, "deviceFree", device_free);
  export_fn(env, exports, "deviceUpload", device_upload);
  export_fn(env, exports, "deviceDownload", device_download);
  export_fn(env, exports, "deviceDownloadAsync", device_download_async);
  export_fn(env, exports, "deviceSynchronize", device_synchronize);
  export_fn(env, exports, "deviceMemoryStats", device_memory_stats);
  export_fn(env, exports, "deviceTransferStats", device_transfer_stats);
  export_fn(env, exports, "deviceEmptyCache", device_empty_cache);
  export_fn(env, exports, "deviceResetPeakStats", device_reset_peak_stats);
  export_fn(env, exports, "deviceHandleInfo", device_handle_info);
}

}  // namespace tf::binding

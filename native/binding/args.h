// Argument extraction for the N-API surface. Every check throws tf::Error naming the op and argument;
// wrap() turns that into a JS TypeError/RangeError, so no binding can crash on bad input.
//
// A tensor argument is a typed array (its memory is on the cpu) or a device handle (binding/device.cc:
// memory on a CUDA device). Both become a Buffer; a binding requires all its buffers on one device
// (require_one_device) and runs that device's implementation (TF_ON_DEVICE). Code in the binding never
// reads the contents of a cuda buffer: its data is a device pointer.
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "core/error.h"
#include "core/shape.h"

namespace tf::binding {

enum class DType { F32, F64, I32, U8 };
const char* dtype_name(DType d);

enum class Device { Cpu, Cuda };
// "cpu" or "cuda:<index>".
std::string device_name(Device d, int index);

// A tensor argument: element pointer (host or device memory), element count, dtype, where it lives.
// Default-constructed, it is an optional argument left out (present == false).
struct Buffer {
  void* data = nullptr;
  int64_t length = 0;
  DType dtype = DType::F32;
  Device device = Device::Cpu;
  int device_index = 0;
  bool present = false;
  template <class T>
  T* as() const { return static_cast<T*>(data); }
};

// The native side of a device handle: a block of `length` elements of `dtype` on CUDA device `device`.
struct DeviceBlock {
  void* ptr = nullptr;
  int64_t length = 0;
  DType dtype = DType::F32;
  int device = 0;
  bool freed = false;
  size_t bytes() const;
};
// The block behind `v` when v is a device handle this addon created, else nullptr (binding/device.cc).
DeviceBlock* device_block_of(Napi::Env env, Napi::Value v);

void require_args(const Napi::CallbackInfo& info, size_t n, const char* op);
// A typed array (cpu) or a live device handle (cuda). A freed handle is a TypeError "op: name was freed".
Buffer get_buffer(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name);
// Same, additionally requiring dtype `want`.
Buffer get_buffer(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, DType want);
// A Number that is an integer in [lo, hi].
int64_t get_int(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, int64_t lo = 0,
                int64_t hi = kMaxElements);
double get_number(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name);
bool get_bool(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name);
std::string get_string(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name);
// An array of integers in [lo, hi], at most 16 long.
Dims get_dims(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, int64_t lo = 0,
              int64_t hi = kMaxElements);

// Requires buf.length >= need elements.
void require_length(const Buffer& buf, int64_t need, const char* op, const char* name);
// Requires a and b to have the same dtype.
void require_same_dtype(const Buffer& a, const Buffer& b, const char* op, const char* a_name, const char* b_name);
// Requires a float dtype (float32/float64).
void require_float(const Buffer& b, const char* op, const char* name);

// Bytes per element of `d`: 4 for float32/int32, 8 for float64, 1 for uint8.
size_t dtype_size(DType d);
// True when argument i is missing, null or undefined (an optional buffer left out).
bool is_absent(const Napi::CallbackInfo& info, size_t i);
// A float32/float64 buffer of at least `need` elements.
Buffer get_float(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, int64_t need);
// A buffer of `like`'s dtype (mismatch names `like_name`) with at least `need` elements. When `optional`,
// an absent argument (is_absent) gives Buffer{} (data == nullptr, length 0).
Buffer get_like(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, const Buffer& like,
                const char* like_name, int64_t need, bool optional = false);
// Requires the bytes of out's first out_len elements and other's first other_len elements not to overlap
// (an output must not share memory with an input or another output). No-op when either is empty or absent.
void require_disjoint(const char* op, const Buffer& out, int64_t out_len, const char* out_name, const Buffer& other,
                      int64_t other_len, const char* other_name);

// A JS array of the dims (shape results returned to TypeScript).
Napi::Array dims_to_js(Napi::Env env, const Dims& dims);

using Handler = Napi::Value (*)(const Napi::CallbackInfo&);
// Exports `name` as a function whose tf::Error / std::bad_alloc become JS exceptions.
void export_fn(Napi::Env env, Napi::Object exports, const char* name, Handler fn);

struct NamedBuffer {
  const Buffer& buf;
  const char* name;
};
// The one device every present buffer lives on (Cpu when none is present); a TypeError "op: all tensors
// must be on one device, got x on cuda:0 and y on cpu" otherwise. For Cuda it makes that device current,
// so the launches that follow go to its stream.
Device require_one_device(const char* op, std::initializer_list<NamedBuffer> buffers);

// Calls the device's implementation: TF_ON_DEVICE(dev, unary<T>(...)) is tf::cpu::unary<T>(...) or
// tf::cuda::unary<T>(...). A build without CUDA has no device buffers and calls the cpu one.
#if defined(TF_WITH_CUDA)
#define TF_ON_DEVICE(dev, ...) \
  ((dev) == ::tf::binding::Device::Cuda ? ::tf::cuda::__VA_ARGS__ : ::tf::cpu::__VA_ARGS__)
#else
#define TF_ON_DEVICE(dev, ...) ((void)(dev), ::tf::cpu::__VA_ARGS__)
#endif

// Calls f(T{}) with T the C++ element type of a float buffer (float or double).
template <class F>
decltype(auto) dispatch_float(DType d, const char* op, F&& f) {
  switch (d) {
    case DType::F32: return f(float{});
    case DType::F64: return f(double{});
    default: fail(ErrorKind::Type, op, ": expected a float32 or float64 buffer, got ", dtype_name(d));
  }
}

}  // namespace tf::binding

namespace tf::binding {

// A strided view argument: three consecutive arguments (typed array, element offset, strides array)
// over a shape known to the caller. Construction proves every reachable element is inside the buffer.
struct View {
  Buffer buf;
  int64_t offset = 0;
  Dims strides;
  template <class T>
  T* data() const { return buf.as<T>() + offset; }
};
View get_view(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, const Dims& shape);

}  // namespace tf::binding

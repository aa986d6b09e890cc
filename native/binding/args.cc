#include "binding/args.h"

#include <cmath>
#include <new>

#include "cuda/runtime.h"

namespace tf::binding {

const char* dtype_name(DType d) {
  switch (d) {
    case DType::F32: return "float32";
    case DType::F64: return "float64";
    case DType::I32: return "int32";
    case DType::U8: return "uint8";
  }
  return "?";
}

void require_args(const Napi::CallbackInfo& info, size_t n, const char* op) {
  TF_CHECK(info.Length() >= n, Type, op, ": expected ", n, " arguments, got ", info.Length());
}

std::string device_name(Device d, int index) {
  return d == Device::Cpu ? std::string("cpu") : "cuda:" + std::to_string(index);
}

size_t DeviceBlock::bytes() const { return size_t(length) * dtype_size(dtype); }

namespace {

constexpr const char* kTensorKinds =
    " must be a Float32Array, Float64Array, Int32Array, Uint8Array or a device handle";

Buffer device_buffer(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  const DeviceBlock* block = i < info.Length() ? device_block_of(info.Env(), info[i]) : nullptr;
  TF_CHECK(block, Type, op, ": ", name, kTensorKinds);
  TF_CHECK(!block->freed, Type, op, ": ", name, " was freed");
  Buffer b;
  b.data = block->ptr;
  b.length = block->length;
  b.dtype = block->dtype;
  b.device = Device::Cuda;
  b.device_index = block->device;
  b.present = true;
  return b;
}

}  // namespace

Buffer get_buffer(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  // One napi_get_typedarray_info for kind, length and data, which also says whether it is a typed array at all
  // (kernel entries read several buffers a call); ta.ArrayBuffer().Data() would fail on a SharedArrayBuffer.
  napi_typedarray_type type{};
  size_t length = 0;
  void* data = nullptr;
  if (i >= info.Length() ||
      napi_get_typedarray_info(info.Env(), info[i], &type, &length, &data, nullptr, nullptr) != napi_ok) {
    return device_buffer(info, i, op, name);
  }
  Buffer b;
  switch (type) {
    case napi_float32_array: b.dtype = DType::F32; break;
    case napi_float64_array: b.dtype = DType::F64; break;
    case napi_int32_array: b.dtype = DType::I32; break;
    case napi_uint8_array: b.dtype = DType::U8; break;
    default: fail(ErrorKind::Type, op, ": ", name, kTensorKinds);
  }
  b.length = int64_t(length);
  b.data = data;
  b.present = true;
  return b;
}

Buffer get_buffer(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, DType want) {
  Buffer b = get_buffer(info, i, op, name);
  TF_CHECK(b.dtype == want, Type, op, ": ", name, " must be ", dtype_name(want), ", got ", dtype_name(b.dtype));
  return b;
}

static int64_t to_int(const Napi::Value& v, const char* op, const char* name, int64_t lo, int64_t hi) {
  // napi_get_value_double checks the type itself (napi_number_expected): one N-API call, not two.
  double d = 0;
  TF_CHECK(napi_get_value_double(v.Env(), v, &d) == napi_ok, Type, op, ": ", name, " must be a number");
  TF_CHECK(std::isfinite(d) && d == std::floor(d), Range, op, ": ", name, " must be an integer, got ", d);
  TF_CHECK(d >= double(lo) && d <= double(hi), Range, op, ": ", name, " must be in [", lo, ", ", hi, "], got ", d);
  return int64_t(d);
}

int64_t get_int(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, int64_t lo, int64_t hi) {
  TF_CHECK(i < info.Length(), Type, op, ": missing argument ", name);
  return to_int(info[i], op, name, lo, hi);
}

double get_number(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  double d = 0;
  TF_CHECK(i < info.Length() && napi_get_value_double(info.Env(), info[i], &d) == napi_ok, Type, op, ": ", name,
           " must be a number");
  return d;
}

bool get_bool(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  TF_CHECK(i < info.Length() && info[i].IsBoolean(), Type, op, ": ", name, " must be a boolean");
  return info[i].As<Napi::Boolean>().Value();
}

std::string get_string(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  TF_CHECK(i < info.Length() && info[i].IsString(), Type, op, ": ", name, " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

Dims get_dims(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, int64_t lo, int64_t hi) {
  TF_CHECK(i < info.Length() && info[i].IsArray(), Type, op, ": ", name, " must be an array of integers");
  Napi::Array arr = info[i].As<Napi::Array>();
  const uint32_t n = arr.Length();  // each Length() is an N-API call: once, not per entry
  TF_CHECK(n <= 16, Range, op, ": ", name, " may have at most 16 entries, got ", n);
  Dims dims(n);
  for (uint32_t k = 0; k < n; ++k) dims[k] = to_int(arr.Get(k), op, name, lo, hi);
  return dims;
}

Napi::Array dims_to_js(Napi::Env env, const Dims& dims) {
  Napi::Array out = Napi::Array::New(env, dims.size());
  for (size_t i = 0; i < dims.size(); ++i) out.Set(uint32_t(i), Napi::Number::New(env, double(dims[i])));
  return out;
}

void require_length(const Buffer& buf, int64_t need, const char* op, const char* name) {
  TF_CHECK(buf.length >= need, Range, op, ": ", name, " needs at least ", need, " elements, got ", buf.length);
}

void require_same_dtype(const Buffer& a, const Buffer& b, const char* op, const char* a_name, const char* b_name) {
  TF_CHECK(a.dtype == b.dtype, Type, op, ": ", a_name, " and ", b_name, " must have the same dtype, got ",
           dtype_name(a.dtype), " and ", dtype_name(b.dtype));
}

void require_float(const Buffer& b, const char* op, const char* name) {
  TF_CHECK(b.dtype == DType::F32 || b.dtype == DType::F64, Type, op, ": ", name,
           " must be float32 or float64, got ", dtype_name(b.dtype));
}

size_t dtype_size(DType d) {
  switch (d) {
    case DType::F32: return 4;
    case DType::F64: return 8;
    case DType::I32: return 4;
    case DType::U8: return 1;
  }
  return 1;
}

bool is_absent(const Napi::CallbackInfo& info, size_t i) {
  return i >= info.Length() || info[i].IsNull() || info[i].IsUndefined();
}

Buffer get_float(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, int64_t need) {
  Buffer b = get_buffer(info, i, op, name);
  require_float(b, op, name);
  require_length(b, need, op, name);
  return b;
}

Buffer get_like(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, const Buffer& like,
                const char* like_name, int64_t need, bool optional) {
  if (optional && is_absent(info, i)) return Buffer{};
  Buffer b = get_buffer(info, i, op, name);
  require_same_dtype(like, b, op, like_name, name);
  require_length(b, need, op, name);
  return b;
}

void require_disjoint(const char* op, const Buffer& out, int64_t out_len, const char* out_name, const Buffer& other,
                      int64_t other_len, const char* other_name) {
  if (out_len == 0 || other_len == 0 || !out.data || !other.data) return;
  const auto* o0 = static_cast<const uint8_t*>(out.data);
  const auto* b0 = static_cast<const uint8_t*>(other.data);
  const bool apart = o0 + size_t(out_len) * dtype_size(out.dtype) <= b0 ||
                     b0 + size_t(other_len) * dtype_size(other.dtype) <= o0;
  TF_CHECK(apart, Range, op, ": ", out_name, " overlaps ", other_name);
}

Device require_one_device(const char* op, std::initializer_list<NamedBuffer> buffers) {
  const NamedBuffer* first = nullptr;
  for (const NamedBuffer& b : buffers) {
    if (!b.buf.present) continue;
    if (!first) {
      first = &b;
      continue;
    }
    TF_CHECK(b.buf.device == first->buf.device && b.buf.device_index == first->buf.device_index, Type, op,
             ": all tensors must be on one device, got ", first->name, " on ",
             device_name(first->buf.device, first->buf.device_index), " and ", b.name, " on ",
             device_name(b.buf.device, b.buf.device_index));
  }
  if (!first) return Device::Cpu;
  if (first->buf.device == Device::Cuda) cuda::use_device(first->buf.device_index);
  return first->buf.device;
}

// The message of an error raised under entry point `name`, prefixed with the name unless it already leads
// with it: errors from below the binding (the CUDA runtime: "cuda: out of memory ...") name the call too.
static std::string naming(const char* name, const char* what) {
  const std::string prefix = std::string(name) + ":";
  return std::string(what).rfind(prefix, 0) == 0 ? std::string(what) : prefix + " " + what;
}

void export_fn(Napi::Env env, Napi::Object exports, const char* name, Handler fn) {
  auto guarded = [fn, name](const Napi::CallbackInfo& info) -> Napi::Value {
    Napi::Env env = info.Env();
    try {
      return fn(info);
    } catch (const Error& e) {
      const std::string message = naming(name, e.what());
      switch (e.kind) {
        case ErrorKind::Type: throw Napi::TypeError::New(env, message);
        case ErrorKind::Range: throw Napi::RangeError::New(env, message);
        default: throw Napi::Error::New(env, message);
      }
    } catch (const std::bad_alloc&) {
      throw Napi::RangeError::New(env, std::string(name) + ": out of memory");
    } catch (const Napi::Error&) {
      throw;
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, naming(name, e.what()));
    }
  };
  exports.Set(name, Napi::Function::New(env, guarded, name));
}

}  // namespace tf::binding

namespace tf::binding {

View get_view(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, const Dims& shape) {
  View v{get_buffer(info, i, op, name), get_int(info, i + 1, op, "offset"), get_dims(info, i + 2, op, "strides")};
  TF_CHECK(v.strides.size() == shape.size(), Range, op, ": ", name, " strides must have ", shape.size(),
           " entries to match shape ", dims_str(shape), ", got ", v.strides.size());
  require_length(v.buf, strided_extent(shape, v.strides, v.offset, op, name), op, name);
  return v;
}

}  // namespace tf::binding

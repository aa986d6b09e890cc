// Strided elementwise maps. Every operand is (typed array or device handle, offset, strides) over one shape,
// all on one device.
//   unary(op, shape, out, outOff, outStrides, x, xOff, xStrides, a, b)
//   binary(op, shape, out, ..., x, ..., y, ..., alpha, beta)
//   compare(op, shape, out(uint8), ..., x, ..., y, ...)
//   where(shape, out, ..., cond(uint8), ..., x, ..., y, ...)
//   copy(shape, out, ..., x, ...)           any dtype to any dtype
// plus unaryOps/binaryOps/compareOps: the op names in id order.
#include "binding/args.h"
#include "binding/registry.h"
#include <cmath>

#include "cpu/elementwise.h"

namespace tf::binding {
namespace {

Dims read_shape(const Napi::CallbackInfo& info, size_t i, const char* op) {
  Dims shape = get_dims(info, i, op, "shape");
  checked_numel(shape, op, "shape");
  return shape;
}

template <int N>
StridedLayout<N> layout_of(const Dims& shape, const std::array<const View*, N>& views) {
  std::array<const Dims*, N> strides;
  for (int k = 0; k < N; ++k) strides[k] = &views[k]->strides;
  return StridedLayout<N>(shape, strides);
}

template <class F>
decltype(auto) dispatch_any(DType d, F&& f) {
  switch (d) {
    case DType::F32: return f(float{});
    case DType::F64: return f(double{});
    case DType::I32: return f(int32_t{});
    default: return f(uint8_t{});
  }
}

// random(out, kind, seed, offset, a, b): kind 0 uniform [a, b), 1 normal(a, b), 2 bernoulli(a), 3 integer [a, b).
Napi::Value random(const Napi::CallbackInfo& info) {
  constexpr const char* kOp = "random";
  require_args(info, 6, kOp);
  const Buffer out = get_buffer(info, 0, kOp, "out");
  const auto kind = RandomKind(get_int(info, 1, kOp, "kind", 0, 3));
  const uint64_t seed = uint64_t(get_int(info, 2, kOp, "seed")), offset = uint64_t(get_int(info, 3, kOp, "offset"));
  const double a = get_number(info, 4, kOp, "a"), b = get_number(info, 5, kOp, "b");
  TF_CHECK(std::isfinite(a) && std::isfinite(b), Range, kOp, ": bounds must be finite, got ", a, " and ", b);
  TF_CHECK(kind != RandomKind::Bernoulli || (a >= 0 && a <= 1), Range, kOp, ": probability must be in [0, 1], got ", a);
  TF_CHECK(kind != RandomKind::Normal || b >= 0, Range, kOp, ": std must be >= 0, got ", b);
  const Device dev = require_one_device(kOp, {{out, "out"}});
  dispatch_any(out.dtype, [&](auto zero) {
    using T = decltype(zero);
    TF_ON_DEVICE(dev, random_fill<T>(kind, out.as<T>(), out.length, seed, offset, a, b));
  });
  return info.Env().Undefined();
}

template <class Enum>
Enum get_op(const Napi::CallbackInfo& info, const char* op) {
  return Enum(get_int(info, 0, op, "op", 0, int64_t(Enum::kCount) - 1));
}

Napi::Value unary(const Napi::CallbackInfo& info) {
  constexpr const char* kOp = "unary";
  require_args(info, 10, kOp);
  const UnaryOp op = get_op<UnaryOp>(info, kOp);
  const Dims shape = read_shape(info, 1, kOp);
  const View out = get_view(info, 2, kOp, "out", shape), x = get_view(info, 5, kOp, "x", shape);
  require_same_dtype(out.buf, x.buf, kOp, "out", "x");
  const double a = get_number(info, 8, kOp, "a"), b = get_number(info, 9, kOp, "b");
  const Device dev = require_one_device(kOp, {{out.buf, "out"}, {x.buf, "x"}});
  dispatch_any(x.buf.dtype, [&](auto zero) {
    using T = decltype(zero);
    TF_ON_DEVICE(dev, unary<T>(op, layout_of<2>(shape, {&out, &x}), out.data<T>(), x.data<T>(), T(a), T(b)));
  });
  return info.Env().Undefined();
}

Napi::Value binary(const Napi::CallbackInfo& info) {
  constexpr const char* kOp = "binary";
  require_args(info, 13, kOp);
  const BinaryOp op = get_op<BinaryOp>(info, kOp);
  const Dims shape = read_shape(info, 1, kOp);
  const View out = get_view(info, 2, kOp, "out", shape), x = get_view(info, 5, kOp, "x", shape),
             y = get_view(info, 8, kOp, "y", shape);
  require_same_dtype(x.buf, y.buf, kOp, "x", "y");
  require_same_dtype(out.buf, x.buf, kOp, "out", "x");
  const double alpha = get_number(info, 11, kOp, "alpha"), beta = get_number(info, 12, kOp, "beta");
  const Device dev = require_one_device(kOp, {{out.buf, "out"}, {x.buf, "x"}, {y.buf, "y"}});
  dispatch_any(x.buf.dtype, [&](auto zero) {
    using T = decltype(zero);
    TF_ON_DEVICE(dev, binary<T>(op, layout_of<3>(shape, {&out, &x, &y}), out.data<T>(), x.data<T>(),
                                y.data<T>(), T(alpha), T(beta)));
  });
  return info.Env().Undefined();
}

Napi::Value compare(const Napi::CallbackInfo& info) {
  constexpr const char* kOp = "compare";
  require_args(info, 11, kOp);
  const CompareOp op = get_op<CompareOp>(info, kOp);
  const Dims shape = read_shape(info, 1, kOp);
  const View out = get_view(info, 2, kOp, "out", shape), x = get_view(info, 5, kOp, "x", shape),
             y = get_view(info, 8, kOp, "y", shape);
  TF_CHECK(out.buf.dtype == DType::U8, Type, kOp, ": out must be a Uint8Array (bool), got ", dtype_name(out.buf.dtype));
  require_same_dtype(x.buf, y.buf, kOp, "x", "y");
  const Device dev = require_one_device(kOp, {{out.buf, "out"}, {x.buf, "x"}, {y.buf, "y"}});
  dispatch_any(x.buf.dtype, [&](auto zero) {
    using T = decltype(zero);
    TF_ON_DEVICE(dev, compare<T>(op, layout_of<3>(shape, {&out, &x, &y}), out.data<uint8_t>(), x.data<T>(),
                                 y.data<T>()));
  });
  return info.Env().Undefined();
}

Napi::Value where(const Napi::CallbackInfo& info) {
  constexpr const char* kOp = "where";
  require_args(info, 13, kOp);
  const Dims shape = read_shape(info, 0, kOp);
  const View out = get_view(info, 1, kOp, "out", shape), cond = get_view(info, 4, kOp, "cond", shape),
             x = get_view(info, 7, kOp, "x", shape), y = get_view(info, 10, kOp, "y", shape);
  TF_CHECK(cond.buf.dtype == DType::U8, Type, kOp, ": cond must be a Uint8Array (bool), got ",
           dtype_name(cond.buf.dtype));
  require_same_dtype(x.buf, y.buf, kOp, "x", "y");
  require_same_dtype(out.buf, x.buf, kOp, "out", "x");
  const Device dev =
      require_one_device(kOp, {{out.buf, "out"}, {cond.buf, "cond"}, {x.buf, "x"}, {y.buf, "y"}});
  dispatch_any(x.buf.dtype, [&](auto zero) {
    using T = decltype(zero);
    TF_ON_DEVICE(dev, where<T>(layout_of<4>(shape, {&out, &cond, &x, &y}), out.data<T>(), cond.data<uint8_t>(),
                               x.data<T>(), y.data<T>()));
  });
  return info.Env().Undefined();
}

Napi::Value copy(const Napi::CallbackInfo& info) {
  constexpr const char* kOp = "copy";
  require_args(info, 7, kOp);
  const Dims shape = read_shape(info, 0, kOp);
  const View out = get_view(info, 1, kOp, "out", shape), x = get_view(info, 4, kOp, "x", shape);
  const StridedLayout<2> layout = layout_of<2>(shape, {&out, &x});
  const Device dev = require_one_device(kOp, {{out.buf, "out"}, {x.buf, "x"}});
  dispatch_any(out.buf.dtype, [&](auto to) {
    using To = decltype(to);
    dispatch_any(x.buf.dtype, [&](auto from) {
      using From = decltype(from);
      TF_ON_DEVICE(dev, copy<To, From>(layout, out.data<To>(), x.data<From>()));
    });
  });
  return info.Env().Undefined();
}

void export_names(Napi::Env env, Napi::Object exports, const char* key, std::initializer_list<const char*> names) {
  Napi::Array arr = Napi::Array::New(env, names.size());
  uint32_t i = 0;
  for (const char* n : names) arr.Set(i++, n);
  exports.Set(key, arr);
}

}  // namespace

void register_elementwise(Napi::Env env, Napi::Object exports) {
#define TF_NAME(name, js) js,
  export_names(env, exports, "unaryOps", {TF_UNARY_OPS(TF_NAME)});
  export_names(env, exports, "binaryOps", {TF_BINARY_OPS(TF_NAME)});
  export_names(env, exports, "compareOps", {TF_COMPARE_OPS(TF_NAME)});
  export_names(env, exports, "reduceOps", {TF_REDUCE_OPS(TF_NAME)});
#undef TF_NAME
  export_fn(env, exports, "unary", unary);
  export_fn(env, exports, "binary", binary);
  export_fn(env, exports, "compare", compare);
  export_fn(env, exports, "where", where);
  export_fn(env, exports, "copy", copy);
  export_fn(env, exports, "random", random);
}

}  // namespace tf::binding

// conv2dForward, conv2dBackwardData, conv2dBackwardWeight, conv2dOutputShape. Shapes are arrays; buffers are
// contiguous NCHW / OIHW from element 0 and share one float dtype; outputs are preallocated and overwritten.
#include "binding/args.h"
#include "binding/registry.h"
#include "core/conv.h"
#include "cpu/conv.h"

namespace tf::binding {
namespace {

// Reads xShape, wShape and the geometry (stride, padding, dilation, groups at geometry..geometry+3).
Conv2dParams read_params(const Napi::CallbackInfo& info, const char* op, size_t x_shape, size_t w_shape,
                         size_t geometry) {
  const Dims xs = get_dims(info, x_shape, op, "xShape"), ws = get_dims(info, w_shape, op, "wShape");
  const Dims stride = get_dims(info, geometry, op, "stride", 1), padding = get_dims(info, geometry + 1, op, "padding");
  const Dims dilation = get_dims(info, geometry + 2, op, "dilation", 1);
  const int64_t groups = get_int(info, geometry + 3, op, "groups", 1);
  return conv2d_params(op, xs, ws, stride, padding, dilation, groups);
}

bool is_absent(const Napi::CallbackInfo& info, size_t i) { return info[i].IsNull() || info[i].IsUndefined(); }

// A float buffer of at least `need` elements with the dtype of `like` (when given).
Buffer read_float(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, int64_t need,
                  const Buffer* like = nullptr) {
  Buffer b = get_buffer(info, i, op, name);
  require_float(b, op, name);
  if (like) require_same_dtype(*like, b, op, "x", name);
  require_length(b, need, op, name);
  return b;
}

// An output must not share memory with any input: the kernels read inputs after writing outputs.
void require_disjoint(const Buffer& out, const char* out_name, std::initializer_list<std::pair<const Buffer*, const char*>> others,
                      int64_t out_len, const char* op) {
  const size_t size = out.dtype == DType::F32 ? 4 : 8;
  const auto* o0 = static_cast<const uint8_t*>(out.data);
  const auto* o1 = o0 + size_t(out_len) * size;
  for (const auto& [b, name] : others) {
    if (!b || !b->data || out_len == 0) continue;
    const auto* b0 = static_cast<const uint8_t*>(b->data);
    const auto* b1 = b0 + size_t(b->length) * size;
    TF_CHECK(o1 <= b0 || b1 <= o0, Range, op, ": ", out_name, " overlaps ", name);
  }
}

Napi::Value conv2d_forward(const Napi::CallbackInfo& info) {
  constexpr const char* op = "conv2dForward";
  require_args(info, 10, op);
  const Conv2dParams p = read_params(info, op, 1, 3, 6);
  const Buffer x = read_float(info, 0, op, "x", p.x_numel());
  const Buffer w = read_float(info, 2, op, "w", p.w_numel(), &x);
  const bool has_bias = !is_absent(info, 4);
  const Buffer bias = has_bias ? read_float(info, 4, op, "bias", p.K, &x) : Buffer{};
  const Buffer out = read_float(info, 5, op, "out", p.y_numel(), &x);
  require_disjoint(out, "out", {{&x, "x"}, {&w, "w"}, {&bias, "bias"}}, p.y_numel(), op);
  dispatch_float(x.dtype, op, [&](auto zero) {
    using T = decltype(zero);
    cpu::conv2d_forward<T>(p, x.as<T>(), w.as<T>(), has_bias ? bias.as<T>() : nullptr, out.as<T>());
    return 0;
  });
  return info.Env().Undefined();
}

Napi::Value conv2d_backward_data(const Napi::CallbackInfo& info) {
  constexpr const char* op = "conv2dBackwardData";
  require_args(info, 9, op);
  const Conv2dParams p = read_params(info, op, 4, 2, 5);
  const Buffer dy = read_float(info, 0, op, "gradOut", p.y_numel());
  const Buffer w = read_float(info, 1, op, "w", p.w_numel(), &dy);
  const Buffer dx = read_float(info, 3, op, "gradIn", p.x_numel(), &dy);
  require_disjoint(dx, "gradIn", {{&dy, "gradOut"}, {&w, "w"}}, p.x_numel(), op);
  dispatch_float(dy.dtype, op, [&](auto zero) {
    using T = decltype(zero);
    cpu::conv2d_backward_data<T>(p, dy.as<T>(), w.as<T>(), dx.as<T>());
    return 0;
  });
  return info.Env().Undefined();
}

Napi::Value conv2d_backward_weight(const Napi::CallbackInfo& info) {
  constexpr const char* op = "conv2dBackwardWeight";
  require_args(info, 10, op);
  const Conv2dParams p = read_params(info, op, 1, 4, 6);
  const Buffer x = read_float(info, 0, op, "x", p.x_numel());
  const Buffer dy = read_float(info, 2, op, "gradOut", p.y_numel(), &x);
  const Buffer dw = read_float(info, 3, op, "gradW", p.w_numel(), &x);
  const bool has_bias = !is_absent(info, 5);
  const Buffer dbias = has_bias ? read_float(info, 5, op, "gradBias", p.K, &x) : Buffer{};
  require_disjoint(dw, "gradW", {{&x, "x"}, {&dy, "gradOut"}, {&dbias, "gradBias"}}, p.w_numel(), op);
  if (has_bias) require_disjoint(dbias, "gradBias", {{&x, "x"}, {&dy, "gradOut"}}, p.K, op);
  dispatch_float(x.dtype, op, [&](auto zero) {
    using T = decltype(zero);
    cpu::conv2d_backward_weight<T>(p, x.as<T>(), dy.as<T>(), dw.as<T>(), has_bias ? dbias.as<T>() : nullptr);
    return 0;
  });
  return info.Env().Undefined();
}

Napi::Value conv2d_output_shape(const Napi::CallbackInfo& info) {
  constexpr const char* op = "conv2dOutputShape";
  require_args(info, 6, op);
  const Conv2dParams p = read_params(info, op, 0, 1, 2);
  Napi::Array shape = Napi::Array::New(info.Env(), 4);
  const int64_t dims[4] = {p.N, p.K, p.P, p.Q};
  for (uint32_t i = 0; i < 4; ++i) shape.Set(i, Napi::Number::New(info.Env(), double(dims[i])));
  return shape;
}

}  // namespace

void register_conv(Napi::Env env, Napi::Object exports) {
  export_fn(env, exports, "conv2dForward", conv2d_forward);
  export_fn(env, exports, "conv2dBackwardData", conv2d_backward_data);
  export_fn(env, exports, "conv2dBackwardWeight", conv2d_backward_weight);
  export_fn(env, exports, "conv2dOutputShape", conv2d_output_shape);
}

}  // namespace tf::binding

// reduce(op, x, xOff, keptShape, keptStrides, reducedShape, reducedStrides, out|null, index|null, param)
// softmax(x, y, rows, n, log) / softmaxBackward(g, y, gx, rows, n, log)
// Every buffer is a typed array or a device handle, all on one device.
// indexSelect / indexAdd (x|src, idx, out, outer, dim, nIdx, inner); gather / scatterAdd (same arguments,
// idx of outer*nIdx*inner entries). Adds accumulate into out.
#include "binding/args.h"
#include "binding/registry.h"
#include "cpu/reduce.h"

namespace tf::binding {
namespace {

template <class F>
decltype(auto) dispatch_numeric(DType d, const char* op, F&& f) {
  if (d == DType::I32) return f(int32_t{});
  return dispatch_float(d, op, f);
}

Napi::Value reduce(const Napi::CallbackInfo& info) {
  constexpr const char* kOp = "reduce";
  require_args(info, 10, kOp);
  const ReduceOp op = ReduceOp(get_int(info, 0, kOp, "op", 0, int64_t(ReduceOp::kCount) - 1));
  const Buffer x = get_buffer(info, 1, kOp, "x");
  const int64_t offset = get_int(info, 2, kOp, "offset");
  ReduceShape s{get_dims(info, 3, kOp, "keptShape"), get_dims(info, 4, kOp, "keptStrides"),
                     get_dims(info, 5, kOp, "reducedShape"), get_dims(info, 6, kOp, "reducedStrides")};
  Dims all = s.kept_shape, all_strides = s.kept_strides;
  all.insert(all.end(), s.reduced_shape.begin(), s.reduced_shape.end());
  all_strides.insert(all_strides.end(), s.reduced_strides.begin(), s.reduced_strides.end());
  TF_CHECK(all.size() <= 16, Range, kOp, ": at most 16 dims, got ", all.size());
  TF_CHECK(s.kept_shape.size() == s.kept_strides.size() && s.reduced_shape.size() == s.reduced_strides.size(), Range,
           kOp, ": shape and strides lengths differ");
  require_length(x, strided_extent(all, all_strides, offset, kOp, "x"), kOp, "x");
  const int64_t outer = checked_numel(s.kept_shape, kOp, "keptShape");
  const int64_t count = checked_numel(s.reduced_shape, kOp, "reducedShape");
  const bool picks = op == ReduceOp::MAX || op == ReduceOp::MIN || op == ReduceOp::ARGMAX || op == ReduceOp::ARGMIN;
  TF_CHECK(!picks || count > 0 || outer == 0, Range, kOp, ": cannot take max/min/argmax/argmin over an empty dim");
  const bool arg = op == ReduceOp::ARGMAX || op == ReduceOp::ARGMIN;
  Buffer out, index;
  if (!arg) {
    out = get_buffer(info, 7, kOp, "out");
    require_same_dtype(out, x, kOp, "out", "x");
    require_length(out, outer, kOp, "out");
  }
  if (arg || !info[8].IsNull()) {
    index = get_buffer(info, 8, kOp, "index", DType::I32);
    require_length(index, outer, kOp, "index");
  }
  const double param = get_number(info, 9, kOp, "param");
  const Device dev = require_one_device(kOp, {{x, "x"}, {out, "out"}, {index, "index"}});
  dispatch_numeric(x.dtype, kOp, [&](auto zero) {
    using T = decltype(zero);
    TF_ON_DEVICE(dev, reduce<T>(op, s, x.as<T>() + offset, out.as<T>(), index.as<int32_t>(), param));
    return 0;
  });
  return info.Env().Undefined();
}

Napi::Value softmax_impl(const Napi::CallbackInfo& info, bool backward) {
  const char* op = backward ? "softmaxBackward" : "softmax";
  const size_t nbuf = backward ? 3 : 2;
  require_args(info, nbuf + 3, op);
  const char* names[] = {backward ? "grad" : "x", backward ? "y" : "out", "gradInput"};
  Buffer bufs[3];
  const int64_t rows = get_int(info, nbuf, op, "rows"), n = get_int(info, nbuf + 1, op, "n");
  const int64_t total = checked_mul(rows, n, op, "rows*n");
  for (size_t i = 0; i < nbuf; ++i) {
    bufs[i] = get_buffer(info, i, op, names[i]);
    require_float(bufs[i], op, names[i]);
    require_same_dtype(bufs[i], bufs[0], op, names[i], names[0]);
    require_length(bufs[i], total, op, names[i]);
  }
  const bool log = get_bool(info, nbuf + 2, op, "log");
  const Device dev = require_one_device(op, {{bufs[0], names[0]}, {bufs[1], names[1]}, {bufs[2], names[2]}});
  dispatch_float(bufs[0].dtype, op, [&](auto zero) {
    using T = decltype(zero);
    if (backward)
      TF_ON_DEVICE(dev, softmax_backward<T>(bufs[0].as<T>(), bufs[1].as<T>(), bufs[2].as<T>(), rows, n, log));
    else
      TF_ON_DEVICE(dev, softmax<T>(bufs[0].as<T>(), bufs[1].as<T>(), rows, n, log));
    return 0;
  });
  return info.Env().Undefined();
}

Napi::Value softmax(const Napi::CallbackInfo& info) { return softmax_impl(info, false); }
Napi::Value softmax_backward(const Napi::CallbackInfo& info) { return softmax_impl(info, true); }

// The index ops' kernels trust their indices, so every index is range-checked first: on the host for a cpu
// buffer, by a device kernel for a cuda one (the host cannot read device memory; the check waits for its
// answer, one round trip per index op).
IndexOutOfRange find_index_out_of_range(Device dev, const int32_t* idx, int64_t n, int64_t dim) {
#if defined(TF_WITH_CUDA)
  if (dev == Device::Cuda) return cuda::find_index_out_of_range(idx, n, dim);
#endif
  for (int64_t k = 0; k < n; ++k)
    if (idx[k] < 0 || idx[k] >= dim) return {k, idx[k]};
  return {-1, 0};
}

enum class IndexKind { Select, Add, Gather, ScatterAdd };

template <IndexKind kind>
Napi::Value index_op(const Napi::CallbackInfo& info) {
  constexpr const char* op = kind == IndexKind::Select ? "indexSelect"
                             : kind == IndexKind::Add  ? "indexAdd"
                             : kind == IndexKind::Gather ? "gather"
                                                         : "scatterAdd";
  require_args(info, 7, op);
  const Buffer src = get_buffer(info, 0, op, "src");
  const Buffer idx = get_buffer(info, 1, op, "index", DType::I32);
  const Buffer out = get_buffer(info, 2, op, "out");
  require_same_dtype(src, out, op, "src", "out");
  const int64_t outer = get_int(info, 3, op, "outer"), dim = get_int(info, 4, op, "dim"),
                n_idx = get_int(info, 5, op, "nIdx"), inner = get_int(info, 6, op, "inner");
  const bool per_element = kind == IndexKind::Gather || kind == IndexKind::ScatterAdd;
  const bool reads_dim = kind == IndexKind::Select || kind == IndexKind::Gather;
  const int64_t full = checked_numel({outer, dim, inner}, op, "dims");
  const int64_t picked = checked_numel({outer, n_idx, inner}, op, "dims");
  require_length(src, reads_dim ? full : picked, op, "src");
  require_length(out, reads_dim ? picked : full, op, "out");
  const int64_t n_index = per_element ? picked : n_idx;
  require_length(idx, n_index, op, "index");
  const Device dev = require_one_device(op, {{src, "src"}, {idx, "index"}, {out, "out"}});
  const int32_t* ip = idx.as<int32_t>();
  const IndexOutOfRange bad = find_index_out_of_range(dev, ip, n_index, dim);
  TF_CHECK(bad.position < 0, Range, op, ": index ", bad.value, " at position ", bad.position,
           " is out of range for a dim of size ", dim);
  dispatch_numeric(src.dtype, op, [&](auto zero) {
    using T = decltype(zero);
    const T* s = src.as<T>();
    T* o = out.as<T>();
    if constexpr (kind == IndexKind::Select) TF_ON_DEVICE(dev, index_select<T>(s, ip, o, outer, dim, n_idx, inner));
    else if constexpr (kind == IndexKind::Add) TF_ON_DEVICE(dev, index_add<T>(s, ip, o, outer, dim, n_idx, inner));
    else if constexpr (kind == IndexKind::Gather) TF_ON_DEVICE(dev, gather<T>(s, ip, o, outer, dim, n_idx, inner));
    else TF_ON_DEVICE(dev, scatter_add<T>(s, ip, o, outer, dim, n_idx, inner));
    return 0;
  });
  return info.Env().Undefined();
}

}  // namespace

void register_reduce(Napi::Env env, Napi::Object exports) {
  export_fn(env, exports, "reduce", reduce);
  export_fn(env, exports, "softmax", softmax);
  export_fn(env, exports, "softmaxBackward", softmax_backward);
  export_fn(env, exports, "indexSelect", index_op<IndexKind::Select>);
  export_fn(env, exports, "indexAdd", index_op<IndexKind::Add>);
  export_fn(env, exports, "gather", index_op<IndexKind::Gather>);
  export_fn(env, exports, "scatterAdd", index_op<IndexKind::ScatterAdd>);
}

}  // namespace tf::binding

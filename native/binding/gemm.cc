// gemm(batch, transA, transB, M, N, K, alpha, A, offA, lda, strideA, B, offB, ldb, strideB, beta, C, offC, ldc, strideC,
//      allowTf32?, bias?)
// Row-major, batched at fixed element strides (0 broadcasts an operand). float32 or float64 by buffer type; every
// buffer a typed array or a device handle, all on one device. allowTf32: float32 products on cuda may use TF32
// tensor cores (setFloat32MatmulPrecision('high')); ignored on cpu and for float64; absent means false. bias: N
// elements added to every row of C (a linear layer's epilogue); absent or null for none.
#include "binding/args.h"
#include "binding/registry.h"
#include "core/gemm.h"

namespace tf::binding {
namespace {

constexpr const char* kOp = "gemm";

struct Operand {
  Buffer buf;
  int64_t offset, ld, stride;
};

// Reads one operand and proves every element the batched GEMM touches lies inside its buffer.
Operand read_operand(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t batch, int64_t rows,
                     int64_t cols) {
  Operand o{get_buffer(info, i, kOp, name), get_int(info, i + 1, kOp, "offset"), get_int(info, i + 2, kOp, "ld"),
            get_int(info, i + 3, kOp, "stride")};
  require_float(o.buf, kOp, name);
  TF_CHECK(o.ld >= std::max<int64_t>(1, cols), Range, kOp, ": leading dimension of ", name, " must be >= ",
           std::max<int64_t>(1, cols), ", got ", o.ld);
  const int64_t extent = strided_extent({batch, rows, cols}, {o.stride, o.ld, 1}, o.offset, kOp, name);
  require_length(o.buf, extent, kOp, name);
  return o;
}

Napi::Value gemm(const Napi::CallbackInfo& info) {
  require_args(info, 20, kOp);
  const int64_t batch = get_int(info, 0, kOp, "batch");
  const bool ta = get_bool(info, 1, kOp, "transA"), tb = get_bool(info, 2, kOp, "transB");
  const int64_t M = get_int(info, 3, kOp, "M", 0, INT32_MAX), N = get_int(info, 4, kOp, "N", 0, INT32_MAX),
                K = get_int(info, 5, kOp, "K", 0, INT32_MAX);
  const double alpha = get_number(info, 6, kOp, "alpha");
  const Operand A = read_operand(info, 7, "A", batch, ta ? K : M, ta ? M : K);
  const Operand B = read_operand(info, 11, "B", batch, tb ? N : K, tb ? K : N);
  const double beta = get_number(info, 15, kOp, "beta");
  const Operand C = read_operand(info, 16, "C", batch, M, N);
  require_same_dtype(A.buf, B.buf, kOp, "A", "B");
  require_same_dtype(A.buf, C.buf, kOp, "A", "C");
  const MatmulPrecision precision =
      !is_absent(info, 20) && get_bool(info, 20, kOp, "allowTf32") ? MatmulPrecision::kHigh : MatmulPrecision::kHighest;
  const Buffer bias = get_like(info, 21, kOp, "bias", A.buf, "A", N, true);
  const bool has_bias = !is_absent(info, 21);
  const Device dev = require_one_device(kOp, {{A.buf, "A"}, {B.buf, "B"}, {C.buf, "C"}, {bias, "bias"}});
  // The epilogue reads bias while it writes C.
  if (has_bias) require_disjoint(kOp, C.buf, C.buf.length, "C", bias, bias.length, "bias");
  TF_CHECK(batch <= 1 || C.stride >= M * C.ld || M == 0 || N == 0, Range, kOp,
           ": C batches would overlap (strideC ", C.stride, " < M*ldc ", M * C.ld, ")");
  dispatch_float(A.buf.dtype, kOp, [&](auto zero) {
    using T = decltype(zero);
    TF_ON_DEVICE(dev, gemm_batched<T>(batch, ta, tb, M, N, K, T(alpha), A.buf.as<T>() + A.offset, A.ld, A.stride,
                                      B.buf.as<T>() + B.offset, B.ld, B.stride, T(beta), C.buf.as<T>() + C.offset,
                                      C.ld, C.stride, precision, has_bias ? bias.as<T>() : nullptr));
    return 0;
  });
  return info.Env().Undefined();
}

}  // namespace

void register_gemm(Napi::Env env, Napi::Object exports) { export_fn(env, exports, "gemm", gemm); }

}  // namespace tf::binding

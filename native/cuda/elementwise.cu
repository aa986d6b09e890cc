// CUDA elementwise kernels: unary/binary/compare maps, where, copy with dtype conversion, random fills.
// The CUDA side of cpu/elementwise.h, with the same signatures and semantics; the math is cpu/functors.h's.
//
// Legend: n elements of a layout's shape, i an element's row-major position in it, k an operand (0 = out,
// then the inputs in argument order), off[k] operand k's element offset at i, c a Philox counter.
#include "cuda/kernel.h"

#include <cmath>
#include <type_traits>

#include "core/error.h"
#include "core/philox.h"
#include "core/strided.h"
#include "cpu/elementwise.h"  // RandomKind (until core/elementwise.h declares it for both devices)
#include "cpu/functors.h"

namespace tf::cuda {

using cpu::RandomKind;

namespace {

constexpr int kThreads = 256;

// ---------------------------------------------------------------------------------------------------------
// Kernels

// body(off) for every position i of a strided layout, in a grid-stride loop.
template <int N, class Body>
__global__ void strided_map_kernel(FlatStrides<N> layout, int64_t n, Body body) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t off[N];
    layout.offsets(i, off);
    body(off);
  }
}

// The same over operands that are all contiguous: every offset is i, with no index arithmetic.
template <int N, class Body>
__global__ void contiguous_map_kernel(int64_t n, Body body) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t off[N];
    for (int k = 0; k < N; ++k) off[k] = i;
    body(off);
  }
}

// The bodies: one element of each map, through the shared functors.
template <UnaryOp op, class T>
struct UnaryBody {
  T* out;
  const T* x;
  T a, b;
  __device__ void operator()(const int64_t (&off)[2]) const { out[off[0]] = fn::unary<op, T>(x[off[1]], a, b); }
};

template <BinaryOp op, class T>
struct BinaryBody {
  T* out;
  const T* x;
  const T* y;
  T alpha, beta;
  __device__ void operator()(const int64_t (&off)[3]) const {
    out[off[0]] = fn::binary<op, T>(x[off[1]], y[off[2]], alpha, beta);
  }
};

template <CompareOp op, class T>
struct CompareBody {
  uint8_t* out;
  const T* x;
  const T* y;
  __device__ void operator()(const int64_t (&off)[3]) const { out[off[0]] = fn::compare<op, T>(x[off[1]], y[off[2]]); }
};

template <class T>
struct WhereBody {
  T* out;
  const uint8_t* cond;
  const T* x;
  const T* y;
  __device__ void operator()(const int64_t (&off)[4]) const { out[off[0]] = cond[off[1]] ? x[off[2]] : y[off[3]]; }
};

template <class To, class From>
struct CopyBody {
  To* out;
  const From* x;
  __device__ void operator()(const int64_t (&off)[2]) const { out[off[0]] = To(x[off[1]]); }
};

// a + b * c with the product rounded first: nvcc would contract it to a fused multiply-add, and the CPU build
// does not (x86-64 without FMA), so this keeps the values bit for bit.
__device__ inline double add_product(double a, double b, double c) {
#if defined(__CUDA_ARCH__)
  return __dadd_rn(a, __dmul_rn(b, c));
#else
  return a + b * c;
#endif
}

// Elements 2c and 2c + 1 of the stream from Philox counter offset + c: the arithmetic of cpu::random_fill,
// element for element (the uniforms, Uniform, Bernoulli and Integer are bit-identical; Normal goes through
// the device's log1p/cos/sin, which may differ from glibc's in the last bit of the double before rounding
// to T).
template <class T>
__global__ void random_fill_kernel(RandomKind kind, T* out, int64_t n, Philox gen, uint64_t offset, double a,
                                   double b) {
  using std::cos, std::floor, std::log1p, std::nextafter, std::sin, std::sqrt;
  const int64_t counters = (n + 1) / 2;
  for (int64_t c = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; c < counters;
       c += int64_t(gridDim.x) * blockDim.x) {
    uint32_t w[4];
    gen.generate(offset + uint64_t(c), w);
    const double u[2] = {(double(w[0] >> 5) * 67108864.0 + double(w[1] >> 6)) * (1.0 / 9007199254740992.0),
                         (double(w[2] >> 5) * 67108864.0 + double(w[3] >> 6)) * (1.0 / 9007199254740992.0)};
    double v[2];
    switch (kind) {
      case RandomKind::Uniform:
        for (int k = 0; k < 2; ++k) v[k] = add_product(a, b - a, u[k]);
        break;
      case RandomKind::Normal: {  // Box-Muller, as the CPU
        const double r = sqrt(-2.0 * log1p(-u[0])), t = 6.283185307179586 * u[1];
        v[0] = add_product(a, b * r, cos(t));
        v[1] = add_product(a, b * r, sin(t));
        break;
      }
      case RandomKind::Bernoulli:
        for (int k = 0; k < 2; ++k) v[k] = u[k] < a ? 1 : 0;
        break;
      default:
        for (int k = 0; k < 2; ++k) v[k] = floor(add_product(a, b - a, u[k]));
        break;
    }
    for (int k = 0; k < 2 && 2 * c + k < n; ++k) {
      T value = T(v[k]);
      if constexpr (std::is_floating_point_v<T>)  // rounding to float must not reach b
        if (kind == RandomKind::Uniform && b > a && value >= T(b)) value = nextafter(T(b), T(a));
      out[2 * c + k] = value;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Launchers

template <int N>
bool all_contiguous(const StridedLayout<N>& layout) {
  if (layout.ndim != 1) return false;
  for (int k = 0; k < N; ++k)
    if (layout.strides[k][0] != 1) return false;
  return true;
}

template <int N, class Body>
void map(const char* name, const StridedLayout<N>& layout, const Body& body) {
  const int64_t n = layout.numel;
  if (n == 0) return;
  if (all_contiguous(layout))
    launch(name, contiguous_map_kernel<N, Body>, grid_for(n, kThreads), dim3(kThreads), 0, n, body);
  else
    launch(name, strided_map_kernel<N, Body>, grid_for(n, kThreads), dim3(kThreads), 0, FlatStrides<N>(layout), n,
           body);
}

}  // namespace

template <class T>
void unary(UnaryOp op, const StridedLayout<2>& layout, T* out, const T* x, T a, T b) {
  switch (op) {
#define TF_CASE(name, js)                                                                    \
  case UnaryOp::name:                                                                        \
    if constexpr (std::is_floating_point_v<T> || fn::unary_int_ok(UnaryOp::name))           \
      return map("unary " js, layout, UnaryBody<UnaryOp::name, T>{out, x, a, b});            \
    break;
    TF_UNARY_OPS(TF_CASE)
#undef TF_CASE
    default: break;
  }
  fail(ErrorKind::Type, "unary: op ", int(op), " is not defined for this dtype");
}

template <class T>
void binary(BinaryOp op, const StridedLayout<3>& layout, T* out, const T* x, const T* y, T alpha, T beta) {
  switch (op) {
#define TF_CASE(name, js)                                                                    \
  case BinaryOp::name:                                                                       \
    if constexpr (std::is_floating_point_v<T> || fn::binary_int_ok(BinaryOp::name))         \
      return map("binary " js, layout, BinaryBody<BinaryOp::name, T>{out, x, y, alpha, beta}); \
    break;
    TF_BINARY_OPS(TF_CASE)
#undef TF_CASE
    default: break;
  }
  fail(ErrorKind::Type, "binary: op ", int(op), " is not defined for this dtype");
}

template <class T>
void compare(CompareOp op, const StridedLayout<3>& layout, uint8_t* out, const T* x, const T* y) {
  switch (op) {
#define TF_CASE(name, js) \
  case CompareOp::name: return map("compare " js, layout, CompareBody<CompareOp::name, T>{out, x, y});
    TF_COMPARE_OPS(TF_CASE)
#undef TF_CASE
    default: fail(ErrorKind::Range, "compare: unknown op ", int(op));
  }
}

template <class T>
void where(const StridedLayout<4>& layout, T* out, const uint8_t* cond, const T* x, const T* y) {
  map("where", layout, WhereBody<T>{out, cond, x, y});
}

template <class To, class From>
void copy(const StridedLayout<2>& layout, To* out, const From* x) {
  map("copy", layout, CopyBody<To, From>{out, x});
}

template <class T>
void random_fill(RandomKind kind, T* out, int64_t n, uint64_t seed, uint64_t offset, double a, double b) {
  if (n == 0) return;
  const int64_t counters = (n + 1) / 2;
  launch("random_fill", random_fill_kernel<T>, grid_for(counters, kThreads), dim3(kThreads), 0, kind, out, n,
         Philox(seed), offset, a, b);
}

#define TF_INSTANTIATE(T)                                                                                        \
  template void unary<T>(UnaryOp, const StridedLayout<2>&, T*, const T*, T, T);                                 \
  template void binary<T>(BinaryOp, const StridedLayout<3>&, T*, const T*, const T*, T, T);                     \
  template void compare<T>(CompareOp, const StridedLayout<3>&, uint8_t*, const T*, const T*);                   \
  template void where<T>(const StridedLayout<4>&, T*, const uint8_t*, const T*, const T*);                      \
  template void random_fill<T>(RandomKind, T*, int64_t, uint64_t, uint64_t, double, double);
TF_INSTANTIATE(float)
TF_INSTANTIATE(double)
TF_INSTANTIATE(int32_t)
TF_INSTANTIATE(uint8_t)
#undef TF_INSTANTIATE

#define TF_COPY_FROM(To)                                                       \
  template void copy<To, float>(const StridedLayout<2>&, To*, const float*);     \
  template void copy<To, double>(const StridedLayout<2>&, To*, const double*);   \
  template void copy<To, int32_t>(const StridedLayout<2>&, To*, const int32_t*); \
  template void copy<To, uint8_t>(const StridedLayout<2>&, To*, const uint8_t*);
TF_COPY_FROM(float)
TF_COPY_FROM(double)
TF_COPY_FROM(int32_t)
TF_COPY_FROM(uint8_t)
#undef TF_COPY_FROM

}  // namespace tf::cuda

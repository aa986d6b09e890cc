// CUDA elementwise kernels: unary/binary/compare maps, where, copy with dtype conversion. The CUDA side of
// cpu/elementwise.h, with the same signatures and semantics; the math is cpu/functors.h's. (random_fill is in
// cuda/random.cu.)
//
// Legend: n elements of a layout's shape, i an element's row-major position in it, k an operand (0 = out,
// then the inputs in argument order), off[k] operand k's element offset at i.
#include "cuda/kernel.h"

#include <type_traits>

#include "core/error.h"
#include "core/strided.h"
#include "core/elementwise.h"
#include "cpu/functors.h"

namespace tf::cuda {

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

// The kernel is named after the op ("unary neg", "compare lt", ...), so an error at synchronization names it.
template <class T>
void unary(UnaryOp op, const StridedLayout<2>& layout, T* out, const T* x, T a, T b) {
  fn::with_unary_op<T>(op, [&](auto o, const char* name) {
    map(name, layout, UnaryBody<decltype(o)::value, T>{out, x, a, b});
  });
}

template <class T>
void binary(BinaryOp op, const StridedLayout<3>& layout, T* out, const T* x, const T* y, T alpha, T beta) {
  fn::with_binary_op<T>(op, [&](auto o, const char* name) {
    map(name, layout, BinaryBody<decltype(o)::value, T>{out, x, y, alpha, beta});
  });
}

template <class T>
void compare(CompareOp op, const StridedLayout<3>& layout, uint8_t* out, const T* x, const T* y) {
  fn::with_compare_op(op, [&](auto o, const char* name) {
    map(name, layout, CompareBody<decltype(o)::value, T>{out, x, y});
  });
}

template <class T>
void where(const StridedLayout<4>& layout, T* out, const uint8_t* cond, const T* x, const T* y) {
  map("where", layout, WhereBody<T>{out, cond, x, y});
}

template <class To, class From>
void copy(const StridedLayout<2>& layout, To* out, const From* x) {
  map("copy", layout, CopyBody<To, From>{out, x});
}

TF_INSTANTIATE_ELEMENTWISE_MAPS

}  // namespace tf::cuda

#include "cpu/elementwise.h"

#include "core/error.h"
#include "cpu/functors.h"

namespace tf::cpu {
namespace {

// Runs body(row_offsets, innermost_strides, n) over every row; the bodies keep a unit-stride branch
// so the compiler vectorizes the common contiguous case.
template <int N, class F>
void map_rows(const StridedLayout<N>& layout, F&& body) {
  std::array<int64_t, N> st;
  for (int k = 0; k < N; ++k) st[k] = layout.strides[k][layout.ndim - 1];
  for_each_row(layout, [&](const std::array<int64_t, N>& off, int64_t n) { body(off, st, n); });
}

template <UnaryOp op, class T>
void unary_impl(const StridedLayout<2>& layout, T* out, const T* x, T a, T b) {
  map_rows(layout, [&](const std::array<int64_t, 2>& off, const std::array<int64_t, 2>& st, int64_t n) {
    T* o = out + off[0];
    const T* p = x + off[1];
    if (st[0] == 1 && st[1] == 1) {
      for (int64_t i = 0; i < n; ++i) o[i] = fn::unary<op, T>(p[i], a, b);
    } else {
      for (int64_t i = 0; i < n; ++i) o[i * st[0]] = fn::unary<op, T>(p[i * st[1]], a, b);
    }
  });
}

template <BinaryOp op, class T>
void binary_impl(const StridedLayout<3>& layout, T* out, const T* x, const T* y, T alpha, T beta) {
  map_rows(layout, [&](const std::array<int64_t, 3>& off, const std::array<int64_t, 3>& st, int64_t n) {
    T* o = out + off[0];
    const T* p = x + off[1];
    const T* q = y + off[2];
    if (st[0] == 1 && st[1] == 1 && st[2] == 1) {
      for (int64_t i = 0; i < n; ++i) o[i] = fn::binary<op, T>(p[i], q[i], alpha, beta);
    } else {
      for (int64_t i = 0; i < n; ++i) o[i * st[0]] = fn::binary<op, T>(p[i * st[1]], q[i * st[2]], alpha, beta);
    }
  });
}

template <CompareOp op, class T>
void compare_impl(const StridedLayout<3>& layout, uint8_t* out, const T* x, const T* y) {
  map_rows(layout, [&](const std::array<int64_t, 3>& off, const std::array<int64_t, 3>& st, int64_t n) {
    for (int64_t i = 0; i < n; ++i)
      out[off[0] + i * st[0]] = fn::compare<op, T>(x[off[1] + i * st[1]], y[off[2] + i * st[2]]);
  });
}

}  // namespace

template <class T>
void unary(UnaryOp op, const StridedLayout<2>& layout, T* out, const T* x, T a, T b) {
  switch (op) {
#define TF_CASE(name, js)                                                              \
  case UnaryOp::name:                                                                  \
    if constexpr (std::is_floating_point_v<T> || fn::unary_int_ok(UnaryOp::name))     \
      return unary_impl<UnaryOp::name, T>(layout, out, x, a, b);                       \
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
#define TF_CASE(name, js)                                                              \
  case BinaryOp::name:                                                                 \
    if constexpr (std::is_floating_point_v<T> || fn::binary_int_ok(BinaryOp::name))    \
      return binary_impl<BinaryOp::name, T>(layout, out, x, y, alpha, beta);           \
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
  case CompareOp::name: return compare_impl<CompareOp::name, T>(layout, out, x, y);
    TF_COMPARE_OPS(TF_CASE)
#undef TF_CASE
    default: fail(ErrorKind::Range, "compare: unknown op ", int(op));
  }
}

template <class T>
void where(const StridedLayout<4>& layout, T* out, const uint8_t* cond, const T* x, const T* y) {
  map_rows(layout, [&](const std::array<int64_t, 4>& off, const std::array<int64_t, 4>& st, int64_t n) {
    for (int64_t i = 0; i < n; ++i)
      out[off[0] + i * st[0]] = cond[off[1] + i * st[1]] ? x[off[2] + i * st[2]] : y[off[3] + i * st[3]];
  });
}

template <class To, class From>
void copy(const StridedLayout<2>& layout, To* out, const From* x) {
  map_rows(layout, [&](const std::array<int64_t, 2>& off, const std::array<int64_t, 2>& st, int64_t n) {
    To* o = out + off[0];
    const From* p = x + off[1];
    if (st[0] == 1 && st[1] == 1) {
      for (int64_t i = 0; i < n; ++i) o[i] = To(p[i]);
    } else if (st[0] == 1 && st[1] == 2) {
      // every other element (a stride-2 slice, as ResNet's subsampling shortcut): a constant stride vectorizes
      for (int64_t i = 0; i < n; ++i) o[i] = To(p[2 * i]);
    } else {
      for (int64_t i = 0; i < n; ++i) o[i * st[0]] = To(p[i * st[1]]);
    }
  });
}

TF_INSTANTIATE_ELEMENTWISE_MAPS

}  // namespace tf::cpu

#include <cmath>

#include "core/philox.h"
#include "core/random_fill.h"

namespace tf::cpu {

template <class T>
void random_fill(RandomKind kind, T* out, int64_t n, uint64_t seed, uint64_t offset, double a, double b) {
  const Philox gen(seed);
  parallel_for((n + 1) / 2, 4096, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) random_pair(gen, kind, offset, c, n, a, b, out);
  });
}

TF_INSTANTIATE_RANDOM_FILL

}  // namespace tf::cpu

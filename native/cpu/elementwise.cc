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
  fn::with_unary_op<T>(op, [&](auto o, const char*) { unary_impl<decltype(o)::value, T>(layout, out, x, a, b); });
}

template <class T>
void binary(BinaryOp op, const StridedLayout<3>& layout, T* out, const T* x, const T* y, T alpha, T beta) {
  fn::with_binary_op<T>(op, [&](auto o, const char*) { binary_impl<decltype(o)::value, T>(layout, out, x, y, alpha, beta); });
}

template <class T>
void compare(CompareOp op, const StridedLayout<3>& layout, uint8_t* out, const T* x, const T* y) {
  fn::with_compare_op(op, [&](auto o, const char*) { compare_impl<decltype(o)::value, T>(layout, out, x, y); });
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

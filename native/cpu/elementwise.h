// Strided elementwise kernels: unary/binary/compare maps, where, and copy with dtype conversion.
// Inputs are strided views (stride 0 broadcasts); outputs of maps are written through their own strides.
#pragma once
#include <cstdint>

#include "core/strided.h"
#include "include/ops.h"

namespace tf::cpu {

// Operand order in layouts: out first, then inputs.
template <class T>
void unary(UnaryOp op, const StridedLayout<2>& layout, T* out, const T* x, T a, T b);
template <class T>
void binary(BinaryOp op, const StridedLayout<3>& layout, T* out, const T* x, const T* y, T alpha, T beta);
template <class T>
void compare(CompareOp op, const StridedLayout<3>& layout, uint8_t* out, const T* x, const T* y);
template <class T>
void where(const StridedLayout<4>& layout, T* out, const uint8_t* cond, const T* x, const T* y);
template <class To, class From>
void copy(const StridedLayout<2>& layout, To* out, const From* x);

// Calls f(row_offsets, inner_length) for every row of the layout, on the thread pool when large.
template <int N, class F>
void for_each_row(const StridedLayout<N>& layout, F&& f);

}  // namespace tf::cpu

#include "core/thread_pool.h"

namespace tf::cpu {

template <int N, class F>
void for_each_row(const StridedLayout<N>& layout, F&& f) {
  // Rows longer than a task are cut into pieces, so a contiguous tensor (one merged row) still spreads
  // over the pool.
  const int64_t inner = layout.inner();
  const int64_t piece = std::min(inner, 2 * kTaskWork), pieces = piece == 0 ? 0 : (inner + piece - 1) / piece;
  parallel_for(layout.rows() * pieces, grain_for(piece), [&](int64_t t0, int64_t t1) {
    auto cursor = layout.row_cursor(t0 / pieces);
    for (int64_t t = t0, p = t0 % pieces; t < t1; ++t) {
      const int64_t begin = p * piece;
      std::array<int64_t, N> off = cursor.off;
      for (int k = 0; k < N; ++k) off[k] += begin * layout.strides[k][layout.ndim - 1];
      f(off, std::min(piece, inner - begin));
      if (++p == pieces) {
        p = 0;
        layout.next_row(cursor);
      }
    }
  });
}

}  // namespace tf::cpu

namespace tf::cpu {

enum class RandomKind { Uniform = 0, Normal = 1, Bernoulli = 2, Integer = 3 };

// Fills out[0..n) from Philox(seed) starting at counter `offset`: each counter yields two elements, so
// n elements consume ceil(n / 2) counters.
// Uniform in [a, b); Normal with mean a, std b; Bernoulli with probability a; Integer in [a, b).
template <class T>
void random_fill(RandomKind kind, T* out, int64_t n, uint64_t seed, uint64_t offset, double a, double b);

}  // namespace tf::cpu

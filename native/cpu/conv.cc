// conv2d as im2col + GEMM. A 1x1, stride-1, unpadded convolution is a plain GEMM on the input planes; 3x3
// stride-1 convolutions with enough channels go to Winograd F(2x2, 3x3) (cpu/conv_winograd.cc); on CPUs with
// AVX-512, the float passes of the other small-filter convolutions that fill a vector of 16 output channels or
// 16 output columns run as direct convolutions (cpu/conv_direct.cc).
#include "cpu/conv.h"

#include <algorithm>
#include <type_traits>

#include "core/thread_pool.h"
#include "cpu/conv_direct.h"
#include "cpu/conv_winograd.h"
#include "cpu/gemm.h"
#include "cpu/partial_sums.h"
#include "cpu/scratch.h"
#include "cpu/sums.h"

namespace tf::cpu {
namespace {

// Elements of im2col work worth handing to another thread.
constexpr int64_t kColumnGrain = int64_t(1) << 15;

// Output positions o in [lo, hi) whose input index o*stride + offset lies in [0, in).
struct Span {
  int64_t lo, hi;
};
Span valid_outputs(int64_t offset, int64_t stride, int64_t in, int64_t out) {
  const int64_t hi = offset >= in ? 0 : std::min(out, (in - 1 - offset) / stride + 1);
  const int64_t lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  return {std::min(lo, hi), hi};
}

// Calls fn(c, r, s, rows, cols, row_offset, col_offset) for every kernel tap of channels [c0, c1): rows/cols
// are the output rows/columns that read inside the input, at input row o*stride_h + row_offset and input
// column q*stride_w + col_offset.
template <class F>
void for_each_tap(const Conv2dParams& p, int64_t c0, int64_t c1, F&& fn) {
  for (int64_t c = c0; c < c1; ++c)
    for (int64_t r = 0; r < p.R; ++r) {
      const int64_t h_off = r * p.dil_h - p.pad_h;
      const Span rows = valid_outputs(h_off, p.stride_h, p.H, p.P);
      for (int64_t s = 0; s < p.S; ++s) {
        const int64_t w_off = s * p.dil_w - p.pad_w;
        fn(c, r, s, rows, valid_outputs(w_off, p.stride_w, p.W, p.Q), h_off, w_off);
      }
    }
}

// col[(c*R + r)*S + s][o*Q + q] = x[c][o*stride_h + r*dil_h - pad_h][q*stride_w + s*dil_w - pad_w], 0 outside.
template <class T>
void im2col(const Conv2dParams& p, const T* x, T* col, int64_t c0, int64_t c1) {
  const int64_t Q = p.Q, PQ = p.P * Q, HW = p.H * p.W, sw = p.stride_w;
  for_each_tap(p, c0, c1, [&](int64_t c, int64_t r, int64_t s, Span rows, Span cols, int64_t h_off, int64_t w_off) {
    T* dst = col + ((c * p.R + r) * p.S + s) * PQ;
    std::fill(dst, dst + rows.lo * Q, T(0));
    for (int64_t o = rows.lo; o < rows.hi; ++o) {
      const T* src = x + c * HW + (o * p.stride_h + h_off) * p.W;
      T* out = dst + o * Q;
      std::fill(out, out + cols.lo, T(0));
      // a constant stride of 2 vectorizes: ResNet-20's downsampling convolutions run 1.1-1.6x faster for it
      if (sw == 1) {
        std::copy(src + cols.lo + w_off, src + cols.hi + w_off, out + cols.lo);
      } else if (sw == 2) {
        for (int64_t q = cols.lo; q < cols.hi; ++q) out[q] = src[2 * q + w_off];
      } else {
        for (int64_t q = cols.lo; q < cols.hi; ++q) out[q] = src[q * sw + w_off];
      }
      std::fill(out + cols.hi, out + Q, T(0));
    }
    std::fill(dst + rows.hi * Q, dst + PQ, T(0));
  });
}

// The adjoint of im2col: dx[c] = sum of the column entries that read it. Overwrites channels [c0, c1).
template <class T>
void col2im(const Conv2dParams& p, const T* col, T* dx, int64_t c0, int64_t c1) {
  const int64_t Q = p.Q, PQ = p.P * Q, HW = p.H * p.W, sw = p.stride_w;
  std::fill(dx + c0 * HW, dx + c1 * HW, T(0));
  for_each_tap(p, c0, c1, [&](int64_t c, int64_t r, int64_t s, Span rows, Span cols, int64_t h_off, int64_t w_off) {
    const T* src = col + ((c * p.R + r) * p.S + s) * PQ;
    for (int64_t o = rows.lo; o < rows.hi; ++o) {
      T* dst = dx + c * HW + (o * p.stride_h + h_off) * p.W + w_off;
      const T* in = src + o * Q;
      if (sw == 2) {
        for (int64_t q = cols.lo; q < cols.hi; ++q) dst[2 * q] += in[q];
      } else {
        for (int64_t q = cols.lo; q < cols.hi; ++q) dst[q * sw] += in[q];
      }
    }
  });
}

// Channels [0, Cg) of one group, split over the pool when `parallel`.
template <class F>
void over_channels(const Conv2dParams& p, bool parallel, F&& fn) {
  const int64_t Cg = p.in_per_group();
  if (!parallel) return fn(int64_t(0), Cg);
  const int64_t per_channel = std::max<int64_t>(1, p.R * p.S * p.P * p.Q);
  parallel_for(Cg, std::max<int64_t>(1, kColumnGrain / per_channel), fn);
}

bool split_each_gemm(const Conv2dParams& p) { return p.N < num_threads(); }

// Whole samples run side by side on our pool whenever there are at least as many samples as threads, each
// sample's GEMMs on one thread: measured here, that scales better than threading each per-sample GEMM
// (ResNet-20's GEMMs ran no faster on 2 OpenBLAS threads than on 1 that way, and [64,64,32,32] 3x3 reached
// 1.6x instead of 2x). With fewer samples (inference on one image) the samples run in order and their inner
// steps (im2col, and GEMMs large enough to split: see gemm) spread over the pool.
// Calls fn(n, parallel_inner) for every sample.
template <class F>
void for_each_sample(const Conv2dParams& p, F&& fn) {
  if (split_each_gemm(p)) {
    for (int64_t n = 0; n < p.N; ++n) fn(n, true);
  } else {
    parallel_for(p.N, 1, [&](int64_t n0, int64_t n1) {
      for (int64_t n = n0; n < n1; ++n) fn(n, false);
    });
  }
}

// The GEMM operand holding group g's input columns of sample x ([Cg*R*S, P*Q]).
template <class T>
const T* input_columns(const Conv2dParams& p, const T* x_group, bool parallel) {
  if (p.pointwise()) return x_group;
  T* col = scratch<T, Scratch::kColumns>(p.reduction() * p.P * p.Q);
  over_channels(p, parallel, [&](int64_t c0, int64_t c1) { im2col(p, x_group, col, c0, c1); });
  return col;
}

// Whether the AVX-512 direct kernels serve p for element type T (float only).
template <class T>
bool direct_serves_type(const Conv2dParams& p) {
  if constexpr (std::is_same_v<T, float>) return direct_serves(p);
  return false;
}

}  // namespace

template <class T>
void conv2d_forward(const Conv2dParams& p, const T* x, const T* w, const T* bias, T* y) {
  if (winograd_serves(p)) return winograd_forward(p, x, w, bias, y);
  if (direct_serves_type<T>(p)) {
    if constexpr (std::is_same_v<T, float>) return direct_forward(p, x, w, bias, y);
  }
  const int64_t Cg = p.in_per_group(), Kg = p.out_per_group(), CRS = p.reduction(), PQ = p.P * p.Q,
                HW = p.H * p.W;
  for_each_sample(p, [&](int64_t n, bool parallel) {
    for (int64_t g = 0; g < p.groups; ++g) {
      const T* col = input_columns(p, x + (n * p.C + g * Cg) * HW, parallel);
      gemm<T>(false, false, Kg, PQ, CRS, T(1), w + g * Kg * CRS, CRS, col, PQ, T(0), y + (n * p.K + g * Kg) * PQ, PQ);
    }
    if (bias)
      for (int64_t k = 0; k < p.K; ++k) {
        T* plane = y + (n * p.K + k) * PQ;
        for (int64_t i = 0; i < PQ; ++i) plane[i] += bias[k];
      }
  });
}

template <class T>
void conv2d_backward_data(const Conv2dParams& p, const T* dy, const T* w, T* dx) {
  if (winograd_serves(p)) return winograd_backward_data(p, dy, w, dx);
  if constexpr (std::is_same_v<T, float>)
    if (direct_serves_backward_data(p)) return direct_backward_data(p, dy, w, dx);
  const int64_t Cg = p.in_per_group(), Kg = p.out_per_group(), CRS = p.reduction(), PQ = p.P * p.Q,
                HW = p.H * p.W;
  for_each_sample(p, [&](int64_t n, bool parallel) {
    T* col = p.pointwise() ? nullptr : scratch<T, Scratch::kColumns>(CRS * PQ);
    for (int64_t g = 0; g < p.groups; ++g) {
      T* dx_group = dx + (n * p.C + g * Cg) * HW;
      gemm<T>(true, false, CRS, PQ, Kg, T(1), w + g * Kg * CRS, CRS, dy + (n * p.K + g * Kg) * PQ, PQ, T(0),
              col ? col : dx_group, PQ);
      if (col) over_channels(p, parallel, [&](int64_t c0, int64_t c1) { col2im(p, col, dx_group, c0, c1); });
    }
  });
}

template <class T>
void conv2d_backward_weight(const Conv2dParams& p, const T* x, const T* dy, T* dw, T* dbias) {
  const int64_t Cg = p.in_per_group(), Kg = p.out_per_group(), CRS = p.reduction(), PQ = p.P * p.Q,
                HW = p.H * p.W, w_numel = p.w_numel();
  // dw of samples [n0, n1) into acc (overwritten).
  auto accumulate = [&](int64_t n0, int64_t n1, T* acc, bool parallel) {
    if (n0 == n1) std::fill(acc, acc + w_numel, T(0));
    for (int64_t n = n0; n < n1; ++n)
      for (int64_t g = 0; g < p.groups; ++g) {
        const T* col = input_columns(p, x + (n * p.C + g * Cg) * HW, parallel);
        gemm<T>(false, true, Kg, CRS, PQ, T(1), dy + (n * p.K + g * Kg) * PQ, PQ, col, PQ, n == n0 ? T(0) : T(1),
                acc + g * Kg * CRS, CRS);
      }
  };
  if (winograd_serves(p)) {
    winograd_backward_weight(p, x, dy, dw);
  } else if (direct_serves_type<T>(p)) {
    if constexpr (std::is_same_v<T, float>) direct_backward_weight(p, x, dy, dw);
  } else if (split_each_gemm(p)) {
    accumulate(0, p.N, dw, true);
  } else {
    sum_over_threads(p.N, w_numel, dw, [&](int64_t n0, int64_t n1, T* acc) { accumulate(n0, n1, acc, false); });
  }
  if (dbias)
    parallel_for(p.K, std::max<int64_t>(1, kColumnGrain / std::max<int64_t>(1, p.N * PQ)), [&](int64_t k0, int64_t k1) {
      for (int64_t k = k0; k < k1; ++k) {
        double acc = 0;
        for (int64_t n = 0; n < p.N; ++n) acc += sum_of(dy + (n * p.K + k) * PQ, PQ);
        dbias[k] = T(acc);
      }
    });
}

#define TF_INSTANTIATE(T)                                                                        \
  template void conv2d_forward<T>(const Conv2dParams&, const T*, const T*, const T*, T*);      \
  template void conv2d_backward_data<T>(const Conv2dParams&, const T*, const T*, T*);          \
  template void conv2d_backward_weight<T>(const Conv2dParams&, const T*, const T*, T*, T*);
TF_INSTANTIATE(float)
TF_INSTANTIATE(double)
#undef TF_INSTANTIATE

}  // namespace tf::cpu

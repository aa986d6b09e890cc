// CUDA 2-D pooling: the entry points of core/pool.h, with the CPU's results bit for bit (same taps, same
// comparisons, sums in the same order).
//
// Legend (core/pool.h): N batch, C channels, H W input size, P Q output size; a plane is one (n, c) slice.
// Forward: one thread an output element, in a grid-stride loop over N*C*P*Q (neighbouring threads take
// neighbouring outputs of a row, so the window loads of a warp overlap in cache).
// Backward: one thread an input element, gathering over the windows that cover it: no atomics, and the
// contributions are added in output order, as the CPU's scatter adds them, so the gradients are deterministic
// and equal to the CPU's.
#include "cuda/kernel.h"

#include <cmath>

#include "core/pool.h"

namespace tf::cuda {
namespace {

constexpr int kThreads = 256;
constexpr double kInfinity = HUGE_VAL;

// ---------------------------------------------------------------------------------------------------------
// Windows: how an output's taps are found along each axis, and which outputs read an input position.

// The sliding window of Pool2dParams.
struct KernelWindows {
  Pool2dParams p;
  __device__ PoolTaps rows(int64_t oh) const { return pool_row_taps(p, oh); }
  __device__ PoolTaps cols(int64_t ow) const { return pool_col_taps(p, ow); }
  // The outputs along one axis whose window may read position i: o*stride - pad + j*dil = i for some
  // j in [0, k), so o in [ceil((i + pad - (k-1)*dil) / stride), floor((i + pad) / stride)], clipped to [0, out).
  __device__ static void covering(int64_t i, int64_t k, int64_t stride, int64_t pad, int64_t dil, int64_t out,
                                  int64_t& lo, int64_t& hi) {
    const int64_t last = i + pad, first = last - (k - 1) * dil;
    lo = first <= 0 ? 0 : (first + stride - 1) / stride;
    hi = last / stride;
    if (hi > out - 1) hi = out - 1;
  }
  __device__ void covering_rows(int64_t h, int64_t& lo, int64_t& hi) const {
    covering(h, p.kernel_h, p.stride_h, p.pad_h, p.dil_h, p.P, lo, hi);
  }
  __device__ void covering_cols(int64_t w, int64_t& lo, int64_t& hi) const {
    covering(w, p.kernel_w, p.stride_w, p.pad_w, p.dil_w, p.Q, lo, hi);
  }
};

// The adaptive windows of PoolShape: window o covers [floor(o*In/Out), ceil((o+1)*In/Out)), so the windows
// covering i are o in [floor(i*Out/In), floor(((i+1)*Out - 1) / In)].
struct AdaptiveWindows {
  PoolShape s;
  __device__ PoolTaps rows(int64_t oh) const { return adaptive_taps(oh, s.H, s.P); }
  __device__ PoolTaps cols(int64_t ow) const { return adaptive_taps(ow, s.W, s.Q); }
  __device__ static void covering(int64_t i, int64_t in, int64_t out, int64_t& lo, int64_t& hi) {
    lo = i * out / in;
    hi = ((i + 1) * out - 1) / in;
  }
  __device__ void covering_rows(int64_t h, int64_t& lo, int64_t& hi) const { covering(h, s.H, s.P, lo, hi); }
  __device__ void covering_cols(int64_t w, int64_t& lo, int64_t& hi) const { covering(w, s.W, s.Q, lo, hi); }
};

// Whether the taps read position i.
__device__ bool reads(const PoolTaps& t, int64_t i) {
  const int64_t d = i - t.first;
  return d >= 0 && d % t.step == 0 && d / t.step < t.count;
}

// How a window's value is divided: avg_pool_divisor, or the window's size (adaptive).
struct KernelDivisor {
  Pool2dParams p;
  bool count_include_pad;
  __device__ int64_t operator()(int64_t oh, int64_t ow, const PoolTaps& rows, const PoolTaps& cols) const {
    return avg_pool_divisor(p, count_include_pad, oh, ow, rows, cols);
  }
};
struct WindowSize {
  __device__ int64_t operator()(int64_t, int64_t, const PoolTaps& rows, const PoolTaps& cols) const {
    return rows.count * cols.count;
  }
};

// ---------------------------------------------------------------------------------------------------------
// Kernels

// The CPU's window scan: !(v <= best) is "greater, or NaN"; the first NaN ends the scan.
template <class T, class Windows>
__global__ void max_forward_kernel(Windows win, PoolShape s, const T* x, T* y, int32_t* idx) {
  const int64_t total = s.y_numel();
  for (int64_t o = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; o < total; o += int64_t(gridDim.x) * blockDim.x) {
    const int64_t ow = o % s.Q, oh = (o / s.Q) % s.P, plane = o / (s.P * s.Q);
    const PoolTaps rows = win.rows(oh), cols = win.cols(ow);
    const T* in = x + plane * s.H * s.W;
    T best = T(-kInfinity);
    int64_t best_at = rows.count && cols.count ? rows.first * s.W + cols.first : -1;
    bool nan = false;
    for (int64_t i = 0; i < rows.count && !nan; ++i) {
      const int64_t row = (rows.first + i * rows.step) * s.W;
      for (int64_t j = 0; j < cols.count; ++j) {
        const int64_t at = row + cols.first + j * cols.step;
        const T v = in[at];
        if (!(v <= best)) {
          best = v;
          best_at = at;
          if (v != v) {
            nan = true;
            break;
          }
        }
      }
    }
    y[o] = best;
    idx[o] = int32_t(best_at);
  }
}

template <class T, class Windows, class Divisor>
__global__ void avg_forward_kernel(Windows win, Divisor divisor, PoolShape s, const T* x, T* y) {
  const int64_t total = s.y_numel();
  for (int64_t o = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; o < total; o += int64_t(gridDim.x) * blockDim.x) {
    const int64_t ow = o % s.Q, oh = (o / s.Q) % s.P, plane = o / (s.P * s.Q);
    const PoolTaps rows = win.rows(oh), cols = win.cols(ow);
    const T* in = x + plane * s.H * s.W;
    const T scale = T(1) / T(divisor(oh, ow, rows, cols));
    T sum = 0;
    for (int64_t i = 0; i < rows.count; ++i)
      for (int64_t j = 0; j < cols.count; ++j) sum += in[(rows.first + i * rows.step) * s.W + cols.first + j * cols.step];
    y[o] = sum * scale;
  }
}

// dx at each input position: the sum, in output order, of dy over the covering windows that `contributes`
// says take it: the window's argmax is this position (max), or every covering window (average).
template <class T, class Windows, class Contribution>
__global__ void gather_backward_kernel(Windows win, PoolShape s, Contribution contribution, const T* dy, T* dx) {
  const int64_t total = s.x_numel();
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t w = i % s.W, h = (i / s.W) % s.H, plane = i / (s.H * s.W);
    int64_t oh_lo, oh_hi, ow_lo, ow_hi;
    win.covering_rows(h, oh_lo, oh_hi);
    win.covering_cols(w, ow_lo, ow_hi);
    T acc = T(0);
    for (int64_t oh = oh_lo; oh <= oh_hi; ++oh) {
      const PoolTaps rows = win.rows(oh);
      if (!reads(rows, h)) continue;
      for (int64_t ow = ow_lo; ow <= ow_hi; ++ow) {
        const PoolTaps cols = win.cols(ow);
        if (!reads(cols, w)) continue;
        const int64_t o = (plane * s.P + oh) * s.Q + ow;
        contribution(acc, o, oh, ow, rows, cols, h * s.W + w, dy);
      }
    }
    dx[i] = acc;
  }
}

// The contribution of max pooling's output o to input position `at` of its plane.
struct ArgmaxContribution {
  const int32_t* idx;
  template <class T>
  __device__ void operator()(T& acc, int64_t o, int64_t, int64_t, const PoolTaps&, const PoolTaps&, int64_t at,
                             const T* dy) const {
    if (idx[o] == at) acc += dy[o];
  }
};

// Average pooling: every covering window adds its gradient over its divisor (computed as the CPU does).
template <class Divisor>
struct AverageContribution {
  Divisor divisor;
  template <class T>
  __device__ void operator()(T& acc, int64_t o, int64_t oh, int64_t ow, const PoolTaps& rows, const PoolTaps& cols,
                             int64_t, const T* dy) const {
    acc += dy[o] * (T(1) / T(divisor(oh, ow, rows, cols)));
  }
};

// ---------------------------------------------------------------------------------------------------------
// Launchers

template <class T, class Windows>
void max_forward(const char* name, const Windows& win, const PoolShape& s, const T* x, T* y, int32_t* idx) {
  launch(name, max_forward_kernel<T, Windows>, grid_for(s.y_numel(), kThreads), dim3(kThreads), 0, win, s, x, y,
         idx);
}

template <class T, class Windows, class Divisor>
void avg_forward(const char* name, const Windows& win, const Divisor& divisor, const PoolShape& s, const T* x, T* y) {
  launch(name, avg_forward_kernel<T, Windows, Divisor>, grid_for(s.y_numel(), kThreads), dim3(kThreads), 0, win,
         divisor, s, x, y);
}

template <class T, class Windows, class Contribution>
void gather_backward(const char* name, const Windows& win, const PoolShape& s, const Contribution& contribution,
                     const T* dy, T* dx) {
  launch(name, gather_backward_kernel<T, Windows, Contribution>, grid_for(s.x_numel(), kThreads), dim3(kThreads), 0,
         win, s, contribution, dy, dx);
}

}  // namespace

template <class T>
void max_pool2d_forward(const Pool2dParams& p, const T* x, T* y, int32_t* idx) {
  max_forward("max_pool2d_forward", KernelWindows{p}, p, x, y, idx);
}

template <class T>
void adaptive_max_pool2d_forward(const PoolShape& s, const T* x, T* y, int32_t* idx) {
  max_forward("adaptive_max_pool2d_forward", AdaptiveWindows{s}, s, x, y, idx);
}

template <class T>
void max_pool2d_backward(const Pool2dParams& p, const T* dy, const int32_t* idx, T* dx) {
  gather_backward("max_pool2d_backward", KernelWindows{p}, p, ArgmaxContribution{idx}, dy, dx);
}

template <class T>
void adaptive_max_pool2d_backward(const PoolShape& s, const T* dy, const int32_t* idx, T* dx) {
  gather_backward("adaptive_max_pool2d_backward", AdaptiveWindows{s}, s, ArgmaxContribution{idx}, dy, dx);
}

template <class T>
void avg_pool2d_forward(const Pool2dParams& p, bool count_include_pad, const T* x, T* y) {
  avg_forward("avg_pool2d_forward", KernelWindows{p}, KernelDivisor{p, count_include_pad}, p, x, y);
}

template <class T>
void avg_pool2d_backward(const Pool2dParams& p, bool count_include_pad, const T* dy, T* dx) {
  gather_backward("avg_pool2d_backward", KernelWindows{p}, p,
                  AverageContribution<KernelDivisor>{KernelDivisor{p, count_include_pad}}, dy, dx);
}

template <class T>
void adaptive_avg_pool2d_forward(const PoolShape& s, const T* x, T* y) {
  avg_forward("adaptive_avg_pool2d_forward", AdaptiveWindows{s}, WindowSize{}, s, x, y);
}

template <class T>
void adaptive_avg_pool2d_backward(const PoolShape& s, const T* dy, T* dx) {
  gather_backward("adaptive_avg_pool2d_backward", AdaptiveWindows{s}, s, AverageContribution<WindowSize>{}, dy, dx);
}

TF_INSTANTIATE_POOL

}  // namespace tf::cuda

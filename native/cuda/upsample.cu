// CUDA 2-D upsampling and PReLU: the prelu_* and upsample2d_* entry points of core/nn.h, with the CPU's
// semantics (the same UpsampleAxis taps; sums in the CPU's order, or in double).
//
// Legend: N batch, C channels, L flattened spatial size; upsampling maps planes in_h x in_w to out_h x out_w.
// Work mapping:
// - upsample forward: one thread an output element (grid-stride), reading its 1 or 2 x 2 taps.
// - upsample backward: one thread an input element, gathering over the outputs that read it. An axis's first
//   source index never decreases with the output coordinate, so those outputs are a contiguous range found by
//   binary search; they are visited in output order and each adds what the CPU's scatter adds, so dx equals
//   the CPU's bit for bit, without atomics.
// - prelu forward and dx: one thread an element. dweight: one block a channel reducing in double
//   (block_all_reduce), written directly (one weight a channel) or, for one shared weight, into a scratch of
//   C doubles that one block then sums: deterministic, no atomics.
#include "cuda/kernel.h"

#include "core/nn.h"
#include "cpu/nn.h"  // PreluApply, the host/device functor both devices apply
#include "cuda/block_reduce.h"
#include "cuda/runtime.h"

namespace tf::cuda {
namespace {

constexpr int kThreads = 256;
// Taps per axis at most: loops bounded by it as well as by a tap's count have constant trip counts, so the
// compiler unrolls them and keeps the taps in registers (indexed by the runtime count they went to the stack).
constexpr int kMaxTaps = 2;

// ---------------------------------------------------------------------------------------------------------
// Upsampling

// The output range [lo, hi] along an axis whose taps may read input position i: outputs whose first index is
// i - 1 (its second tap may be i) or i.
template <class T>
__device__ void reading_outputs(const UpsampleAxis<T>& axis, int64_t i, int64_t& lo, int64_t& hi) {
  int64_t a = 0, b = axis.out;  // first output whose first index is >= i - 1
  while (a < b) {
    const int64_t mid = a + (b - a) / 2;
    if (axis.taps(mid).index[0] >= i - 1) b = mid;
    else a = mid + 1;
  }
  lo = a;
  b = axis.out;  // first output whose first index is > i
  while (a < b) {
    const int64_t mid = a + (b - a) / 2;
    if (axis.taps(mid).index[0] > i) b = mid;
    else a = mid + 1;
  }
  hi = a - 1;
}

template <class T>
__global__ void upsample_forward_kernel(UpsampleAxis<T> rows, UpsampleAxis<T> cols, int64_t total, const T* x, T* y) {
  for (int64_t o = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; o < total; o += int64_t(gridDim.x) * blockDim.x) {
    const int64_t ow = o % cols.out, oh = (o / cols.out) % rows.out, plane = o / (cols.out * rows.out);
    const UpsampleTaps<T> h = rows.taps(oh), w = cols.taps(ow);
    const T* xp = x + plane * rows.in * cols.in;
    T acc = T(0);
    for (int a = 0; a < kMaxTaps && a < h.count; ++a) {
      T row = T(0);
      for (int b = 0; b < kMaxTaps && b < w.count; ++b) row += w.weight[b] * xp[h.index[a] * cols.in + w.index[b]];
      acc += h.weight[a] * row;
    }
    y[o] = acc;
  }
}

template <class T>
__global__ void upsample_backward_kernel(UpsampleAxis<T> rows, UpsampleAxis<T> cols, int64_t total, const T* dy,
                                         T* dx) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t iw = i % cols.in, ih = (i / cols.in) % rows.in, plane = i / (cols.in * rows.in);
    const T* gp = dy + plane * rows.out * cols.out;
    int64_t oh_lo, oh_hi, ow_lo, ow_hi;
    reading_outputs(rows, ih, oh_lo, oh_hi);
    reading_outputs(cols, iw, ow_lo, ow_hi);
    T acc = T(0);
    for (int64_t oh = oh_lo; oh <= oh_hi; ++oh) {
      const UpsampleTaps<T> h = rows.taps(oh);
      for (int64_t ow = ow_lo; ow <= ow_hi; ++ow) {
        const UpsampleTaps<T> w = cols.taps(ow);
        const T g = gp[oh * cols.out + ow];
        for (int a = 0; a < kMaxTaps && a < h.count; ++a)
          for (int b = 0; b < kMaxTaps && b < w.count; ++b)
            if (h.index[a] == ih && w.index[b] == iw) acc += h.weight[a] * w.weight[b] * g;
      }
    }
    dx[i] = acc;
  }
}

// ---------------------------------------------------------------------------------------------------------
// PReLU

template <class T>
__device__ T slope_of(const PreluParams& p, const T* weight, int64_t i) {
  return weight[p.num_weights == 1 ? 0 : (i / p.L) % p.C];
}

template <class T>
__global__ void prelu_forward_kernel(PreluParams p, int64_t n, const T* x, const T* weight, T* y) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = cpu::PreluApply<T>{slope_of(p, weight, i)}(x[i]);
}

template <class T>
__global__ void prelu_grad_input_kernel(PreluParams p, int64_t n, const T* x, const T* dy, const T* weight, T* dx) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    dx[i] = x[i] > T(0) ? dy[i] : slope_of(p, weight, i) * dy[i];
}

struct Plus {
  __device__ double operator()(double a, double b) const { return a + b; }
};

// Channel c's sum over x <= 0 of x * dy, into per_weight[c] (T, one weight a channel) or per_channel[c] (double).
template <class T>
__global__ void prelu_grad_weight_kernel(PreluParams p, const T* x, const T* dy, T* per_weight, double* per_channel) {
  const int64_t count = p.N * p.L;
  for (int64_t c = blockIdx.x; c < p.C; c += gridDim.x) {
    double acc = 0;
    for (int64_t k = threadIdx.x; k < count; k += blockDim.x) {
      const int64_t n = k / p.L, i = (n * p.C + c) * p.L + (k - n * p.L);
      if (!(x[i] > T(0))) acc += double(x[i]) * double(dy[i]);
    }
    acc = block_all_reduce(acc, 0.0, Plus());
    if (threadIdx.x != 0) continue;
    if (per_weight) per_weight[c] = T(acc);
    else per_channel[c] = acc;
  }
}

// out[0] = the sum of the n doubles `parts`, by one block.
template <class T>
__global__ void sum_parts_kernel(const double* parts, int64_t n, T* out) {
  double acc = 0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) acc += parts[i];
  acc = block_all_reduce(acc, 0.0, Plus());
  if (threadIdx.x == 0) out[0] = T(acc);
}

template <class T>
__global__ void fill_zero_kernel(T* out, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = T(0);
}

}  // namespace

template <class T>
void prelu_forward(const PreluParams& params, const T* x, const T* weight, T* y) {
  const int64_t n = params.N * params.C * params.L;
  launch("prelu_forward", prelu_forward_kernel<T>, grid_for(n, kThreads), dim3(kThreads), 0, params, n, x, weight, y);
}

template <class T>
void prelu_backward(const PreluParams& params, const T* x, const T* dy, const T* weight, T* dx, T* dweight) {
  const int64_t n = params.N * params.C * params.L;
  if (dx)
    launch("prelu_backward", prelu_grad_input_kernel<T>, grid_for(n, kThreads), dim3(kThreads), 0, params, n, x, dy,
           weight, dx);
  if (!dweight) return;
  if (n == 0) {
    // No elements: a zero gradient, without a per-channel scratch for a C that no buffer length bounds.
    launch("prelu_backward_weight", fill_zero_kernel<T>, grid_for(params.num_weights, kThreads), dim3(kThreads), 0,
           dweight, params.num_weights);
    return;
  }
  const dim3 grid = grid_for(params.C, 1), block(kThreads);
  if (params.num_weights != 1) {
    launch("prelu_backward_weight", prelu_grad_weight_kernel<T>, grid, block, 0, params, x, dy, dweight,
           static_cast<double*>(nullptr));
    return;
  }
  const int device = current_device();
  auto* per_channel = static_cast<double*>(allocate(device, size_t(params.C) * sizeof(double)));
  try {
    launch("prelu_backward_weight", prelu_grad_weight_kernel<T>, grid, block, 0, params, x, dy,
           static_cast<T*>(nullptr), per_channel);
    launch("prelu_backward_weight_sum", sum_parts_kernel<T>, dim3(1), block, 0, per_channel, params.C, dweight);
  } catch (...) {
    release(device, per_channel);
    throw;
  }
  // Stream-ordered: the launches above run before any later work that receives this block.
  release(device, per_channel);
}

template <class T>
void upsample2d_forward(const Upsample2dParams& p, const T* x, T* y) {
  const int64_t total = p.N * p.C * p.out_h * p.out_w;
  if (total == 0) return;
  launch("upsample2d_forward", upsample_forward_kernel<T>, grid_for(total, kThreads), dim3(kThreads), 0,
         upsample_axis<T>(p, p.in_h, p.out_h, p.scale_h), upsample_axis<T>(p, p.in_w, p.out_w, p.scale_w), total, x,
         y);
}

template <class T>
void upsample2d_backward(const Upsample2dParams& p, const T* dy, T* dx) {
  const int64_t total = p.N * p.C * p.in_h * p.in_w;
  if (total == 0) return;
  launch("upsample2d_backward", upsample_backward_kernel<T>, grid_for(total, kThreads), dim3(kThreads), 0,
         upsample_axis<T>(p, p.in_h, p.out_h, p.scale_h), upsample_axis<T>(p, p.in_w, p.out_w, p.scale_w), total, dy,
         dx);
}

TF_INSTANTIATE_PRELU_UPSAMPLE

}  // namespace tf::cuda

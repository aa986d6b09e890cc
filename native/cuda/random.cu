// CUDA kernels that draw from Philox: random_fill (cpu/elementwise.h) and dropout (cpu/nn.h), with the CPU's
// signatures, semantics and counter mapping, so the same seed and offset give the same numbers and masks on
// both devices.
//
// Legend: n elements, c a Philox counter (relative to `offset`), w[0..3] its four 32-bit words, u a uniform
// in [0, 1). random_fill: counter c gives elements 2c and 2c + 1 (53-bit uniforms from word pairs); dropout:
// counter c gives elements 4c .. 4c + 3 (one word each).
#include "cuda/kernel.h"

#include <cmath>
#include <type_traits>

#include "core/nn.h"
#include "core/philox.h"
#include "core/elementwise.h"
#include "core/random_fill.h"
#include "cpu/nn.h"  // DropoutApply, the host/device functor both devices apply

namespace tf::cuda {


namespace {

constexpr int kThreads = 256;

// ---------------------------------------------------------------------------------------------------------
// Kernels

template <class T>
__global__ void random_fill_kernel(RandomKind kind, T* out, int64_t n, Philox gen, uint64_t offset, double a,
                                   double b) {
  const int64_t counters = (n + 1) / 2;
  for (int64_t c = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; c < counters; c += int64_t(gridDim.x) * blockDim.x)
    random_pair(gen, kind, offset, c, n, a, b, out);
}

// mask and y for elements 4c .. 4c + 3 of every counter c; the CPU's rule: kept when the element's word as a
// 24-bit uniform float is >= p.
template <class T>
__global__ void dropout_forward_kernel(const T* x, T* y, uint8_t* mask, int64_t n, double p, Philox gen,
                                       uint64_t offset, cpu::DropoutApply<T> apply) {
  const int64_t counters = (n + 3) / 4;
  for (int64_t c = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; c < counters;
       c += int64_t(gridDim.x) * blockDim.x) {
    uint32_t words[4];
    gen.generate(offset + uint64_t(c), words);
    for (int64_t lane = 0, i = 4 * c; lane < 4 && i < n; ++lane, ++i) {
      const uint8_t keep = Philox::to_uniform(words[lane]) >= p ? 1 : 0;
      mask[i] = keep;
      y[i] = apply(x[i], keep);
    }
  }
}

template <class T>
__global__ void dropout_backward_kernel(const T* dy, const uint8_t* mask, T* dx, int64_t n,
                                        cpu::DropoutApply<T> apply) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    dx[i] = apply(dy[i], mask[i]);
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// Launchers

template <class T>
void random_fill(RandomKind kind, T* out, int64_t n, uint64_t seed, uint64_t offset, double a, double b) {
  if (n == 0) return;
  const int64_t counters = (n + 1) / 2;
  launch("random_fill", random_fill_kernel<T>, grid_for(counters, kThreads), dim3(kThreads), 0, kind, out, n,
         Philox(seed), offset, a, b);
}

template <class T>
void dropout_forward(const DropoutParams& params, const T* x, T* y, uint8_t* mask) {
  if (params.n == 0) return;
  const int64_t counters = (params.n + 3) / 4;
  launch("dropout_forward", dropout_forward_kernel<T>, grid_for(counters, kThreads), dim3(kThreads), 0, x, y, mask,
         params.n, params.p, Philox(params.seed), params.offset, cpu::DropoutApply<T>{T(params.scale())});
}

template <class T>
void dropout_backward(const DropoutParams& params, const T* dy, const uint8_t* mask, T* dx) {
  if (params.n == 0) return;
  launch("dropout_backward", dropout_backward_kernel<T>, grid_for(params.n, kThreads), dim3(kThreads), 0, dy, mask, dx,
         params.n, cpu::DropoutApply<T>{T(params.scale())});
}

TF_INSTANTIATE_RANDOM_FILL
template void dropout_forward<float>(const DropoutParams&, const float*, float*, uint8_t*);
template void dropout_forward<double>(const DropoutParams&, const double*, double*, uint8_t*);
template void dropout_backward<float>(const DropoutParams&, const float*, const uint8_t*, float*);
template void dropout_backward<double>(const DropoutParams&, const double*, const uint8_t*, double*);

}  // namespace tf::cuda

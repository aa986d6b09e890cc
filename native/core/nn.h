// Argument checks of the nn family (dropout, PReLU, 2-D upsampling) and its entry points, declared for
// tf::cpu and tf::cuda.
#pragma once
#include <cmath>
#include <cstdint>
#include <string>

#include "core/host_device.h"

#include "core/on_devices.h"

namespace tf {

// Inverted dropout over n elements: element i is kept when Philox(seed).uniform(offset, i) >= p.
struct DropoutParams {
  int64_t n = 0;
  double p = 0;
  uint64_t seed = 0, offset = 0;
  // Scale applied to kept elements: 1 / (1 - p), and 0 when p = 1 (nothing is kept).
  double scale() const { return p < 1 ? 1.0 / (1.0 - p) : 0.0; }
};
void validate_dropout(const DropoutParams& params, const char* op);

// PReLU over x (N, C, L): num_weights is 1 (one shared slope) or C (one per channel of dim 1).
struct PreluParams {
  int64_t N = 0, C = 0, L = 0, num_weights = 1;
  int64_t weight_index(int64_t c) const { return num_weights == 1 ? 0 : c; }
};
// Returns the element count N*C*L.
int64_t validate_prelu(const PreluParams& params, const char* op);

enum class UpsampleMode { Nearest, Bilinear };
UpsampleMode parse_upsample_mode(const std::string& mode, const char* op);

// x (N, C, in_h, in_w) -> y (N, C, out_h, out_w). scale_h / scale_w > 0 are the user's scale factors
// (PyTorch then maps with 1 / scale); 0 means "output size given" (maps with in / out).
struct Upsample2dParams {
  int64_t N = 0, C = 0, in_h = 0, in_w = 0, out_h = 0, out_w = 0;
  UpsampleMode mode = UpsampleMode::Nearest;
  bool align_corners = false;
  double scale_h = 0, scale_w = 0;
};
// Checks sizes (spatial sizes >= 1), scales (finite, >= 0) and that align_corners is only set for
// bilinear; returns {input numel, output numel}.
struct Upsample2dNumel {
  int64_t in, out;
};
Upsample2dNumel validate_upsample2d(const Upsample2dParams& params, const char* op);

}  // namespace tf

// dropout_forward: mask[i] = uniform(offset, i) >= p (1 = kept), y[i] = DropoutApply(x[i], mask[i]) (cpu/nn.h).
// Uses counters offset .. offset + ceil(n / 4) - 1 of Philox(seed); y may alias x.
// dropout_backward: dx[i] = DropoutApply(dy[i], mask[i]) with the forward's scale (params.seed/offset unused).
#define TF_NN_ENTRIES                                                                  \
  template <class T>                                                                   \
  void dropout_forward(const DropoutParams& params, const T* x, T* y, uint8_t* mask); \
  template <class T>                                                                   \
  void dropout_backward(const DropoutParams& params, const T* dy, const uint8_t* mask, T* dx);

TF_DECLARE_ON_DEVICES(TF_NN_ENTRIES)

namespace tf {

// One output coordinate's source taps along an axis: count 1 (nearest, or same size) or 2 (bilinear).
template <class T>
struct UpsampleTaps {
  int64_t index[2];
  T weight[2];
  int count;
};

// PyTorch's source-index rules of one axis (aten/src/ATen/native/UpSample.h), for both devices. The axis's
// constant (its scale or ratio) is computed once on the host by upsample_axis, so that every device maps with
// the same value (a device's fast-math division could round it differently).
template <class T>
struct UpsampleAxis {
  int64_t in, out;
  UpsampleMode mode;
  bool align_corners;
  float nearest_scale;  // nearest: in float, as PyTorch computes it
  T ratio;              // bilinear: source pixels per output pixel

  // A floored source coordinate as an index in [0, in - 1]. A tiny scale factor makes the coordinate Inf or
  // NaN (0 * Inf); converting those to int64 is undefined and would index out of bounds.
  template <class F>
  TF_HD int64_t clamp_index(F coord) const {
    if (!(coord > F(0))) return 0;
    return coord < F(in - 1) ? int64_t(coord) : in - 1;
  }

  // Nearest: exact identity and 2x paths, otherwise floor(dst * scale) in float. Bilinear:
  // area_pixel_compute_source_index + guard_index_and_lambda, in T. The first index never decreases with dst
  // (a gather over the outputs that read an input relies on it).
  TF_HD UpsampleTaps<T> taps(int64_t dst) const {
    if (out == in) return {{dst, dst}, {T(1), T(0)}, 1};
    if (mode == UpsampleMode::Nearest) {
      const int64_t src = out == 2 * in ? dst >> 1 : clamp_index(std::floor(float(dst) * nearest_scale));
      return {{src, src}, {T(1), T(0)}, 1};
    }
    T src = align_corners ? ratio * T(dst) : ratio * (T(dst) + T(0.5)) - T(0.5);
    if (!align_corners && src < T(0)) src = T(0);
    const int64_t i0 = clamp_index(std::floor(src));
    const T d = src - T(i0), lambda1 = d < T(0) ? T(0) : (d > T(1) ? T(1) : d);
    const int64_t i1 = i0 + (i0 < in - 1 ? 1 : 0);
    return {{i0, i1}, {T(1) - lambda1, lambda1}, 2};
  }
};

// The axis in -> out with the user's scale factor (0: the output size was given; PyTorch's
// compute_scales_value then maps with in / out, else with 1 / scale).
template <class T>
UpsampleAxis<T> upsample_axis(const Upsample2dParams& p, int64_t in, int64_t out, double scale) {
  UpsampleAxis<T> axis{in, out, p.mode, p.align_corners, 0.0f, T(0)};
  axis.nearest_scale = scale > 0 ? float(1.0 / scale) : float(in) / float(out);
  axis.ratio = p.align_corners ? (out > 1 ? T(in - 1) / T(out - 1) : T(0))
                               : (scale > 0 ? T(1.0 / scale) : T(in) / T(out));
  return axis;
}

}  // namespace tf

// prelu_forward: y = x for x > 0, else weight[c] * x (PreluApply, cpu/nn.h).
// prelu_backward: dx (nullable) = dy * (x > 0 ? 1 : slope); dweight (nullable, num_weights) = sum over x <= 0
// of x * dy, per channel or over all (the sums in double).
// upsample2d_forward: y from x with the taps of UpsampleAxis along each axis. upsample2d_backward: overwrites
// dx (N, C, in_h, in_w) with the adjoint applied to dy.
#define TF_PRELU_UPSAMPLE_ENTRIES                                                                           \
  template <class T>                                                                                        \
  void prelu_forward(const PreluParams& params, const T* x, const T* weight, T* y);                        \
  template <class T>                                                                                        \
  void prelu_backward(const PreluParams& params, const T* x, const T* dy, const T* weight, T* dx,          \
                      T* dweight);                                                                          \
  template <class T>                                                                                        \
  void upsample2d_forward(const Upsample2dParams& params, const T* x, T* y);                               \
  template <class T>                                                                                        \
  void upsample2d_backward(const Upsample2dParams& params, const T* dy, T* dx);

TF_DECLARE_ON_DEVICES(TF_PRELU_UPSAMPLE_ENTRIES)

// Each device's definitions are instantiated from this list (inside its namespace).
#define TF_INSTANTIATE_PRELU_UPSAMPLE_FOR(T)                                                \
  template void prelu_forward<T>(const PreluParams&, const T*, const T*, T*);               \
  template void prelu_backward<T>(const PreluParams&, const T*, const T*, const T*, T*, T*); \
  template void upsample2d_forward<T>(const Upsample2dParams&, const T*, T*);               \
  template void upsample2d_backward<T>(const Upsample2dParams&, const T*, T*);
#define TF_INSTANTIATE_PRELU_UPSAMPLE TF_INSTANTIATE_PRELU_UPSAMPLE_FOR(float) TF_INSTANTIATE_PRELU_UPSAMPLE_FOR(double)

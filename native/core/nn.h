// Argument checks of the nn family (dropout, PReLU, 2-D upsampling) and the entry points declared for
// tf::cpu and tf::cuda (dropout; PReLU and upsampling are CPU-only for now: cpu/nn.h).
#pragma once
#include <cstdint>
#include <string>

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

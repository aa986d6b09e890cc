// CPU kernels of the nn family (entry points: core/nn.h). Legend: N batch, C channels, L flattened
// spatial size, H/W heights and widths.
#pragma once
#include <cstdint>

#include "core/nn.h"
#include "core/philox.h"

namespace tf::cpu {

// Inverted dropout of one element: x * scale when kept, else 0.
template <class T>
struct DropoutApply {
  T scale;
  TF_HD T operator()(T x, uint8_t keep) const { return keep ? x * scale : T(0); }
};

// y = x for x > 0, else slope * x.
template <class T>
struct PreluApply {
  T slope;
  TF_HD T operator()(T x) const { return x > T(0) ? x : slope * x; }
};

}  // namespace tf::cpu

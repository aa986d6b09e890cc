// The arithmetic of a random fill, written once for both devices: element 2c and 2c + 1 of a fill come from
// Philox counter offset + c, so cpu::random_fill and cuda::random_fill give the same numbers for a seed
// (bit for bit for Uniform, Bernoulli and Integer; Normal goes through each device's log1p/cos/sin).
#pragma once
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "core/elementwise.h"
#include "core/host_device.h"
#include "core/philox.h"

namespace tf {

// a + b * c with the product rounded first: nvcc would contract it to a fused multiply-add, which the CPU
// build (x86-64 without FMA) does not do.
TF_HD double add_product(double a, double b, double c) {
#if defined(__CUDA_ARCH__)
  return __dadd_rn(a, __dmul_rn(b, c));
#else
  return a + b * c;
#endif
}

// A uniform double in [0, 1) with 53 random bits from two words.
TF_HD double uniform53(uint32_t hi, uint32_t lo) {
  return (double(hi >> 5) * 67108864.0 + double(lo >> 6)) * (1.0 / 9007199254740992.0);
}

// Writes the elements 2c and 2c + 1 (those below n) of a fill of `kind` (see random_fill in core/elementwise.h).
template <class T>
TF_HD void random_pair(const Philox& gen, RandomKind kind, uint64_t offset, int64_t c, int64_t n, double a, double b,
                       T* out) {
  using std::cos, std::floor, std::log1p, std::nextafter, std::sin, std::sqrt;
  uint32_t w[4];
  gen.generate(offset + uint64_t(c), w);
  const double u[2] = {uniform53(w[0], w[1]), uniform53(w[2], w[3])};
  double v[2];
  switch (kind) {
    case RandomKind::Uniform:
      for (int k = 0; k < 2; ++k) v[k] = add_product(a, b - a, u[k]);
      break;
    case RandomKind::Normal: {  // Box-Muller: one pair of uniforms gives two independent normals
      const double r = sqrt(-2.0 * log1p(-u[0])), t = 6.283185307179586 * u[1];
      v[0] = add_product(a, b * r, cos(t));
      v[1] = add_product(a, b * r, sin(t));
      break;
    }
    case RandomKind::Bernoulli:
      for (int k = 0; k < 2; ++k) v[k] = u[k] < a ? 1 : 0;
      break;
    default:
      for (int k = 0; k < 2; ++k) v[k] = floor(add_product(a, b - a, u[k]));
      break;
  }
  for (int k = 0; k < 2 && 2 * c + k < n; ++k) {
    T value = T(v[k]);
    if constexpr (std::is_floating_point_v<T>)  // rounding to float must not reach b
      if (kind == RandomKind::Uniform && b > a && value >= T(b)) value = nextafter(T(b), T(a));
    out[2 * c + k] = value;
  }
}

}  // namespace tf

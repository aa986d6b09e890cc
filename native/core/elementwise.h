// Entry points of the elementwise family, declared once for tf::cpu and tf::cuda: strided unary/binary/
// compare maps, where, copy with dtype conversion, and random fills. Inputs are strided views (stride 0
// broadcasts); outputs of maps are written through their own strides. Operand order in layouts: out
// first, then inputs.
#pragma once
#include <cstdint>

#include "core/on_devices.h"
#include "core/strided.h"
#include "include/ops.h"

namespace tf {

enum class RandomKind { Uniform = 0, Normal = 1, Bernoulli = 2, Integer = 3 };

}  // namespace tf

// random_fill fills out[0..n) from Philox(seed) starting at counter `offset`: each counter yields two
// elements, so n elements consume ceil(n / 2) counters. Uniform in [a, b); Normal with mean a, std b;
// Bernoulli with probability a; Integer in [a, b).
#define TF_ELEMENTWISE_ENTRIES                                                                               \
  template <class T>                                                                                         \
  void unary(UnaryOp op, const StridedLayout<2>& layout, T* out, const T* x, T a, T b);                       \
  template <class T>                                                                                         \
  void binary(BinaryOp op, const StridedLayout<3>& layout, T* out, const T* x, const T* y, T alpha, T beta); \
  template <class T>                                                                                         \
  void compare(CompareOp op, const StridedLayout<3>& layout, uint8_t* out, const T* x, const T* y);          \
  template <class T>                                                                                         \
  void where(const StridedLayout<4>& layout, T* out, const uint8_t* cond, const T* x, const T* y);           \
  template <class To, class From>                                                                            \
  void copy(const StridedLayout<2>& layout, To* out, const From* x);                                         \
  template <class T>                                                                                         \
  void random_fill(RandomKind kind, T* out, int64_t n, uint64_t seed, uint64_t offset, double a, double b);

TF_DECLARE_ON_DEVICES(TF_ELEMENTWISE_ENTRIES)

// The dtypes the bindings dispatch: each device's definitions are instantiated from these lists (inside its
// namespace), so the two devices cannot offer different ones.
#define TF_INSTANTIATE_MAPS_FOR(T)                                                                           \
  template void unary<T>(UnaryOp, const StridedLayout<2>&, T*, const T*, T, T);                             \
  template void binary<T>(BinaryOp, const StridedLayout<3>&, T*, const T*, const T*, T, T);                 \
  template void compare<T>(CompareOp, const StridedLayout<3>&, uint8_t*, const T*, const T*);               \
  template void where<T>(const StridedLayout<4>&, T*, const uint8_t*, const T*, const T*);                  \
  template void copy<T, float>(const StridedLayout<2>&, T*, const float*);                                  \
  template void copy<T, double>(const StridedLayout<2>&, T*, const double*);                                \
  template void copy<T, int32_t>(const StridedLayout<2>&, T*, const int32_t*);                              \
  template void copy<T, uint8_t>(const StridedLayout<2>&, T*, const uint8_t*);
#define TF_INSTANTIATE_ELEMENTWISE_MAPS \
  TF_INSTANTIATE_MAPS_FOR(float) TF_INSTANTIATE_MAPS_FOR(double) TF_INSTANTIATE_MAPS_FOR(int32_t) TF_INSTANTIATE_MAPS_FOR(uint8_t)
#define TF_INSTANTIATE_RANDOM_FILL_FOR(T) \
  template void random_fill<T>(RandomKind, T*, int64_t, uint64_t, uint64_t, double, double);
#define TF_INSTANTIATE_RANDOM_FILL                                                                  \
  TF_INSTANTIATE_RANDOM_FILL_FOR(float) TF_INSTANTIATE_RANDOM_FILL_FOR(double)                      \
  TF_INSTANTIATE_RANDOM_FILL_FOR(int32_t) TF_INSTANTIATE_RANDOM_FILL_FOR(uint8_t)

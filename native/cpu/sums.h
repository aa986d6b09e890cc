// Long sums of float or double, accumulated in double without a serial chain of dependent adds.
// Sums run over blocks of at most kSumBlock elements in vector partial sums of T, and each block is
// folded into double. Without -ffast-math a compiler may not reorder `sum += double(x[i])`, so that
// loop is one serial chain of dependent adds (4 cycles each: a 300K-element bias gradient took 0.3 ms);
// independent vector accumulators overlap, and short blocks keep float partial sums accurate to about
// 1e-6 of their magnitude.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>

namespace tf::cpu {

constexpr int64_t kSumBlock = 256;

// The vector pieces, shared with norm.cc's fused sums.
namespace sums {

// One SSE2 register of T (GCC/Clang vector extension: plain operators, no intrinsics).
template <class T>
using Vec [[gnu::vector_size(16)]] = T;
template <class T>
constexpr int64_t kVecWidth = 16 / sizeof(T);
// Accumulators per sum, enough to hide the latency of the vector add.
constexpr int kAcc = 4;

template <class T>
Vec<T> load(const T* p) {
  Vec<T> v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <class V>
double fold(const V (&acc)[kAcc]) {
  double sum = 0;
  for (const V& v : acc)
    for (size_t j = 0; j < sizeof(V) / sizeof(v[0]); ++j) sum += double(v[j]);
  return sum;
}

}  // namespace sums

// x[0] + ... + x[len - 1], in double.
template <class T>
double sum_of(const T* x, int64_t len) {
  double sum = 0;
  for (int64_t b = 0; b < len; b += kSumBlock) {
    const int64_t b_end = std::min(len, b + kSumBlock);
    constexpr int64_t width = sums::kVecWidth<T>;
    sums::Vec<T> acc[sums::kAcc] = {};
    int64_t i = b;
    for (; i + sums::kAcc * width <= b_end; i += sums::kAcc * width)
      for (int a = 0; a < sums::kAcc; ++a) acc[a] += sums::load(x + i + a * width);
    sum += sums::fold(acc);
    for (; i < b_end; ++i) sum += double(x[i]);
  }
  return sum;
}

}  // namespace tf::cpu

// Elementwise math written once as host/device functors: the CPU loops and the CUDA kernels both
// instantiate these, so the two backends cannot drift apart.
#pragma once
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "core/error.h"
#include "core/host_device.h"
#include "include/ops.h"

namespace tf::fn {

// (The using-declarations pick the overload for T: unqualified, exp(float) is the C library's double exp
// on the CPU but expf on the device, and the two backends would round differently.)
template <class T>
TF_HD T sigmoid(T x) {
  using std::exp;
  return x >= T(0) ? T(1) / (T(1) + exp(-x)) : exp(x) / (T(1) + exp(x));
}

// softplus(x) = log(1 + exp(beta x)) / beta, linear above `threshold` like PyTorch.
template <class T>
TF_HD T softplus(T x, T beta, T threshold) {
  using std::exp, std::log1p;
  const T bx = beta * x;
  return bx > threshold ? x : log1p(exp(bx)) / beta;
}

template <class T>
TF_HD T gelu_tanh_inner(T x) {
  return T(0.7978845608028654) * (x + T(0.044715) * x * x * x);
}

template <UnaryOp op, class T>
TF_HD T unary(T x, T a, T b) {
  using std::abs, std::exp, std::log, std::log1p, std::sqrt, std::sin, std::cos, std::tanh, std::pow, std::erf;
  if constexpr (op == UnaryOp::NEG) return -x;
  else if constexpr (op == UnaryOp::ABS && std::is_unsigned_v<T>) return x;  // (nvcc warns on x < 0 for uint8)
  else if constexpr (op == UnaryOp::ABS) return x < T(0) ? -x : x;
  else if constexpr (op == UnaryOp::SIGN && std::is_unsigned_v<T>) return T(x > T(0));
  else if constexpr (op == UnaryOp::SIGN) return T((x > T(0)) - (x < T(0)));
  else if constexpr (op == UnaryOp::EXP) return exp(x);
  else if constexpr (op == UnaryOp::LOG) return log(x);
  else if constexpr (op == UnaryOp::LOG1P) return log1p(x);
  else if constexpr (op == UnaryOp::SQRT) return sqrt(x);
  else if constexpr (op == UnaryOp::RSQRT) return T(1) / sqrt(x);
  else if constexpr (op == UnaryOp::SQUARE) return x * x;
  else if constexpr (op == UnaryOp::RECIPROCAL) return T(1) / x;
  else if constexpr (op == UnaryOp::SIN) return sin(x);
  else if constexpr (op == UnaryOp::COS) return cos(x);
  else if constexpr (op == UnaryOp::TANH) return tanh(x);
  else if constexpr (op == UnaryOp::SIGMOID) return sigmoid(x);
  else if constexpr (op == UnaryOp::RELU) return x < T(0) ? T(0) : x;  // NaN stays NaN, as in PyTorch
  else if constexpr (op == UnaryOp::LEAKY_RELU) return x > T(0) ? x : a * x;
  else if constexpr (op == UnaryOp::ELU) return x > T(0) ? x : a * (exp(x) - T(1));
  else if constexpr (op == UnaryOp::GELU) return T(0.5) * x * (T(1) + erf(x * T(0.7071067811865476)));
  else if constexpr (op == UnaryOp::GELU_TANH) return T(0.5) * x * (T(1) + tanh(gelu_tanh_inner(x)));
  else if constexpr (op == UnaryOp::SOFTPLUS) return softplus(x, a, b);
  else if constexpr (op == UnaryOp::CLAMP) return x < a ? a : (x > b ? b : x);
  else if constexpr (op == UnaryOp::POW_SCALAR) return a == T(2) ? x * x : pow(x, a);
  else if constexpr (op == UnaryOp::RPOW_SCALAR) return pow(a, x);
  else if constexpr (op == UnaryOp::ADD_SCALAR) return x + a;
  else if constexpr (op == UnaryOp::MUL_SCALAR) return x * a;
  else if constexpr (op == UnaryOp::RSUB_SCALAR) return a - x;
  else if constexpr (op == UnaryOp::RDIV_SCALAR) return a / x;
  else if constexpr (op == UnaryOp::FILL) return a;
}

// Ops meaningful on integers (int32 tensors: labels, indices).
constexpr bool unary_int_ok(UnaryOp op) {
  return op == UnaryOp::NEG || op == UnaryOp::ABS || op == UnaryOp::SIGN || op == UnaryOp::SQUARE ||
         op == UnaryOp::CLAMP || op == UnaryOp::ADD_SCALAR || op == UnaryOp::MUL_SCALAR ||
         op == UnaryOp::RSUB_SCALAR || op == UnaryOp::FILL;
}

template <BinaryOp op, class T>
TF_HD T binary(T x, T y, T alpha, T beta) {
  using std::exp, std::pow, std::erf, std::tanh;
  if constexpr (op == BinaryOp::ADD) return x + alpha * y;
  else if constexpr (op == BinaryOp::SUB) return x - alpha * y;
  else if constexpr (op == BinaryOp::MUL) return x * y;
  else if constexpr (op == BinaryOp::DIV) return x / y;
  else if constexpr (op == BinaryOp::POW) return pow(x, y);
  else if constexpr (op == BinaryOp::MAXIMUM) return (x != x || x > y) ? x : y;  // NaN propagates
  else if constexpr (op == BinaryOp::MINIMUM) return (x != x || x < y) ? x : y;
  else if constexpr (op == BinaryOp::RELU_BACKWARD) return y <= T(0) ? T(0) : x;
  else if constexpr (op == BinaryOp::LEAKY_RELU_BACKWARD) return y > T(0) ? x : alpha * x;
  else if constexpr (op == BinaryOp::ELU_BACKWARD) return y > T(0) ? x : x * alpha * exp(y);
  else if constexpr (op == BinaryOp::GELU_BACKWARD) {
    const T cdf = T(0.5) * (T(1) + erf(y * T(0.7071067811865476)));
    const T pdf = T(0.3989422804014327) * exp(T(-0.5) * y * y);
    return x * (cdf + y * pdf);
  } else if constexpr (op == BinaryOp::GELU_TANH_BACKWARD) {
    const T t = tanh(gelu_tanh_inner(y));
    const T dinner = T(0.7978845608028654) * (T(1) + T(3) * T(0.044715) * y * y);
    return x * (T(0.5) * (T(1) + t) + T(0.5) * y * (T(1) - t * t) * dinner);
  } else if constexpr (op == BinaryOp::SIGMOID_BACKWARD_Y) return x * y * (T(1) - y);
  else if constexpr (op == BinaryOp::TANH_BACKWARD_Y) return x * (T(1) - y * y);
  else if constexpr (op == BinaryOp::SOFTPLUS_BACKWARD) {
    const T by = alpha * y;
    return by > beta ? x : x * sigmoid(by);
  } else if constexpr (op == BinaryOp::CLAMP_BACKWARD) return (y >= alpha && y <= beta) ? x : T(0);
}

constexpr bool binary_int_ok(BinaryOp op) {
  return op == BinaryOp::ADD || op == BinaryOp::SUB || op == BinaryOp::MUL || op == BinaryOp::MAXIMUM ||
         op == BinaryOp::MINIMUM;
}

template <CompareOp op, class T>
TF_HD bool compare(T x, T y) {
  if constexpr (op == CompareOp::EQ) return x == y;
  else if constexpr (op == CompareOp::NE) return x != y;
  else if constexpr (op == CompareOp::LT) return x < y;
  else if constexpr (op == CompareOp::LE) return x <= y;
  else if constexpr (op == CompareOp::GT) return x > y;
  else if constexpr (op == CompareOp::GE) return x >= y;
}

// The name of an element type as the bindings name dtypes.
template <class T>
constexpr const char* dtype_name() {
  if constexpr (std::is_same_v<T, float>) return "float32";
  else if constexpr (std::is_same_v<T, double>) return "float64";
  else if constexpr (std::is_same_v<T, int32_t>) return "int32";
  else return "uint8";
}

// From a runtime op to its compile-time functor: f(std::integral_constant<Op, op>{}, "unary neg") (the op's
// full name, a literal) for an op defined on T, else a TypeError naming the op and the dtype. Each device's unary/binary/compare entry point
// dispatches through these (host code), so both accept and reject the same ops.
template <class T, class F>
void with_unary_op(UnaryOp op, F&& f) {
  switch (op) {
#define TF_CASE(name, js)                                                                     \
  case UnaryOp::name:                                                                         \
    if constexpr (std::is_floating_point_v<T> || unary_int_ok(UnaryOp::name))                \
      return f(std::integral_constant<UnaryOp, UnaryOp::name>{}, "unary " js);                        \
    else                                                                                      \
      fail(ErrorKind::Type, "unary: " js " is defined for float32/float64, got ", dtype_name<T>());
    TF_UNARY_OPS(TF_CASE)
#undef TF_CASE
    default: fail(ErrorKind::Range, "unary: unknown op ", int(op));
  }
}

template <class T, class F>
void with_binary_op(BinaryOp op, F&& f) {
  switch (op) {
#define TF_CASE(name, js)                                                                     \
  case BinaryOp::name:                                                                        \
    if constexpr (std::is_floating_point_v<T> || binary_int_ok(BinaryOp::name))              \
      return f(std::integral_constant<BinaryOp, BinaryOp::name>{}, "binary " js);                      \
    else                                                                                      \
      fail(ErrorKind::Type, "binary: " js " is defined for float32/float64, got ", dtype_name<T>());
    TF_BINARY_OPS(TF_CASE)
#undef TF_CASE
    default: fail(ErrorKind::Range, "binary: unknown op ", int(op));
  }
}

template <class F>
void with_compare_op(CompareOp op, F&& f) {
  switch (op) {
#define TF_CASE(name, js) \
  case CompareOp::name: return f(std::integral_constant<CompareOp, CompareOp::name>{}, "compare " js);
    TF_COMPARE_OPS(TF_CASE)
#undef TF_CASE
    default: fail(ErrorKind::Range, "compare: unknown op ", int(op));
  }
}

}  // namespace tf::fn

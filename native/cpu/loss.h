// The pointwise loss functors and the numerically stable helpers the fused losses share: both devices
// run these (entry points: core/loss.h).
#pragma once
#include <cmath>
#include <cstdint>

#include "core/loss.h"
#include "core/philox.h"  // TF_HD

namespace tf::cpu {

// log(1 + exp(x)) without overflow.
template <class A>
TF_HD A softplus(A x) {
  return (x > A(0) ? x : A(0)) + std::log1p(std::exp(-std::fabs(x)));
}

template <class A>
TF_HD A sigmoid(A x) {
  if (x >= A(0)) return A(1) / (A(1) + std::exp(-x));
  const A e = std::exp(x);
  return e / (A(1) + e);
}

// coefficient * value, with 0 * inf taken as 0 (the convention 0 log 0 = 0 of the cross-entropies): a class with
// no target mass or weight adds nothing whatever its logit, so a masked (-inf) logit does not turn the loss NaN.
// A NaN value still propagates.
template <class A>
TF_HD A weigh(A coefficient, A value) {
  return coefficient == A(0) && std::isinf(value) ? A(0) : coefficient * value;
}

struct PlainProduct {
  TF_HD double operator()(double coefficient, double value) const { return coefficient * value; }
};
struct WeighedProduct {
  TF_HD double operator()(double coefficient, double value) const { return weigh(coefficient, value); }
};

// sum(times) of a row's coefficient * value terms, where a 0 * inf term counts 0 (weigh). The plain products
// run first and weigh only when their sum is NaN, so rows without such a term (or a NaN) do not pay for the
// test in their inner loop.
template <class Sum>
TF_HD double sum_weighed(Sum&& sum) {
  const double plain = sum(PlainProduct());
  return std::isnan(plain) ? sum(WeighedProduct()) : plain;
}

template <class A>
TF_HD A sign(A x) {
  return A(x > A(0)) - A(x < A(0));
}

// Pointwise loss functors: loss(x, t) and its derivative in x, in accumulate type A.
template <class A>
struct SquaredError {
  TF_HD A loss(A x, A t) const { return (x - t) * (x - t); }
  TF_HD A grad(A x, A t) const { return A(2) * (x - t); }
};

template <class A>
struct AbsoluteError {
  TF_HD A loss(A x, A t) const { return std::fabs(x - t); }
  TF_HD A grad(A x, A t) const { return sign(x - t); }
};

// Smooth L1 (beta): 0.5 d^2 / beta when |d| < beta, else |d| - 0.5 beta; beta = 0 is L1.
template <class A>
struct SmoothL1 {
  A beta;
  TF_HD A loss(A x, A t) const {
    const A d = std::fabs(x - t);
    return d < beta ? A(0.5) * d * d / beta : d - A(0.5) * beta;
  }
  TF_HD A grad(A x, A t) const { return std::fabs(x - t) < beta ? (x - t) / beta : sign(x - t); }
};

// Huber (delta): 0.5 d^2 when |d| <= delta, else delta (|d| - 0.5 delta).
template <class A>
struct Huber {
  A delta;
  TF_HD A loss(A x, A t) const {
    const A d = std::fabs(x - t);
    return d <= delta ? A(0.5) * d * d : delta * (d - A(0.5) * delta);
  }
  TF_HD A grad(A x, A t) const { return std::fabs(x - t) <= delta ? x - t : delta * sign(x - t); }
};

// BCE with logits and positive-class weight pw: pw t softplus(-x) + (1 - t) softplus(x); at x = +-inf the term
// whose coefficient is 0 adds 0 (so t = 1, x = +inf loses 0).
template <class A>
struct BceWithLogits {
  A pos_weight;
  TF_HD A loss(A x, A t) const { return weigh(pos_weight * t, softplus(-x)) + weigh(A(1) - t, softplus(x)); }
  TF_HD A grad(A x, A t) const { return pos_weight * t * (sigmoid(x) - A(1)) + (A(1) - t) * sigmoid(x); }
};

}  // namespace tf::cpu

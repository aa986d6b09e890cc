#include "cpu/optim.h"

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "core/thread_pool.h"
#include "cpu/avx512.h"

namespace tf::cpu {
namespace {

// f(i) for i in [begin, end), compiled for baseline x86-64 and for AVX-512 (f inlined into each).
template <class F>
TF_AVX512_CLONES void each_index(int64_t begin, int64_t end, F& f) {
  for (int64_t i = begin; i < end; ++i) f(i);
}

// The update rules are a few multiply-adds, a square root and a division per element: 16 lanes instead of 4
// where the CPU has AVX-512.
template <class F>
void for_each_element(int64_t n, F&& f) {
  parallel_for(n, kTaskWork, [&](int64_t begin, int64_t end) { each_index(begin, end, f); });
}

// Calls f with each flag as a compile-time constant (std::true_type / std::false_type), in order.
template <class F>
void with_constants(F&& f) {
  f();
}
template <class F, class... Rest>
void with_constants(F&& f, bool first, Rest... rest) {
  if (first) {
    with_constants([&](auto... c) { f(std::true_type{}, c...); }, rest...);
  } else {
    with_constants([&](auto... c) { f(std::false_type{}, c...); }, rest...);
  }
}


// The per-parameter fused kernels: one parameter's n elements, in place.

template <class T>
void sgd_one(const SgdParams& p, const ParamSlot<T>& slot) {
  const SgdUpdate<T> update = sgd_update_for(p, slot);
  T* param = slot.param;
  const T* grad = slot.grad;
  T* momentum_buf = slot.state[0];
  // As Adam's below: the flags as constants, so that the loop vectorizes (48K weights with momentum and weight
  // decay: 71 -> 8 us).
  with_constants(
      [&](auto momentum, auto nesterov, auto maximize, auto first_step, auto decays) {
        for_each_element(slot.n, [&](int64_t i) {
          SgdUpdate<T> fixed = update;
          if (!momentum) fixed.momentum = T(0);
          fixed.nesterov = nesterov;
          fixed.maximize = maximize;
          fixed.first_step = first_step;
          if (!decays) fixed.weight_decay = T(0);
          fixed(param[i], grad[i], momentum ? momentum_buf + i : nullptr);
        });
      },
      update.momentum != T(0), update.nesterov, update.maximize, update.first_step, update.weight_decay != T(0));
}

template <class T>
void adam_one(const AdamParams& p, const ParamSlot<T>& slot) {
  const AdamUpdate<T> update = adam_update_for(p, slot);
  T* param = slot.param;
  const T* grad = slot.grad;
  T *exp_avg = slot.state[0], *exp_avg_sq = slot.state[1], *max_exp_avg_sq = slot.state[2];
  // The rule's flags as constants in the loop: branches on them per element kept it from vectorizing (Adam
  // over LeNet-5's 48K-weight layer and an MLP's 200K: 3.6 ns per element before).
  with_constants(
      [&](auto amsgrad, auto maximize, auto decoupled, auto decays) {
        for_each_element(slot.n, [&](int64_t i) {
          AdamUpdate<T> fixed = update;
          fixed.amsgrad = amsgrad;
          fixed.maximize = maximize;
          fixed.decoupled = decoupled;
          if (!decays) fixed.weight_decay = T(0);
          fixed(param[i], grad[i], exp_avg[i], exp_avg_sq[i], amsgrad ? max_exp_avg_sq + i : nullptr);
        });
      },
      update.amsgrad, update.maximize, update.decoupled, update.weight_decay != T(0));
}

template <class T>
void rmsprop_one(const RmspropParams& p, const ParamSlot<T>& slot) {
  const RmspropUpdate<T> update = rmsprop_update_for(p, slot);
  T *square_avg = slot.state[0], *grad_avg = slot.state[1], *momentum_buf = slot.state[2];
  for_each_element(slot.n, [&](int64_t i) {
    update(slot.param[i], slot.grad[i], square_avg[i], grad_avg ? grad_avg + i : nullptr,
           momentum_buf ? momentum_buf + i : nullptr);
  });
}

template <class T>
void adagrad_one(const AdagradParams& p, const ParamSlot<T>& slot) {
  const AdagradUpdate<T> update = adagrad_update_for(p, slot);
  for_each_element(slot.n, [&](int64_t i) { update(slot.param[i], slot.grad[i], slot.state[0][i]); });
}

// sum of |x|^norm_type (or max |x| for Infinity) over fixed blocks in double, so the result does not depend on
// the thread count.
template <class T>
double norm_accumulation(int64_t n, const T* x, double norm_type) {
  const bool max_norm = std::isinf(norm_type);
  const int64_t blocks = (n + kTaskWork - 1) / kTaskWork;
  std::vector<double> partial(static_cast<size_t>(blocks), 0.0);
  parallel_for(blocks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      double acc = 0;
      for (int64_t i = b * kTaskWork; i < std::min(n, (b + 1) * kTaskWork); ++i) {
        const double a = std::fabs(double(x[i]));
        acc = max_norm ? combine_max(acc, a) : acc + norm_power(a, norm_type);
      }
      partial[size_t(b)] = acc;
    }
  });
  double total = 0;
  for (double v : partial) total = max_norm ? combine_max(total, v) : total + v;
  return total;
}

}  // namespace

template <class T>
void sgd_step(const SgdParams& p, const std::vector<ParamSlot<T>>& group) {
  for (const ParamSlot<T>& slot : group) sgd_one(p, slot);
}

template <class T>
void adam_step(const AdamParams& p, const std::vector<ParamSlot<T>>& group) {
  for (const ParamSlot<T>& slot : group) adam_one(p, slot);
}

template <class T>
void rmsprop_step(const RmspropParams& p, const std::vector<ParamSlot<T>>& group) {
  for (const ParamSlot<T>& slot : group) rmsprop_one(p, slot);
}

template <class T>
void adagrad_step(const AdagradParams& p, const std::vector<ParamSlot<T>>& group) {
  for (const ParamSlot<T>& slot : group) adagrad_one(p, slot);
}

template <class T>
void accumulate_norm(const std::vector<Span<const T>>& spans, double norm_type, double* acc) {
  for (const Span<const T>& s : spans) {
    const double part = norm_accumulation(s.n, s.data, norm_type);
    *acc = std::isinf(norm_type) ? combine_max(*acc, part) : *acc + part;
  }
}

template <class T>
void clip_by_norm(const std::vector<Span<T>>& spans, const double* total_norm, double max_norm) {
  const double coef = clip_coefficient(*total_norm, max_norm);
  if (coef >= 1) return;
  const T scale = T(coef);
  for (const Span<T>& s : spans) for_each_element(s.n, [&](int64_t i) { s.data[i] *= scale; });
}

template <class T>
void clamp_in_place(int64_t n, T* x, double lo, double hi) {
  const T low = T(lo), high = T(hi);
  for_each_element(n, [&](int64_t i) {
    const T v = x[i] < low ? low : x[i];
    x[i] = v > high ? high : v;
  });
}

TF_INSTANTIATE_OPTIM

}  // namespace tf::cpu

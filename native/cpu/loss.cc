// Legend: N batch, C classes, L extra dims, sample i = n * L + l; class c of sample i sits at
// (n * C + c) * L + l. Each sample's loss is computed in parallel into a double vector, then summed
// serially, so results do not depend on the thread count.
#include "cpu/loss.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "core/thread_pool.h"

namespace tf::cpu {
namespace {

// The upstream gradient of sample i: grad_out[i] for 'none', grad_out[0] for 'sum', grad_out[0] / denom for 'mean'.
template <class T>
struct Upstream {
  const T* grad_out;
  Reduction reduction;
  double denom;
  double operator()(int64_t i) const {
    switch (reduction) {
      case Reduction::None: return double(grad_out[i]);
      case Reduction::Sum: return double(grad_out[0]);
      case Reduction::Mean: break;
    }
    return double(grad_out[0]) / denom;
  }
};

// Computes loss_of(i) for every sample, writes them to `losses` when non-null, and reduces.
template <class T, class F>
double reduce_samples(int64_t count, int64_t work_per_sample, Reduction reduction, double denom, T* losses,
                      F&& loss_of) {
  std::vector<double> per(static_cast<size_t>(count));
  parallel_for(count, grain_for(work_per_sample), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) per[size_t(i)] = loss_of(i);
  });
  double sum = 0;
  for (int64_t i = 0; i < count; ++i) {
    sum += per[size_t(i)];
    if (losses) losses[i] = T(per[size_t(i)]);
  }
  return reduction == Reduction::Mean ? sum / denom : sum;
}

// The C class values of one sample, stride L apart.
template <class T>
struct ClassRow {
  T* data;
  int64_t stride;
  T& operator[](int64_t c) const { return data[c * stride]; }
};

template <class T>
ClassRow<T> class_row(T* base, const ClassLossParams& p, int64_t i) {
  return {base + (i / p.L) * p.C * p.L + i % p.L, p.L};
}

template <class T>
double weight_of(const T* weight, int64_t c) {
  return weight ? double(weight[c]) : 1.0;
}

// log sum_c exp(scale * z[c]), with the maximum subtracted.
template <class T>
double logsumexp(const ClassRow<const T>& z, int64_t C, double scale) {
  double mx = -std::numeric_limits<double>::infinity();
  for (int64_t c = 0; c < C; ++c) mx = std::max(mx, scale * double(z[c]));
  if (std::isinf(mx) && mx < 0) return mx;
  double sum = 0;
  for (int64_t c = 0; c < C; ++c) sum += std::exp(scale * double(z[c]) - mx);
  return mx + std::log(sum);
}

// Sum of w[target] over samples that are not ignored: the 'mean' denominator of CE and NLL.
template <class T>
double kept_weight_total(const ClassLossParams& p, const int32_t* target, const T* weight) {
  double total = 0;
  for (int64_t i = 0; i < p.samples(); ++i)
    if (!(p.has_ignore_index && target[i] == p.ignore_index)) total += weight_of(weight, target[i]);
  return total;
}

// Softmax cross-entropy with a coefficient vector a per sample (from make_row(i)):
//   loss_i = multiplier * (constant + sum_c a[c] * -log_softmax(scale * z)[c]),
//   d loss_i / d z[c] = multiplier * scale * (softmax[c] * sum(a) - a[c]).
// A row object has skip (loss 0, gradient 0), constant and a(c).
template <class T, class MakeRow>
double softmax_xent_forward(const ClassLossParams& p, const T* logits, double scale, double multiplier, double denom,
                            T* losses, MakeRow&& make_row) {
  return reduce_samples(p.samples(), 2 * p.C, p.reduction, denom, losses, [&](int64_t i) {
    const auto row = make_row(i);
    if (row.skip) return 0.0;
    const ClassRow<const T> z = class_row(logits, p, i);
    const double lse = logsumexp(z, p.C, scale);
    return multiplier * (row.constant + sum_weighed([&](auto times) {
                           double sum = 0;
                           for (int64_t c = 0; c < p.C; ++c) sum += times(row.a(c), lse - scale * double(z[c]));
                           return sum;
                         }));
  });
}

template <class T, class MakeRow>
void softmax_xent_backward(const ClassLossParams& p, const T* logits, double scale, double multiplier,
                           const Upstream<T>& upstream, T* grad_in, MakeRow&& make_row) {
  parallel_for(p.samples(), grain_for(3 * p.C), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const ClassRow<T> out = class_row(grad_in, p, i);
      const auto row = make_row(i);
      if (row.skip) {
        for (int64_t c = 0; c < p.C; ++c) out[c] = T(0);
        continue;
      }
      const ClassRow<const T> z = class_row(logits, p, i);
      const double lse = logsumexp(z, p.C, scale);
      double total = 0;
      for (int64_t c = 0; c < p.C; ++c) total += row.a(c);
      const double g = upstream(i) * multiplier * scale;
      for (int64_t c = 0; c < p.C; ++c)
        out[c] = T(g * (std::exp(scale * double(z[c]) - lse) * total - row.a(c)));
    }
  });
}

// Coefficients of class-index cross-entropy: (1 - e) w[y] at the target plus (e / C) w[c] everywhere.
template <class T>
struct ClassTargetRow {
  const T* weight;
  int64_t target;
  double at_target, smooth;
  bool skip;
  double constant = 0;
  double a(int64_t c) const { return (c == target ? at_target : 0.0) + smooth * weight_of(weight, c); }
};

template <class T>
auto class_target_rows(const ClassLossParams& p, const int32_t* target, const T* weight) {
  const double keep = 1 - p.label_smoothing, smooth = p.label_smoothing / double(p.C);
  return [=](int64_t i) {
    const int64_t y = target[i];
    const bool skip = p.has_ignore_index && y == p.ignore_index;
    return ClassTargetRow<T>{weight, y, skip ? 0.0 : keep * weight_of(weight, y), smooth, skip};
  };
}

// Coefficients of probability-target cross-entropy: w[c] ((1 - e) t[c] + e / C).
template <class T>
struct ProbTargetRow {
  ClassRow<const T> target;
  const T* weight;
  double keep, smooth;
  bool skip = false;
  double constant = 0;
  double a(int64_t c) const { return weight_of(weight, c) * (keep * double(target[c]) + smooth); }
};

template <class T>
auto prob_target_rows(const ClassLossParams& p, const T* target, const T* weight) {
  const double keep = 1 - p.label_smoothing, smooth = p.label_smoothing / double(p.C);
  return [=](int64_t i) { return ProbTargetRow<T>{class_row(target, p, i), weight, keep, smooth}; };
}

// Coefficients of distillation: q = softmax(scale * teacher); constant = sum q log q.
template <class T>
struct TeacherRow {
  ClassRow<const T> teacher;
  double scale, lse;
  bool skip = false;
  double constant = 0;
  double log_q(int64_t c) const { return scale * double(teacher[c]) - lse; }
  double a(int64_t c) const { return std::exp(log_q(c)); }
};

template <class T>
auto teacher_rows(const ClassLossParams& p, const T* teacher, double scale) {
  return [=](int64_t i) {
    TeacherRow<T> row{class_row(teacher, p, i), scale, 0.0};
    row.lse = logsumexp(row.teacher, p.C, scale);
    for (int64_t c = 0; c < p.C; ++c) row.constant += weigh(row.a(c), row.log_q(c));
    return row;
  };
}

ClassLossParams kl_as_class_loss(const KlDistillParams& p) {
  ClassLossParams c;
  c.N = p.N;
  c.C = p.C;
  c.L = 1;
  c.has_ignore_index = false;
  c.reduction = Reduction::Mean;
  return c;
}

// The reduced loss into loss[0], when asked for.
template <class T>
void store(T* loss, double value) {
  if (loss) *loss = T(value);
}

// Calls run(make) with make(i) returning the pointwise functor for element i.
template <class T, class Run>
auto visit_pointwise(const PointwiseLossParams& p, const T* pos_weight, Run&& run) {
  switch (p.kind) {
    case PointwiseKind::Mse: return run([](int64_t) { return SquaredError<double>{}; });
    case PointwiseKind::L1: return run([](int64_t) { return AbsoluteError<double>{}; });
    case PointwiseKind::SmoothL1: return run([&](int64_t) { return SmoothL1<double>{p.param}; });
    case PointwiseKind::Huber: return run([&](int64_t) { return Huber<double>{p.param}; });
    case PointwiseKind::BceWithLogits: break;
  }
  return run([&](int64_t i) { return BceWithLogits<double>{pos_weight ? double(pos_weight[i % p.last_dim]) : 1.0}; });
}

}  // namespace

template <class T>
void pointwise_loss_forward(const PointwiseLossParams& p, const T* input, const T* target, const T* pos_weight,
                            T* losses, T* loss) {
  store(loss, visit_pointwise(p, pos_weight, [&](auto make) {
    return reduce_samples(p.n, 1, p.reduction, double(p.n), losses,
                          [&](int64_t i) { return make(i).loss(double(input[i]), double(target[i])); });
  }));
}

template <class T>
void pointwise_loss_backward(const PointwiseLossParams& p, const T* input, const T* target, const T* pos_weight,
                             const T* grad_out, T* grad_in) {
  const Upstream<T> upstream{grad_out, p.reduction, double(p.n)};
  visit_pointwise(p, pos_weight, [&](auto make) {
    parallel_for(p.n, kTaskWork, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i)
        grad_in[i] = T(upstream(i) * make(i).grad(double(input[i]), double(target[i])));
    });
    return 0;
  });
}

template <class T>
void cross_entropy_forward(const ClassLossParams& p, const T* logits, const int32_t* target, const T* weight,
                           T* losses, T* loss) {
  store(loss, softmax_xent_forward(p, logits, 1.0, 1.0, kept_weight_total(p, target, weight), losses,
                                   class_target_rows(p, target, weight)));
}

template <class T>
void cross_entropy_backward(const ClassLossParams& p, const T* logits, const int32_t* target, const T* weight,
                            const T* grad_out, T* grad_in) {
  const Upstream<T> upstream{grad_out, p.reduction, kept_weight_total(p, target, weight)};
  softmax_xent_backward(p, logits, 1.0, 1.0, upstream, grad_in, class_target_rows(p, target, weight));
}

template <class T>
void cross_entropy_prob_forward(const ClassLossParams& p, const T* logits, const T* target, const T* weight,
                                T* losses, T* loss) {
  store(loss, softmax_xent_forward(p, logits, 1.0, 1.0, double(p.samples()), losses,
                                   prob_target_rows(p, target, weight)));
}

template <class T>
void cross_entropy_prob_backward(const ClassLossParams& p, const T* logits, const T* target, const T* weight,
                                 const T* grad_out, T* grad_in) {
  const Upstream<T> upstream{grad_out, p.reduction, double(p.samples())};
  softmax_xent_backward(p, logits, 1.0, 1.0, upstream, grad_in, prob_target_rows(p, target, weight));
}

template <class T>
void nll_forward(const ClassLossParams& p, const T* log_probs, const int32_t* target, const T* weight, T* losses,
                 T* loss) {
  store(loss, reduce_samples(p.samples(), 1, p.reduction, kept_weight_total(p, target, weight), losses, [&](int64_t i) {
    const int64_t y = target[i];
    if (p.has_ignore_index && y == p.ignore_index) return 0.0;
    return -weigh(weight_of(weight, y), double(class_row(log_probs, p, i)[y]));
  }));
}

template <class T>
void nll_backward(const ClassLossParams& p, const int32_t* target, const T* weight, const T* grad_out, T* grad_in) {
  const Upstream<T> upstream{grad_out, p.reduction, kept_weight_total(p, target, weight)};
  parallel_for(p.samples(), grain_for(p.C), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const ClassRow<T> out = class_row(grad_in, p, i);
      for (int64_t c = 0; c < p.C; ++c) out[c] = T(0);
      const int64_t y = target[i];
      if (!(p.has_ignore_index && y == p.ignore_index)) out[y] = T(-weight_of(weight, y) * upstream(i));
    }
  });
}

template <class T>
void multi_margin_forward(const ClassLossParams& p, double margin, const T* input, const int32_t* target,
                          const T* weight, T* losses, T* loss) {
  store(loss, reduce_samples(p.samples(), p.C, p.reduction, double(p.samples()), losses, [&](int64_t i) {
    const ClassRow<const T> x = class_row(input, p, i);
    const int64_t y = target[i];
    double sum = 0;
    for (int64_t c = 0; c < p.C; ++c)
      if (c != y) sum += std::max(0.0, margin - double(x[y]) + double(x[c]));
    return weigh(weight_of(weight, y), sum) / double(p.C);
  }));
}

template <class T>
void multi_margin_backward(const ClassLossParams& p, double margin, const T* input, const int32_t* target,
                           const T* weight, const T* grad_out, T* grad_in) {
  const Upstream<T> upstream{grad_out, p.reduction, double(p.samples())};
  parallel_for(p.samples(), grain_for(p.C), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const ClassRow<const T> x = class_row(input, p, i);
      const ClassRow<T> out = class_row(grad_in, p, i);
      const int64_t y = target[i];
      const double g = upstream(i) * weight_of(weight, y) / double(p.C);
      double at_target = 0;
      for (int64_t c = 0; c < p.C; ++c) {
        const bool active = c != y && margin - double(x[y]) + double(x[c]) > 0;
        out[c] = T(active ? g : 0.0);
        if (active) at_target -= g;
      }
      out[y] = T(at_target);
    }
  });
}

template <class T>
void kl_distill_forward(const KlDistillParams& p, const T* student, const T* teacher, T* losses, T* loss) {
  const ClassLossParams cp = kl_as_class_loss(p);
  const double scale = 1.0 / p.temperature;
  store(loss, softmax_xent_forward(cp, student, scale, p.temperature * p.temperature, double(p.N), losses,
                                   teacher_rows(cp, teacher, scale)));
}

template <class T>
void kl_distill_backward(const KlDistillParams& p, const T* student, const T* teacher, const T* grad_out,
                         T* grad_student) {
  const ClassLossParams cp = kl_as_class_loss(p);
  const double scale = 1.0 / p.temperature;
  const Upstream<T> upstream{grad_out, Reduction::Mean, double(p.N)};
  softmax_xent_backward(cp, student, scale, p.temperature * p.temperature, upstream, grad_student,
                        teacher_rows(cp, teacher, scale));
}

TF_INSTANTIATE_LOSS

}  // namespace tf::cpu

#include "cpu/reduce.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "core/strided.h"
#include "core/thread_pool.h"
#include "cpu/avx512.h"
#include "cpu/scratch.h"
#include "cpu/sums.h"

namespace tf::cpu {
namespace {

// Visits every element of one reduced block in row-major order: f(value, flat_position).
template <class T, class F>
void visit_block(const StridedLayout<1>& block, const T* base, F&& f) {
  const int64_t inner = block.inner(), st = block.strides[0][block.ndim - 1];
  int64_t pos = 0;
  for (int64_t r = 0; r < block.rows(); ++r) {
    const T* p = base + block.row_offsets(r)[0];
    for (int64_t i = 0; i < inner; ++i) f(double(p[i * st]), pos++);
  }
}

// Sum of one reduced block in double. Unit-stride rows of float or double go through sum_of's vector partial
// sums; element by element, `acc += v` is one serial chain of dependent adds (sum over 16M floats: 4.7 GB/s).
template <class T>
double block_sum(const StridedLayout<1>& block, const T* base) {
  double acc = 0;
  if constexpr (std::is_floating_point_v<T>) {
    if (block.strides[0][block.ndim - 1] == 1) {
      for (int64_t r = 0; r < block.rows(); ++r) acc += sum_of(base + block.row_offsets(r)[0], block.inner());
      return acc;
    }
  }
  visit_block(block, base, [&](double v, int64_t) { acc += v; });
  return acc;
}

#ifdef TF_AVX512_KERNELS
// The position of the first maximum (or minimum) of a float row, or of its first NaN, which wins as in PyTorch:
// each lane keeps its extreme, where it first saw it, and where it first saw a NaN; the lanes are merged at the
// end. Element by element in double, with a NaN test each, max over rows of 4096 floats ran at 4.5 GB/s.
// (GCC 12 warns that the lane reductions' unused pass-through operand may be uninitialized: GCC bug 105593.)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
template <bool kMax>
TF_AVX512 int64_t first_extreme_avx512(const float* x, int64_t n) {
  constexpr int kBetter = kMax ? _CMP_GT_OQ : _CMP_LT_OQ;
  const int64_t whole = n - n % 16;
  __m512 best = _mm512_set1_ps(x[0]);
  __m512i best_at = _mm512_setzero_si512(), nan_at = _mm512_set1_epi32(int32_t(n));
  __m512i at = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i step = _mm512_set1_epi32(16);
  __mmask16 seen_nan = 0;
  for (int64_t i = 0; i < whole; i += 16, at = _mm512_add_epi32(at, step)) {
    const __m512 v = _mm512_loadu_ps(x + i);
    const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    nan_at = _mm512_mask_mov_epi32(nan_at, __mmask16(nan & ~seen_nan), at);
    seen_nan = __mmask16(seen_nan | nan);
    const __mmask16 take = _mm512_cmp_ps_mask(v, best, kBetter);
    best = _mm512_mask_mov_ps(best, take, v);
    best_at = _mm512_mask_mov_epi32(best_at, take, at);
  }
  int64_t first_nan = _mm512_reduce_min_epi32(nan_at);
  float value = kMax ? _mm512_reduce_max_ps(best) : _mm512_reduce_min_ps(best);
  const __mmask16 holding = _mm512_cmp_ps_mask(best, _mm512_set1_ps(value), _CMP_EQ_OQ);
  int64_t found = _mm512_reduce_min_epi32(_mm512_mask_mov_epi32(_mm512_set1_epi32(int32_t(n)), holding, best_at));
  for (int64_t i = whole; i < n; ++i) {
    if (x[i] != x[i]) first_nan = std::min(first_nan, i);
    if (kMax ? x[i] > value : x[i] < value) {
      value = x[i];
      found = i;
    }
  }
  return first_nan < n ? first_nan : found;
}
#pragma GCC diagnostic pop
#endif

template <class T>
double reduce_block(ReduceOp op, const StridedLayout<1>& block, const T* base, int64_t count, int32_t* index,
                    double param) {
  switch (op) {
    case ReduceOp::SUM:
    case ReduceOp::MEAN: {
      const double acc = block_sum(block, base);
      return op == ReduceOp::MEAN ? acc / double(count) : acc;
    }
    case ReduceOp::PROD: {
      double acc = 1;
      visit_block(block, base, [&](double v, int64_t) { acc *= v; });
      return acc;
    }
    case ReduceOp::VAR: {
      double sq = 0;
      const double mean = block_sum(block, base) / double(count);
      visit_block(block, base, [&](double v, int64_t) { sq += (v - mean) * (v - mean); });
      return sq / std::max(0.0, double(count) - param);
    }
    case ReduceOp::LOGSUMEXP: {
      double mx = -std::numeric_limits<double>::infinity(), acc = 0;
      visit_block(block, base, [&](double v, int64_t) { mx = std::max(mx, v); });
      const double shift = logsumexp_shift(mx);
      visit_block(block, base, [&](double v, int64_t) { acc += std::exp(v - shift); });
      return shift + std::log(acc);
    }
    case ReduceOp::NORM: {
      double acc = 0;
      if (std::isinf(param)) {
        visit_block(block, base, [&](double v, int64_t) { acc = std::max(acc, std::fabs(v)); });
        return acc;
      }
      visit_block(block, base, [&](double v, int64_t) {
        acc += param == 2 ? v * v : param == 1 ? std::fabs(v) : std::pow(std::fabs(v), param);
      });
      return param == 2 ? std::sqrt(acc) : param == 1 ? acc : std::pow(acc, 1.0 / param);
    }
    case ReduceOp::MAX:
    case ReduceOp::MIN:
    case ReduceOp::ARGMAX:
    case ReduceOp::ARGMIN: {
      const bool want_max = op == ReduceOp::MAX || op == ReduceOp::ARGMAX;
#ifdef TF_AVX512_KERNELS
      if constexpr (std::is_same_v<T, float>) {
        if (has_avx512() && block.rows() == 1 && block.strides[0][block.ndim - 1] == 1 && count > 0) {
          const int64_t at =
              want_max ? first_extreme_avx512<true>(base, count) : first_extreme_avx512<false>(base, count);
          if (index) *index = int32_t(at);
          return double(base[at]);
        }
      }
#endif
      double best = 0;
      int64_t best_pos = -1;
      visit_block(block, base, [&](double v, int64_t pos) {
        if (best_pos >= 0 && std::isnan(best)) return;
        if (best_pos < 0 || std::isnan(v) || (want_max ? v > best : v < best)) {
          best = v;
          best_pos = pos;
        }
      });
      if (index) *index = int32_t(best_pos);
      return best;
    }
    default: return 0;
  }
}

// SUM and MEAN where the kept elements lie in unit-stride runs and every reduced dim outside them (x.sum(0) of a
// matrix): each reduced position adds a run of the input into a run of double accumulators, walking the input
// in memory order. One output's column at a time instead took a TLB miss per element (4096x4096 on 1 thread:
// sum(0) 122 ms, against 2.4 for sum(1); runs of 256 took 12 ms, of 4096 6 ms). The sums are the column
// walk's, in the same order.
constexpr int64_t kColumnRun = 4096;  // accumulators per run: 32 KiB of doubles

// acc[j] += in[j] for j in [0, len).
template <class T>
TF_AVX512_CLONES void add_run(const T* in, int64_t len, double* acc) {
  for (int64_t j = 0; j < len; ++j) acc[j] += double(in[j]);
}

template <class T>
void sum_columns(bool mean, const StridedLayout<1>& block, const StridedLayout<1>& kept, T* out, const T* x) {
  const int64_t kept_inner = kept.inner(), inner = block.inner(), step = block.strides[0][block.ndim - 1];
  // at least one run per thread
  const int64_t run_len = std::min(kColumnRun, (kept_inner + num_threads() - 1) / num_threads());
  const int64_t runs_per_row = (kept_inner + run_len - 1) / run_len;
  parallel_for(kept.rows() * runs_per_row, grain_for(block.numel * run_len), [&](int64_t r0, int64_t r1) {
    double* acc = scratch<double, Scratch::kRows>(run_len);
    for (int64_t run = r0; run < r1; ++run) {
      const int64_t row = run / runs_per_row, first = (run % runs_per_row) * run_len;
      const int64_t len = std::min(run_len, kept_inner - first);
      const T* src = x + kept.row_offsets(row)[0] + first;
      std::fill(acc, acc + len, 0.0);
      auto cursor = block.row_cursor(0);
      for (int64_t r = 0; r < block.rows(); ++r, block.next_row(cursor))
        for (int64_t i = 0; i < inner; ++i) add_run(src + cursor.off[0] + i * step, len, acc);
      T* dst = out + row * kept_inner + first;
      for (int64_t j = 0; j < len; ++j) dst[j] = T(mean ? acc[j] / double(block.numel) : acc[j]);
    }
  });
}

}  // namespace

template <class T>
void reduce(ReduceOp op, const ReduceShape& shape, const T* x, T* out, int32_t* index, double param) {
  const StridedLayout<1> block(shape.reduced_shape, {&shape.reduced_strides});
  const StridedLayout<1> kept(shape.kept_shape, {&shape.kept_strides});
  const int64_t count = block.numel, outer = kept.numel;
  const bool arg = op == ReduceOp::ARGMAX || op == ReduceOp::ARGMIN;
  const int64_t kept_inner = kept.inner(), kept_stride = kept.strides[0][kept.ndim - 1];
  if ((op == ReduceOp::SUM || op == ReduceOp::MEAN) && kept_stride == 1 && kept_inner > 1)
    return sum_columns(op == ReduceOp::MEAN, block, kept, out, x);
  parallel_for(outer, grain_for(count), [&](int64_t o0, int64_t o1) {
    for (int64_t o = o0; o < o1; ++o) {
      const int64_t base = kept.row_offsets(o / kept_inner)[0] + (o % kept_inner) * kept_stride;
      const double v = reduce_block(op, block, x + base, count, index ? index + o : nullptr, param);
      if (!arg) out[o] = T(v);
    }
  });
}

template <class T>
void softmax(const T* x, T* y, int64_t rows, int64_t n, bool log) {
  parallel_for(rows, std::max<int64_t>(1, 8192 / std::max<int64_t>(1, n)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* xr = x + r * n;
      T* yr = y + r * n;
      T mx = -std::numeric_limits<T>::infinity();
      for (int64_t i = 0; i < n; ++i) mx = std::max(mx, xr[i]);
      double sum = 0;
      for (int64_t i = 0; i < n; ++i) {
        const T e = std::exp(xr[i] - mx);
        yr[i] = e;
        sum += e;
      }
      if (log) {
        const T lse = T(std::log(sum)) + mx;
        for (int64_t i = 0; i < n; ++i) yr[i] = xr[i] - lse;
      } else {
        const T inv = T(1.0 / sum);
        for (int64_t i = 0; i < n; ++i) yr[i] *= inv;
      }
    }
  });
}

template <class T>
void softmax_backward(const T* g, const T* y, T* gx, int64_t rows, int64_t n, bool log) {
  parallel_for(rows, std::max<int64_t>(1, 8192 / std::max<int64_t>(1, n)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* gr = g + r * n;
      const T* yr = y + r * n;
      T* out = gx + r * n;
      double dot = 0;
      if (log) {
        for (int64_t i = 0; i < n; ++i) dot += gr[i];
        for (int64_t i = 0; i < n; ++i) out[i] = gr[i] - std::exp(yr[i]) * T(dot);
      } else {
        for (int64_t i = 0; i < n; ++i) dot += double(gr[i]) * yr[i];
        for (int64_t i = 0; i < n; ++i) out[i] = yr[i] * (gr[i] - T(dot));
      }
    }
  });
}

template <class T>
void index_select(const T* x, const int32_t* idx, T* out, int64_t outer, int64_t dim, int64_t n_idx, int64_t inner) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < n_idx; ++j)
      std::copy_n(x + (o * dim + idx[j]) * inner, inner, out + (o * n_idx + j) * inner);
}

template <class T>
void index_add(const T* src, const int32_t* idx, T* out, int64_t outer, int64_t dim, int64_t n_idx, int64_t inner) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < n_idx; ++j) {
      const T* s = src + (o * n_idx + j) * inner;
      T* d = out + (o * dim + idx[j]) * inner;
      for (int64_t i = 0; i < inner; ++i) d[i] += s[i];
    }
}

template <class T>
void gather(const T* x, const int32_t* idx, T* out, int64_t outer, int64_t dim, int64_t n_idx, int64_t inner) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < n_idx; ++j)
      for (int64_t i = 0; i < inner; ++i) {
        const int64_t k = (o * n_idx + j) * inner + i;
        out[k] = x[(o * dim + idx[k]) * inner + i];
      }
}

template <class T>
void scatter_add(const T* src, const int32_t* idx, T* out, int64_t outer, int64_t dim, int64_t n_idx, int64_t inner) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < n_idx; ++j)
      for (int64_t i = 0; i < inner; ++i) {
        const int64_t k = (o * n_idx + j) * inner + i;
        out[(o * dim + idx[k]) * inner + i] += src[k];
      }
}

TF_INSTANTIATE_REDUCE
TF_INSTANTIATE_INDEX_OPS

}  // namespace tf::cpu

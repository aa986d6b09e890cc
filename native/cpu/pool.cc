// Pooling as one loop nest per reduction (max, average), parameterized by how a window's taps are found
// along each axis: a strided, dilated kernel clipped to the input, or an adaptive range. Planes run in
// parallel, so backward scatters never race.
#include "cpu/pool.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "core/thread_pool.h"
#include "cpu/avx512.h"

namespace tf::cpu {
namespace {

using Taps = PoolTaps;

// The taps of every output row and column, computed once per call rather than once per window.
template <class TapsOf>
std::vector<Taps> all_taps(int64_t count, TapsOf taps_of) {
  std::vector<Taps> taps(count);
  for (int64_t o = 0; o < count; ++o) taps[o] = taps_of(o);
  return taps;
}

// Runs fn(plane) over all N*C planes in parallel; work_per_plane sizes the chunks.
template <class F>
void over_planes(const PoolShape& s, int64_t work_per_plane, F&& fn) {
  parallel_for(s.planes(), grain_for(work_per_plane),
               [&](int64_t p0, int64_t p1) {
                 for (int64_t plane = p0; plane < p1; ++plane) fn(plane);
               });
}

// Max over taps rows x cols of `in` (window positions relative to the plane); the first NaN wins, as in
// PyTorch, and !(v <= best) is one compare for "greater, or NaN". KH/KW > 0 fix an unrolled full window of
// unit steps; 0 reads the sizes from the taps.
template <int KH, int KW, class T>
inline void window_max(const T* in, int64_t W, const Taps& rows, const Taps& cols, T& best, int64_t& best_at) {
  const int64_t kh = KH ? KH : rows.count, kw = KW ? KW : cols.count;
  const int64_t row_step = KH ? W : rows.step * W, col_step = KW ? 1 : cols.step;
  for (int64_t i = 0, at_row = rows.first * W + cols.first; i < kh; ++i, at_row += row_step) {
    for (int64_t j = 0, at = at_row; j < kw; ++j, at += col_step) {
      const T v = in[at];
      if (!(v <= best)) {
        best = v;
        best_at = at;
        if (v != v) return;
      }
    }
  }
}

template <class T, class RowTaps, class ColTaps>
void max_forward(const PoolShape& s, RowTaps row_taps, ColTaps col_taps, int64_t window, const T* x, T* y,
                 int32_t* idx) {
  const int64_t HW = s.H * s.W, PQ = s.P * s.Q, W = s.W;
  const std::vector<Taps> row_list = all_taps(s.P, row_taps), col_list = all_taps(s.Q, col_taps);
  over_planes(s, PQ * window, [&](int64_t plane) {
    const T* in = x + plane * HW;
    T* y_plane = y + plane * PQ;
    int32_t* idx_plane = idx + plane * PQ;
    for (int64_t oh = 0; oh < s.P; ++oh) {
      const Taps rows = row_list[oh];
      for (int64_t ow = 0; ow < s.Q; ++ow) {
        const Taps cols = col_list[ow];
        T best = -std::numeric_limits<T>::infinity();
        int64_t best_at = rows.count && cols.count ? rows.first * W + cols.first : -1;
        const bool unit = rows.step == 1 && cols.step == 1;
        if (unit && rows.count == 2 && cols.count == 2)  // the common 2x2 window, unrolled
          window_max<2, 2>(in, W, rows, cols, best, best_at);
        else if (unit && rows.count == 3 && cols.count == 3)
          window_max<3, 3>(in, W, rows, cols, best, best_at);
        else
          window_max<0, 0>(in, W, rows, cols, best, best_at);
        y_plane[oh * s.Q + ow] = best;
        idx_plane[oh * s.Q + ow] = int32_t(best_at);
      }
    }
  });
}

// Average pooling forward (backward = false: y from x) or backward (dx from dy); divisor(oh, ow, rows, cols).
template <bool backward, class T, class RowTaps, class ColTaps, class Divisor>
void avg(const PoolShape& s, RowTaps row_taps, ColTaps col_taps, Divisor divisor, int64_t window, const T* src,
         T* dst) {
  const int64_t HW = s.H * s.W, PQ = s.P * s.Q;
  const std::vector<Taps> row_list = all_taps(s.P, row_taps), col_list = all_taps(s.Q, col_taps);
  over_planes(s, PQ * window, [&](int64_t plane) {
    T* dx = dst + plane * HW;
    if (backward) std::fill(dx, dx + HW, T(0));
    for (int64_t oh = 0; oh < s.P; ++oh) {
      const Taps rows = row_list[oh];
      for (int64_t ow = 0; ow < s.Q; ++ow) {
        const Taps cols = col_list[ow];
        const T scale = T(1) / T(divisor(oh, ow, rows, cols));
        const int64_t out = plane * PQ + oh * s.Q + ow;
        if (backward) {
          const T g = src[out] * scale;
          for (int64_t i = 0; i < rows.count; ++i)
            for (int64_t j = 0; j < cols.count; ++j) dx[(rows.first + i * rows.step) * s.W + cols.first + j * cols.step] += g;
        } else {
          const T* in = src + plane * HW;
          T sum = 0;
          for (int64_t i = 0; i < rows.count; ++i)
            for (int64_t j = 0; j < cols.count; ++j) sum += in[(rows.first + i * rows.step) * s.W + cols.first + j * cols.step];
          dst[out] = sum * scale;
        }
      }
    }
  });
}

auto row_taps(const Pool2dParams& p) {
  return [&p](int64_t o) { return pool_row_taps(p, o); };
}
auto col_taps(const Pool2dParams& p) {
  return [&p](int64_t o) { return pool_col_taps(p, o); };
}

auto avg_divisor(const Pool2dParams& p, bool count_include_pad) {
  return [&p, count_include_pad](int64_t oh, int64_t ow, Taps rows, Taps cols) {
    return avg_pool_divisor(p, count_include_pad, oh, ow, rows, cols);
  };
}

auto adaptive_rows(const PoolShape& s) {
  return [&s](int64_t o) { return adaptive_taps(o, s.H, s.P); };
}
auto adaptive_cols(const PoolShape& s) {
  return [&s](int64_t o) { return adaptive_taps(o, s.W, s.Q); };
}
int64_t adaptive_window(const PoolShape& s) { return (s.H / s.P + 2) * (s.W / s.Q + 2); }
int64_t adaptive_count(int64_t, int64_t, Taps rows, Taps cols) { return rows.count * cols.count; }

// The classic 2x2 / stride 2 pool with every window inside the input, a row of windows at a time.
bool plain_2x2(const Pool2dParams& p) {
  return p.kernel_h == 2 && p.kernel_w == 2 && p.stride_h == 2 && p.stride_w == 2 && p.pad_h == 0 && p.pad_w == 0 &&
         p.dil_h == 1 && p.dil_w == 1 && 2 * p.P <= p.H && 2 * p.Q <= p.W;
}

// One row of Q windows over input rows top and top + W, the first at plane offset `row`: the max and the first
// position holding it are selects over the row, which vectorize ([64,64,32,32] after ReLU: 3.4 -> 1.6 ms
// against one window at a time with a bit-scan per window). Returns whether the rows hold a NaN, in which case
// the row is redone by max_row_2x2_nan.
template <class T>
bool max_row_2x2(const T* top, int64_t W, int64_t Q, int32_t row, T* y_row, int32_t* idx_row) {
  const T* bottom = top + W;
  int nan = 0;
  for (int64_t ow = 0; ow < Q; ++ow) {
    const T a0 = top[2 * ow], a1 = top[2 * ow + 1], b0 = bottom[2 * ow], b1 = bottom[2 * ow + 1];
    nan |= int(a0 != a0) | int(a1 != a1) | int(b0 != b0) | int(b1 != b1);
    const T m = std::max(std::max(a0, a1), std::max(b0, b1));
    const int32_t at = row + int32_t(2 * ow);
    int32_t best = at + int32_t(W) + 1;
    T value = b1;
    best = b0 == m ? at + int32_t(W) : best;
    value = b0 == m ? b0 : value;
    best = a1 == m ? at + 1 : best;
    value = a1 == m ? a1 : value;
    best = a0 == m ? at : best;
    value = a0 == m ? a0 : value;
    y_row[ow] = value;
    idx_row[ow] = best;
  }
  return nan;
}

// A row holding a NaN, window by window: the first NaN wins, as in PyTorch.
template <class T>
void max_row_2x2_nan(const T* in, int64_t W, int64_t Q, int64_t row, T* y_row, int32_t* idx_row) {
  for (int64_t ow = 0; ow < Q; ++ow) {
    const int64_t taps[4] = {row + 2 * ow, row + 2 * ow + 1, row + W + 2 * ow, row + W + 2 * ow + 1};
    int64_t best_at = taps[0];
    for (int k = 0; k < 4; ++k) {
      const T v = in[taps[k]];
      if (v != v) {
        best_at = taps[k];
        break;
      }
      if (v > in[best_at]) best_at = taps[k];
    }
    y_row[ow] = in[best_at];
    idx_row[ow] = int32_t(best_at);
  }
}

#ifdef TF_AVX512_KERNELS
// The float row above, 16 windows to a vector: each input row's even and odd columns are two permutes of the
// 32 columns under 16 windows. Same results, bit for bit. On 1 thread, [64,6,28,28]: 103 -> 46 us; [64,16,10,10]
// (5 windows a row): 50 -> 43 us.
// _mm512_max_ps, through the zero-masked form: GCC 12 warns that the plain form's undefined pass-through
// operand may be used uninitialized.
TF_AVX512 __m512 max16(__m512 a, __m512 b) { return _mm512_maskz_max_ps(__mmask16(0xFFFF), a, b); }

// Masks of the first `n` lanes, and of the 2n columns under n <= 16 windows split over two vectors.
struct LaneMasks {
  __mmask16 windows, lo, hi;
};
LaneMasks lane_masks(int64_t n) {
  const uint64_t cols = (uint64_t(1) << (2 * n)) - 1;  // without first_lanes' clamps: once per row of windows
  return {__mmask16((1u << n) - 1), __mmask16(cols), __mmask16(cols >> 16)};
}

TF_AVX512 bool max_row_2x2_avx512(const float* top, int64_t W, int64_t Q, int32_t row, float* y_row,
                                  int32_t* idx_row) {
  const __m512i even = even_lanes();  // 2 * lane: a window's first column
  const __m512i down = _mm512_set1_epi32(int32_t(W)), one = _mm512_set1_epi32(1);
  const float* bottom = top + W;
  __mmask16 nan = 0;
  for (int64_t ow = 0; ow < Q; ow += 16) {
    const LaneMasks k = lane_masks(std::min<int64_t>(16, Q - ow));
    const float *t = top + 2 * ow, *b = bottom + 2 * ow;
    const __m512 t_lo = _mm512_maskz_loadu_ps(k.lo, t), t_hi = _mm512_maskz_loadu_ps(k.hi, t + 16);
    const __m512 b_lo = _mm512_maskz_loadu_ps(k.lo, b), b_hi = _mm512_maskz_loadu_ps(k.hi, b + 16);
    const EvenOdd upper = even_odd(t_lo, t_hi), lower = even_odd(b_lo, b_hi);
    const __m512 a0 = upper.even, a1 = upper.odd, b0 = lower.even, b1 = lower.odd;
    nan |= _mm512_cmp_ps_mask(a0, a1, _CMP_UNORD_Q) | _mm512_cmp_ps_mask(b0, b1, _CMP_UNORD_Q);
    const __m512 m = max16(max16(a0, a1), max16(b0, b1));
    const __m512i at = _mm512_add_epi32(_mm512_set1_epi32(row + int32_t(2 * ow)), even);
    const __m512i at_down = _mm512_add_epi32(at, down);
    __m512i best = _mm512_add_epi32(at_down, one);
    __m512 value = b1;
    __mmask16 eq = _mm512_cmp_ps_mask(b0, m, _CMP_EQ_OQ);
    best = _mm512_mask_mov_epi32(best, eq, at_down);
    value = _mm512_mask_mov_ps(value, eq, b0);
    eq = _mm512_cmp_ps_mask(a1, m, _CMP_EQ_OQ);
    best = _mm512_mask_mov_epi32(best, eq, _mm512_add_epi32(at, one));
    value = _mm512_mask_mov_ps(value, eq, a1);
    eq = _mm512_cmp_ps_mask(a0, m, _CMP_EQ_OQ);
    best = _mm512_mask_mov_epi32(best, eq, at);
    value = _mm512_mask_mov_ps(value, eq, a0);
    _mm512_mask_storeu_ps(y_row + ow, k.windows, value);
    _mm512_mask_storeu_epi32(idx_row + ow, k.windows, best);
  }
  return nan;
}
#endif

// The row kernel for T: the AVX-512 one for float where the CPU has it.
template <class T>
auto max_row_kernel() {
  auto kernel = max_row_2x2<T>;
#ifdef TF_AVX512_KERNELS
  if constexpr (std::is_same_v<T, float>)
    if (has_avx512()) kernel = max_row_2x2_avx512;
#endif
  return kernel;
}

template <class T>
void max_pool2x2(const Pool2dParams& p, const T* x, T* y, int32_t* idx) {
  const int64_t HW = p.H * p.W, PQ = p.P * p.Q, W = p.W, Q = p.Q;
  const auto max_row = max_row_kernel<T>();
  over_planes(p, PQ * 4, [&](int64_t plane) {
    const T* in = x + plane * HW;
    for (int64_t oh = 0; oh < p.P; ++oh) {
      const int64_t row = 2 * oh * W, out = plane * PQ + oh * Q;
      if (max_row(in + row, W, Q, int32_t(row), y + out, idx + out))
        max_row_2x2_nan(in, W, Q, row, y + out, idx + out);
    }
  });
}

// dx[plane][idx] += dy in output order: planes run in parallel, so the scatter never races.
template <class T>
void max_backward(const PoolShape& s, const T* dy, const int32_t* idx, T* dx) {
  const int64_t HW = s.H * s.W, PQ = s.P * s.Q;
  over_planes(s, HW + PQ, [&](int64_t plane) {
    T* out = dx + plane * HW;
    std::fill(out, out + HW, T(0));
    for (int64_t i = plane * PQ; i < (plane + 1) * PQ; ++i)
      if (idx[i] >= 0) out[idx[i]] += dy[i];
  });
}

}  // namespace

template <class T>
void max_pool2d_forward(const Pool2dParams& p, const T* x, T* y, int32_t* idx) {
  if (plain_2x2(p)) return max_pool2x2(p, x, y, idx);
  max_forward(p, row_taps(p), col_taps(p), p.kernel_h * p.kernel_w, x, y, idx);
}

template <class T>
void adaptive_max_pool2d_forward(const PoolShape& s, const T* x, T* y, int32_t* idx) {
  max_forward(s, adaptive_rows(s), adaptive_cols(s), adaptive_window(s), x, y, idx);
}

template <class T>
void max_pool2d_backward(const Pool2dParams& p, const T* dy, const int32_t* idx, T* dx) {
  max_backward(p, dy, idx, dx);
}

template <class T>
void adaptive_max_pool2d_backward(const PoolShape& s, const T* dy, const int32_t* idx, T* dx) {
  max_backward(s, dy, idx, dx);
}

template <class T>
void avg_pool2d_forward(const Pool2dParams& p, bool count_include_pad, const T* x, T* y) {
  avg<false>(p, row_taps(p), col_taps(p), avg_divisor(p, count_include_pad), p.kernel_h * p.kernel_w, x, y);
}

template <class T>
void avg_pool2d_backward(const Pool2dParams& p, bool count_include_pad, const T* dy, T* dx) {
  avg<true>(p, row_taps(p), col_taps(p), avg_divisor(p, count_include_pad), p.kernel_h * p.kernel_w, dy, dx);
}

template <class T>
void adaptive_avg_pool2d_forward(const PoolShape& s, const T* x, T* y) {
  avg<false>(s, adaptive_rows(s), adaptive_cols(s), adaptive_count, adaptive_window(s), x, y);
}

template <class T>
void adaptive_avg_pool2d_backward(const PoolShape& s, const T* dy, T* dx) {
  avg<true>(s, adaptive_rows(s), adaptive_cols(s), adaptive_count, adaptive_window(s), dy, dx);
}

TF_INSTANTIATE_POOL

}  // namespace tf::cpu

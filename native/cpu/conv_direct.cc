// Direct convolution, 16 output channels per AVX-512 vector. Each sample's input is first copied into a
// zero-padded buffer xp[C][Hp][Wp], so no tap needs a bounds check. With wk[c][r][s] the vector of 16
// filters' weights at one tap:
//   forward:          y[k..k+16][o][q] = sum_{c,r,s} wk[c][r][s] * xp[c][o*stride_h + r][q*stride_w + s]
//   backward-weight:  dw[k..k+16][c][r][s] = sum_{n,o,q} dy[n][k..k+16][o][q]
//                                            * xp[n][c][o*stride_h + r][q*stride_w + s]
// The forward holds a block of up to kMaxColumns output columns in registers and walks the taps; the
// weight gradient holds up to kMaxTaps taps in registers and walks the output positions. Both broadcast
// one input element per multiply-add, straight from memory.
// Legend: N batch, C input channels, K output channels, H W input, P Q output, R S filter, o q output row/column.
#include "cpu/conv_direct.h"

#include <algorithm>

#include "core/thread_pool.h"
#include "cpu/avx512.h"
#include "cpu/partial_sums.h"
#include "cpu/scratch.h"

namespace tf::cpu {

#ifdef TF_AVX512_KERNELS
namespace {

constexpr int64_t kLanes = 16;
constexpr int kMaxColumns = 14;  // forward: accumulators per register block, one per output column
constexpr int kMaxTaps = 24;     // weight gradient: accumulators per register block, one per tap
constexpr int kMaxWidth = 7;     // widest filter served
// Below this many taps per output element (C*R*S) the copies in and out of the vector layout (the padded input,
// the transposed output block) cost more than im2col + GEMM: measured here on 1 thread, [64,3,32,32] 3x3 (27
// taps) ran at 53 GFLOP/s direct against 72, and [64,4,32,32] to 32 channels (36 taps) at 61 against 53.
constexpr int64_t kMinTaps = 32;
// The adjoint convolution of backward-data has the C input channels as its filters. With one or two, few
// multiply-adds share each load and the kernel waits on memory. Backward-data here, direct against im2col, in
// GFLOP/s on 1 thread: [64,1,28,28] 5x5 26 / 29, [64,2,32,32] 3x3 34 / 54, [64,3,32,32] 48-51 / 47,
// [64,4,32,32] 74-77 / 53.
constexpr int64_t kMinAdjointFilters = 3;

int64_t channel_blocks(const Conv2dParams& p) { return (p.K + kLanes - 1) / kLanes; }

// One sample's input, zero-padded on every side by the convolution's padding.
struct PaddedInput {
  int64_t Hp, Wp;
  int64_t plane() const { return Hp * Wp; }
};

PaddedInput padded_input(const Conv2dParams& p) { return {p.H + 2 * p.pad_h, p.W + 2 * p.pad_w}; }

void pad_sample(const Conv2dParams& p, const float* x, float* xp) {
  const PaddedInput in = padded_input(p);
  for (int64_t c = 0; c < p.C; ++c) {
    float* plane = xp + c * in.plane();
    std::fill(plane, plane + p.pad_h * in.Wp, 0.f);
    for (int64_t h = 0; h < p.H; ++h) {
      float* row = plane + (h + p.pad_h) * in.Wp;
      std::fill(row, row + p.pad_w, 0.f);
      std::copy(x + (c * p.H + h) * p.W, x + (c * p.H + h + 1) * p.W, row + p.pad_w);
      std::fill(row + p.pad_w + p.W, row + in.Wp, 0.f);
    }
    std::fill(plane + (p.pad_h + p.H) * in.Wp, plane + in.plane(), 0.f);
  }
}

// wk[b][(c*R + r)*S + s][lane] = w[b*16 + lane][c][r][s], zero for the lanes past K.
void pack_weights(const Conv2dParams& p, const float* w, float* wk) {
  const int64_t CRS = p.reduction();
  for (int64_t b = 0; b < channel_blocks(p); ++b)
    for (int64_t t = 0; t < CRS; ++t)
      for (int64_t lane = 0; lane < kLanes; ++lane) {
        const int64_t k = b * kLanes + lane;
        wk[(b * CRS + t) * kLanes + lane] = k < p.K ? w[k * CRS + t] : 0.f;
      }
}

// out[j][lane] = sum over taps of wk[tap][lane] * x[tap's offset + j*SW] for the Columns output columns whose
// first tap reads x[0]. Input rows are Wp apart, channels `plane` apart.
template <int Columns, int SW>
TF_AVX512 void channels_forward_block(const float* x, const float* wk, int64_t C, int64_t R, int64_t S,
                                      int64_t plane, int64_t Wp, float* out) {
  __m512 acc[Columns];
#pragma GCC unroll 32
  for (int j = 0; j < Columns; ++j) acc[j] = _mm512_setzero_ps();
  for (int64_t c = 0; c < C; ++c)
    for (int64_t r = 0; r < R; ++r) {
      const float* row = x + c * plane + r * Wp;
      for (int64_t s = 0; s < S; ++s, wk += kLanes) {
        const __m512 wv = _mm512_loadu_ps(wk);
#pragma GCC unroll 32
        for (int j = 0; j < Columns; ++j) acc[j] = _mm512_fmadd_ps(wv, _mm512_set1_ps(row[s + j * SW]), acc[j]);
      }
    }
#pragma GCC unroll 32
  for (int j = 0; j < Columns; ++j) _mm512_storeu_ps(out + j * kLanes, acc[j]);
}

// The block kernel for `columns` output columns (1..kMaxColumns) at row stride sw (1 or 2).
struct ChannelsForwardKernels {
  template <int Columns, int SW>
  static constexpr auto at() { return &channels_forward_block<Columns, SW>; }
};
auto channels_forward_kernel(int64_t columns, int64_t sw) {
  return KernelGrid<ChannelsForwardKernels, kMaxColumns, 2>::get(columns, sw);
}

// Output rows [o0, o1) of one sample from its padded input xp.
void channels_forward_rows(const Conv2dParams& p, const float* xp, const float* wk, const float* bias, float* y,
                           int64_t o0, int64_t o1) {
  const PaddedInput in = padded_input(p);
  const int64_t CRS = p.reduction(), PQ = p.P * p.Q;
  // the row's columns in `blocks` blocks whose sizes differ by at most one
  const int64_t blocks = (p.Q + kMaxColumns - 1) / kMaxColumns;
  alignas(64) float out[kMaxColumns * kLanes];
  for (int64_t o = o0; o < o1; ++o)
    for (int64_t blk = 0, q0 = 0; blk < blocks; ++blk) {
      const int64_t columns = p.Q / blocks + (blk < p.Q % blocks ? 1 : 0);
      const auto kernel = channels_forward_kernel(columns, p.stride_w);
      const float* x = xp + o * p.stride_h * in.Wp + q0 * p.stride_w;
      for (int64_t b = 0; b < channel_blocks(p); ++b) {
        kernel(x, wk + b * CRS * kLanes, p.C, p.R, p.S, in.plane(), in.Wp, out);
        const int64_t lanes = std::min(kLanes, p.K - b * kLanes);
        for (int64_t lane = 0; lane < lanes; ++lane) {
          const int64_t k = b * kLanes + lane;
          float* dst = y + k * PQ + o * p.Q + q0;
          const float shift = bias ? bias[k] : 0.f;
          for (int64_t j = 0; j < columns; ++j) dst[j] = out[j * kLanes + lane] + shift;
        }
      }
      q0 += columns;
    }
}

// acc[g][s][lane] += sum over the output positions of dyt[o*Q + q][lane] * rows[g][o*step + q*SW + s], for
// Rows input rows (one (c, r) pair each) of S taps.
template <int S, int Rows, int SW>
TF_AVX512 void channels_weight_block(const float* const* rows, const float* dyt, int64_t P, int64_t Q, int64_t step,
                                     float* acc) {
  __m512 sum[Rows][S];
  zero_block(sum);
  for (int64_t o = 0; o < P; ++o)
    for (int64_t q = 0; q < Q; ++q) {
      const __m512 g_out = _mm512_loadu_ps(dyt + (o * Q + q) * kLanes);
      const int64_t offset = o * step + q * SW;
#pragma GCC unroll 32
      for (int g = 0; g < Rows; ++g) {
        const float* x = rows[g] + offset;
#pragma GCC unroll 32
        for (int s = 0; s < S; ++s) sum[g][s] = _mm512_fmadd_ps(g_out, _mm512_set1_ps(x[s]), sum[g][s]);
      }
    }
  add_block(sum, acc, S);
}

// Input rows per weight-gradient block for filters S wide.
constexpr int rows_per_block(int S) { return kMaxTaps / S; }

struct ChannelsWeightKernels {
  template <int S, int SW>
  static constexpr auto at() { return &channels_weight_block<S, rows_per_block(S), SW>; }
};
auto channels_weight_kernel(int64_t S, int64_t sw) {
  return KernelGrid<ChannelsWeightKernels, kMaxWidth, 2>::get(S, sw);
}

// dyt[b][o*Q + q][lane] = dy[b*16 + lane][o][q] of one sample, zero for the lanes past K.
void transpose_output_grad(const Conv2dParams& p, const float* dy, float* dyt) {
  const int64_t PQ = p.P * p.Q;
  for (int64_t b = 0; b < channel_blocks(p); ++b) {
    float* block = dyt + b * PQ * kLanes;
    const int64_t lanes = std::min(kLanes, p.K - b * kLanes);
    if (lanes < kLanes) std::fill(block, block + PQ * kLanes, 0.f);
    for (int64_t lane = 0; lane < lanes; ++lane) {
      const float* plane = dy + (b * kLanes + lane) * PQ;
      for (int64_t i = 0; i < PQ; ++i) block[i * kLanes + lane] = plane[i];
    }
  }
}

// acc (packed like pack_weights) += the weight gradient of one sample.
void channels_accumulate_sample(const Conv2dParams& p, const float* xp, const float* dyt, float* acc) {
  const PaddedInput in = padded_input(p);
  const int64_t CRS = p.reduction(), rows_total = p.C * p.R, PQ = p.P * p.Q;
  const int rows_per = rows_per_block(int(p.S));
  const auto kernel = channels_weight_kernel(p.S, p.stride_w);
  const float* rows[kMaxTaps];
  alignas(64) float block[kMaxTaps * kLanes];
  for (int64_t b = 0; b < channel_blocks(p); ++b)
    for (int64_t first = 0; first < rows_total; first += rows_per) {
      const int64_t count = std::min<int64_t>(rows_per, rows_total - first);
      // a short last block repeats its first row in the unused slots and drops their sums
      for (int g = 0; g < rows_per; ++g) {
        const int64_t cr = first + (g < count ? g : 0);
        rows[g] = xp + (cr / p.R) * in.plane() + (cr % p.R) * in.Wp;
      }
      std::fill(block, block + rows_per * p.S * kLanes, 0.f);
      kernel(rows, dyt + b * PQ * kLanes, p.P, p.Q, p.stride_h * in.Wp, block);
      float* dst = acc + (b * CRS + first * p.S) * kLanes;
      for (int64_t i = 0; i < count * p.S * kLanes; ++i) dst[i] += block[i];
    }
}

// ---- Few output channels: 16 output columns per vector -------------------------------------------------
// With fewer than 16 filters a vector of output channels would run partly empty. These kernels vectorize along
// the output row instead (stride 1 only: a tap's 16 inputs are then contiguous) and hold a few filters' rows
// in registers. The outputs are NCHW rows already, and the weight gradient's sums along the row are reduced
// across the vector once per sample.

constexpr int kMaxFilters = 6;  // output channels per register block
constexpr int kMaxVectors = 2;  // forward: vectors of output columns per register block
constexpr int kMaxShifts = 3;   // weight gradient: taps along a filter row per register block

// wt[(c*R + r)*S + s][k] = w[k][c][r][s]
void transpose_weights(const Conv2dParams& p, const float* w, float* wt) {
  const int64_t CRS = p.reduction();
  for (int64_t k = 0; k < p.K; ++k)
    for (int64_t t = 0; t < CRS; ++t) wt[t * p.K + k] = w[k * CRS + t];
}

// What the row-vectorized forward block needs of the convolution: K C R S, the padded input's plane size
// and row length, and the output plane size.
struct ColumnsShape {
  int64_t K, C, R, S, plane, Wp, PQ;
};

// y[f][0][16v + lane] (+ bias[f]) for Filters output channels and Vectors vectors of columns, the last one cut
// to the lanes in `tail`; x is the padded input at the block's first tap, wt the transposed weights of filter 0.
// Filter rows outside [r0, r1) would read only padding and are skipped.
template <int Filters, int Vectors>
TF_AVX512 void columns_forward_block(const ColumnsShape& g, const float* x, const float* wt, int64_t r0, int64_t r1,
                                     __mmask16 tail, const float* bias, float* y) {
  __m512 acc[Filters][Vectors];
#pragma GCC unroll 32
  for (int f = 0; f < Filters; ++f)
#pragma GCC unroll 32
    for (int v = 0; v < Vectors; ++v) acc[f][v] = _mm512_set1_ps(bias ? bias[f] : 0.f);
  for (int64_t c = 0; c < g.C; ++c)
    for (int64_t r = r0; r < r1; ++r) {
      const float* row = x + c * g.plane + r * g.Wp;
      const float* w = wt + (c * g.R + r) * g.S * g.K;
      for (int64_t s = 0; s < g.S; ++s, w += g.K) {
        __m512 in[Vectors];
#pragma GCC unroll 32
        for (int v = 0; v < Vectors; ++v)
          in[v] = v + 1 < Vectors ? _mm512_loadu_ps(row + s + 16 * v) : _mm512_maskz_loadu_ps(tail, row + s + 16 * v);
#pragma GCC unroll 32
        for (int f = 0; f < Filters; ++f) {
          const __m512 weight = _mm512_set1_ps(w[f]);
#pragma GCC unroll 32
          for (int v = 0; v < Vectors; ++v) acc[f][v] = _mm512_fmadd_ps(weight, in[v], acc[f][v]);
        }
      }
    }
  store_block(acc, y, g.PQ, tail);
}

struct ColumnsForwardKernels {
  template <int Filters, int Vectors>
  static constexpr auto at() { return &columns_forward_block<Filters, Vectors>; }
};
auto columns_forward_kernel(int64_t filters, int64_t vectors) {
  return KernelGrid<ColumnsForwardKernels, kMaxFilters, kMaxVectors>::get(filters, vectors);
}

void columns_forward_rows(const Conv2dParams& p, const float* xp, const float* wt, const float* bias, float* y,
                          int64_t o0, int64_t o1) {
  const PaddedInput in = padded_input(p);
  const ColumnsShape shape{p.K, p.C, p.R, p.S, in.plane(), in.Wp, p.P * p.Q};
  for (int64_t o = o0; o < o1; ++o) {
    // filter rows r whose input row o*stride + r lies inside the unpadded input
    const int64_t top = o * p.stride_h, r0 = std::clamp<int64_t>(p.pad_h - top, 0, p.R),
                  r1 = std::clamp<int64_t>(p.pad_h + p.H - top, r0, p.R);
    for (int64_t q0 = 0; q0 < p.Q; q0 += kMaxVectors * kLanes) {
      const int64_t columns = std::min(p.Q - q0, kMaxVectors * kLanes), vectors = (columns + kLanes - 1) / kLanes;
      const __mmask16 tail = first_lanes(columns - (vectors - 1) * kLanes);
      const float* x = xp + top * in.Wp + q0;
      even_pieces(p.K, kMaxFilters, [&](int64_t k0, int64_t filters) {
        columns_forward_kernel(filters, vectors)(shape, x, wt + k0, r0, r1, tail, bias ? bias + k0 : nullptr,
                                                 y + k0 * shape.PQ + o * p.Q + q0);
      });
    }
  }
}

// dw[f][s][lane] += sum over the output positions q = q0 + lane of dy[f][o][q] * x[o*step + q + s], for Filters
// output channels (planes PQ apart, rows Q long) and Shifts taps along one filter row (dw rows CRS*16 apart).
// The lanes are added up once, after the last sample.
template <int Filters, int Shifts>
TF_AVX512 void columns_weight_block(const float* x, const float* dy, int64_t P, int64_t Q, int64_t PQ, int64_t step,
                                    float* dw, int64_t CRS) {
  __m512 sum[Filters][Shifts];
  zero_block(sum);
  for (int64_t o = 0; o < P; ++o)
    for (int64_t q0 = 0; q0 < Q; q0 += kLanes) {
      const __mmask16 lanes = first_lanes(std::min(kLanes, Q - q0));
      __m512 g[Filters];
#pragma GCC unroll 32
      for (int f = 0; f < Filters; ++f) g[f] = _mm512_maskz_loadu_ps(lanes, dy + f * PQ + o * Q + q0);
#pragma GCC unroll 32
      for (int s = 0; s < Shifts; ++s) {
        const __m512 in = _mm512_maskz_loadu_ps(lanes, x + o * step + q0 + s);
#pragma GCC unroll 32
        for (int f = 0; f < Filters; ++f) sum[f][s] = _mm512_fmadd_ps(g[f], in, sum[f][s]);
      }
    }
  add_block(sum, dw, CRS);
}

struct ColumnsWeightKernels {
  template <int Filters, int Shifts>
  static constexpr auto at() { return &columns_weight_block<Filters, Shifts>; }
};
auto columns_weight_kernel(int64_t filters, int64_t shifts) {
  return KernelGrid<ColumnsWeightKernels, kMaxFilters, kMaxShifts>::get(filters, shifts);
}

// acc[K][C][R][S][lane] += the weight gradient of one sample, before the sum over the lanes.
void columns_accumulate_sample(const Conv2dParams& p, const float* xp, const float* dy, float* dw) {
  const PaddedInput in = padded_input(p);
  const int64_t CRS = p.reduction(), PQ = p.P * p.Q;
  for (int64_t c = 0; c < p.C; ++c)
    for (int64_t r = 0; r < p.R; ++r) {
      const float* row = xp + c * in.plane() + r * in.Wp;
      even_pieces(p.K, kMaxFilters, [&](int64_t k0, int64_t filters) {
        even_pieces(p.S, kMaxShifts, [&](int64_t s0, int64_t shifts) {
          columns_weight_kernel(filters, shifts)(row + s0, dy + k0 * PQ, p.P, p.Q, PQ, p.stride_h * in.Wp,
                                                 dw + (k0 * CRS + (c * p.R + r) * p.S + s0) * kLanes, CRS);
        });
      });
    }
}

// ---- Backward-data with the batch along the vector ------------------------------------------------------
// With fewer than 16 input channels the adjoint convolution fits neither kernel above well: its output channels
// would half fill a vector, and along the rows the zero border of the "full" correlation wastes multiply-adds
// (LeNet-5's conv2, 10x10 gradients back to 14x14 inputs: 62% of them useful). Here a vector holds one position
// of 16 samples, so every lane is useful and no tap reads padding. Along a gradient row, a run of J positions
// reaches J + S - 1 input positions; the run's J gradient vectors are loaded once into registers and each serves
// S multiply-adds, one broadcast weight per tap. Layouts, per group of 16 samples: dyt[k][i][j][lane],
// dxt[c][h][w][lane].

constexpr int kMaxRun = 12;  // gradient columns per register block

// Groups of 16 samples, the last one possibly partial.
int64_t sample_groups(const Conv2dParams& p) { return (p.N + kLanes - 1) / kLanes; }

// Where one run sits: the gradient rows i = h + pad_h - r for the filter rows r in [r0, r1), the input
// columns of accumulators [m0, m1) (accumulator m reaches column j0 + m - pad_w), and the strides.
struct LanesRun {
  int64_t K, RS, CRS;        // filters, taps per (k, c), weights per filter
  int64_t dy_plane, dy_row;  // dyt strides, in floats
  int64_t h_pad, r0, r1;     // h + pad_h and the filter rows whose gradient row exists
  int64_t m0, m1;
};

// dxt_row[(m - m0) * 16 + lane] += sum over k, r, s of wc[k][r][s] * dyt[k][h + pad_h - r][jj][lane] over the
// accumulators m = jj + s in [m0, m1); dyt points at the run's first column, wc at w[0][c].
template <int J, int S>
TF_AVX512 void lanes_data_run(const LanesRun& g, const float* dyt, const float* wc, float* dxt_row) {
  __m512 acc[J + S - 1];
#pragma GCC unroll 32
  for (int m = 0; m < J + S - 1; ++m) acc[m] = _mm512_setzero_ps();
  for (int64_t k = 0; k < g.K; ++k)
    for (int64_t r = g.r0; r < g.r1; ++r) {
      const float* row = dyt + k * g.dy_plane + (g.h_pad - r) * g.dy_row;
      const float* w = wc + k * g.CRS + r * S;
      __m512 d[J];
#pragma GCC unroll 32
      for (int j = 0; j < J; ++j) d[j] = _mm512_loadu_ps(row + j * kLanes);
#pragma GCC unroll 32
      for (int s = 0; s < S; ++s) {
        const __m512 weight = _mm512_set1_ps(w[s]);
#pragma GCC unroll 32
        for (int j = 0; j < J; ++j) acc[j + s] = _mm512_fmadd_ps(weight, d[j], acc[j + s]);
      }
    }
#pragma GCC unroll 32
  for (int m = 0; m < J + S - 1; ++m)
    if (m >= g.m0 && m < g.m1) {
      float* at = dxt_row + (m - g.m0) * kLanes;
      _mm512_storeu_ps(at, _mm512_add_ps(_mm512_loadu_ps(at), acc[m]));
    }
}

struct LanesDataKernels {
  template <int J, int S>
  static constexpr auto at() { return &lanes_data_run<J, S>; }
};

// The gradient of one group of up to 16 samples, in the lanes layout: dxt = the adjoint of dyt.
void lanes_data_group(const Conv2dParams& p, const float* dyt, const float* w, float* dxt) {
  const int64_t HW = p.H * p.W;
  std::fill(dxt, dxt + p.C * HW * kLanes, 0.f);
  LanesRun g{p.K, p.R * p.S, p.reduction(), p.P * p.Q * kLanes, p.Q * kLanes, 0, 0, 0, 0, 0};
  for (int64_t c = 0; c < p.C; ++c)
    for (int64_t h = 0; h < p.H; ++h) {
      g.h_pad = h + p.pad_h;
      g.r0 = std::max<int64_t>(0, g.h_pad - (p.P - 1));
      g.r1 = std::min(p.R, g.h_pad + 1);
      if (g.r0 >= g.r1) continue;
      even_pieces(p.Q, kMaxRun, [&](int64_t j0, int64_t run) {
        // accumulator m reaches column j0 + m - pad_w; keep those inside [0, W)
        g.m0 = std::max<int64_t>(0, p.pad_w - j0);
        g.m1 = std::min(run + p.S - 1, p.W + p.pad_w - j0);
        if (g.m0 >= g.m1) return;
        const auto kernel = KernelGrid<LanesDataKernels, kMaxRun, kMaxWidth>::get(run, p.S);
        kernel(g, dyt + j0 * kLanes, w + c * g.RS, dxt + ((c * p.H + h) * p.W + j0 + g.m0 - p.pad_w) * kLanes);
      });
    }
}

void lanes_backward_data(const Conv2dParams& p, const float* dy, const float* w, float* dx) {
  const int64_t KPQ = p.K * p.P * p.Q, CHW = p.C * p.H * p.W;
  parallel_for(sample_groups(p), 1, [&](int64_t g0, int64_t g1) {
    float* dyt = scratch<float, Scratch::kTransposedGrad>(KPQ * kLanes);
    float* dxt = scratch<float, Scratch::kPaddedInput>(CHW * kLanes);
    for (int64_t group = g0; group < g1; ++group) {
      const int64_t n0 = group * kLanes, lanes = std::min(kLanes, p.N - n0);
      transpose(dy + n0 * KPQ, KPQ, lanes, KPQ, dyt, kLanes, true);
      lanes_data_group(p, dyt, w, dxt);
      transpose(dxt, kLanes, CHW, lanes, dx + n0 * CHW, CHW, false);
    }
  });
}

// The weight gradient the same way: dw[k][c][r][s] = sum over the samples (lanes, added up at the end) and the
// gradient positions (i, j) of dyt[k][i][j] * xt[c][i + r][j + s], xt zero-padded. A block of KB filters and
// the S taps of one filter row (c, r) are held in registers; per gradient position, S input vectors and KB
// gradient vectors are loaded for KB * S multiply-adds.

// Filters per register block for S-wide filters: KB * S accumulators, S inputs and a gradient within 31
// registers.
int64_t lanes_weight_filters(int64_t S) { return std::min<int64_t>(8, (30 - S) / S); }
constexpr int kMaxLanesFilters = 8;

// sum[(kb * CRS + s) * 16 + lane] += the sums above over P x Q gradient positions, for the filters whose gradient
// planes start at dyt + kb * dy_plane and the input rows from xt (Wp vectors apart).
template <int KB, int S>
TF_AVX512 void lanes_weight_block(const float* dyt, int64_t dy_plane, const float* xt, int64_t Wp, int64_t P, int64_t Q,
                                  float* sum, int64_t CRS) {
  __m512 acc[KB][S];
  zero_block(acc);
  for (int64_t i = 0; i < P; ++i) {
    const float* x_row = xt + i * Wp * kLanes;
    const float* dy_row = dyt + i * Q * kLanes;
    for (int64_t j = 0; j < Q; ++j) {
      __m512 x[S];
#pragma GCC unroll 32
      for (int s = 0; s < S; ++s) x[s] = _mm512_loadu_ps(x_row + (j + s) * kLanes);
#pragma GCC unroll 32
      for (int kb = 0; kb < KB; ++kb) {
        const __m512 d = _mm512_loadu_ps(dy_row + kb * dy_plane + j * kLanes);
#pragma GCC unroll 32
        for (int s = 0; s < S; ++s) acc[kb][s] = _mm512_fmadd_ps(d, x[s], acc[kb][s]);
      }
    }
  }
  add_block(acc, sum, CRS);
}

struct LanesWeightKernels {
  template <int KB, int S>
  static constexpr auto at() { return &lanes_weight_block<KB, S>; }
};

// The lanes kernels serve stride-1 convolutions whose batch fills at least 3/4 of its vectors of 16 samples,
// and pay for transposing the gradient and the input (or the input gradient) in and out of that layout: they
// need enough multiply-adds per element transposed, K*C*R*S*P*Q / (K*P*Q + C*H*W).
bool lanes_batch_fits(const Conv2dParams& p) {
  return p.stride_h == 1 && p.stride_w == 1 && p.N > 0 && 4 * p.N >= 3 * sample_groups(p) * kLanes;
}
double lanes_intensity(const Conv2dParams& p) {
  return double(p.K * p.reduction() * p.P * p.Q) / double(p.K * p.P * p.Q + p.C * p.H * p.W);
}

// The weight gradient along the lanes, where at least 35 multiply-adds per transposed element pay for the
// transposes against the kernels above. GFLOP/s on 1 thread, lanes against the other kernels (intensity):
//   [64,6,14,14] 5x5 to 16 (LeNet-5 conv2, 86): 96 / 77       [64,12,10,10] 5x5 to 32 (218): 102 / 83
//   [64,6,28,28] 7x7 to 16 (214): 84 / 73                     [64,3,32,32] 5x5 to 6 (45): 72 / 76
//   [64,6,14,14] 3x3 to 16 (36): 67 / 56                      [64,4,16,16] 3x3 to 32 (32): 58 / 73
//   [64,3,32,32] 3x3 to 16 (23): 62 / 86                      [64,1,32,32] 3x3 to 8 (8): 33 / 76
bool lanes_weight_fit(const Conv2dParams& p) { return lanes_batch_fits(p) && lanes_intensity(p) >= 35; }

// acc[k][c][r][s][lane] = the weight gradient of the lanes of all groups, before the sum over the lanes.
void lanes_accumulate_weight(const Conv2dParams& p, const float* x, const float* dy, float* acc) {
  const int64_t PQ = p.P * p.Q, KPQ = p.K * PQ, CHW = p.C * p.H * p.W;
  const PaddedInput in = padded_input(p);
  const int64_t size = p.w_numel() * kLanes, CRS = p.reduction();
  sum_over_threads(sample_groups(p), size, acc, [&](int64_t g0, int64_t g1, float* sum) {
    float* dyt = scratch<float, Scratch::kTransposedGrad>(KPQ * kLanes);
    float* xt = scratch<float, Scratch::kPaddedInput>(p.C * in.plane() * kLanes);
    std::fill(sum, sum + size, 0.f);
    std::fill(xt, xt + p.C * in.plane() * kLanes, 0.f);  // the border stays zero
    for (int64_t group = g0; group < g1; ++group) {
      const int64_t n0 = group * kLanes, lanes = std::min(kLanes, p.N - n0);
      transpose(dy + n0 * KPQ, KPQ, lanes, KPQ, dyt, kLanes, true);
      for (int64_t c = 0; c < p.C; ++c)
        for (int64_t h = 0; h < p.H; ++h)
          transpose(x + n0 * CHW + (c * p.H + h) * p.W, CHW, lanes, p.W,
                    xt + ((c * in.Hp + h + p.pad_h) * in.Wp + p.pad_w) * kLanes, kLanes, true);
      even_pieces(p.K, lanes_weight_filters(p.S), [&](int64_t k0, int64_t filters) {
        const auto kernel = KernelGrid<LanesWeightKernels, kMaxLanesFilters, kMaxWidth>::get(filters, p.S);
        for (int64_t c = 0; c < p.C; ++c)
          for (int64_t r = 0; r < p.R; ++r)
            kernel(dyt + k0 * PQ * kLanes, PQ * kLanes, xt + (c * in.Hp + r) * in.Wp * kLanes, in.Wp, p.P, p.Q,
                   sum + (k0 * CRS + (c * p.R + r) * p.S) * kLanes, CRS);
      });
    }
  });
}

// The adjoint through the kernels above: its padding must stay below the filter size, and it needs a few
// filters (its output channels, C) for the multiply-adds to outweigh the loads.
bool adjoint_fits(const Conv2dParams& p) {
  return p.pad_h < p.R && p.pad_w < p.S && p.C >= kMinAdjointFilters && direct_serves(adjoint_conv(p));
}

// Backward-data along the lanes: fewer than 16 input channels, at least 20 multiply-adds per transposed element,
// and the adjoint does not serve or would pad its rows by 2 or more (its 1-wide border wastes little). GFLOP/s
// on 1 thread, lanes against the adjoint (or im2col where it does not serve), intensity as above:
//   [64,6,14,14] 5x5 pad 0 (LeNet-5 conv2, 86): 103 / 55    [64,12,10,10] 5x5 pad 2 (218): 126 / 75
//   [64,3,32,32] 5x5 pad 0 to 6 (45): 89 / 60                [64,6,14,14] 3x3 pad 0 (36): 69 / 54
//   [64,1,28,28] 5x5 pad 2 (LeNet-5 conv1, 21): 81 / 40     [64,1,32,32] 3x3 pad 1 to 8 (8): 31 / 45
//   [64,3,32,32] 3x3 pad 1 (23): 54 / 55 by the adjoint
bool lanes_data_fit(const Conv2dParams& p) {
  return p.C < kLanes && lanes_batch_fits(p) && lanes_intensity(p) >= 20 &&
         (!adjoint_fits(p) || p.S - 1 - p.pad_w >= 2);
}

// Calls rows(xp, n, o0, o1) over the output rows of every sample, xp holding sample n's padded input: whole
// samples spread over the pool, or with fewer samples than threads (inference on one image) each sample's
// rows split instead.
template <class F>
void over_padded_samples(const Conv2dParams& p, const float* x, F&& rows) {
  const int64_t CHW = p.C * p.H * p.W, padded = p.C * padded_input(p).plane();
  if (p.N >= num_threads()) {
    parallel_for(p.N, 1, [&](int64_t n0, int64_t n1) {
      float* xp = scratch<float, Scratch::kPaddedInput>(padded);
      for (int64_t n = n0; n < n1; ++n) {
        pad_sample(p, x + n * CHW, xp);
        rows(xp, n, int64_t(0), p.P);
      }
    });
    return;
  }
  float* xp = scratch<float, Scratch::kPaddedInput>(padded);
  for (int64_t n = 0; n < p.N; ++n) {
    pad_sample(p, x + n * CHW, xp);
    parallel_for(p.P, grain_for(p.K * p.Q * p.reduction()), [&](int64_t o0, int64_t o1) { rows(xp, n, o0, o1); });
  }
}

// Calls sample(xp, n) for every sample, xp holding its padded input, with one partial sum of `size` elements
// per thread added up into out.
template <class F>
void sum_over_padded_samples(const Conv2dParams& p, const float* x, int64_t size, float* out, F&& sample) {
  const int64_t CHW = p.C * p.H * p.W, padded = p.C * padded_input(p).plane();
  sum_over_threads(p.N, size, out, [&](int64_t n0, int64_t n1, float* sum) {
    float* xp = scratch<float, Scratch::kPaddedInput>(padded);
    std::fill(sum, sum + size, 0.f);
    for (int64_t n = n0; n < n1; ++n) {
      pad_sample(p, x + n * CHW, xp);
      sample(xp, n, sum);
    }
  });
}

// The column kernels: at stride 1, wherever rows fill at least 3/4 of their vectors.
bool columns_fit(const Conv2dParams& p) {
  const int64_t vectors = (p.Q + kLanes - 1) / kLanes;
  return p.stride_w == 1 && 4 * p.Q >= 3 * vectors * kLanes;
}

// The channel kernels: a vector of output channels at least, and enough taps to pay for the transposes.
bool channels_fit(const Conv2dParams& p) {
  return (p.stride_w == 1 || p.stride_w == 2) && p.reduction() >= kMinTaps && p.K >= kLanes;
}

}  // namespace

bool direct_serves_backward_data(const Conv2dParams& p) {
  return p.stride_h == 1 && p.stride_w == 1 && direct_serves(p) && (lanes_data_fit(p) || adjoint_fits(p));
}

void direct_backward_data(const Conv2dParams& p, const float* dy, const float* w, float* dx) {
  if (lanes_data_fit(p)) return lanes_backward_data(p, dy, w, dx);
  float* rotated = scratch<float, Scratch::kAdjointWeights>(p.w_numel());
  for (int64_t k = 0; k < p.K; ++k)
    for (int64_t c = 0; c < p.C; ++c)
      for (int64_t r = 0; r < p.R; ++r)
        for (int64_t s = 0; s < p.S; ++s)
          rotated[((c * p.K + k) * p.R + r) * p.S + s] = w[((k * p.C + c) * p.R + p.R - 1 - r) * p.S + p.S - 1 - s];
  direct_forward(adjoint_conv(p), dy, rotated, nullptr, dx);
}

bool direct_serves(const Conv2dParams& p) {
  return has_avx512() && p.groups == 1 && p.dil_h == 1 && p.dil_w == 1 && p.R * p.S > 1 && p.S <= kMaxWidth &&
         (columns_fit(p) || channels_fit(p));
}

void direct_forward(const Conv2dParams& p, const float* x, const float* w, const float* bias, float* y) {
  const int64_t KPQ = p.K * p.P * p.Q;
  if (!columns_fit(p)) {
    float* wk = scratch<float, Scratch::kTransformedWeights>(channel_blocks(p) * p.reduction() * kLanes);
    pack_weights(p, w, wk);
    over_padded_samples(p, x, [&](const float* xp, int64_t n, int64_t o0, int64_t o1) {
      channels_forward_rows(p, xp, wk, bias, y + n * KPQ, o0, o1);
    });
  } else {
    float* wt = scratch<float, Scratch::kTransformedWeights>(p.w_numel());
    transpose_weights(p, w, wt);
    over_padded_samples(p, x, [&](const float* xp, int64_t n, int64_t o0, int64_t o1) {
      columns_forward_rows(p, xp, wt, bias, y + n * KPQ, o0, o1);
    });
  }
}

void direct_backward_weight(const Conv2dParams& p, const float* x, const float* dy, float* dw) {
  const int64_t CRS = p.reduction(), KPQ = p.K * p.P * p.Q;
  const bool lanes = lanes_weight_fit(p);
  if (lanes || columns_fit(p)) {
    float* acc = scratch<float, Scratch::kTransformedWeights>(p.w_numel() * kLanes);
    if (lanes) {
      lanes_accumulate_weight(p, x, dy, acc);
    } else {
      sum_over_padded_samples(p, x, p.w_numel() * kLanes, acc, [&](const float* xp, int64_t n, float* sum) {
        columns_accumulate_sample(p, xp, dy + n * KPQ, sum);
      });
    }
    for (int64_t i = 0; i < p.w_numel(); ++i) {
      double total = 0;
      for (int64_t lane = 0; lane < kLanes; ++lane) total += acc[i * kLanes + lane];
      dw[i] = float(total);
    }
    return;
  }
  const int64_t packed = channel_blocks(p) * CRS * kLanes;
  float* acc = scratch<float, Scratch::kTransformedWeights>(packed);
  sum_over_padded_samples(p, x, packed, acc, [&](const float* xp, int64_t n, float* sum) {
    float* dyt = scratch<float, Scratch::kTransposedGrad>(channel_blocks(p) * p.P * p.Q * kLanes);
    transpose_output_grad(p, dy + n * KPQ, dyt);
    channels_accumulate_sample(p, xp, dyt, sum);
  });
  for (int64_t k = 0; k < p.K; ++k)
    for (int64_t t = 0; t < CRS; ++t) dw[k * CRS + t] = acc[((k / kLanes) * CRS + t) * kLanes + k % kLanes];
}

#else  // no AVX-512 kernels in this build: the general path serves every convolution

bool direct_serves(const Conv2dParams&) { return false; }
bool direct_serves_backward_data(const Conv2dParams&) { return false; }
void direct_backward_data(const Conv2dParams&, const float*, const float*, float*) {}
void direct_forward(const Conv2dParams&, const float*, const float*, const float*, float*) {}
void direct_backward_weight(const Conv2dParams&, const float*, const float*, float*) {}

#endif

}  // namespace tf::cpu

// Winograd F(2x2, 3x3). With d a 4x4 input patch, g a 3x3 filter and the matrices
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],  G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1],  A^T = [1 1 1 0; 0 1 -1 -1],
// a 2x2 output tile is  y = A^T [ sum_c (G g G^T) ⊙ (B^T d B) ] A.  For each of the 16 transformed positions f the
// sum over channels is a GEMM: M_f[K, tiles] = U_f[K, C] · V_f[C, tiles]. Its adjoints give the gradients:
//   dL/dM = A dy A^T,   dw = G^T [ sum_tiles (A dy A^T) ⊙ (B^T d B) ] G   (a GEMM per f over the tiles).
// Tiles are numbered row by row over the batch (tile row r = n * TH + th); work is split into chunks of whole
// tile rows sized so that a chunk's transformed tiles stay in cache between the transforms and the GEMMs.
// Legend: N batch, C input channels, K output channels, H W input, P Q output, TH TW tiles per column / row.
#include "cpu/conv_winograd.h"

#include <algorithm>

#include "core/thread_pool.h"
#include "cpu/gemm.h"
#include "cpu/partial_sums.h"
#include "cpu/scratch.h"
#include "cpu/winograd_gemm.h"

namespace tf::cpu {
namespace {

constexpr int64_t kPositions = 16;  // transformed tile: 4x4
// With fewer channels the GEMMs are too thin to pay for the transforms: at 8 in and out, Winograd and im2col
// break even here ([64,8,32,32]: about 40 GFLOP/s each); at 12, Winograd is 1.3-2x faster.
constexpr int64_t kMinChannels = 8;
// Bytes of transformed input plus transformed output one chunk aims to hold (an L2 cache, 1 MiB per core
// here). The forward GEMMs' width is the chunk's tile count, and below about 256 tiles they slow down more
// than the spill out of L2 costs ([32,256,14,14]: 120 GFLOP/s at 63 tiles, 148 at 259); the backward-weight
// GEMMs reduce over the tiles and prefer the smaller chunk (177 vs 156).
constexpr int64_t kChunkBytes = int64_t(1) << 20;
constexpr int64_t kForwardChunkTiles = 256;

// How a convolution's output is cut into tiles and the tiles into chunks of whole tile rows.
struct TilePlan {
  int64_t TH, TW;            // tiles per output column / row
  int64_t rows;              // tile rows over the batch: N * TH
  int64_t rows_per_chunk;
  int64_t chunks;

  int64_t chunk_begin(int64_t chunk) const { return chunk * rows_per_chunk; }
  int64_t chunk_end(int64_t chunk) const { return std::min(rows, (chunk + 1) * rows_per_chunk); }
  int64_t max_tiles() const { return rows_per_chunk * TW; }
};

// Chunks of about kChunkBytes, and at least min_tiles tiles unless a chunk would exceed a thread's fair share.
template <class T>
TilePlan plan_tiles(const Conv2dParams& p, int64_t min_tiles) {
  TilePlan plan{};
  plan.TH = (p.P + 1) / 2;
  plan.TW = (p.Q + 1) / 2;
  plan.rows = p.N * plan.TH;
  const int64_t row_bytes = plan.TW * kPositions * (p.C + p.K) * int64_t(sizeof(T));
  const int64_t fair_share = (plan.rows + num_threads() - 1) / num_threads();
  const int64_t wanted = std::max(kChunkBytes / row_bytes, (min_tiles + plan.TW - 1) / plan.TW);
  plan.rows_per_chunk = std::max<int64_t>(1, std::min(wanted, fair_share));
  plan.chunks = (plan.rows + plan.rows_per_chunk - 1) / plan.rows_per_chunk;
  return plan;
}

// Element offset between consecutive planes of a transformed tensor holding `elements` per plane: rounded up
// to an odd number of 16-element blocks, because power-of-two strides (common: channels x tiles) would put
// all sixteen planes in the same cache sets.
int64_t plane_stride(int64_t elements) {
  constexpr int64_t kBlock = 16;
  return (((elements + kBlock - 1) / kBlock) | 1) * kBlock;
}

// even[m] = x[h][2m - pad] and odd[m] = x[h][2m + 1 - pad] for m in [0, count), zero outside the H x W plane.
template <class T>
void split_row(const T* plane, int64_t h, int64_t H, int64_t W, int64_t pad, int64_t count, T* even, T* odd) {
  if (h < 0 || h >= H) {
    std::fill(even, even + count, T(0));
    std::fill(odd, odd + count, T(0));
    return;
  }
  const T* row = plane + h * W;
  auto at = [&](int64_t col) { return col >= 0 && col < W ? row[col] : T(0); };
  // [lo, hi): the m whose two columns both lie inside the row, copied without bounds checks
  const int64_t lo = std::min(count, (pad + 1) / 2), hi = std::max(lo, std::min(count, (W + pad) / 2));
  for (int64_t m = 0; m < lo; ++m) {
    even[m] = at(2 * m - pad);
    odd[m] = at(2 * m + 1 - pad);
  }
  const T* src = row + 2 * lo - pad;
  for (int64_t m = 0; m < hi - lo; ++m) {
    even[lo + m] = src[2 * m];
    odd[lo + m] = src[2 * m + 1];
  }
  for (int64_t m = hi; m < count; ++m) {
    even[m] = at(2 * m - pad);
    odd[m] = at(2 * m + 1 - pad);
  }
}

// v[f * stride + t] = (B^T d B)[f] for tiles t in [0, count), where operand[4i + j][t] = d[i][j] of tile t.
// One contiguous loop over the tiles, vectorized (`#pragma GCC ivdep`: the outputs never overlap the operands).
template <class T>
void input_tiles(const T* const* operand, int64_t count, T* v, int64_t stride) {
#pragma GCC ivdep
  for (int64_t t = 0; t < count; ++t) {
    T col[4][4];  // B^T d
    for (int64_t j = 0; j < 4; ++j) {
      const T d0 = operand[j][t], d1 = operand[4 + j][t], d2 = operand[8 + j][t], d3 = operand[12 + j][t];
      col[0][j] = d0 - d2;
      col[1][j] = d1 + d2;
      col[2][j] = d2 - d1;
      col[3][j] = d1 - d3;
    }
    for (int64_t i = 0; i < 4; ++i) {
      v[(4 * i) * stride + t] = col[i][0] - col[i][2];
      v[(4 * i + 1) * stride + t] = col[i][1] + col[i][2];
      v[(4 * i + 2) * stride + t] = col[i][2] - col[i][1];
      v[(4 * i + 3) * stride + t] = col[i][1] - col[i][3];
    }
  }
}

// V[f][c][t] = (B^T d B)[f] for the tiles t of tile rows [r0, r1), over input channels [0, C); the planes of V
// are `stride` apart. A tile row's four input rows are split into even and odd columns, so that the patch
// element d[i][j] of tile t is row i's even or odd column t or t + 1: every operand a contiguous run in L1.
template <class T>
void transform_input(const Conv2dParams& p, const TilePlan& plan, const T* x, int64_t r0, int64_t r1, T* V,
                     int64_t stride) {
  const int64_t TW = plan.TW, tiles = (r1 - r0) * TW, HW = p.H * p.W, L = TW + 1;
  // Four split rows, patch row i in slot[i]. Consecutive tile rows of a plane share two input rows, which
  // move down two slots instead of being split again.
  T* split = scratch<T, Scratch::kRows>(8 * L);
  int slot[4] = {0, 1, 2, 3};
  int64_t last_plane = -1, last_h0 = 0;
  const T* operand[kPositions];
  for (int64_t c = 0; c < p.C; ++c)
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t n = r / plan.TH, h0 = 2 * (r % plan.TH) - p.pad_h, plane_index = n * p.C + c;
      const T* plane = x + plane_index * HW;
      int64_t first_new = 0;
      if (plane_index == last_plane && h0 == last_h0 + 2) {
        std::swap(slot[0], slot[2]);
        std::swap(slot[1], slot[3]);
        first_new = 2;
      }
      for (int64_t i = first_new; i < 4; ++i) {
        T* even = split + 2 * slot[i] * L;
        split_row(plane, h0 + i, p.H, p.W, p.pad_w, L, even, even + L);
      }
      for (int64_t i = 0; i < 4; ++i) {
        const T* even = split + 2 * slot[i] * L;
        operand[4 * i] = even;
        operand[4 * i + 1] = even + L;
        operand[4 * i + 2] = even + 1;
        operand[4 * i + 3] = even + L + 1;
      }
      input_tiles(operand, TW, V + c * tiles + (r - r0) * TW, stride);
      last_plane = plane_index;
      last_h0 = h0;
    }
}

// y tiles = A^T m A (+ bias[k]) from M[f][k][t] (planes `stride` apart) for tile rows [r0, r1), over output
// channels [0, K), clipped to the P x Q output. Like the input transform, a tile row at a time: its outputs'
// even and odd columns go to four short runs in L1, then interleave into the output rows.
template <class T>
void transform_output(const Conv2dParams& p, const TilePlan& plan, const T* M, int64_t stride, const T* bias,
                      int64_t r0, int64_t r1, T* y) {
  const int64_t TW = plan.TW, tiles = (r1 - r0) * TW, PQ = p.P * p.Q;
  T* out = scratch<T, Scratch::kRows>(4 * TW);  // out[(2i + j) * TW + t] = y[i][j] of tile t
  for (int64_t k = 0; k < p.K; ++k) {
    const T b = bias ? bias[k] : T(0);
    for (int64_t r = r0; r < r1; ++r) {
      const T* m = M + k * tiles + (r - r0) * TW;
#pragma GCC ivdep
      for (int64_t t = 0; t < TW; ++t) {
        T u[2][4];  // A^T m
        for (int64_t j = 0; j < 4; ++j) {
          const T m0 = m[j * stride + t], m1 = m[(4 + j) * stride + t], m2 = m[(8 + j) * stride + t],
                  m3 = m[(12 + j) * stride + t];
          u[0][j] = m0 + m1 + m2;
          u[1][j] = m1 - m2 - m3;
        }
        for (int64_t i = 0; i < 2; ++i) {
          out[(2 * i) * TW + t] = u[i][0] + u[i][1] + u[i][2] + b;
          out[(2 * i + 1) * TW + t] = u[i][1] - u[i][2] - u[i][3] + b;
        }
      }
      const int64_t n = r / plan.TH, h = 2 * (r % plan.TH);
      for (int64_t i = 0; i < 2 && h + i < p.P; ++i) {
        const T* left = out + (2 * i) * TW;
        const T* right = left + TW;
        T* dst = y + (n * p.K + k) * PQ + (h + i) * p.Q;
        for (int64_t t = 0; t < p.Q / 2; ++t) {
          dst[2 * t] = left[t];
          dst[2 * t + 1] = right[t];
        }
        if (p.Q % 2) dst[p.Q - 1] = left[TW - 1];
      }
    }
  }
}

// D[f][k][t] = (A g A^T)[f] (planes `stride` apart) for the 2x2 tiles g of dy (zero outside P x Q) in tile rows
// [r0, r1): the gradient reaching the transformed products, dL/dM. A tile row at a time, from its two dy rows
// split into even and odd columns.
template <class T>
void transform_output_grad(const Conv2dParams& p, const TilePlan& plan, const T* dy, int64_t r0, int64_t r1, T* D,
                           int64_t stride) {
  const int64_t TW = plan.TW, tiles = (r1 - r0) * TW, PQ = p.P * p.Q;
  T* g = scratch<T, Scratch::kRows>(4 * TW);  // g[(2i + j) * TW + t] = dy[i][j] of tile t
  for (int64_t k = 0; k < p.K; ++k)
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t n = r / plan.TH, h = 2 * (r % plan.TH);
      const T* plane = dy + (n * p.K + k) * PQ;
      split_row(plane, h, p.P, p.Q, 0, TW, g, g + TW);
      split_row(plane, h + 1, p.P, p.Q, 0, TW, g + 2 * TW, g + 3 * TW);
      T* d = D + k * tiles + (r - r0) * TW;
#pragma GCC ivdep
      for (int64_t t = 0; t < TW; ++t) {
        const T a0 = g[t], a1 = g[TW + t], b0 = g[2 * TW + t], b1 = g[3 * TW + t];
        // rows of A g: a, a + b, a - b, -b; then each row (u, v) -> (u, u + v, u - v, -v)
        const T rows[4][2] = {{a0, a1}, {a0 + b0, a1 + b1}, {a0 - b0, a1 - b1}, {-b0, -b1}};
        for (int64_t i = 0; i < 4; ++i) {
          const T u = rows[i][0], v = rows[i][1];
          d[(4 * i) * stride + t] = u;
          d[(4 * i + 1) * stride + t] = u + v;
          d[(4 * i + 2) * stride + t] = u - v;
          d[(4 * i + 3) * stride + t] = -v;
        }
      }
    }
}

// U[f][o][i] = (G g G^T)[f] with g = w[o][i] (outs = K, ins = C), or, when `rotated`, g = w[i][o] turned by 180°
// (outs = C, ins = K): the filters of the backward-data convolution.
template <class T>
void transform_weights(const Conv2dParams& p, const T* w, bool rotated, T* U) {
  const int64_t outs = rotated ? p.C : p.K, ins = rotated ? p.K : p.C, fstride = outs * ins;
  parallel_for(outs, grain_for(ins * 64), [&](int64_t o0, int64_t o1) {
    for (int64_t o = o0; o < o1; ++o)
      for (int64_t i = 0; i < ins; ++i) {
        const T* src = rotated ? w + (i * p.C + o) * 9 : w + (o * p.C + i) * 9;
        T g[3][3];
        for (int64_t r = 0; r < 3; ++r)
          for (int64_t s = 0; s < 3; ++s) g[r][s] = rotated ? src[(2 - r) * 3 + (2 - s)] : src[r * 3 + s];
        T gg[4][3];  // G g
        for (int64_t s = 0; s < 3; ++s) {
          gg[0][s] = g[0][s];
          gg[1][s] = T(0.5) * (g[0][s] + g[1][s] + g[2][s]);
          gg[2][s] = T(0.5) * (g[0][s] - g[1][s] + g[2][s]);
          gg[3][s] = g[2][s];
        }
        T* u = U + o * ins + i;
        for (int64_t r = 0; r < 4; ++r) {
          u[(4 * r) * fstride] = gg[r][0];
          u[(4 * r + 1) * fstride] = T(0.5) * (gg[r][0] + gg[r][1] + gg[r][2]);
          u[(4 * r + 2) * fstride] = T(0.5) * (gg[r][0] - gg[r][1] + gg[r][2]);
          u[(4 * r + 3) * fstride] = gg[r][2];
        }
      }
  });
}

// y = conv(x, w) + bias from the transformed weights U[f][K][C].
template <class T>
void run_forward(const Conv2dParams& p, const T* x, const T* U, const T* bias, T* y) {
  const TilePlan plan = plan_tiles<T>(p, kForwardChunkTiles);
  const SerialBlas serial;
  parallel_for(plan.chunks, 1, [&](int64_t c0, int64_t c1) {
    T* V = scratch<T, Scratch::kTransformedInput>(kPositions * plane_stride(p.C * plan.max_tiles()));
    T* M = scratch<T, Scratch::kTransformedOutput>(kPositions * plane_stride(p.K * plan.max_tiles()));
    for (int64_t chunk = c0; chunk < c1; ++chunk) {
      const int64_t r0 = plan.chunk_begin(chunk), r1 = plan.chunk_end(chunk), tiles = (r1 - r0) * plan.TW;
      const int64_t vs = plane_stride(p.C * tiles), ms = plane_stride(p.K * tiles);
      transform_input(p, plan, x, r0, r1, V, vs);
      for (int64_t f = 0; f < kPositions; ++f)
        winograd_products(p.K, p.C, tiles, U + f * p.K * p.C, V + f * vs, M + f * ms);
      transform_output(p, plan, M, ms, bias, r0, r1, y);
    }
  });
}

}  // namespace

bool winograd_serves(const Conv2dParams& p) {
  // Padding up to 2 keeps the backward-data convolution's padding, 2 - pad, non-negative.
  return p.R == 3 && p.S == 3 && p.stride_h == 1 && p.stride_w == 1 && p.dil_h == 1 && p.dil_w == 1 &&
         p.groups == 1 && p.pad_h <= 2 && p.pad_w <= 2 && p.C >= kMinChannels && p.K >= kMinChannels;
}

template <class T>
void winograd_forward(const Conv2dParams& p, const T* x, const T* w, const T* bias, T* y) {
  T* U = scratch<T, Scratch::kTransformedWeights>(kPositions * p.K * p.C);
  transform_weights(p, w, false, U);
  run_forward(p, x, U, bias, y);
}

template <class T>
void winograd_backward_data(const Conv2dParams& p, const T* dy, const T* w, T* dx) {
  T* U = scratch<T, Scratch::kTransformedWeights>(kPositions * p.K * p.C);
  transform_weights(p, w, true, U);
  run_forward(adjoint_conv(p), dy, U, static_cast<const T*>(nullptr), dx);
}

template <class T>
void winograd_backward_weight(const Conv2dParams& p, const T* x, const T* dy, T* dw) {
  const TilePlan plan = plan_tiles<T>(p, 1);
  const int64_t KC = p.K * p.C, acc_size = kPositions * KC;
  // acc = sum_tiles D_f · V_f^T for every transformed position f: the weight gradient in the transformed domain.
  T* acc = scratch<T, Scratch::kTransformedWeights>(acc_size);
  sum_over_threads(plan.chunks, acc_size, acc, [&](int64_t first, int64_t last, T* sum) {
    T* V = scratch<T, Scratch::kTransformedInput>(kPositions * plane_stride(p.C * plan.max_tiles()));
    T* D = scratch<T, Scratch::kTransformedOutput>(kPositions * plane_stride(p.K * plan.max_tiles()));
    if (first == last) std::fill(sum, sum + acc_size, T(0));
    for (int64_t chunk = first; chunk < last; ++chunk) {
      const int64_t r0 = plan.chunk_begin(chunk), r1 = plan.chunk_end(chunk), tiles = (r1 - r0) * plan.TW;
      const int64_t vs = plane_stride(p.C * tiles), ds = plane_stride(p.K * tiles);
      transform_input(p, plan, x, r0, r1, V, vs);
      transform_output_grad(p, plan, dy, r0, r1, D, ds);
      for (int64_t f = 0; f < kPositions; ++f)
        winograd_weight_products(p.K, p.C, tiles, D + f * ds, V + f * vs, chunk != first, sum + f * KC);
    }
  });
  // dw[k][c] = G^T X G, X[i][j] = acc[4i + j][k][c]; rows of G^T: (1 .5 .5 0), (0 .5 -.5 0), (0 .5 .5 1).
  parallel_for(KC, grain_for(64), [&](int64_t e0, int64_t e1) {
    for (int64_t e = e0; e < e1; ++e) {
      T z[3][4];
      for (int64_t j = 0; j < 4; ++j) {
        const T x0 = acc[j * KC + e], x1 = acc[(4 + j) * KC + e], x2 = acc[(8 + j) * KC + e],
                x3 = acc[(12 + j) * KC + e];
        z[0][j] = x0 + T(0.5) * (x1 + x2);
        z[1][j] = T(0.5) * (x1 - x2);
        z[2][j] = T(0.5) * (x1 + x2) + x3;
      }
      T* out = dw + e * 9;
      for (int64_t r = 0; r < 3; ++r) {
        out[r * 3] = z[r][0] + T(0.5) * (z[r][1] + z[r][2]);
        out[r * 3 + 1] = T(0.5) * (z[r][1] - z[r][2]);
        out[r * 3 + 2] = T(0.5) * (z[r][1] + z[r][2]) + z[r][3];
      }
    }
  });
}

#define TF_INSTANTIATE(T)                                                                         \
  template void winograd_forward<T>(const Conv2dParams&, const T*, const T*, const T*, T*);     \
  template void winograd_backward_data<T>(const Conv2dParams&, const T*, const T*, T*);         \
  template void winograd_backward_weight<T>(const Conv2dParams&, const T*, const T*, T*);
TF_INSTANTIATE(float)
TF_INSTANTIATE(double)
#undef TF_INSTANTIATE

}  // namespace tf::cpu

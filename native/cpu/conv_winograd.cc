// Winograd F(2x2, 3x3). With d a 4x4 input patch, g a 3x3 filter and the matrices
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],  G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1],  A^T = [1 1 1 0; 0 1 -1 -1],
// a 2x2 output tile is  y = A^T [ sum_c (G g G^T) ⊙ (B^T d B) ] A.  For each of the 16 transformed positions f the
// sum over channels is a GEMM: M_f[K, tiles] = U_f[K, C] · V_f[C, tiles]. Its adjoints give the gradients:
//   dL/dM = A dy A^T,   dw = G^T [ sum_tiles (A dy A^T) ⊙ (B^T d B) ] G   (a GEMM per f over the tiles).
// Tiles are numbered row by row over the batch (tile row r = n * TH + th); work is split into chunks of whole
// tile rows sized so that a chunk's transformed tiles stay in cache between the transforms and the GEMMs.
// The transforms work on parity planes (even / odd rows x even / odd columns), so that what they read or write
// for each element of a tile is one contiguous run over all the chunk's tiles, whatever TW is:
//  - input: a channel's rows of the chunk are split into four sub-planes with one column more than the tiles
//    and one row more per image (InputLayout); element d[i][j] of every tile's patch is then the same run
//    shifted by a constant. On AVX-512 (float), 16 lanes of the run a vector; the lanes that are not tiles
//    (the extra column and rows) are dropped with an in-register compress before the store.
//  - output: each channel's tiles transform in one run to four planes of its output parities laid out like the
//    tiles, whose rows then interleave into y; the output gradient reads dy split into such planes.
// Without AVX-512 (and for double) the same layouts go through scalar loops, the input's a tile row at a time.
// Legend: N batch, C input channels, K output channels, H W input, P Q output, TH TW tiles per column / row.
#include "cpu/conv_winograd.h"

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "core/thread_pool.h"
#include "cpu/avx512.h"
#include "cpu/partial_sums.h"
#include "cpu/scratch.h"
#include "cpu/winograd_gemm.h"

namespace tf::cpu {
namespace {

constexpr int64_t kPositions = 16;  // transformed tile: 4x4
constexpr int64_t kLanes = 16;      // floats per AVX-512 vector
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

// Rows of a plane, W columns wide, paired with runs of a buffer of parity planes: row q (of `count`) is
// x[offset[q]] (none where offset[q] < 0: padding when splitting, past the output when merging), and its
// columns 2m + b - pad, m in [0, len), are buf[(2 (q % 2) + b) * stride + (q / 2) * len + m], b = 0 for the
// even columns and 1 for the odd ones.
struct ParityRows {
  const int64_t* offset;
  int64_t count, W, pad, len, stride;

  template <class T>
  T* even(T* buf, int64_t q) const { return buf + 2 * (q % 2) * stride + (q / 2) * len; }
};

#ifdef TF_AVX512_KERNELS
// Lanes k of a 16-wide load at column `first` whose column first + k lies in [0, width).
inline __mmask16 lanes_inside(int64_t first, int64_t width) {
  return __mmask16(first_lanes(width - first) & ~first_lanes(-first));
}

// The AVX-512 split and merge take all the rows for one block of 16 m at a time, so that a block's masks are
// worked out once, not per row.
TF_AVX512 void split_rows_avx512(const ParityRows& rows, const float* x, float* buf) {
  for (int64_t m = 0; m < rows.len; m += kLanes) {
    // columns [first, first + 32), loaded with the padding's columns masked to zero (masked lanes never fault)
    const int64_t first = 2 * m - rows.pad;
    const __mmask16 lo_lanes = lanes_inside(first, rows.W), hi_lanes = lanes_inside(first + kLanes, rows.W);
    const __mmask16 keep = first_lanes(rows.len - m);
    for (int64_t q = 0; q < rows.count; ++q) {
      const bool inside = rows.offset[q] >= 0;
      const float* at = x + (inside ? rows.offset[q] : 0) + first;
      const __m512 lo = _mm512_maskz_loadu_ps(inside ? lo_lanes : 0, at);
      const __m512 hi = _mm512_maskz_loadu_ps(inside ? hi_lanes : 0, at + kLanes);
      const EvenOdd columns = even_odd(lo, hi);
      float* even = rows.even(buf, q) + m;
      _mm512_mask_storeu_ps(even, keep, columns.even);
      _mm512_mask_storeu_ps(even + rows.stride, keep, columns.odd);
    }
  }
}

// Reads 16 elements at a time from the parity planes: up to 15 past a row's len.
TF_AVX512 void merge_rows_avx512(const ParityRows& rows, const float* buf, float* y) {
  const __m512i low_lanes = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i high_lanes = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  for (int64_t m = 0; 2 * m < rows.W; m += kLanes) {
    const __mmask16 low_keep = first_lanes(rows.W - 2 * m), high_keep = first_lanes(rows.W - 2 * m - kLanes);
    for (int64_t q = 0; q < rows.count; ++q) {
      const bool inside = rows.offset[q] >= 0;
      const float* even = rows.even(buf, q) + m;
      const __m512 e = _mm512_loadu_ps(even), o = _mm512_loadu_ps(even + rows.stride);
      float* dst = y + (inside ? rows.offset[q] : 0) + 2 * m;
      _mm512_mask_storeu_ps(dst, inside ? low_keep : 0, _mm512_permutex2var_ps(e, low_lanes, o));
      _mm512_mask_storeu_ps(dst + kLanes, inside ? high_keep : 0, _mm512_permutex2var_ps(e, high_lanes, o));
    }
  }
}
#endif

// buf's parity planes from the rows of x (see ParityRows), zero where a column or a row is padding.
template <class T>
void split_rows(const ParityRows& rows, const T* x, T* buf) {
#ifdef TF_AVX512_KERNELS
  if constexpr (std::is_same_v<T, float>)
    if (has_avx512()) return split_rows_avx512(rows, x, buf);
#endif
  const int64_t W = rows.W, pad = rows.pad, count = rows.len;
  // [lo, hi): the m whose two columns both lie inside the row, copied without bounds checks
  const int64_t lo = std::min(count, (pad + 1) / 2), hi = std::max(lo, std::min(count, (W + pad) / 2));
  for (int64_t q = 0; q < rows.count; ++q) {
    T* even = rows.even(buf, q);
    T* odd = even + rows.stride;
    if (rows.offset[q] < 0) {
      std::fill(even, even + count, T(0));
      std::fill(odd, odd + count, T(0));
      continue;
    }
    const T* row = x + rows.offset[q];
    auto at = [&](int64_t col) { return col >= 0 && col < W ? row[col] : T(0); };
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
}

// The rows of y (see ParityRows, pad 0) from buf's parity planes, which need 16 readable elements past the
// last row's len.
template <class T>
void merge_rows(const ParityRows& rows, const T* buf, T* y) {
#ifdef TF_AVX512_KERNELS
  if constexpr (std::is_same_v<T, float>)
    if (has_avx512()) return merge_rows_avx512(rows, buf, y);
#endif
  const int64_t Q = rows.W;
  for (int64_t q = 0; q < rows.count; ++q) {
    if (rows.offset[q] < 0) continue;
    const T* even = rows.even(buf, q);
    const T* odd = even + rows.stride;
    T* dst = y + rows.offset[q];
    for (int64_t t = 0; t < Q / 2; ++t) {
      dst[2 * t] = even[t];
      dst[2 * t + 1] = odd[t];
    }
    if (Q % 2) dst[Q - 1] = even[Q / 2];
  }
}

// Offsets (from output channel 0) of the output rows of tile rows [r0, r1), for ParityRows: row 2 (r - r0) + i
// is row 2 (r % TH) + i of image r / TH, or none past P.
const int64_t* output_rows(const Conv2dParams& p, const TilePlan& plan, int64_t r0, int64_t r1) {
  int64_t* offset = scratch<int64_t, Scratch::kRows>(2 * (r1 - r0));
  for (int64_t r = r0; r < r1; ++r)
    for (int64_t i = 0; i < 2; ++i) {
      const int64_t n = r / plan.TH, h = 2 * (r % plan.TH) + i;
      offset[2 * (r - r0) + i] = h < p.P ? (n * p.K * p.P + h) * p.Q : -1;
    }
  return offset;
}

// A chunk's input for one channel, as four parity sub-planes sub[2a + b][s * L + m] = x[2v + a - pad_h][2m + b - pad_w]
// (zero outside the H x W plane) with L = TW + 1. Sequence row s walks the chunk's images in turn and, in each, the
// v from its first tile row of the chunk to one past its last: tile row r (of image n = r / TH) starts at
// sequence row s(r) = r - r0 + n - n0. Patch element d[i][j] of its tile t is then
//   sub[2 (i % 2) + j % 2][(s(r) + i / 2) * L + t + j / 2],
// so for each (i, j) the chunk's tiles are one run over u = s(r) * L + t, the same for all 16 elements but for an
// offset. Lanes of the run with t = TW, or on an image's extra last row, are not tiles.
struct InputLayout {
  int64_t TH, TW, L, r0, n0;
  int64_t rows;        // sequence rows
  int64_t sub_stride;  // between sub-planes: rows * L, then kLanes elements read past the run's last vector
  int64_t run;         // u in [0, run) covers every tile

  int64_t sequence_row(int64_t r) const { return r - r0 + r / TH - n0; }
};

InputLayout input_layout(const TilePlan& plan, int64_t r0, int64_t r1) {
  InputLayout in{plan.TH, plan.TW, plan.TW + 1, r0, r0 / plan.TH, 0, 0, 0};
  in.rows = in.sequence_row(r1 - 1) + 2;
  in.sub_stride = in.rows * in.L + kLanes;
  in.run = (in.rows - 2) * in.L + in.TW;
  return in;
}

// The rows that split channel 0 of the chunk's input into the sub-planes; channel c's are c H W further on.
ParityRows input_rows(const Conv2dParams& p, const InputLayout& in, int64_t r1) {
  int64_t* offset = scratch<int64_t, Scratch::kRows>(2 * in.rows);
  for (int64_t r = in.r0; r < r1;) {
    const int64_t n = r / in.TH, end = std::min(r1, (n + 1) * in.TH), s0 = in.sequence_row(r), v0 = r % in.TH;
    for (int64_t v = 0; v <= end - r; ++v)
      for (int64_t a = 0; a < 2; ++a) {
        const int64_t h = 2 * (v0 + v) + a - p.pad_h;
        offset[2 * (s0 + v) + a] = h >= 0 && h < p.H ? (n * p.C * p.H + h) * p.W : -1;
      }
    r = end;
  }
  return {offset, 2 * in.rows, p.W, p.pad_w, in.L, in.sub_stride};
}

#ifdef TF_AVX512_KERNELS
// The lanes of a run that are tiles, for the AVX-512 input transform.
struct RunVector {
  uint16_t keep;  // bit k: lane k is a tile
  int64_t first;  // tile index of its first tile lane: the tiles before it in the run
};

// The RunVectors of a chunk's run: ceil(run / 16) of them.
const RunVector* run_vectors(const InputLayout& in, int64_t r1) {
  const int64_t count = (in.run + kLanes - 1) / kLanes;
  RunVector* vectors = scratch<RunVector, Scratch::kRows>(count);
  std::fill(vectors, vectors + count, RunVector{0, 0});
  for (int64_t r = in.r0; r < r1; ++r)
    for (int64_t t = 0, u = in.sequence_row(r) * in.L; t < in.TW; ++t, ++u)
      vectors[u / kLanes].keep = uint16_t(vectors[u / kLanes].keep | (1u << (u % kLanes)));
  for (int64_t k = 1; k < count; ++k)
    vectors[k].first = vectors[k - 1].first + __builtin_popcount(vectors[k - 1].keep);
  return vectors;
}

// The input transform over a chunk's run for one channel: 16 lanes of u at a time, each position f's lanes
// compressed to the tiles among them and stored at v[f * stride + first tile]. A full 16-lane store runs past
// the vector's tiles into places later vectors overwrite; near the channel's end, where it would run past its
// `tiles`, the store is masked instead. (Compressing straight to memory, vcompressps m512, is microcoded on
// this AMD CPU: the forward of [64,16,32,32] took 8.3 ms with it against 2.7.)
TF_AVX512 void input_run_avx512(const InputLayout& in, const float* sub, const RunVector* vectors, int64_t tiles,
                                float* v, int64_t stride) {
  const int64_t SS = in.sub_stride, L = in.L, count = (in.run + kLanes - 1) / kLanes;
  for (int64_t k = 0; k < count; ++k) {
    const float* at = sub + k * kLanes;
    __m512 col[4][4];  // B^T d
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) {
      const float* s = at + (j % 2) * SS + j / 2;  // patch column j: sub-plane b = j % 2, offset j / 2
      const __m512 d0 = _mm512_loadu_ps(s), d1 = _mm512_loadu_ps(s + 2 * SS), d2 = _mm512_loadu_ps(s + L),
                   d3 = _mm512_loadu_ps(s + 2 * SS + L);
      col[0][j] = _mm512_sub_ps(d0, d2);
      col[1][j] = _mm512_add_ps(d1, d2);
      col[2][j] = _mm512_sub_ps(d2, d1);
      col[3][j] = _mm512_sub_ps(d1, d3);
    }
    const __mmask16 keep = vectors[k].keep;
    const int64_t first = vectors[k].first;
    const __mmask16 store = first_lanes(tiles - first);
    float* dst = v + first;
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) {
      const __m512 out[4] = {_mm512_sub_ps(col[i][0], col[i][2]), _mm512_add_ps(col[i][1], col[i][2]),
                             _mm512_sub_ps(col[i][2], col[i][1]), _mm512_sub_ps(col[i][1], col[i][3])};
#pragma GCC unroll 4
      for (int j = 0; j < 4; ++j)
        _mm512_mask_storeu_ps(dst + (4 * i + j) * stride, store, _mm512_maskz_compress_ps(keep, out[j]));
    }
  }
}

// out[(2i + j) * out_stride + u] = (A^T m A)[i][j] + bias for tiles u in [0, tiles), m[f * stride + u] = M_f.
TF_AVX512 void output_run_avx512(const float* m, int64_t stride, float bias, int64_t tiles, float* out,
                                 int64_t out_stride) {
  const __m512 b = _mm512_set1_ps(bias);
  for (int64_t u = 0; u < tiles; u += kLanes) {
    const __mmask16 keep = first_lanes(tiles - u);
    __m512 a[2][4];  // A^T m
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) {
      const float* s = m + j * stride + u;
      const __m512 m0 = _mm512_maskz_loadu_ps(keep, s), m1 = _mm512_maskz_loadu_ps(keep, s + 4 * stride),
                   m2 = _mm512_maskz_loadu_ps(keep, s + 8 * stride), m3 = _mm512_maskz_loadu_ps(keep, s + 12 * stride);
      a[0][j] = _mm512_add_ps(_mm512_add_ps(m0, m1), m2);
      a[1][j] = _mm512_sub_ps(_mm512_sub_ps(m1, m2), m3);
    }
#pragma GCC unroll 2
    for (int i = 0; i < 2; ++i) {
      float* o = out + 2 * i * out_stride + u;
      _mm512_mask_storeu_ps(o, keep, _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a[i][0], a[i][1]), a[i][2]), b));
      _mm512_mask_storeu_ps(o + out_stride, keep,
                            _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(a[i][1], a[i][2]), a[i][3]), b));
    }
  }
}

// d[f * stride + u] = (A g A^T)[f] for tiles u in [0, tiles), g[(2i + j) * g_stride + u] = dy[i][j].
TF_AVX512 void grad_run_avx512(const float* g, int64_t g_stride, int64_t tiles, float* d, int64_t stride) {
  for (int64_t u = 0; u < tiles; u += kLanes) {
    const __mmask16 keep = first_lanes(tiles - u);
    const __m512 a0 = _mm512_maskz_loadu_ps(keep, g + u), a1 = _mm512_maskz_loadu_ps(keep, g + g_stride + u),
                 b0 = _mm512_maskz_loadu_ps(keep, g + 2 * g_stride + u),
                 b1 = _mm512_maskz_loadu_ps(keep, g + 3 * g_stride + u);
    const __m512 zero = _mm512_setzero_ps();
    // rows of A g: a, a + b, a - b, -b; then each row (x, y) -> (x, x + y, x - y, -y)
    const __m512 rows[4][2] = {{a0, a1},
                               {_mm512_add_ps(a0, b0), _mm512_add_ps(a1, b1)},
                               {_mm512_sub_ps(a0, b0), _mm512_sub_ps(a1, b1)},
                               {_mm512_sub_ps(zero, b0), _mm512_sub_ps(zero, b1)}};
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) {
      float* o = d + 4 * i * stride + u;
      _mm512_mask_storeu_ps(o, keep, rows[i][0]);
      _mm512_mask_storeu_ps(o + stride, keep, _mm512_add_ps(rows[i][0], rows[i][1]));
      _mm512_mask_storeu_ps(o + 2 * stride, keep, _mm512_sub_ps(rows[i][0], rows[i][1]));
      _mm512_mask_storeu_ps(o + 3 * stride, keep, _mm512_sub_ps(zero, rows[i][1]));
    }
  }
}
#endif

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
// are `stride` apart. Each channel's input is split into parity sub-planes (InputLayout), then transformed:
// with AVX-512, 16 lanes of the run at a time whatever TW is; otherwise a tile row at a time.
template <class T>
void transform_input(const Conv2dParams& p, const TilePlan& plan, const T* x, int64_t r0, int64_t r1, T* V,
                     int64_t stride) {
  const InputLayout in = input_layout(plan, r0, r1);
  const ParityRows rows = input_rows(p, in, r1);
  const int64_t TW = plan.TW, tiles = (r1 - r0) * TW, HW = p.H * p.W, SS = in.sub_stride, L = in.L;
  T* sub = scratch<T, Scratch::kRows>(4 * SS);
  // past the sub-planes' rows: read only into lanes that are not tiles, zeroed so those lanes hold numbers
  for (int64_t q = 0; q < 4; ++q) std::fill(sub + q * SS + in.rows * L, sub + (q + 1) * SS, T(0));
#ifdef TF_AVX512_KERNELS
  if constexpr (std::is_same_v<T, float>)
    if (has_avx512()) {
      const RunVector* vectors = run_vectors(in, r1);
      for (int64_t c = 0; c < p.C; ++c) {
        split_rows(rows, x + c * HW, sub);
        input_run_avx512(in, sub, vectors, tiles, V + c * tiles, stride);
      }
      return;
    }
#endif
  const T* operand[kPositions];
  for (int64_t c = 0; c < p.C; ++c) {
    split_rows(rows, x + c * HW, sub);
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t s = in.sequence_row(r);
      for (int64_t i = 0; i < 4; ++i)
        for (int64_t j = 0; j < 4; ++j) operand[4 * i + j] = sub + (2 * (i % 2) + j % 2) * SS + (s + i / 2) * L + j / 2;
      input_tiles(operand, TW, V + c * tiles + (r - r0) * TW, stride);
    }
  }
}

// out[(2i + j) * out_stride + u] = (A^T m A)[i][j] + bias for tiles u in [0, tiles), m[f * stride + u] = M_f.
template <class T>
void output_run(const T* m, int64_t stride, T bias, int64_t tiles, T* out, int64_t out_stride) {
#ifdef TF_AVX512_KERNELS
  if constexpr (std::is_same_v<T, float>)
    if (has_avx512()) return output_run_avx512(m, stride, bias, tiles, out, out_stride);
#endif
#pragma GCC ivdep
  for (int64_t u = 0; u < tiles; ++u) {
    T a[2][4];  // A^T m
    for (int64_t j = 0; j < 4; ++j) {
      const T m0 = m[j * stride + u], m1 = m[(4 + j) * stride + u], m2 = m[(8 + j) * stride + u],
              m3 = m[(12 + j) * stride + u];
      a[0][j] = m0 + m1 + m2;
      a[1][j] = m1 - m2 - m3;
    }
    for (int64_t i = 0; i < 2; ++i) {
      out[(2 * i) * out_stride + u] = a[i][0] + a[i][1] + a[i][2] + bias;
      out[(2 * i + 1) * out_stride + u] = a[i][1] - a[i][2] - a[i][3] + bias;
    }
  }
}

// y tiles = A^T m A (+ bias[k]) from M[f][k][t] (planes `stride` apart) for tile rows [r0, r1), over output
// channels [0, K), clipped to the P x Q output. A channel's tiles go, in one run, to four parity planes of its
// outputs (even / odd rows x columns, each laid out like the tiles), whose rows then interleave into y.
template <class T>
void transform_output(const Conv2dParams& p, const TilePlan& plan, const T* M, int64_t stride, const T* bias,
                      int64_t r0, int64_t r1, T* y) {
  const int64_t TW = plan.TW, tiles = (r1 - r0) * TW, PQ = p.P * p.Q;
  // out[(2i + j) * out_stride + u] = y[i][j] of tile u; the kLanes past `tiles` are for merge_rows' reads
  const int64_t out_stride = tiles + kLanes;
  T* out = scratch<T, Scratch::kRows>(4 * out_stride);
  const ParityRows rows{output_rows(p, plan, r0, r1), 2 * (r1 - r0), p.Q, 0, TW, out_stride};
  for (int64_t k = 0; k < p.K; ++k) {
    output_run(M + k * tiles, stride, bias ? bias[k] : T(0), tiles, out, out_stride);
    merge_rows(rows, out, y + k * PQ);
  }
}

// d[f * stride + u] = (A g A^T)[f] for tiles u in [0, tiles), g[(2i + j) * g_stride + u] = dy[i][j].
template <class T>
void grad_run(const T* g, int64_t g_stride, int64_t tiles, T* d, int64_t stride) {
#ifdef TF_AVX512_KERNELS
  if constexpr (std::is_same_v<T, float>)
    if (has_avx512()) return grad_run_avx512(g, g_stride, tiles, d, stride);
#endif
#pragma GCC ivdep
  for (int64_t u = 0; u < tiles; ++u) {
    const T a0 = g[u], a1 = g[g_stride + u], b0 = g[2 * g_stride + u], b1 = g[3 * g_stride + u];
    // rows of A g: a, a + b, a - b, -b; then each row (x, y) -> (x, x + y, x - y, -y)
    const T rows[4][2] = {{a0, a1}, {a0 + b0, a1 + b1}, {a0 - b0, a1 - b1}, {-b0, -b1}};
    for (int64_t i = 0; i < 4; ++i) {
      d[(4 * i) * stride + u] = rows[i][0];
      d[(4 * i + 1) * stride + u] = rows[i][0] + rows[i][1];
      d[(4 * i + 2) * stride + u] = rows[i][0] - rows[i][1];
      d[(4 * i + 3) * stride + u] = -rows[i][1];
    }
  }
}

// D[f][k][t] = (A g A^T)[f] (planes `stride` apart) for the 2x2 tiles g of dy (zero outside P x Q) in tile rows
// [r0, r1): the gradient reaching the transformed products, dL/dM. A channel's dy rows are split into four
// parity planes laid out like the tiles, then transformed in one run.
template <class T>
void transform_output_grad(const Conv2dParams& p, const TilePlan& plan, const T* dy, int64_t r0, int64_t r1, T* D,
                           int64_t stride) {
  const int64_t TW = plan.TW, tiles = (r1 - r0) * TW, PQ = p.P * p.Q;
  T* g = scratch<T, Scratch::kRows>(4 * tiles);  // g[(2i + j) * tiles + u] = dy[i][j] of tile u
  const ParityRows rows{output_rows(p, plan, r0, r1), 2 * (r1 - r0), p.Q, 0, TW, tiles};
  for (int64_t k = 0; k < p.K; ++k) {
    split_rows(rows, dy + k * PQ, g);
    grad_run(g, tiles, tiles, D + k * tiles, stride);
  }
}

// U[f][o][i] = (G g G^T)[f] with g = w[o][i] (outs = K, ins = C), or, when `rotated`, g = w[i][o] turned by 180°
// (outs = C, ins = K): the filters of the backward-data convolution. The planes of U are plane_stride(K C) apart:
// K C apart, at 64 channels each side a filter's 16 stores were 16 KiB apart, all in one L1 set, and the
// transform took 6.7% of the [64,64,8,8] forward (1.1% now; the forward 2.01 -> 1.88 ms).
template <class T>
void transform_weights(const Conv2dParams& p, const T* w, bool rotated, T* U) {
  const int64_t outs = rotated ? p.C : p.K, ins = rotated ? p.K : p.C, fstride = plane_stride(outs * ins);
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
  const int64_t us = plane_stride(p.K * p.C);
  parallel_for(plan.chunks, 1, [&](int64_t c0, int64_t c1) {
    T* V = scratch<T, Scratch::kTransformedInput>(kPositions * plane_stride(p.C * plan.max_tiles()));
    T* M = scratch<T, Scratch::kTransformedOutput>(kPositions * plane_stride(p.K * plan.max_tiles()));
    for (int64_t chunk = c0; chunk < c1; ++chunk) {
      const int64_t r0 = plan.chunk_begin(chunk), r1 = plan.chunk_end(chunk), tiles = (r1 - r0) * plan.TW;
      const int64_t vs = plane_stride(p.C * tiles), ms = plane_stride(p.K * tiles);
      transform_input(p, plan, x, r0, r1, V, vs);
      for (int64_t f = 0; f < kPositions; ++f)
        winograd_products(p.K, p.C, tiles, U + f * us, V + f * vs, M + f * ms);
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
  T* U = scratch<T, Scratch::kTransformedWeights>(kPositions * plane_stride(p.K * p.C));
  transform_weights(p, w, false, U);
  run_forward(p, x, U, bias, y);
}

template <class T>
void winograd_backward_data(const Conv2dParams& p, const T* dy, const T* w, T* dx) {
  T* U = scratch<T, Scratch::kTransformedWeights>(kPositions * plane_stride(p.K * p.C));
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

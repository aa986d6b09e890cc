// CUDA conv2d: the CUDA side of core/conv.h's entries (TF_CONV_ENTRIES), with the CPU's semantics.
//
// Legend (core/conv.h): N batch, C input channels, H W input size, K output channels, R S kernel size, P Q
// output size, G groups, Cg = C/G and Kg = K/G channels per group, taps = Cg·R·S.
//
// Each pass is one GEMM per group, computed as an implicit GEMM: the operand tiles are gathered from x, w and
// dy straight into shared memory, the im2col index arithmetic done on the fly, so no im2col matrix ever
// exists in device memory.
//   forward          y   [M = N·P·Q, Kg] = im2col(x) [M, taps] · wᵀ [taps, Kg]             (+ bias)
//   backward-data    dx  [M = N·H·W, Cg] = gather(dy) [M, Kg·R·S] · w [Kg·R·S, Cg]          per stride phase
//   backward-weight  dwᵀ [taps, Kg]      = im2col(x)ᵀ [taps, N·P·Q] · dy [N·P·Q, Kg]        split over N·P·Q
// The GEMM's rows (M) are always the dimension its output is contiguous along, so a warp's stores coalesce.
// float32 runs on TF32 tensor cores (mma.sync m16n8k8) when Conv2dParams::allow_tf32, else, like float64, on
// CUDA cores (SIMT register tiles).
//
// Backward-data by stride phase: the dx rows h ≡ a (mod stride_h) only receive the kernel rows r for which
// (a + pad_h − r·dil_h) is a multiple of stride_h, the taps that land on dy's stride grid (likewise columns).
// Each phase (a, b) is its own GEMM over just those taps, so a stride-2 convolution's backward does a quarter
// of the multiply-adds of a gather that multiplies the off-grid taps by zero.
//
// Backward-weight's reduction runs over the whole batch and output plane while the weight gradient itself
// may be only a few tiles, so the reduction is split over blockIdx.z; each split writes its partial
// gradient to scratch and a second kernel adds the splits in a fixed order: the result is deterministic
// (no atomics), run to run.
//
// Convolutions with one input channel per group (depthwise, any channel multiplier K/G) have no channel
// reduction to tile and run as direct kernels instead: one thread per output or input-gradient element, one
// block per filter and run of 8 taps for the weight gradient. The bias gradient is one block per 8 channels.
// These block reductions over N·P·Q terms accumulate in double, as the CPU's do, and add the threads' partials
// in a fixed order; the GEMM accumulates in T, as cuDNN's does.
#include "cuda/kernel.h"

#include <algorithm>
#include <type_traits>

#include "core/conv.h"
#include "core/error.h"
#include "cuda/mma.h"
#include "cuda/runtime.h"

namespace tf::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kWarpSize = 32;

// The geometry in the form the kernels read it (Conv2dParams' helpers are host functions). Coordinates are
// 64-bit: a padding or stride may be huge even though the planes fit 32 bits (conv2d_params).
struct Geometry {
  int64_t N, C, H, W, K, R, S, P, Q;
  int64_t stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, groups;
  int64_t Cg, Kg, HW, PQ, RS, taps;
};

Geometry geometry_of(const Conv2dParams& p) {
  return {p.N, p.C, p.H, p.W, p.K, p.R, p.S, p.P, p.Q,
          p.stride_h, p.stride_w, p.pad_h, p.pad_w, p.dil_h, p.dil_w, p.groups,
          p.in_per_group(), p.out_per_group(), p.H * p.W, p.P * p.Q, p.R * p.S, p.reduction()};
}

__device__ int64_t greatest_common_divisor(int64_t a, int64_t b) {
  while (b != 0) {
    const int64_t r = a % b;
    a = b;
    b = r;
  }
  return a;
}

// The kernel rows r in [0, R) whose input row, for an input position ≡ pos (mod stride), lands on the output
// grid: (pos + pad − r·dil) divisible by stride. They are first, first + step, ... (count of them): r·dil mod
// stride repeats with period step = stride / gcd(dil, stride), so the first one, if any, is below that.
struct GridTaps {
  int64_t first, step, count;
};
__device__ GridTaps grid_taps(int64_t pos, int64_t stride, int64_t pad, int64_t dil, int64_t R) {
  const int64_t step = stride / greatest_common_divisor(dil, stride);
  for (int64_t r = 0; r < R && r < step; ++r)
    if ((pos + pad - r * dil) % stride == 0) return {r, step, (R - 1 - r) / step + 1};
  return {0, step, 0};
}

// ---------------------------------------------------------------------------------------------------------
// GEMM operands. An operand is a matrix [rows, reduction] read element by element: row(x) and col(k) decode
// the two indices once each (the loader keeps a thread's rows for the whole mainloop and decodes each column
// once per tile), at() combines them, returning zero in the convolution's padding. The loader only asks for
// rows and columns inside the GEMM.

// x as im2col: element (spatial l = (n, p, q), tap k = (c, r, s)) is x[n, c, p·sh − ph + r·dh, q·sw − pw + s·dw]
// of the group starting at `x`, zero in the padding.
template <class T>
struct Im2col {
  const T* x;
  Geometry g;
  struct Spatial {
    int64_t offset, h, w;  // the sample's offset and the top-left corner of the window
  };
  struct Tap {
    int64_t offset, dh, dw;  // the channel's offset and the tap's displacement in the window
  };
  __device__ Spatial spatial(int64_t l) const {
    const int64_t n = l / g.PQ, pq = l - n * g.PQ, p = pq / g.Q, q = pq - p * g.Q;
    return {n * g.C * g.HW, p * g.stride_h - g.pad_h, q * g.stride_w - g.pad_w};
  }
  __device__ Tap tap(int64_t k) const {
    const int64_t c = k / g.RS, rs = k - c * g.RS, r = rs / g.S, s = rs - r * g.S;
    return {c * g.HW, r * g.dil_h, s * g.dil_w};
  }
  __device__ T at(const Spatial& l, const Tap& t) const {
    const int64_t h = l.h + t.dh, w = l.w + t.dw;
    return h >= 0 && h < g.H && w >= 0 && w < g.W ? x[l.offset + t.offset + h * g.W + w] : T(0);
  }
};

// Forward's A: rows are output positions, the reduction runs over taps.
template <class T>
struct Im2colRows : Im2col<T> {
  using Scalar = T;
  using Row = typename Im2col<T>::Spatial;
  using Col = typename Im2col<T>::Tap;
  __device__ Row row(int64_t m) const { return this->spatial(m); }
  __device__ Col col(int64_t k) const { return this->tap(k); }
};

// Backward-weight's A: rows are taps, the reduction runs over output positions.
template <class T>
struct Im2colTapRows : Im2col<T> {
  using Scalar = T;
  using Row = typename Im2col<T>::Tap;
  using Col = typename Im2col<T>::Spatial;
  __device__ Row row(int64_t m) const { return this->tap(m); }
  __device__ Col col(int64_t l) const { return this->spatial(l); }
  __device__ T at(const Row& t, const Col& l) const { return Im2col<T>::at(l, t); }
};

// A row-major matrix: element (x, k) = a[x·ld + k] (forward's B: the group's filters [Kg, taps]).
template <class T>
struct RowMajor {
  using Scalar = T;
  using Row = int64_t;
  using Col = int64_t;
  const T* a;
  int64_t ld;
  __device__ Row row(int64_t x) const { return x * ld; }
  __device__ Col col(int64_t k) const { return k; }
  __device__ T at(Row r, Col c) const { return a[r + c]; }
};

// Backward-weight's B: element (k, l = (n, p, q)) = dy[n, k, p, q] of the group starting at `dy`.
template <class T>
struct DyByChannel {
  using Scalar = T;
  using Row = int64_t;
  using Col = int64_t;
  const T* dy;
  Geometry g;
  __device__ Row row(int64_t k) const { return k * g.PQ; }
  __device__ Col col(int64_t l) const {
    const int64_t n = l / g.PQ;
    return n * g.K * g.PQ + (l - n * g.PQ);
  }
  __device__ T at(Row r, Col c) const { return dy[r + c]; }
};

// One stride phase of backward-data: the dx positions (a + i·sh, b + j·sw), i < Hp, j < Wp, and the kernel
// rows and columns that reach them. Its reduction index k = (kg, tr, ts) names output channel kg of the group
// and the tr-th grid row, ts-th grid column.
struct Phase {
  int64_t a, b, Hp, Wp;
  GridTaps rows, cols;
  struct Tap {
    int64_t kg, r, s;
  };
  __device__ Phase(const Geometry& g, int64_t index) : a(index / g.stride_w), b(index % g.stride_w) {
    Hp = a < g.H ? (g.H - a + g.stride_h - 1) / g.stride_h : 0;
    Wp = b < g.W ? (g.W - b + g.stride_w - 1) / g.stride_w : 0;
    rows = grid_taps(a, g.stride_h, g.pad_h, g.dil_h, g.R);
    cols = grid_taps(b, g.stride_w, g.pad_w, g.dil_w, g.S);
  }
  __device__ int64_t reduction(const Geometry& g) const { return g.Kg * rows.count * cols.count; }
  __device__ Tap tap(int64_t k) const {
    const int64_t per_channel = rows.count * cols.count;
    const int64_t kg = k / per_channel, t = k - kg * per_channel, tr = t / cols.count, ts = t - tr * cols.count;
    return {kg, rows.first + tr * rows.step, cols.first + ts * cols.step};
  }
};

// Backward-data's A: element (m = (n, i, j), k) = dy[n, kg, p, q] at the output position that tap (r, s) of
// the phase's dx position reads from: p·sh = a + i·sh + ph − r·dh, exactly divisible by construction.
template <class T>
struct DyGather {
  using Scalar = T;
  const T* dy;
  Geometry g;
  Phase phase;
  struct Row {
    int64_t offset, i, j;
  };
  struct Col {
    int64_t offset, dp, dq;  // the channel's offset; p = i + dp, q = j + dq
  };
  __device__ Row row(int64_t m) const {
    const int64_t plane = phase.Hp * phase.Wp, n = m / plane, ij = m - n * plane, i = ij / phase.Wp;
    return {n * g.K * g.PQ, i, ij - i * phase.Wp};
  }
  __device__ Col col(int64_t k) const {
    const Phase::Tap t = phase.tap(k);
    return {t.kg * g.PQ, (phase.a + g.pad_h - t.r * g.dil_h) / g.stride_h,
            (phase.b + g.pad_w - t.s * g.dil_w) / g.stride_w};
  }
  __device__ T at(const Row& x, const Col& c) const {
    const int64_t p = x.i + c.dp, q = x.j + c.dq;
    return p >= 0 && p < g.P && q >= 0 && q < g.Q ? dy[x.offset + c.offset + p * g.Q + q] : T(0);
  }
};

// Backward-data's B: element (c, k = (kg, r, s)) = w[kg, c, r, s] of the group's filters starting at `w`.
template <class T>
struct WeightTaps {
  using Scalar = T;
  using Row = int64_t;
  using Col = int64_t;
  const T* w;
  Geometry g;
  Phase phase;
  __device__ Row row(int64_t c) const { return c * g.RS; }
  __device__ Col col(int64_t k) const {
    const Phase::Tap t = phase.tap(k);
    return t.kg * g.taps + t.r * g.S + t.s;
  }
  __device__ T at(Row r, Col c) const { return w[r + c]; }
};

// ---------------------------------------------------------------------------------------------------------
// The implicit GEMM: out[m, n] = sum over k in [k_begin, k_end) of a(m, k)·b(n, k) (+ bias[n]), M × N per task.

// A block computes a BM × BN tile of the output with kThreads threads, BK deep per step. SIMT math: each
// thread a TM × TN register tile whose rows are kRowThreads apart and columns kColThreads apart (a warp's 32
// threads cover 16 consecutive rows, so its loads from shared memory hit distinct banks and its stores to
// global memory coalesce). TF32 math: kWarpsM × kWarpsN warps, each a (BM / kWarpsM) × (BN / kWarpsN) tile
// of m16n8k8 tensor-core products.
template <int BM_, int BN_, int BK_, int TM_, int TN_, int kWarpsM_>
struct Tile {
  static constexpr int BM = BM_, BN = BN_, BK = BK_, TM = TM_, TN = TN_;
  static constexpr int kRowThreads = BM / TM, kColThreads = BN / TN;
  static constexpr int kWarpsM = kWarpsM_, kWarpsN = kThreads / kWarpSize / kWarpsM_;
  static_assert(kRowThreads * kColThreads == kThreads, "Tile: BM/TM · BN/TN must be the block size");
  static_assert(BM % (16 * kWarpsM) == 0 && BN % (8 * kWarpsN) == 0 && BK % 8 == 0, "Tile: whole m16n8k8 products");
};
// Square tiles for wide GEMMs; tall ones when N (the output channels, or Cg) is at most 16, so that a
// LeNet-size layer does not waste three quarters of a 64-wide tile.
using WideTile = Tile<64, 64, 16, 4, 4, 2>;
using TallTile = Tile<128, 16, 16, 8, 1, 8>;

template <class F>
void with_tile(int64_t n, F&& f) {
  if (n <= TallTile::BN) f(TallTile{});
  else f(WideTile{});
}

// Moves one operand's BK × X tile from global to shared memory through registers: fetch() gathers the tile
// at reduction offset k0 into registers while the block computes on the other shared stage, stash() writes
// them, converted by the math's to_shared(), to a stage laid out [k][x] with pitch X + kPad (the padding
// spreads a column's stores, or the tensor-core fragments' loads, over the banks). kAlongK: the operand is
// contiguous along the reduction, so consecutive threads take consecutive k (coalesced loads) and each thread
// keeps several rows; otherwise consecutive threads take consecutive rows.
// Each thread decodes its rows once per tile; the tile's BK columns (the divisions that turn k into a channel
// and a tap) are decoded once per step, by BK threads, into a shared table (decode()) that fetch() reads:
// otherwise every thread would repeat them for each of its elements.
template <class Op, int X, int BK, bool kAlongK, int kPad>
struct TileLoader {
  using T = typename Op::Scalar;
  static constexpr int kPer = X * BK / kThreads;
  static constexpr int kRows = kAlongK ? kPer : 1;
  static constexpr int kStepK = kAlongK ? 0 : kThreads / X;
  static constexpr int kStepX = kAlongK ? kThreads / BK : 0;
  static constexpr int kPitch = X + kPad;
  static constexpr int kStage = BK * kPitch;
  static_assert(kAlongK ? kThreads % BK == 0 && X % (kThreads / BK) == 0 : kThreads % X == 0 && BK % (kThreads / X) == 0,
                "TileLoader: the block must cover the tile evenly");

  typename Op::Row rows[kRows];
  bool row_valid[kRows];
  int k_lane, x_lane;
  T regs[kPer];

  __device__ TileLoader(const Op& op, int64_t x0, int64_t x_end) {
    const int t = threadIdx.x;
    k_lane = kAlongK ? t % BK : t / X;
    x_lane = kAlongK ? t / BK : t % X;
    for (int i = 0; i < kRows; ++i) {
      const int64_t x = x0 + x_lane + i * kStepX;
      row_valid[i] = x < x_end;
      rows[i] = row_valid[i] ? op.row(x) : typename Op::Row{};
    }
  }

  // Thread `lane` (of BK) decodes column k0 + lane into table[stage][lane].
  template <class Table>
  __device__ static void decode(const Op& op, Table& table, int stage, int lane, int64_t k0, int64_t k_end) {
    if (lane >= 0 && lane < BK && k0 + lane < k_end) table[stage * BK + lane] = op.col(k0 + lane);
  }

  template <class Table>
  __device__ void fetch(const Op& op, const Table& table, int stage, int64_t k0, int64_t k_end) {
    for (int i = 0; i < kPer; ++i) {
      const int k = k_lane + i * kStepK;
      const bool valid = k0 + k < k_end && row_valid[kAlongK ? i : 0];
      regs[i] = valid ? op.at(rows[kAlongK ? i : 0], table[stage * BK + k]) : T(0);
    }
  }

  template <class Math, class Shared>
  __device__ void stash(Shared& tile, int stage) const {
    for (int i = 0; i < kPer; ++i)
      tile[stage * kStage + (k_lane + i * kStepK) * kPitch + x_lane + i * kStepX] = Math::to_shared(regs[i]);
  }
};

// One GEMM task of a launch (blockIdx.z picks it): the operands, the extents, and where out[m, n] goes:
// out + out_offset(m) + n·out_col_stride, plus bias[n] when bias is not null.
template <class A, class B, class RowOffset>
struct GemmTask {
  using T = typename A::Scalar;
  A a;
  B b;
  int64_t M, N, k_begin, k_end;
  T* out;
  int64_t out_col_stride;
  const T* bias;
  RowOffset out_offset;

  __device__ void store(int64_t m, int64_t n, T value) const {
    if (m < M && n < N) out[out_offset(m) + n * out_col_stride] = value + (bias ? bias[n] : T(0));
  }
};

// The block's multiply-adds on one shared stage, and the epilogue, in CUDA cores (any T).
template <class Tile, class T>
struct SimtMath {
  static constexpr int kPad = 1;
  T acc[Tile::TM][Tile::TN] = {};
  __device__ static T to_shared(T v) { return v; }

  // The stages start at a_tiles[a_base] and b_tiles[b_base], laid out [k][x] with the given pitches.
  template <class SharedA, class SharedB>
  __device__ void multiply(const SharedA& a_tiles, int a_base, int a_pitch, const SharedB& b_tiles, int b_base,
                           int b_pitch) {
    const int tx = threadIdx.x % Tile::kRowThreads, ty = threadIdx.x / Tile::kRowThreads;
    for (int k = 0; k < Tile::BK; ++k) {
      T a[Tile::TM], b[Tile::TN];
      for (int i = 0; i < Tile::TM; ++i) a[i] = a_tiles[a_base + k * a_pitch + tx + i * Tile::kRowThreads];
      for (int j = 0; j < Tile::TN; ++j) b[j] = b_tiles[b_base + k * b_pitch + ty + j * Tile::kColThreads];
      for (int i = 0; i < Tile::TM; ++i)
        for (int j = 0; j < Tile::TN; ++j) acc[i][j] += a[i] * b[j];
    }
  }

  template <class Task>
  __device__ void store(const Task& task, int64_t m0, int64_t n0) const {
    const int tx = threadIdx.x % Tile::kRowThreads, ty = threadIdx.x / Tile::kRowThreads;
    for (int i = 0; i < Tile::TM; ++i)
      for (int j = 0; j < Tile::TN; ++j)
        task.store(m0 + tx + i * Tile::kRowThreads, n0 + ty + j * Tile::kColThreads, acc[i][j]);
  }
};

// The same on TF32 tensor cores (float only): operands are rounded to TF32 once, as they enter shared memory,
// and each warp runs m16n8k8 products over its warp tile, accumulating in float. Fragment layouts: cuda/mma.h.
// The pitch X + 8 puts the fragment loads' (k = t, x = g) lanes on 32 distinct banks.
template <class Tile>
struct Tf32Math {
  static constexpr int kPad = 8;
  static constexpr int WM = Tile::BM / Tile::kWarpsM, WN = Tile::BN / Tile::kWarpsN, MI = WM / 16, NI = WN / 8;
  float acc[MI][NI][4] = {};
  __device__ static float to_shared(float v) { return __uint_as_float(float_to_tf32(v)); }

  __device__ int warp_m() const { return threadIdx.x / kWarpSize % Tile::kWarpsM * WM; }
  __device__ int warp_n() const { return threadIdx.x / kWarpSize / Tile::kWarpsM * WN; }

  template <class SharedA, class SharedB>
  __device__ void multiply(const SharedA& a_tiles, int a_base, int a_pitch, const SharedB& b_tiles, int b_base,
                           int b_pitch) {
    const int lane = threadIdx.x % kWarpSize, g = lane / 4, t = lane % 4;
    const int wm = warp_m(), wn = warp_n();
    for (int k = 0; k < Tile::BK; k += 8) {
      uint32_t a[MI][4], b[NI][2];
      for (int mi = 0; mi < MI; ++mi) {
        const int row = a_base + wm + mi * 16 + g;
        a[mi][0] = __float_as_uint(a_tiles[(k + t) * a_pitch + row]);
        a[mi][1] = __float_as_uint(a_tiles[(k + t) * a_pitch + row + 8]);
        a[mi][2] = __float_as_uint(a_tiles[(k + t + 4) * a_pitch + row]);
        a[mi][3] = __float_as_uint(a_tiles[(k + t + 4) * a_pitch + row + 8]);
      }
      for (int ni = 0; ni < NI; ++ni) {
        const int col = b_base + wn + ni * 8 + g;
        b[ni][0] = __float_as_uint(b_tiles[(k + t) * b_pitch + col]);
        b[ni][1] = __float_as_uint(b_tiles[(k + t + 4) * b_pitch + col]);
      }
      for (int mi = 0; mi < MI; ++mi)
        for (int ni = 0; ni < NI; ++ni) mma_m16n8k8_tf32(acc[mi][ni], a[mi], b[ni], acc[mi][ni]);
    }
  }

  template <class Task>
  __device__ void store(const Task& task, int64_t m0, int64_t n0) const {
    const int lane = threadIdx.x % kWarpSize, g = lane / 4, t = lane % 4;
    for (int mi = 0; mi < MI; ++mi)
      for (int ni = 0; ni < NI; ++ni) {
        const int64_t m = m0 + warp_m() + mi * 16 + g, n = n0 + warp_n() + ni * 8 + 2 * t;
        task.store(m, n, acc[mi][ni][0]);
        task.store(m, n + 1, acc[mi][ni][1]);
        task.store(m + 8, n, acc[mi][ni][2]);
        task.store(m + 8, n + 1, acc[mi][ni][3]);
      }
  }
};

template <class Tile, class Math, class Problem>
__global__ void __launch_bounds__(kThreads) implicit_gemm_kernel(Problem problem) {
  using T = typename Problem::Scalar;
  using ALoader = TileLoader<typename Problem::A, Tile::BM, Tile::BK, Problem::kAAlongK, Math::kPad>;
  using BLoader = TileLoader<typename Problem::B, Tile::BN, Tile::BK, true, Math::kPad>;
  TF_SHARED(T, a_tiles, 2 * ALoader::kStage);
  TF_SHARED(T, b_tiles, 2 * BLoader::kStage);
  TF_SHARED(typename Problem::A::Col, a_cols, 2 * Tile::BK);
  TF_SHARED(typename Problem::B::Col, b_cols, 2 * Tile::BK);
  // Threads [0, BK) decode A's columns, [BK, 2·BK) B's.
  const int a_lane = threadIdx.x, b_lane = int(threadIdx.x) - Tile::BK;
  const int64_t m0 = int64_t(blockIdx.x) * Tile::BM, n0 = int64_t(blockIdx.y) * Tile::BN;
  for (int64_t z = blockIdx.z; z < problem.tasks; z += gridDim.z) {
    const auto task = problem.task(z);
    // The whole block skips a tile outside this task (tasks of one launch differ in M): no barrier diverges.
    if (m0 >= task.M || n0 >= task.N) continue;
    ALoader a_loader(task.a, m0, task.M);
    BLoader b_loader(task.b, n0, task.N);
    Math math;
    const int64_t steps = (task.k_end - task.k_begin + Tile::BK - 1) / Tile::BK;
    const auto k_at = [&](int64_t s) { return task.k_begin + s * Tile::BK; };
    const auto decode = [&](int64_t s, int stage) {
      ALoader::decode(task.a, a_cols, stage, a_lane, k_at(s), task.k_end);
      BLoader::decode(task.b, b_cols, stage, b_lane, k_at(s), task.k_end);
    };
    if (steps > 0) {
      decode(0, 0);
      __syncthreads();
      a_loader.fetch(task.a, a_cols, 0, k_at(0), task.k_end);
      b_loader.fetch(task.b, b_cols, 0, k_at(0), task.k_end);
      a_loader.template stash<Math>(a_tiles, 0);
      b_loader.template stash<Math>(b_tiles, 0);
      if (steps > 1) decode(1, 1);
      __syncthreads();
    }
    // Double-buffered: the global loads of step s + 1 are in flight while step s computes from shared memory,
    // and the columns of step s + 2 are decoded meanwhile. One barrier per step suffices: the tile stage and
    // the column-table stage written in step s were last read in step s − 1.
    for (int64_t s = 0; s < steps; ++s) {
      const int stage = int(s & 1);
      const bool more = s + 1 < steps;
      if (more) {
        a_loader.fetch(task.a, a_cols, stage ^ 1, k_at(s + 1), task.k_end);
        b_loader.fetch(task.b, b_cols, stage ^ 1, k_at(s + 1), task.k_end);
      }
      math.multiply(a_tiles, stage * ALoader::kStage, ALoader::kPitch, b_tiles, stage * BLoader::kStage,
                    BLoader::kPitch);
      if (s + 2 < steps) decode(s + 2, stage);
      if (more) {
        a_loader.template stash<Math>(a_tiles, stage ^ 1);
        b_loader.template stash<Math>(b_tiles, stage ^ 1);
      }
      __syncthreads();
    }
    math.store(task, m0, n0);
  }
}

// Problems: the GEMM tasks of one pass, built on the device from blockIdx.z.

template <class T>
struct ForwardProblem {
  using Scalar = T;
  using A = Im2colRows<T>;
  using B = RowMajor<T>;
  static constexpr bool kAAlongK = false;  // consecutive rows are consecutive output columns q
  Geometry g;
  const T *x, *w, *bias;
  T* y;
  int64_t tasks;  // one per group
  struct OutOffset {
    int64_t K, PQ;
    __device__ int64_t operator()(int64_t m) const { return m / PQ * K * PQ + m % PQ; }
  };
  __device__ GemmTask<A, B, OutOffset> task(int64_t group) const {
    const int64_t k0 = group * g.Kg;
    return {A{{x + group * g.Cg * g.HW, g}}, B{w + k0 * g.taps, g.taps}, g.N * g.PQ, g.Kg, 0, g.taps,
            y + k0 * g.PQ, g.PQ, bias ? bias + k0 : nullptr, OutOffset{g.K, g.PQ}};
  }
};

template <class T>
struct BackwardDataProblem {
  using Scalar = T;
  using A = DyGather<T>;
  using B = WeightTaps<T>;
  static constexpr bool kAAlongK = false;  // consecutive rows are dx columns stride_w apart
  Geometry g;
  const T *dy, *w;
  T* dx;
  int64_t tasks;  // groups × stride phases
  struct OutOffset {
    Geometry g;
    Phase phase;
    __device__ int64_t operator()(int64_t m) const {
      const int64_t plane = phase.Hp * phase.Wp, n = m / plane, ij = m - n * plane, i = ij / phase.Wp;
      const int64_t h = phase.a + i * g.stride_h, w = phase.b + (ij - i * phase.Wp) * g.stride_w;
      return n * g.C * g.HW + h * g.W + w;
    }
  };
  __device__ GemmTask<A, B, OutOffset> task(int64_t z) const {
    const int64_t phases = g.stride_h * g.stride_w, group = z / phases;
    const Phase phase(g, z - group * phases);
    return {A{dy + group * g.Kg * g.PQ, g, phase}, B{w + group * g.Kg * g.taps, g, phase},
            g.N * phase.Hp * phase.Wp, g.Cg, 0, phase.reduction(g), dx + group * g.Cg * g.HW, g.HW, nullptr,
            OutOffset{g, phase}};
  }
};

template <class T>
struct BackwardWeightProblem {
  using Scalar = T;
  using A = Im2colTapRows<T>;
  using B = DyByChannel<T>;
  static constexpr bool kAAlongK = true;  // consecutive reduction indices are consecutive output columns q
  Geometry g;
  const T *x, *dy;
  T* partials;  // [splits][K, taps]: dw itself when there is one split
  int64_t splits, chunk;
  int64_t tasks;  // groups × splits
  struct OutOffset {
    __device__ int64_t operator()(int64_t m) const { return m; }
  };
  __device__ GemmTask<A, B, OutOffset> task(int64_t z) const {
    const int64_t group = z / splits, split = z - group * splits;
    const int64_t L = g.N * g.PQ, k_begin = split * chunk, k_end = k_begin + chunk < L ? k_begin + chunk : L;
    return {A{{x + group * g.Cg * g.HW, g}}, B{dy + group * g.Kg * g.PQ, g}, g.taps, g.Kg, k_begin, k_end,
            partials + (split * g.K + group * g.Kg) * g.taps, g.taps, nullptr, OutOffset{}};
  }
};

// out[i] = sum of partials[s·n + i] over s, in order of s.
template <class T>
__global__ void sum_splits_kernel(T* out, const T* partials, int64_t n, int64_t splits) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    double acc = 0;
    for (int64_t s = 0; s < splits; ++s) acc += partials[s * n + i];
    out[i] = T(acc);
  }
}

// TF32 tensor cores for float when the caller allows them (Conv2dParams::allow_tf32), else CUDA cores.
template <class Tile, class Problem>
void launch_gemm(const char* name, const Problem& problem, int64_t max_m, int64_t n, bool allow_tf32) {
  using T = typename Problem::Scalar;
  // gridDim.x is at most 2^31 − 1 and gridDim.y 65535; blockIdx.z strides over tasks beyond 65535.
  const int64_t row_tiles = (max_m + Tile::BM - 1) / Tile::BM, col_tiles = (n + Tile::BN - 1) / Tile::BN;
  TF_CHECK(row_tiles <= kMaxGridX && col_tiles <= 65535, Range, name, ": a GEMM of ", max_m, " x ", n,
           " per group exceeds the grid (at most ", int64_t(kMaxGridX) * Tile::BM, " x ", 65535 * Tile::BN, ")");
  const dim3 grid(unsigned(row_tiles), unsigned(col_tiles), unsigned(problem.tasks < 65535 ? problem.tasks : 65535));
  if constexpr (std::is_same_v<T, float>) {
    if (allow_tf32) return launch(name, implicit_gemm_kernel<Tile, Tf32Math<Tile>, Problem>, grid, dim3(kThreads), 0, problem);
  }
  launch(name, implicit_gemm_kernel<Tile, SimtMath<Tile, T>, Problem>, grid, dim3(kThreads), 0, problem);
}

// ---------------------------------------------------------------------------------------------------------
// Direct kernels: depthwise passes and the bias gradient.

// Block reductions in a fixed order: every thread adds up its share of the terms, the partials go to shared
// memory, and one thread per result adds them in thread order (deterministic, and one barrier for up to
// kSumsPerBlock results at once).
constexpr int kSumsPerBlock = 8;

// sums[j] = sum over l < count of term(l, j), j < n ≤ kSumsPerBlock, returned to thread j (others: 0).
// Every thread of the block must call it; it can be called again at once.
template <class F>
__device__ double block_sums(int64_t count, int n, F term) {
  TF_SHARED(double, partials, kSumsPerBlock * kThreads);
  double acc[kSumsPerBlock] = {};
  for (int64_t l = threadIdx.x; l < count; l += blockDim.x) term(l, acc);
  for (int j = 0; j < kSumsPerBlock; ++j) partials[j * kThreads + threadIdx.x] = acc[j];
  __syncthreads();
  double sum = 0;
  if (int(threadIdx.x) < n)
    for (int i = 0; i < int(blockDim.x); ++i) sum += partials[threadIdx.x * kThreads + i];
  __syncthreads();
  return sum;
}

// y[n, k, p, q] = sum over (r, s) of x[n, k / Kg, ...]·w[k, 0, r, s] (+ bias[k]): one thread per output.
template <class T>
__global__ void depthwise_forward_kernel(Geometry g, const T* x, const T* w, const T* bias, T* y) {
  const int64_t total = g.N * g.K * g.PQ;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t nk = i / g.PQ, pq = i - nk * g.PQ, p = pq / g.Q, q = pq - p * g.Q, k = nk % g.K;
    const T* xc = x + (nk / g.K * g.C + k / g.Kg) * g.HW;
    const T* wk = w + k * g.RS;
    const int64_t h0 = p * g.stride_h - g.pad_h, w0 = q * g.stride_w - g.pad_w;
    T acc = 0;
    for (int64_t r = 0; r < g.R; ++r) {
      const int64_t h = h0 + r * g.dil_h;
      if (h < 0 || h >= g.H) continue;
      for (int64_t s = 0; s < g.S; ++s) {
        const int64_t col = w0 + s * g.dil_w;
        if (col >= 0 && col < g.W) acc += xc[h * g.W + col] * wk[r * g.S + s];
      }
    }
    y[i] = acc + (bias ? bias[k] : T(0));
  }
}

// dx[n, c, h, w] = sum over the channel's Kg filters and the taps on dy's stride grid: one thread per element.
template <class T>
__global__ void depthwise_backward_data_kernel(Geometry g, const T* dy, const T* w, T* dx) {
  const int64_t total = g.N * g.C * g.HW;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t nc = i / g.HW, hw = i - nc * g.HW, h = hw / g.W, col = hw - h * g.W;
    const int64_t n = nc / g.C, c = nc - n * g.C;
    const GridTaps rows = grid_taps(h, g.stride_h, g.pad_h, g.dil_h, g.R);
    const GridTaps cols = grid_taps(col, g.stride_w, g.pad_w, g.dil_w, g.S);
    T acc = 0;
    for (int64_t kg = 0; kg < g.Kg; ++kg) {
      const int64_t k = c * g.Kg + kg;
      const T* dyk = dy + (n * g.K + k) * g.PQ;
      const T* wk = w + k * g.RS;
      for (int64_t tr = 0; tr < rows.count; ++tr) {
        const int64_t r = rows.first + tr * rows.step, p = (h + g.pad_h - r * g.dil_h) / g.stride_h;
        if (p < 0 || p >= g.P) continue;
        for (int64_t ts = 0; ts < cols.count; ++ts) {
          const int64_t s = cols.first + ts * cols.step, q = (col + g.pad_w - s * g.dil_w) / g.stride_w;
          if (q >= 0 && q < g.Q) acc += dyk[p * g.Q + q] * wk[r * g.S + s];
        }
      }
    }
    dx[i] = acc;
  }
}

// dw[k, 0, r, s] = sum over (n, p, q) of dy[n, k, p, q]·x[n, k / Kg, p·sh − ph + r·dh, q·sw − pw + s·dw]: one
// block per filter and run of kSumsPerBlock taps.
template <class T>
__global__ void depthwise_backward_weight_kernel(Geometry g, const T* x, const T* dy, T* dw) {
  const int64_t runs = (g.RS + kSumsPerBlock - 1) / kSumsPerBlock;
  for (int64_t job = blockIdx.x; job < g.K * runs; job += gridDim.x) {
    const int64_t k = job / runs, tap0 = (job - k * runs) * kSumsPerBlock;
    const int n_taps = int(g.RS - tap0 < kSumsPerBlock ? g.RS - tap0 : kSumsPerBlock);
    const T* xc = x + k / g.Kg * g.HW;
    const T* dyk = dy + k * g.PQ;
    const double sum = block_sums(g.N * g.PQ, n_taps, [&](int64_t l, double (&acc)[kSumsPerBlock]) {
      const int64_t n = l / g.PQ, pq = l - n * g.PQ, p = pq / g.Q, q = pq - p * g.Q;
      const double d = dyk[n * g.K * g.PQ + pq];
      const T* xn = xc + n * g.C * g.HW;
      for (int j = 0; j < n_taps; ++j) {
        const int64_t r = (tap0 + j) / g.S, s = tap0 + j - r * g.S;
        const int64_t h = p * g.stride_h - g.pad_h + r * g.dil_h, col = q * g.stride_w - g.pad_w + s * g.dil_w;
        if (h >= 0 && h < g.H && col >= 0 && col < g.W) acc[j] += d * double(xn[h * g.W + col]);
      }
    });
    if (int(threadIdx.x) < n_taps) dw[k * g.RS + tap0 + threadIdx.x] = T(sum);
  }
}

// dbias[k] = sum over (n, p, q) of dy[n, k, p, q]: one block per kSumsPerBlock channels.
template <class T>
__global__ void bias_grad_kernel(Geometry g, const T* dy, T* dbias) {
  for (int64_t k0 = int64_t(blockIdx.x) * kSumsPerBlock; k0 < g.K; k0 += int64_t(gridDim.x) * kSumsPerBlock) {
    const int n_channels = int(g.K - k0 < kSumsPerBlock ? g.K - k0 : kSumsPerBlock);
    const double sum = block_sums(g.N * g.PQ, n_channels, [&](int64_t l, double (&acc)[kSumsPerBlock]) {
      const int64_t n = l / g.PQ;
      const T* dyl = dy + (n * g.K + k0) * g.PQ + l - n * g.PQ;
      for (int j = 0; j < n_channels; ++j) acc[j] += double(dyl[j * g.PQ]);
    });
    if (int(threadIdx.x) < n_channels) dbias[k0 + threadIdx.x] = T(sum);
  }
}

// One block per item, at most 65535 blocks (the kernels stride over the rest).
dim3 blocks_for(int64_t items) { return dim3(unsigned(items < 1 ? 1 : items < 65535 ? items : 65535)); }

// ---------------------------------------------------------------------------------------------------------
// Backward-weight's reduction split.

// Blocks that keep an H100's 132 SMs busy (two resident 256-thread blocks each).
constexpr int64_t kFillBlocks = 264;
// A split reduces at least this many BK-deep steps, so that its partial's store and re-read stay small
// beside its multiply-adds.
constexpr int64_t kMinSplitSteps = 8;
// Cap on the scratch for partials, in elements.
constexpr int64_t kMaxPartials = int64_t(1) << 24;

struct Split {
  int64_t count, chunk;
};

template <class Tile>
Split plan_split(const Conv2dParams& p) {
  const int64_t L = p.N * p.P * p.Q;
  const int64_t tiles = (p.reduction() + Tile::BM - 1) / Tile::BM * ((p.out_per_group() + Tile::BN - 1) / Tile::BN) *
                        p.groups;
  int64_t count = (kFillBlocks + tiles - 1) / tiles;
  count = std::min({count, L / (Tile::BK * kMinSplitSteps), kMaxPartials / p.w_numel()});
  if (count <= 1) return {1, L};
  const int64_t chunk = ((L + count - 1) / count + Tile::BK - 1) / Tile::BK * Tile::BK;
  return {(L + chunk - 1) / chunk, chunk};
}


}  // namespace

// ---------------------------------------------------------------------------------------------------------
// Launchers

template <class T>
void conv2d_forward(const Conv2dParams& p, const T* x, const T* w, const T* bias, T* y) {
  const Geometry g = geometry_of(p);
  if (p.y_numel() == 0) return;
  if (p.depthwise()) {
    launch("conv2d_forward_depthwise", depthwise_forward_kernel<T>, grid_for(p.y_numel(), kThreads), dim3(kThreads), 0,
           g, x, w, bias, y);
    return;
  }
  with_tile(p.out_per_group(), [&](auto tile) {
    launch_gemm<decltype(tile)>("conv2d_forward", ForwardProblem<T>{g, x, w, bias, y, p.groups}, p.N * p.P * p.Q,
                                p.out_per_group(), p.allow_tf32);
  });
}

template <class T>
void conv2d_backward_data(const Conv2dParams& p, const T* dy, const T* w, T* dx) {
  const Geometry g = geometry_of(p);
  if (p.x_numel() == 0) return;
  if (p.depthwise()) {
    launch("conv2d_backward_data_depthwise", depthwise_backward_data_kernel<T>, grid_for(p.x_numel(), kThreads),
           dim3(kThreads), 0, g, dy, w, dx);
    return;
  }
  // Phase (0, 0) has the most rows: ceil(H / stride_h) · ceil(W / stride_w) per sample.
  const int64_t max_m = p.N * ((p.H + p.stride_h - 1) / p.stride_h) * ((p.W + p.stride_w - 1) / p.stride_w);
  with_tile(p.in_per_group(), [&](auto tile) {
    launch_gemm<decltype(tile)>("conv2d_backward_data",
                                BackwardDataProblem<T>{g, dy, w, dx, p.groups * p.stride_h * p.stride_w}, max_m,
                                p.in_per_group(), p.allow_tf32);
  });
}

template <class T>
void conv2d_backward_weight(const Conv2dParams& p, const T* x, const T* dy, T* dw, T* dbias) {
  const Geometry g = geometry_of(p);
  if (dbias)
    launch("conv2d_bias_grad", bias_grad_kernel<T>, blocks_for((p.K + kSumsPerBlock - 1) / kSumsPerBlock),
           dim3(kThreads), 0, g, dy, dbias);
  if (p.depthwise()) {
    launch("conv2d_backward_weight_depthwise", depthwise_backward_weight_kernel<T>,
           blocks_for(p.K * ((p.R * p.S + kSumsPerBlock - 1) / kSumsPerBlock)), dim3(kThreads), 0, g, x, dy, dw);
    return;
  }
  with_tile(p.out_per_group(), [&](auto tile) {
    using Tile = decltype(tile);
    const Split split = plan_split<Tile>(p);
    const Scratch partials(split.count > 1 ? size_t(split.count * p.w_numel()) * sizeof(T) : 0);
    const BackwardWeightProblem<T> problem{g, x, dy, split.count > 1 ? partials.as<T>() : dw, split.count,
                                           split.chunk, p.groups * split.count};
    launch_gemm<Tile>("conv2d_backward_weight", problem, p.reduction(), p.out_per_group(), p.allow_tf32);
    if (split.count > 1)
      launch("conv2d_backward_weight_sum", sum_splits_kernel<T>, grid_for(p.w_numel(), kThreads), dim3(kThreads), 0,
             dw, partials.as<T>(), p.w_numel(), split.count);
  });
}

TF_INSTANTIATE_CONV

}  // namespace tf::cuda

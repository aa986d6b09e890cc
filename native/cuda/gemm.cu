// CUDA GEMM: the CUDA side of core/gemm.h's gemm_batched. Two kernels:
//
//   simt_gemm_kernel   float32 ('highest' precision) and float64: block tiles of BM x BN, a TM x TN register
//                      tile per thread, shared memory double-buffered through registers (the next K slice is
//                      fetched from global memory while the current one is multiplied).
//   tf32_gemm_kernel   float32 at 'high' precision: mma.sync m16n8k8 TF32 tensor cores, a 128 x 128 x 16 block
//                      tile over 8 warps of 64 x 32, a 3-stage cp.async pipeline, XOR-swizzled shared memory.
//
// Legend: M, N, K the product's dims (op(A) is M x K, op(B) K x N); BM, BN, BK a block's tile; m, n, k
// positions in the product; b a batch index. "K-contiguous" operands (A as stored, B transposed) have k
// adjacent in memory; "MN-contiguous" ones (A transposed, B as stored) have m or n adjacent. Both kernels read
// every operand in place, transposed or not, with its row stride and batch stride: no copies.
#include "cuda/kernel.h"

#include <type_traits>

#include "core/error.h"
#include "core/gemm.h"
#include "cuda/mma.h"

// Loops over register arrays must unroll, or nvcc puts the arrays in local memory. (g++ compiles the emulated
// build, where the hint would be an unknown pragma.)
#if defined(__CUDACC__)
#define TF_UNROLL _Pragma("unroll")
#else
#define TF_UNROLL
#endif

namespace tf::cuda {
namespace {

template <class T>
struct GemmArgs {
  int64_t count, M, N, K;
  T alpha, beta;
  const T* A;
  int64_t lda, stride_a;
  const T* B;
  int64_t ldb, stride_b;
  T* C;
  int64_t ldc, stride_c;
  const T* bias;  // [N] added to every row of C, or nullptr
};

// The block's output tile (row, column of tiles) from a flat blockIdx.x, the batch from blockIdx.z (a grid
// of at most 65535 in z loops over larger batches).
struct TileIndex {
  int64_t m0, n0;
};
__device__ inline TileIndex tile_index(int64_t N, int BM, int BN) {
  const int64_t tiles_n = (N + BN - 1) / BN;
  return TileIndex{int64_t(blockIdx.x / tiles_n) * BM, int64_t(blockIdx.x % tiles_n) * BN};
}

// C[m, n] = alpha * acc + beta * C[m, n] (+ bias[n]) inside the product; beta == 0 never reads C (it may be
// uninitialized).
template <class T>
__device__ inline void store_c(const GemmArgs<T>& p, T* C, int64_t m, int64_t n, T acc) {
  if (m >= p.M || n >= p.N) return;
  T& c = C[m * p.ldc + n];
  const T v = p.beta == T(0) ? p.alpha * acc : p.alpha * acc + p.beta * c;
  c = p.bias ? v + p.bias[n] : v;
}

// ---------------------------------------------------------------------------------------------------------
// SIMT kernel

template <int BM_, int BN_, int BK_, int TM_, int TN_>
struct SimtTile {
  static constexpr int BM = BM_, BN = BN_, BK = BK_, TM = TM_, TN = TN_;
  static constexpr int kThreads = (BM / TM) * (BN / TN);
};
using SimtLarge = SimtTile<128, 128, 8, 8, 8>;
using SimtSmall = SimtTile<64, 64, 8, 4, 4>;

// op(X)[r, c] for an operand stored row-major with row stride ld: X[r * ld + c], or X[c * ld + r] transposed.
template <bool kTrans, class T>
__device__ inline T operand_at(const T* X, int64_t ld, int64_t r, int64_t c) {
  return kTrans ? X[c * ld + r] : X[r * ld + c];
}

// 16 bytes of T, read from shared memory as one vector load (LDS.128): the register tiles' rows are read this
// way, a quarter of the loads scalar reads would take, and without the bank conflicts of a strided scalar read.
template <class T>
struct alignas(16) Pack16 {
  static constexpr int kCount = 16 / int(sizeof(T));
  T v[kCount];
};

// out[0, n) = the n consecutive T at `from` (16-byte aligned), n a multiple of Pack16<T>::kCount.
template <int n, class T>
__device__ inline void load_packed(T (&out)[n], const T* from) {
  using Pack = Pack16<T>;
  static_assert(n % Pack::kCount == 0, "whole 16-byte packs");
  TF_UNROLL
  for (int i = 0; i < n / Pack::kCount; ++i) {
    const Pack pack = reinterpret_cast<const Pack*>(from)[i];
    TF_UNROLL
    for (int e = 0; e < Pack::kCount; ++e) out[i * Pack::kCount + e] = pack.v[e];
  }
}

// A slice's shared rows (one per k) hold `rows` T padded by 16 bytes, so that a warp's k-major stores of a
// K-contiguous slice fall in different banks; rows stay 16-byte aligned for load_packed.
template <class T>
constexpr int simt_row_stride(int rows) {
  return rows + 16 / int(sizeof(T));
}

// Stages one BK slice of a tile of op(X) (rows [r0, r0 + kRows) of the product's M or N side, k from k0) in
// registers, and stores it k-major into shared memory. Consecutive threads take consecutive elements of the
// operand's contiguous dim, so global reads coalesce either way round.
template <class T, int kRows, int BK, int kThreads, bool kKContiguous>
struct SimtSlice {
  static constexpr int kPerThread = kRows * BK / kThreads;
  static_assert(kPerThread * kThreads == kRows * BK, "the slice splits evenly over the threads");
  static constexpr int kStride = simt_row_stride<T>(kRows);
  T v[kPerThread];

  __device__ static void position(int e, int& r, int& k) {
    r = kKContiguous ? e / BK : e % kRows;
    k = kKContiguous ? e % BK : e / kRows;
  }
  // X as (rows of the product) x K: op_at(r, k) reads it.
  template <class At>
  __device__ void fetch(At op_at, int64_t r0, int64_t rows, int64_t k0, int64_t K) {
    TF_UNROLL
    for (int i = 0; i < kPerThread; ++i) {
      int r, k;
      position(int(threadIdx.x) + i * kThreads, r, k);
      v[i] = r0 + r < rows && k0 + k < K ? op_at(r0 + r, k0 + k) : T(0);
    }
  }
  __device__ void store(T* shared) const {
    TF_UNROLL
    for (int i = 0; i < kPerThread; ++i) {
      int r, k;
      position(int(threadIdx.x) + i * kThreads, r, k);
      shared[k * kStride + r] = v[i];
    }
  }
};

template <class T, class Tile, bool kTransA, bool kTransB>
__global__ void __launch_bounds__(Tile::kThreads) simt_gemm_kernel(GemmArgs<T> p) {
  constexpr int BM = Tile::BM, BN = Tile::BN, BK = Tile::BK, TM = Tile::TM, TN = Tile::TN;
  constexpr int kThreads = Tile::kThreads;
  using SliceA = SimtSlice<T, BM, BK, kThreads, !kTransA>;
  using SliceB = SimtSlice<T, BN, BK, kThreads, kTransB>;
  // Dynamic shared memory is 16-byte aligned (load_packed): As, then Bs, each two slices.
  TF_DYNAMIC_SHARED(T, smem);
  T* const As = &smem[0];
  T* const Bs = As + 2 * BK * SliceA::kStride;
  const TileIndex tile = tile_index(p.N, BM, BN);
  const int tx = int(threadIdx.x) % (BN / TN), ty = int(threadIdx.x) / (BN / TN);
  const int64_t slices = (p.K + BK - 1) / BK;
  for (int64_t b = blockIdx.z; b < p.count; b += gridDim.z) {
    const T* A = p.A + b * p.stride_a;
    const T* B = p.B + b * p.stride_b;
    // op(A) as M x K and op(B)^T as N x K: both slices are (rows of the product) x k.
    const auto a_at = [&](int64_t m, int64_t k) { return operand_at<kTransA>(A, p.lda, m, k); };
    const auto b_at = [&](int64_t n, int64_t k) { return operand_at<!kTransB>(B, p.ldb, n, k); };
    T acc[TM][TN];
    TF_UNROLL
    for (int i = 0; i < TM; ++i)
      TF_UNROLL
      for (int j = 0; j < TN; ++j) acc[i][j] = T(0);
    SliceA sa;
    SliceB sb;
    if (slices > 0) {
      sa.fetch(a_at, tile.m0, p.M, 0, p.K);
      sb.fetch(b_at, tile.n0, p.N, 0, p.K);
      sa.store(As);
      sb.store(Bs);
      __syncthreads();
    }
    for (int64_t s = 0; s < slices; ++s) {
      const bool more = s + 1 < slices;
      // The next slice's global loads are in flight while this one is multiplied.
      if (more) {
        sa.fetch(a_at, tile.m0, p.M, (s + 1) * BK, p.K);
        sb.fetch(b_at, tile.n0, p.N, (s + 1) * BK, p.K);
      }
      const T* as = As + (s & 1) * BK * SliceA::kStride;
      const T* bs = Bs + (s & 1) * BK * SliceB::kStride;
      TF_UNROLL
      for (int k = 0; k < BK; ++k) {
        T a[TM], bv[TN];
        load_packed(a, as + k * SliceA::kStride + ty * TM);
        load_packed(bv, bs + k * SliceB::kStride + tx * TN);
        TF_UNROLL
        for (int i = 0; i < TM; ++i)
          TF_UNROLL
          for (int j = 0; j < TN; ++j) acc[i][j] += a[i] * bv[j];
      }
      // The other buffer was last read in the previous step, which the barrier that ended it has closed.
      if (more) {
        sa.store(As + ((s + 1) & 1) * BK * SliceA::kStride);
        sb.store(Bs + ((s + 1) & 1) * BK * SliceB::kStride);
      }
      __syncthreads();
    }
    T* C = p.C + b * p.stride_c;
    TF_UNROLL
    for (int i = 0; i < TM; ++i)
      TF_UNROLL
      for (int j = 0; j < TN; ++j) store_c(p, C, tile.m0 + ty * TM + i, tile.n0 + tx * TN + j, acc[i][j]);
  }
}

// ---------------------------------------------------------------------------------------------------------
// TF32 tensor-core kernel

constexpr int kTcBM = 128, kTcBN = 128, kTcBK = 16, kTcStages = 3, kTcThreads = 256;
constexpr int kTcWarpM = 64, kTcWarpN = 32;  // 2 x 4 warps
constexpr int kTcMmaM = kTcWarpM / 16, kTcMmaN = kTcWarpN / 8;
constexpr int kTcStageFloats = (kTcBM + kTcBN) * kTcBK;
constexpr size_t kTcSharedBytes = size_t(kTcStages) * kTcStageFloats * sizeof(float);  // 48 KiB: no opt-in

// A stage's tile of kCols floats a row, rows in the operand's strided dim, the contiguous dim along the row,
// stored in 16-byte chunks whose position in the row is XORed with a function of the row, so that the
// fragment reads of a warp hit 8 different 16-byte bank groups:
//  - K-contiguous (kCols = BK = 16, rows are m or n; read by ldmatrix, 8 rows at one chunk): chunk ^ (row/2)%4
//  - MN-contiguous (kCols = 128, rows are k; read by lanes (t, g) as [k0 + t][x0 + g], 4 rows x 2 chunks):
//    chunk ^ 2 * (row % 4)
// cp.async writes whole chunks, so the swizzle costs nothing on the way in.
template <int kCols>
__device__ inline int swizzled(int row, int col) {
  static_assert(kCols == kTcBK || kCols == kTcBM, "swizzle patterns exist for BK- and BM-wide rows");
  const int pattern = kCols == kTcBK ? (row >> 1) & 3 : (row & 3) << 1;
  return row * kCols + (((col >> 2) ^ pattern) << 2) + (col & 3);
}

// Issues the cp.async copies of one stage's tile: rows [r0, r0 + kRows) x contiguous columns [c0, c0 + kCols)
// of X (row stride ld), rows beyond `rows` and columns beyond `cols` zero-filled. kVec floats a copy: 4 when
// the operand's base, row stride and batch stride allow 16-byte copies, else 1.
template <int kRows, int kCols, int kVec>
__device__ inline void load_tile(float* tile, const float* X, int64_t ld, int64_t r0, int64_t rows, int64_t c0,
                                 int64_t cols) {
  constexpr int kPerRow = kCols / kVec;
  static_assert((kRows * kPerRow) % kTcThreads == 0, "the tile splits evenly over the threads");
  TF_UNROLL
  for (int e = int(threadIdx.x); e < kRows * kPerRow; e += kTcThreads) {
    const int r = e / kPerRow, c = (e % kPerRow) * kVec;
    const int64_t left = cols - (c0 + c);
    const int valid = r0 + r < rows ? int(left < 0 ? 0 : (left < kVec ? left : kVec)) : 0;
    // A copy that reads nothing still needs a valid, aligned source address: the operand's base.
    const float* from = valid > 0 ? X + (r0 + r) * ld + c0 + c : X;
    float* to = tile + swizzled<kCols>(r, c);
    if constexpr (kVec == 4)
      cp_async_cg(to, from, valid * 4);
    else
      cp_async_ca<4>(to, from, valid * 4);
  }
}

template <int n>
__device__ inline void to_tf32(uint32_t (&r)[n]) {
  TF_UNROLL
  for (int i = 0; i < n; ++i) r[i] = float_to_tf32(__uint_as_float(r[i]));
}

// The A fragment of the 16 x 8 block at (m, k) of a stage (see mma.h for the layout).
template <bool kKContiguous>
__device__ inline void load_a_fragment(uint32_t (&a)[4], const float* tile, int m, int k) {
  const int lane = int(threadIdx.x) % 32, g = lane / 4, t = lane % 4;
  if constexpr (kKContiguous) {
    // ldmatrix on 32-bit data hands lane (g, t) float (g, t) of an 8 x 4 tile: matrices rows 0-7 / 8-15
    // (lane bit 3) x k 0-3 / 4-7 (lane bit 4) are a0..a3.
    ldmatrix<4>(a, tile + swizzled<kTcBK>(m + lane % 16, k + (lane / 16) * 4));
  } else {
    // k-major rows: ldmatrix.trans would transpose 16-bit halves, not floats, so lanes read their elements.
    const auto at = [&](int dm, int dk) { return __float_as_uint(tile[swizzled<kTcBM>(k + dk, m + dm)]); };
    a[0] = at(g, t);
    a[1] = at(g + 8, t);
    a[2] = at(g, t + 4);
    a[3] = at(g + 8, t + 4);
  }
  to_tf32(a);
}

// The B fragments of the two 8 x 8 blocks at (k, n) and (k, n + 8) of a stage.
template <bool kKContiguous>
__device__ inline void load_b_fragments(uint32_t (&b0)[2], uint32_t (&b1)[2], const float* tile, int n, int k) {
  const int lane = int(threadIdx.x) % 32, g = lane / 4, t = lane % 4;
  if constexpr (kKContiguous) {
    // Matrices: (n 0-7, k 0-3), (n 0-7, k 4-7), (n 8-15, k 0-3), (n 8-15, k 4-7): b0 and b1 of each block.
    uint32_t r[4];
    ldmatrix<4>(r, tile + swizzled<kTcBK>(n + lane % 8 + (lane / 16) * 8, k + ((lane / 8) % 2) * 4));
    b0[0] = r[0];
    b0[1] = r[1];
    b1[0] = r[2];
    b1[1] = r[3];
  } else {
    const auto at = [&](int dk, int dn) { return __float_as_uint(tile[swizzled<kTcBN>(k + dk, n + dn)]); };
    b0[0] = at(t, g);
    b0[1] = at(t + 4, g);
    b1[0] = at(t, g + 8);
    b1[1] = at(t + 4, g + 8);
  }
  to_tf32(b0);
  to_tf32(b1);
}

template <bool kTransA, bool kTransB, int kVec>
__global__ void __launch_bounds__(kTcThreads) tf32_gemm_kernel(GemmArgs<float> p) {
  // A stage holds A as [BM][BK] (K-contiguous) or [BK][BM], then B as [BN][BK] (K-contiguous) or [BK][BN].
  constexpr bool kAK = !kTransA, kBK = kTransB;
  TF_DYNAMIC_SHARED(float, smem);
  const TileIndex tile = tile_index(p.N, kTcBM, kTcBN);
  const int warp = int(threadIdx.x) / 32, lane = int(threadIdx.x) % 32, g = lane / 4, t = lane % 4;
  const int wm = (warp / (kTcBN / kTcWarpN)) * kTcWarpM, wn = (warp % (kTcBN / kTcWarpN)) * kTcWarpN;
  const int64_t slices = (p.K + kTcBK - 1) / kTcBK;
  for (int64_t b = blockIdx.z; b < p.count; b += gridDim.z) {
    const float* A = p.A + b * p.stride_a;
    const float* B = p.B + b * p.stride_b;
    const auto load_stage = [&](int stage, int64_t s) {
      float* as = &smem[stage * kTcStageFloats];
      float* bs = as + kTcBM * kTcBK;
      const int64_t k0 = s * kTcBK;
      if constexpr (kAK)
        load_tile<kTcBM, kTcBK, kVec>(as, A, p.lda, tile.m0, p.M, k0, p.K);
      else
        load_tile<kTcBK, kTcBM, kVec>(as, A, p.lda, k0, p.K, tile.m0, p.M);
      if constexpr (kBK)
        load_tile<kTcBN, kTcBK, kVec>(bs, B, p.ldb, tile.n0, p.N, k0, p.K);
      else
        load_tile<kTcBK, kTcBN, kVec>(bs, B, p.ldb, k0, p.K, tile.n0, p.N);
    };
    float acc[kTcMmaM][kTcMmaN][4];
    TF_UNROLL
    for (int i = 0; i < kTcMmaM; ++i)
      TF_UNROLL
      for (int j = 0; j < kTcMmaN; ++j)
        TF_UNROLL
        for (int e = 0; e < 4; ++e) acc[i][j][e] = 0.0f;
    // Prologue: stages 0 .. kStages-2 in flight. Every step commits one group (empty past the end), so that
    // waiting for all but the newest kStages-2 groups always means "slice s has landed".
    TF_UNROLL
    for (int s = 0; s < kTcStages - 1; ++s) {
      if (s < slices) load_stage(s, s);
      cp_async_commit();
    }
    for (int64_t s = 0; s < slices; ++s) {
      cp_async_wait<kTcStages - 2>();
      // One barrier serves both hazards: slice s is visible to every warp, and every warp is done with the
      // stage that slice s + kStages - 1 overwrites (read in step s - 1).
      __syncthreads();
      const int64_t next = s + kTcStages - 1;
      if (next < slices) load_stage(int(next % kTcStages), next);
      cp_async_commit();
      const float* as = &smem[int(s % kTcStages) * kTcStageFloats];
      const float* bs = as + kTcBM * kTcBK;
      TF_UNROLL
      for (int k = 0; k < kTcBK; k += 8) {
        uint32_t af[kTcMmaM][4], bf[kTcMmaN][2];
        TF_UNROLL
        for (int i = 0; i < kTcMmaM; ++i) load_a_fragment<kAK>(af[i], as, wm + i * 16, k);
        TF_UNROLL
        for (int j = 0; j < kTcMmaN; j += 2) load_b_fragments<kBK>(bf[j], bf[j + 1], bs, wn + j * 8, k);
        TF_UNROLL
        for (int i = 0; i < kTcMmaM; ++i)
          TF_UNROLL
          for (int j = 0; j < kTcMmaN; ++j) mma_m16n8k8_tf32(acc[i][j], af[i], bf[j], acc[i][j]);
      }
    }
    // Only empty groups are left; the barrier keeps the next batch's prologue off stages still being read.
    cp_async_wait<0>();
    __syncthreads();
    float* C = p.C + b * p.stride_c;
    TF_UNROLL
    for (int i = 0; i < kTcMmaM; ++i)
      TF_UNROLL
      for (int j = 0; j < kTcMmaN; ++j)
        TF_UNROLL
        for (int e = 0; e < 4; ++e)
          store_c(p, C, tile.m0 + wm + i * 16 + g + (e >= 2 ? 8 : 0), tile.n0 + wn + j * 8 + 2 * t + (e & 1),
                  acc[i][j][e]);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Launchers

constexpr int64_t kMaxGridZ = 65535;

template <class T>
dim3 gemm_grid(const GemmArgs<T>& p, int BM, int BN) {
  const int64_t tiles = ((p.M + BM - 1) / BM) * ((p.N + BN - 1) / BN);
  TF_CHECK(tiles <= kMaxGridX, Range, "gemm: ", p.M, " x ", p.N, " needs ", tiles, " tiles of ", BM, " x ", BN,
           ", more than a grid holds (", kMaxGridX, ")");
  return dim3(unsigned(tiles), 1, unsigned(p.count < kMaxGridZ ? p.count : kMaxGridZ));
}

// Calls f(std::bool_constant<trans_a>, std::bool_constant<trans_b>).
template <class F>
void with_transposes(bool trans_a, bool trans_b, F&& f) {
  if (trans_a) {
    if (trans_b) f(std::true_type{}, std::true_type{});
    else f(std::true_type{}, std::false_type{});
  } else {
    if (trans_b) f(std::false_type{}, std::true_type{});
    else f(std::false_type{}, std::false_type{});
  }
}

template <class T, class Tile>
void launch_simt(const GemmArgs<T>& p, bool trans_a, bool trans_b) {
  with_transposes(trans_a, trans_b, [&](auto ta, auto tb) {
    // Two slices of A and two of B.
    constexpr size_t kShared =
        2 * Tile::BK * size_t(simt_row_stride<T>(Tile::BM) + simt_row_stride<T>(Tile::BN)) * sizeof(T);
    launch("gemm_simt", simt_gemm_kernel<T, Tile, decltype(ta)::value, decltype(tb)::value>,
           gemm_grid(p, Tile::BM, Tile::BN), dim3(Tile::kThreads), kShared, p);
  });
}

bool aligned16(const void* base, int64_t ld, int64_t stride) {
  return reinterpret_cast<uintptr_t>(base) % 16 == 0 && ld % 4 == 0 && stride % 4 == 0;
}

void launch_tf32(const GemmArgs<float>& p, bool trans_a, bool trans_b) {
  const bool vec = aligned16(p.A, p.lda, p.stride_a) && aligned16(p.B, p.ldb, p.stride_b);
  with_transposes(trans_a, trans_b, [&](auto ta, auto tb) {
    constexpr bool kTa = decltype(ta)::value, kTb = decltype(tb)::value;
    if (vec)
      launch("gemm_tf32", tf32_gemm_kernel<kTa, kTb, 4>, gemm_grid(p, kTcBM, kTcBN), dim3(kTcThreads),
             kTcSharedBytes, p);
    else
      launch("gemm_tf32", tf32_gemm_kernel<kTa, kTb, 1>, gemm_grid(p, kTcBM, kTcBN), dim3(kTcThreads),
             kTcSharedBytes, p);
  });
}

}  // namespace

template <class T>
void gemm_batched(int64_t count, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
                  int64_t lda, int64_t stride_a, const T* B, int64_t ldb, int64_t stride_b, T beta, T* C, int64_t ldc,
                  int64_t stride_c, MatmulPrecision precision, const T* bias) {
  if (count == 0 || M == 0 || N == 0) return;
  const GemmArgs<T> p{count, M, N, K, alpha, beta, A, lda, stride_a, B, ldb, stride_b, C, ldc, stride_c, bias};
  if constexpr (std::is_same_v<T, float>) {
    if (precision == MatmulPrecision::kHigh) return launch_tf32(p, trans_a, trans_b);
    // 128 x 128 tiles once there are enough of them to fill the GPU's SMs; 64 x 64 below.
    const int64_t large_tiles = ((M + 127) / 128) * ((N + 127) / 128) * count;
    if (large_tiles >= 128) return launch_simt<T, SimtLarge>(p, trans_a, trans_b);
  }
  launch_simt<T, SimtSmall>(p, trans_a, trans_b);
}

TF_INSTANTIATE_GEMM

}  // namespace tf::cuda

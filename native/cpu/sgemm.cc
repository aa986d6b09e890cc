// Single-precision GEMM for AVX-512 (BLIS's structure, Goto and van de Geijn 2008; Van Zee and van de Geijn 2015).
//
//   for jc in N by nc:                 B's panel op(B)[pc:pc+kc, jc:jc+nc] is packed once, shared by the threads
//     for pc in K by kc:
//       pack B's panel                 (kc x nc, in the L3 cache)
//       for each task (ic, columns):   the threads split the rows of C in blocks of mc, and the columns as well
//         pack A's block               when there are fewer row blocks than twice the threads
//         for jr in the task's columns by NR:    B's micro-panel (kc x NR) stays in L1 ...
//           for ir in the block by MR:           ... while A's micro-panels (MR x kc) stream from L2
//             C[ir:ir+MR, jr:jr+NR] (+)= A micro-panel · B micro-panel    (the 14 x 32 microkernel)
//
// The microkernel keeps 14 x 2 vectors of C in registers and, per step of the depth, loads two vectors of B and
// broadcasts 14 elements of A into 28 multiply-adds: it runs at the FMA peak with its operands in L1/L2 (222
// GFLOP/s of 224 on one Zen 5 core; 12 x 32, 6 x 64 and 8 x 48 tie, 7 x 64 runs 210). Packing lays the operands
// out in the order the microkernel reads them, zero-padded to whole micro-panels, so edges need no scalar code:
// the microkernel computes a whole tile and stores the rows and lanes inside C. Transposed operands are
// transposed while packing (16 x 16 blocks in registers), so op() costs nothing in the loop. alpha is applied
// while packing A; beta in the microkernel's store (the first depth block; later ones add).
#include "cpu/sgemm.h"

#include <unistd.h>

#include <algorithm>
#include <numeric>

#include "core/thread_pool.h"
#include "cpu/avx512.h"
#include "cpu/scratch.h"

namespace tf::cpu {

#ifdef TF_AVX512_KERNELS
namespace {

constexpr int kMR = 14;           // rows of a C tile
constexpr int kNV = 2;            // vectors of 16 columns in a C tile
constexpr int kNR = 16 * kNV;     // columns of a C tile
constexpr int64_t kFloat = sizeof(float);

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Block sizes from the data cache sizes this machine reports (fallbacks: 32 KiB, 512 KiB, 8 MiB).
struct Blocking {
  int64_t kc;  // depth of a block: B's micro-panel kc x NR takes two thirds of L1
  int64_t mc;  // rows of A's block: mc x kc takes half of L2
  int64_t nc;  // columns of B's panel: kc x nc takes an eighth of L3 (shared by the cores)
};

int64_t cache_size(int name, int64_t fallback) {
  const long bytes = sysconf(name);
  return bytes > 0 ? int64_t(bytes) : fallback;
}

const Blocking& blocking() {
  static const Blocking b = [] {
    const int64_t l1 = cache_size(_SC_LEVEL1_DCACHE_SIZE, 32 << 10);
    const int64_t l2 = cache_size(_SC_LEVEL2_CACHE_SIZE, 512 << 10);
    const int64_t l3 = cache_size(_SC_LEVEL3_CACHE_SIZE, 8 << 20);
    Blocking r{};
    r.kc = std::clamp<int64_t>(l1 * 2 / 3 / (kNR * kFloat) / 8 * 8, 64, 1024);
    r.mc = std::clamp<int64_t>(l2 / 2 / (r.kc * kFloat) / kMR * kMR, kMR, 1024 / kMR * kMR);
    r.nc = std::clamp<int64_t>(l3 / 8 / (r.kc * kFloat) / kNR * kNR, 8 * kNR, 16384);
    return r;
  }();
  return b;
}

// A block of op(A): rows [i0, i0 + rows) by depth [p0, p0 + kc), times alpha, as micro-panels of kMR rows, each
// depth-major: out[(r / kMR) * kc * kMR + p * kMR + r % kMR]. Rows past `rows` are zero.
TF_AVX512 void pack_a(const float* A, int64_t lda, bool trans, int64_t i0, int64_t rows, int64_t p0, int64_t kc,
                      float alpha, float* out) {
  const __m512 scale = _mm512_set1_ps(alpha);
  constexpr __mmask16 panel_lanes = (1u << kMR) - 1;
  for (int64_t r0 = 0; r0 < rows; r0 += kMR, out += kc * kMR) {
    const int64_t live = std::min<int64_t>(kMR, rows - r0);
    if (trans) {  // op(A)[i][p] = A[p][i]: a micro-panel row is kMR consecutive elements of A's row p
      const __mmask16 lanes = first_lanes(live);
      for (int64_t p = 0; p < kc; ++p) {
        const __m512 v = _mm512_maskz_loadu_ps(lanes, A + (p0 + p) * lda + i0 + r0);
        _mm512_mask_storeu_ps(out + p * kMR, panel_lanes, _mm512_mul_ps(v, scale));
      }
      continue;
    }
    // op(A)[i][p] = A[i][p]: the rows of A are the columns of the micro-panel, transposed 16 x 16 at a time
    for (int64_t p = 0; p < kc; p += 16) {
      const __mmask16 depth = first_lanes(kc - p);
      __m512 x[16];
#pragma GCC unroll 16
      for (int r = 0; r < 16; ++r)
        x[r] = r < live ? _mm512_maskz_loadu_ps(depth, A + (i0 + r0 + r) * lda + p0 + p) : _mm512_setzero_ps();
      transpose16(x);
      const int64_t steps = std::min<int64_t>(16, kc - p);
      for (int64_t s = 0; s < steps; ++s)
        _mm512_mask_storeu_ps(out + (p + s) * kMR, panel_lanes, _mm512_mul_ps(x[s], scale));
    }
  }
}

// A panel of op(B): depth [p0, p0 + kc) by columns [j0, j0 + cols), as micro-panels of kNR columns, each
// depth-major: out[(c / kNR) * kc * kNR + p * kNR + c % kNR]. Columns past `cols` are zero. The micro-panels
// [first, last) only, so that threads can pack one panel together.
TF_AVX512 void pack_b(const float* B, int64_t ldb, bool trans, int64_t p0, int64_t kc, int64_t j0, int64_t cols,
                      int64_t first, int64_t last, float* out) {
  for (int64_t q = first; q < last; ++q) {
    float* panel = out + q * kc * kNR;
    const int64_t c0 = q * kNR;
    if (!trans) {  // op(B)[p][j] = B[p][j]: a micro-panel row is kNR consecutive elements of B's row p
      for (int64_t p = 0; p < kc; ++p) {
        const float* row = B + (p0 + p) * ldb + j0 + c0;
#pragma GCC unroll 4
        for (int v = 0; v < kNV; ++v)
          _mm512_store_ps(panel + p * kNR + 16 * v, _mm512_maskz_loadu_ps(first_lanes(cols - c0 - 16 * v), row + 16 * v));
      }
      continue;
    }
    // op(B)[p][j] = B[j][p]: rows of B become columns of the micro-panel, 16 x 16 at a time
    for (int v = 0; v < kNV; ++v) {
      const int64_t live = std::min<int64_t>(16, cols - c0 - 16 * v);
      for (int64_t p = 0; p < kc; p += 16) {
        const __mmask16 depth = first_lanes(kc - p);
        __m512 x[16];
#pragma GCC unroll 16
        for (int c = 0; c < 16; ++c)
          x[c] = c < live ? _mm512_maskz_loadu_ps(depth, B + (j0 + c0 + 16 * v + c) * ldb + p0 + p) : _mm512_setzero_ps();
        transpose16(x);
        const int64_t steps = std::min<int64_t>(16, kc - p);
        for (int64_t s = 0; s < steps; ++s) _mm512_store_ps(panel + (p + s) * kNR + 16 * v, x[s]);
      }
    }
  }
}

// C tile (rows x the lanes of cols0, cols1) = a · b (+ beta * C): a is a kMR x kc micro-panel of A, b a kc x kNR
// micro-panel of B, both packed.
TF_AVX512 void microkernel(int64_t kc, const float* a, const float* b, float beta, float* c, int64_t ldc, int rows,
                           __mmask16 cols0, __mmask16 cols1) {
  // C's tile is read (beta != 0) and written after the depth loop: fetched now, its cache misses overlap the
  // loop instead of stalling the stores (C of a large product lives in L3 or memory; 2048^3 on one thread: 160 -> 200 GFLOP/s).
  for (int r = 0; r < rows; ++r) {
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + 16), _MM_HINT_T0);
  }
  __m512 acc[kMR][kNV];
#pragma GCC unroll 32
  for (int r = 0; r < kMR; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < kNV; ++v) acc[r][v] = _mm512_setzero_ps();
  for (int64_t p = 0; p < kc; ++p, a += kMR, b += kNR) {
    __m512 bv[kNV];
#pragma GCC unroll 4
    for (int v = 0; v < kNV; ++v) bv[v] = _mm512_load_ps(b + 16 * v);
#pragma GCC unroll 32
    for (int r = 0; r < kMR; ++r) {
      const __m512 av = _mm512_set1_ps(a[r]);
#pragma GCC unroll 4
      for (int v = 0; v < kNV; ++v) acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
    }
  }
  const __mmask16 cols[kNV] = {cols0, cols1};
  const __m512 scale = _mm512_set1_ps(beta);
#pragma GCC unroll 32
  for (int r = 0; r < kMR; ++r) {
    if (r >= rows) break;
    float* row = c + r * ldc;
#pragma GCC unroll 4
    for (int v = 0; v < kNV; ++v) {
      __m512 out = acc[r][v];
      if (beta == 1.0f) out = _mm512_add_ps(out, _mm512_maskz_loadu_ps(cols[v], row + 16 * v));
      else if (beta != 0.0f) out = _mm512_fmadd_ps(scale, _mm512_maskz_loadu_ps(cols[v], row + 16 * v), out);
      _mm512_mask_storeu_ps(row + 16 * v, cols[v], out);
    }
  }
}

// C = beta * C (beta 0 writes zeros, whatever C held): the product's part when K or alpha is zero.
void scale_c(int64_t M, int64_t N, float beta, float* C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
}

// Where OpenBLAS (0.3.21, its Haswell kernels on this CPU kind) keeps the product: fewer multiply-adds than this
// (packing costs as much as the product), or fewer columns than a vector (a 32-column tile mostly idle). One
// thread, GFLOP/s ours / OpenBLAS, M x N x K: 8^3 1.8 / 1.8, 16^3 10.6 / 10.7, 32^3 63 / 47, 64x10x10 14.7 /
// 14.9, 64x10x84 38 / 44, 1x10x84 1.6 / 2.2, 1x256x256 9.7 / 7.2, 64x64x16 98 / 62, 16x64x64 70 / 52, 64^3
// 147 / 90, 128x32x32 119 / 73, 64x84x120 143 / 87, 84x120x64 (A^T) 172 / 98, 6x150x1600 52 / 38, 128^3 179 /
// 103.
constexpr int64_t kMinWork = int64_t(1) << 12;
constexpr int64_t kMinColumns = 16;

}  // namespace

bool sgemm_avx512(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                  int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (!has_avx512() || N < kMinColumns || M * N * std::max<int64_t>(K, 1) < kMinWork) return false;
  if (K == 0 || alpha == 0.0f) {
    scale_c(M, N, beta, C, ldc);
    return true;
  }
  const Blocking& bl = blocking();
  // Equal depth blocks (K = 300 runs as 2 x 152, not 248 + 52), rounded to whole 16-step transposes.
  const int64_t kc_step = std::min(K, ceil_div(ceil_div(K, ceil_div(K, bl.kc)), 16) * 16);
  // Equal row blocks (M = 1024 runs as 3 x 342, not 2 x 504 + 16), split by columns as well so that the tasks
  // are a multiple of the threads: every thread gets the same work.
  const int64_t row_blocks = ceil_div(M, bl.mc);
  const int64_t mc = ceil_div(ceil_div(M, row_blocks), kMR) * kMR;
  const int64_t threads = num_threads();
  const int64_t splits_wanted = threads / std::gcd(row_blocks, threads);
  for (int64_t jc = 0; jc < N; jc += bl.nc) {
    const int64_t nc = std::min(bl.nc, N - jc);
    const int64_t panels = ceil_div(nc, kNR);
    const int64_t splits = std::min(panels, splits_wanted);
    for (int64_t pc = 0; pc < K; pc += kc_step) {
      const int64_t kc = std::min(kc_step, K - pc);
      float* bp = scratch<float, Scratch::kPackedB>(panels * kc * kNR);
      parallel_for(panels, grain_for(kc * kNR), [&](int64_t q0, int64_t q1) {
        pack_b(B, ldb, trans_b, pc, kc, jc, nc, q0, q1, bp);
      });
      const float beta_now = pc == 0 ? beta : 1.0f;
      parallel_for(row_blocks * splits, 1, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) {
          const int64_t i0 = (t / splits) * mc, rows = std::min(mc, M - i0);
          const int64_t s = t % splits, q0 = panels * s / splits, q1 = panels * (s + 1) / splits;
          float* ap = scratch<float, Scratch::kPackedA>(ceil_div(rows, kMR) * kMR * kc);
          pack_a(A, lda, trans_a, i0, rows, pc, kc, alpha, ap);
          for (int64_t q = q0; q < q1; ++q) {
            const int64_t j = q * kNR;
            const __mmask16 cols0 = first_lanes(nc - j), cols1 = first_lanes(nc - j - 16);
            for (int64_t r = 0; r < rows; r += kMR)
              microkernel(kc, ap + r * kc, bp + q * kc * kNR, beta_now, C + (i0 + r) * ldc + jc + j, ldc,
                          int(std::min<int64_t>(kMR, rows - r)), cols0, cols1);
          }
        }
      });
    }
  }
  return true;
}

#else

bool sgemm_avx512(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t, float,
                  float*, int64_t) {
  return false;
}

#endif

}  // namespace tf::cpu

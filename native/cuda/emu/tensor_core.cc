// mma.sync and ldmatrix as warp exchanges (exec.cc: warp_exchange): each lane posts pointers to its
// registers, and the last lane to arrive computes the whole warp's result from the PTX ISA's layouts
// ("Matrix Fragments for mma.m16n8k8", .tf32; "ldmatrix"), in which lane l is in group g = l / 4 at
// position t = l % 4 of its group.
#include "cuda/emu/tensor_core.h"

#include <cstdio>
#include <string>

namespace emu::detail {
namespace {

struct MmaLane {
  float* d;
  const uint32_t* a;
  const uint32_t* b;
  const float* c;
};

void complete_mma(void* const* lanes, unsigned) {
  float A[16][8], B[8][8], C[16][8];
  for (int l = 0; l < 32; ++l) {
    const MmaLane& x = *static_cast<const MmaLane*>(lanes[l]);
    const int g = l >> 2, t = l & 3;
    // A (16x8, row): a0 (g, t), a1 (g+8, t), a2 (g, t+4), a3 (g+8, t+4).
    A[g][t] = tf32_operand(x.a[0]);
    A[g + 8][t] = tf32_operand(x.a[1]);
    A[g][t + 4] = tf32_operand(x.a[2]);
    A[g + 8][t + 4] = tf32_operand(x.a[3]);
    // B (8x8, col): b0 (k t, n g), b1 (k t+4, n g).
    B[t][g] = tf32_operand(x.b[0]);
    B[t + 4][g] = tf32_operand(x.b[1]);
    // C (16x8): c0 (g, 2t), c1 (g, 2t+1), c2 (g+8, 2t), c3 (g+8, 2t+1).
    C[g][2 * t] = x.c[0];
    C[g][2 * t + 1] = x.c[1];
    C[g + 8][2 * t] = x.c[2];
    C[g + 8][2 * t + 1] = x.c[3];
  }
  // Products of TF32 values are exact in float; they are summed in float, in k order.
  float D[16][8];
  for (int i = 0; i < 16; ++i)
    for (int j = 0; j < 8; ++j) {
      float acc = C[i][j];
      for (int k = 0; k < 8; ++k) acc += A[i][k] * B[k][j];
      D[i][j] = acc;
    }
  for (int l = 0; l < 32; ++l) {
    const MmaLane& x = *static_cast<const MmaLane*>(lanes[l]);
    const int g = l >> 2, t = l & 3;
    x.d[0] = D[g][2 * t];
    x.d[1] = D[g][2 * t + 1];
    x.d[2] = D[g + 8][2 * t];
    x.d[3] = D[g + 8][2 * t + 1];
  }
}

struct LdmatrixLane {
  uint32_t* r;
  const void* row;
};

template <int kMatrices, bool kTrans>
void complete_ldmatrix(void* const* lanes, unsigned) {
  uint16_t m[kMatrices][8][8];
  for (int j = 0; j < kMatrices; ++j)
    for (int i = 0; i < 8; ++i) {
      const void* row = static_cast<const LdmatrixLane*>(lanes[8 * j + i])->row;
      if (reinterpret_cast<uintptr_t>(row) % 16 != 0 || !in_shared(row, 16)) {
        char text[32];
        std::snprintf(text, sizeof text, "%p", row);
        kernel_fault(std::string("ldmatrix: lane ") + std::to_string(8 * j + i) + "'s row address " + text +
                     (reinterpret_cast<uintptr_t>(row) % 16 != 0 ? " is not 16-byte aligned"
                                                                 : " is not in the block's shared memory"));
      }
      std::memcpy(m[j][i], row, 16);
    }
  for (int l = 0; l < 32; ++l) {
    const LdmatrixLane& x = *static_cast<const LdmatrixLane*>(lanes[l]);
    const int g = l >> 2, t = l & 3;
    for (int j = 0; j < kMatrices; ++j) {
      // Lane l holds elements (g, 2t) and (g, 2t+1); transposed, (2t, g) and (2t+1, g). Low half first.
      const uint16_t lo = kTrans ? m[j][2 * t][g] : m[j][g][2 * t];
      const uint16_t hi = kTrans ? m[j][2 * t + 1][g] : m[j][g][2 * t + 1];
      x.r[j] = uint32_t(lo) | uint32_t(hi) << 16;
    }
  }
}

}  // namespace

void mma_m16n8k8_tf32(float* d, const uint32_t* a, const uint32_t* b, const float* c, const char* file, int line) {
  MmaLane lane{d, a, b, c};
  warp_exchange("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32", 0xffffffffu, &lane, &complete_mma, file,
                line);
}

void ldmatrix(int matrices, bool trans, uint32_t* r, const void* row, const char* file, int line) {
  LdmatrixLane lane{r, row};
  // .aligned: the whole warp executes it; the instruction's name tells the variants apart in reports.
  switch (matrices * 2 + (trans ? 1 : 0)) {
    case 2: return warp_exchange("ldmatrix.x1", ~0u, &lane, &complete_ldmatrix<1, false>, file, line);
    case 3: return warp_exchange("ldmatrix.x1.trans", ~0u, &lane, &complete_ldmatrix<1, true>, file, line);
    case 4: return warp_exchange("ldmatrix.x2", ~0u, &lane, &complete_ldmatrix<2, false>, file, line);
    case 5: return warp_exchange("ldmatrix.x2.trans", ~0u, &lane, &complete_ldmatrix<2, true>, file, line);
    case 8: return warp_exchange("ldmatrix.x4", ~0u, &lane, &complete_ldmatrix<4, false>, file, line);
    case 9: return warp_exchange("ldmatrix.x4.trans", ~0u, &lane, &complete_ldmatrix<4, true>, file, line);
    default: kernel_fault("ldmatrix: .x" + std::to_string(matrices) + " is not .x1, .x2 or .x4");
  }
}

}  // namespace emu::detail

// The emulator's side of cuda/mma.h: the tensor-core and async-copy instructions that kernels reach through
// that header, as reference implementations over the PTX ISA's fragment layouts. mma.sync and ldmatrix are
// warp collectives (every lane arrives, divergence is reported); cp.async is per thread and deferred (see
// cp_async in emu.h).
#pragma once
#include <cstdint>
#include <cstring>

#include "cuda/emu/emu.h"

namespace emu::detail {

// cvt.rna.tf32.f32: the nearest TF32 value (10 mantissa bits), ties away from zero, as a float's bits with the
// low 13 bits clear. NaN stays NaN; a value rounding past the largest finite TF32 becomes infinity.
inline uint32_t float_to_tf32(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, 4);
  if ((bits & 0x7f800000u) == 0x7f800000u) return (bits & 0x007fffffu) != 0 ? 0x7fffffffu : bits;
  return (bits + 0x1000u) & 0xffffe000u;
}

// The value an mma.sync .tf32 operand register holds for the tensor core: its low 13 bits are ignored.
inline float tf32_operand(uint32_t bits) {
  bits &= 0xffffe000u;
  float x;
  std::memcpy(&x, &bits, 4);
  return x;
}

// mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 for the calling lane: d = a * b + c over the warp's
// fragments (d may alias c).
void mma_m16n8k8_tf32(float* d, const uint32_t* a, const uint32_t* b, const float* c, const char* file, int line);

// ldmatrix.sync.aligned.m8n8.x{matrices}[.trans].shared.b16 for the calling lane: lane 8j + i gives the
// address of row i of matrix j; r[j] receives the lane's two 16-bit elements of matrix j.
void ldmatrix(int matrices, bool trans, uint32_t* r, const void* row, const char* file, int line);

}  // namespace emu::detail

// cuda/mma.h under the emulator: mma.sync and ldmatrix against scalar references written from the PTX ISA's
// fragment layouts, cvt.rna.tf32 rounding, cp.async's zero-fill and deferred completion, and the misuse each
// must report (a lane missing from a warp instruction, a bad ldmatrix address, a copy never waited for).
#include <cmath>
#include <cstring>

#include "check.h"
#include "cuda/mma.h"

using tf::cuda::launch;

namespace {

float from_bits(uint32_t b) {
  float x;
  std::memcpy(&x, &b, 4);
  return x;
}
uint32_t to_bits(float x) {
  uint32_t b;
  std::memcpy(&b, &x, 4);
  return b;
}
// TF32 by truncation: what the tensor core makes of a float operand.
float truncate_tf32(float x) { return from_bits(to_bits(x) & 0xffffe000u); }

// Lane l = 4g + t loads its fragments of A [16][8], B [8][8] (k x n) and C [16][8], all row-major, by the
// ISA's tables, runs one mma and stores D by the C table. `round` converts a and b with cvt.rna first.
__global__ void mma_kernel(float* D, const float* A, const float* B, const float* C, bool round) {
  const int l = threadIdx.x, g = l / 4, t = l % 4;
  const auto operand = [round](float x) { return round ? tf::cuda::float_to_tf32(x) : to_bits(x); };
  const uint32_t a[4] = {operand(A[g * 8 + t]), operand(A[(g + 8) * 8 + t]), operand(A[g * 8 + t + 4]),
                         operand(A[(g + 8) * 8 + t + 4])};
  const uint32_t b[2] = {operand(B[t * 8 + g]), operand(B[(t + 4) * 8 + g])};
  float c[4] = {C[g * 8 + 2 * t], C[g * 8 + 2 * t + 1], C[(g + 8) * 8 + 2 * t], C[(g + 8) * 8 + 2 * t + 1]};
  tf::cuda::mma_m16n8k8_tf32(c, a, b, c);  // d aliasing c, as kernels accumulate
  D[g * 8 + 2 * t] = c[0];
  D[g * 8 + 2 * t + 1] = c[1];
  D[(g + 8) * 8 + 2 * t] = c[2];
  D[(g + 8) * 8 + 2 * t + 1] = c[3];
}

// The reference: D = C + A * B over inputs converted by `convert`, in double.
template <class Convert>
std::vector<double> mma_reference(const std::vector<float>& A, const std::vector<float>& B,
                                  const std::vector<float>& C, Convert convert) {
  std::vector<double> D(128);
  for (int i = 0; i < 16; ++i)
    for (int j = 0; j < 8; ++j) {
      double acc = C[i * 8 + j];
      for (int k = 0; k < 8; ++k) acc += double(convert(A[i * 8 + k])) * double(convert(B[k * 8 + j]));
      D[i * 8 + j] = acc;
    }
  return D;
}

// Four 8x8 matrices of 16-bit values, row-major one after another, copied to shared memory; lane 8j + i points
// at row i of matrix j; out[l * 4 + j] = r[j] of lane l for ldmatrix .x{kMatrices}[.trans].
template <int kMatrices, bool kTrans>
__global__ void ldmatrix_kernel(uint32_t* out, const uint16_t* m) {
  TF_SHARED(uint16_t, tile, 4 * 64);
  for (int i = threadIdx.x; i < 4 * 64; i += 32) tile[i] = m[i];
  __syncwarp();
  const int l = threadIdx.x;
  uint32_t r[kMatrices];
  tf::cuda::ldmatrix<kMatrices, kTrans>(r, &tile[(l / 8) * 64 + (l % 8) * 8]);
  for (int j = 0; j < 4; ++j) out[l * 4 + j] = j < kMatrices ? r[j] : 0u;
}

template <int kMatrices, bool kTrans>
void check_ldmatrix() {
  std::vector<uint16_t> m(4 * 64);
  for (size_t i = 0; i < m.size(); ++i) m[i] = uint16_t(1000 + i);
  emu_test::DeviceArray<uint16_t> dm(m);
  emu_test::DeviceArray<uint32_t> dout(32 * 4);
  launch("ldmatrix", ldmatrix_kernel<kMatrices, kTrans>, dim3(1), dim3(32), 0, dout.get(), dm.get());
  const auto out = dout.download();
  for (int l = 0; l < 32; ++l) {
    const int g = l / 4, t = l % 4;
    for (int j = 0; j < kMatrices; ++j) {
      const auto at = [&](int row, int col) { return uint32_t(m[j * 64 + row * 8 + col]); };
      const uint32_t want = kTrans ? (at(2 * t, g) | at(2 * t + 1, g) << 16) : (at(g, 2 * t) | at(g, 2 * t + 1) << 16);
      CHECK_EQ(out[l * 4 + j], want);
    }
  }
}

// A [16][8] and B^T [8][8] (n x k) floats in shared memory, read with ldmatrix .x4 and .x2 (32-bit data: each
// lane gets element (g, t) of an 8x4 float tile), multiplied with mma: the path the GEMM kernel takes.
__global__ void ldmatrix_mma_kernel(float* D, const float* A, const float* Bt) {
  TF_SHARED(float, a_tile, 16 * 8);
  TF_SHARED(float, b_tile, 8 * 8);
  const int l = threadIdx.x;
  for (int i = l; i < 128; i += 32) a_tile[i] = __uint_as_float(tf::cuda::float_to_tf32(A[i]));
  for (int i = l; i < 64; i += 32) b_tile[i] = __uint_as_float(tf::cuda::float_to_tf32(Bt[i]));
  __syncwarp();
  uint32_t a[4], b[2];
  // Matrices of A: rows 0-7 / 8-15 (lane bit 3) by k 0-3 / 4-7 (lane bit 4); of B^T: k 0-3 / 4-7 (lane bit 3).
  tf::cuda::ldmatrix<4>(a, &a_tile[(l % 16) * 8 + (l / 16) * 4]);
  tf::cuda::ldmatrix<2>(b, &b_tile[(l % 8) * 8 + ((l / 8) % 2) * 4]);
  float c[4] = {0, 0, 0, 0};
  tf::cuda::mma_m16n8k8_tf32(c, a, b, c);
  const int g = l / 4, t = l % 4;
  D[g * 8 + 2 * t] = c[0];
  D[g * 8 + 2 * t + 1] = c[1];
  D[(g + 8) * 8 + 2 * t] = c[2];
  D[(g + 8) * 8 + 2 * t + 1] = c[3];
}

// Thread i copies bytes [16i, 16i + 16) of src with cp.async of kBytes pieces, reading only `valid` bytes of
// each piece (the zero-fill form); it records what the destination held before the wait, then after.
template <int kBytes, bool kGlobalOnly>
__global__ void cp_async_kernel(float* before, float* after, const float* src, int valid) {
  TF_SHARED(float, tile, 4 * 32);
  float* dst = &tile[threadIdx.x * 4];
  for (int piece = 0; piece < 16 / kBytes; ++piece) {
    const int offset = piece * kBytes / 4;
    if constexpr (kGlobalOnly)
      tf::cuda::cp_async_cg(dst + offset, src + threadIdx.x * 4 + offset, valid);
    else
      tf::cuda::cp_async_ca<kBytes>(dst + offset, src + threadIdx.x * 4 + offset, valid);
  }
  tf::cuda::cp_async_commit();
  for (int i = 0; i < 4; ++i) before[threadIdx.x * 4 + i] = dst[i];
  tf::cuda::cp_async_wait<0>();
  for (int i = 0; i < 4; ++i) after[threadIdx.x * 4 + i] = dst[i];
}

template <int kBytes, bool kGlobalOnly>
void check_cp_async(int valid) {
  const auto src = emu_test::random_floats(128, 7, 1.0f, 2.0f);
  emu_test::DeviceArray<float> dsrc(src), before(128), after(128);
  launch("cp_async", cp_async_kernel<kBytes, kGlobalOnly>, dim3(1), dim3(32), 0, before.get(), after.get(),
         dsrc.get(), valid);
  const auto b = before.download(), a = after.download();
  for (int i = 0; i < 128; ++i) {
    // Element i is byte (i % (kBytes / 4)) * 4 of its piece: read when it lies within the piece's valid bytes.
    const bool read = (i % (kBytes / 4)) * 4 < valid;
    CHECK_EQ(a[i], read ? src[i] : 0.0f);
    CHECK(std::isnan(b[i]));
  }
}

// Two groups in flight: wait_group 1 lands the older one only.
__global__ void cp_async_groups_kernel(float* out, const float* src) {
  TF_SHARED(float, tile, 2 * 32);
  const int i = threadIdx.x;
  tf::cuda::cp_async_ca<4>(&tile[i], src + i);
  tf::cuda::cp_async_commit();
  tf::cuda::cp_async_ca<4>(&tile[32 + i], src + 32 + i);
  tf::cuda::cp_async_commit();
  tf::cuda::cp_async_wait<1>();
  out[i] = tile[i];
  out[32 + i] = tile[32 + i];
  tf::cuda::cp_async_wait<0>();
  out[64 + i] = tile[32 + i];
}

__global__ void cp_async_unwaited_kernel(float* out, const float* src, bool commit) {
  TF_SHARED(float, tile, 32);
  tf::cuda::cp_async_ca<4>(&tile[threadIdx.x], src + threadIdx.x);
  if (commit) tf::cuda::cp_async_commit();
  out[threadIdx.x] = 1.0f;
}

// Each thread copies one element and reads its mirror image's: correct only with the barrier after the wait
// (without it some thread reads its mirror's element before that copy landed).
__global__ void cp_async_barrier_kernel(float* out, const float* src, bool barrier) {
  TF_SHARED(float, tile, 32);
  tile[threadIdx.x] = 0.0f;
  __syncthreads();
  tf::cuda::cp_async_ca<4>(&tile[threadIdx.x], src + threadIdx.x);
  tf::cuda::cp_async_commit();
  tf::cuda::cp_async_wait<0>();
  if (barrier) __syncthreads();
  out[threadIdx.x] = tile[31 - threadIdx.x];
}

__global__ void cp_async_misaligned_kernel(const float* src) {
  TF_SHARED(float, tile, 8);
  tf::cuda::cp_async_ca<16>(&tile[1], src);
  tf::cuda::cp_async_commit();
  tf::cuda::cp_async_wait<0>();
}

__global__ void mma_partial_warp_kernel(float* out) {
  if (threadIdx.x >= 16) return;
  const uint32_t a[4] = {}, b[2] = {};
  float c[4] = {};
  tf::cuda::mma_m16n8k8_tf32(c, a, b, c);
  out[threadIdx.x] = c[0];
}

__global__ void ldmatrix_bad_address_kernel(uint32_t* out) {
  TF_SHARED(uint16_t, tile, 128);
  tile[threadIdx.x] = 0;
  __syncwarp();
  uint32_t r[1];
  tf::cuda::ldmatrix<1>(r, &tile[threadIdx.x == 3 ? 4 : 0]);  // lane 3's row starts 8 bytes into a row
  out[threadIdx.x] = r[0];
}

}  // namespace

TEST(tf32_conversion_rounds_to_nearest_ties_away) {
  // 1 + 2^-11 is halfway between TF32 neighbours 1 and 1 + 2^-10: away from zero. Just below rounds down.
  CHECK_EQ(from_bits(tf::cuda::float_to_tf32(1.0f + 0x1p-11f)), 1.0f + 0x1p-10f);
  CHECK_EQ(from_bits(tf::cuda::float_to_tf32(-(1.0f + 0x1p-11f))), -(1.0f + 0x1p-10f));
  CHECK_EQ(from_bits(tf::cuda::float_to_tf32(1.0f + 0x1p-11f - 0x1p-23f)), 1.0f);
  CHECK_EQ(from_bits(tf::cuda::float_to_tf32(1.0f + 3 * 0x1p-11f)), 1.0f + 0x1p-9f);  // a tie rounding up an odd
  CHECK_EQ(tf::cuda::float_to_tf32(3.0e38f) & 0x1fffu, 0u);
  CHECK(std::isinf(from_bits(tf::cuda::float_to_tf32(3.4028235e38f))));  // the largest float rounds past TF32's
  CHECK(std::isnan(from_bits(tf::cuda::float_to_tf32(NAN))));
  CHECK(std::isinf(from_bits(tf::cuda::float_to_tf32(-INFINITY))));
  // Subnormals keep their top 10 mantissa bits: 2^-130 is bit 19, 2^-140 (bit 9) rounds to zero.
  CHECK_EQ(from_bits(tf::cuda::float_to_tf32(0x1p-130f)), 0x1p-130f);
  CHECK_EQ(from_bits(tf::cuda::float_to_tf32(0x1p-140f)), 0.0f);
}

TEST(mma_m16n8k8_tf32_follows_the_isa_fragment_layout) {
  const auto A = emu_test::random_floats(128, 1), B = emu_test::random_floats(64, 2);
  const auto C = emu_test::random_floats(128, 3);
  emu_test::DeviceArray<float> dA(A), dB(B), dC(C), dD(128);
  for (bool round : {true, false}) {
    launch("mma", mma_kernel, dim3(1), dim3(32), 0, dD.get(), dA.get(), dB.get(), dC.get(), round);
    const auto D = dD.download();
    // Rounded with cvt.rna, or truncated by the tensor core when the kernel passes raw floats.
    const auto want = round ? mma_reference(A, B, C, [](float x) { return from_bits(tf::cuda::float_to_tf32(x)); })
                            : mma_reference(A, B, C, truncate_tf32);
    for (int i = 0; i < 128; ++i) CHECK_NEAR(D[i], want[i], 1e-5);
  }
  // Against full float32 inputs the TF32 error shows (the reference above is not float32 in disguise).
  const auto exact = mma_reference(A, B, C, [](float x) { return x; });
  launch("mma", mma_kernel, dim3(1), dim3(32), 0, dD.get(), dA.get(), dB.get(), dC.get(), false);
  const auto D = dD.download();
  double worst = 0;
  for (int i = 0; i < 128; ++i) worst = std::max(worst, std::fabs(D[i] - exact[i]));
  CHECK(worst > 1e-5);
}

TEST(ldmatrix_x1_x2_x4_and_trans_follow_the_isa_layout) {
  check_ldmatrix<1, false>();
  check_ldmatrix<2, false>();
  check_ldmatrix<4, false>();
  check_ldmatrix<1, true>();
  check_ldmatrix<2, true>();
  check_ldmatrix<4, true>();
}

TEST(ldmatrix_of_floats_feeds_mma_fragments) {
  const auto A = emu_test::random_floats(128, 4), Bt = emu_test::random_floats(64, 5);
  std::vector<float> B(64), C(128, 0.0f);
  for (int k = 0; k < 8; ++k)
    for (int n = 0; n < 8; ++n) B[k * 8 + n] = Bt[n * 8 + k];
  emu_test::DeviceArray<float> dA(A), dBt(Bt), dD(128);
  launch("ldmatrix_mma", ldmatrix_mma_kernel, dim3(1), dim3(32), 0, dD.get(), dA.get(), dBt.get());
  const auto D = dD.download();
  const auto want = mma_reference(A, B, C, [](float x) { return from_bits(tf::cuda::float_to_tf32(x)); });
  for (int i = 0; i < 128; ++i) CHECK_NEAR(D[i], want[i], 1e-5);
}

TEST(cp_async_copies_zero_fills_and_lands_at_the_wait) {
  if (!emu::checked()) return emu_test::skip("needs checked mode (the destination is poisoned at issue)");
  check_cp_async<16, false>(16);
  check_cp_async<16, false>(12);
  check_cp_async<16, false>(0);
  check_cp_async<16, true>(16);
  check_cp_async<16, true>(4);
  check_cp_async<8, false>(8);
  check_cp_async<8, false>(4);
  check_cp_async<4, false>(4);
  check_cp_async<4, false>(0);
}

TEST(cp_async_wait_group_lands_all_but_the_newest_groups) {
  if (!emu::checked()) return emu_test::skip("needs checked mode (the destination is poisoned at issue)");
  const auto src = emu_test::random_floats(64, 9);
  emu_test::DeviceArray<float> dsrc(src), dout(96);
  launch("cp_async_groups", cp_async_groups_kernel, dim3(1), dim3(32), 0, dout.get(), dsrc.get());
  const auto out = dout.download();
  for (int i = 0; i < 32; ++i) {
    CHECK_EQ(out[i], src[i]);
    CHECK(std::isnan(out[32 + i]));
    CHECK_EQ(out[64 + i], src[32 + i]);
  }
}

TEST(cp_async_never_waited_for_is_an_error) {
  const auto src = emu_test::random_floats(32, 10);
  emu_test::DeviceArray<float> dsrc(src), dout(32);
  launch("unwaited", cp_async_unwaited_kernel, dim3(1), dim3(32), 0, dout.get(), dsrc.get(), true);
  EXPECT_KERNEL_ERROR(cudaErrorLaunchFailure, "kernel 'unwaited'", "thread (0,0,0) exited with 1 cp.async copies",
                      "committed but not covered by a cp.async.wait_group", "tensor_core_test.cc:");
  launch("uncommitted", cp_async_unwaited_kernel, dim3(1), dim3(32), 0, dout.get(), dsrc.get(), false);
  EXPECT_KERNEL_ERROR(cudaErrorLaunchFailure, "kernel 'uncommitted'", "never committed");
}

TEST(cp_async_read_without_the_barrier_after_the_wait_is_stale) {
  const auto src = emu_test::random_floats(32, 11, 1.0f, 2.0f);
  emu_test::DeviceArray<float> dsrc(src), dout(32);
  for (bool barrier : {true, false}) {
    launch("cp_async_barrier", cp_async_barrier_kernel, dim3(1), dim3(32), 0, dout.get(), dsrc.get(), barrier);
    const auto out = dout.download();
    int stale = 0;
    for (int i = 0; i < 32; ++i) stale += out[i] != src[31 - i];
    CHECK_EQ(stale > 0, !barrier);
  }
}

TEST(cp_async_misuse_is_reported) {
  const auto src = emu_test::random_floats(32, 12);
  emu_test::DeviceArray<float> dsrc(src);
  launch("misaligned", cp_async_misaligned_kernel, dim3(1), dim3(32), 0, dsrc.get());
  EXPECT_KERNEL_ERROR(cudaErrorIllegalAddress, "kernel 'misaligned'", "cp.async at",
                      "must be aligned to the cp-size 16");
}

TEST(warp_instructions_need_every_lane) {
  emu_test::DeviceArray<float> dout(32);
  launch("mma_partial", mma_partial_warp_kernel, dim3(1), dim3(32), 0, dout.get());
  EXPECT_KERNEL_ERROR(cudaErrorLaunchFailure, "kernel 'mma_partial'", "exited while",
                      "waits at mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32(mask 0xffffffff)");
  emu_test::DeviceArray<uint32_t> dr(32);
  launch("ldmatrix_bad", ldmatrix_bad_address_kernel, dim3(1), dim3(32), 0, dr.get());
  EXPECT_KERNEL_ERROR(cudaErrorLaunchFailure, "kernel 'ldmatrix_bad'", "ldmatrix: lane 3's row address",
                      "is not 16-byte aligned");
}

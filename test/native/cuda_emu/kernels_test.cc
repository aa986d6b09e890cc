// Kernel results under the emulated execution model, each against a serial reference.
#include <cmath>
#include <numeric>

#include "check.h"

using tf::cuda::grid_for;
using tf::cuda::launch;

namespace {

__global__ void axpb_kernel(float* out, const float* x, float a, float b, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = a * x[i] + b;
}

// One partial sum per block: a shared-memory tree with a barrier per level.
__global__ void block_sum_kernel(float* sums, const float* x, int64_t n) {
  TF_SHARED(float, partial, 256);
  const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  partial[threadIdx.x] = i < n ? x[i] : 0.0f;
  __syncthreads();
  for (unsigned stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) partial[threadIdx.x] += partial[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) sums[blockIdx.x] = partial[0];
}

// Per warp: a __shfl_down_sync tree (lane 0 holds the sum) and a __shfl_xor_sync butterfly (every lane
// does), and per segment of 8 lanes the same butterfly with width 8.
template <class T>
__global__ void warp_sum_kernel(T* down, T* butterfly, T* segment, const T* x) {
  const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
  T v = x[i], w = x[i], s = x[i];
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
  for (int mask = 16; mask > 0; mask /= 2) w += __shfl_xor_sync(0xffffffffu, w, mask);
  for (int mask = 4; mask > 0; mask /= 2) s += __shfl_xor_sync(0xffffffffu, s, mask, 8);
  down[i] = v;
  butterfly[i] = w;
  segment[i] = s;
}

// Inclusive scan per warp with __shfl_up_sync, lane 7's value broadcast with __shfl_sync, and shuffles
// within segments: down by 3 in segments of 8, up by 5 in segments of 16, lane 5 of each segment of 8.
__global__ void scan_kernel(int* scan, int* broadcast, int* segments, const int* x) {
  const unsigned i = blockIdx.x * blockDim.x + threadIdx.x, lane = threadIdx.x % 32;
  int v = x[i];
  for (unsigned d = 1; d < 32; d *= 2) {
    const int up = __shfl_up_sync(0xffffffffu, v, d);
    if (lane >= d) v += up;
  }
  scan[i] = v;
  broadcast[i] = __shfl_sync(0xffffffffu, x[i], 7);
  segments[3 * i] = __shfl_down_sync(0xffffffffu, x[i], 3, 8);
  segments[3 * i + 1] = __shfl_up_sync(0xffffffffu, x[i], 5, 16);
  segments[3 * i + 2] = __shfl_sync(0xffffffffu, x[i], 5, 8);
}

__global__ void vote_kernel(unsigned* ballot, int* any, int* all, const int* pred) {
  const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
  ballot[i] = __ballot_sync(0xffffffffu, pred[i]);
  any[i] = __any_sync(0xffffffffu, pred[i]);
  all[i] = __all_sync(0xffffffffu, pred[i]);
}

__global__ void atomics_kernel(float* fsum, double* dsum, int* count, unsigned long long* wide, int* max_value,
                               int* min_value, unsigned* cas_winner, const int* values, int n) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    atomicAdd(fsum, 1.0f);
    atomicAdd(dsum, 0.5);
    atomicAdd(count, 1);
    atomicAdd(wide, 1ull << 33);
    atomicMax(max_value, values[i]);
    atomicMin(min_value, values[i]);
    atomicCAS(cas_winner, 0xffffffffu, unsigned(i));
  }
}

__global__ void coordinates_kernel(int* out) {
  const unsigned block = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  const unsigned thread = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  const unsigned threads = blockDim.x * blockDim.y * blockDim.z;
  out[block * threads + thread] = int(threadIdx.x * 10000 + threadIdx.y * 1000 + threadIdx.z * 100 +
                                      blockIdx.x * 10 + blockIdx.y * 3 + blockIdx.z);
}

// Reverses each block's slice through dynamic shared memory and through a plain __shared__ array.
__global__ void reverse_kernel(int* out, const int* x) {
  TF_DYNAMIC_SHARED(int, tile);
  __shared__ int plain[64];
  const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
  tile[threadIdx.x] = x[i];
  plain[threadIdx.x] = 2 * x[i];
  __syncthreads();
  out[i] = tile[blockDim.x - 1 - threadIdx.x] + plain[blockDim.x - 1 - threadIdx.x];
}

// Lanes below 10 take a branch and ask which lanes are with them; the others wait at the __syncwarp after it.
__global__ void activemask_kernel(unsigned* out) {
  const unsigned lane = threadIdx.x % 32;
  unsigned mask = 0;
  if (lane < 10) mask = __activemask();
  __syncwarp();
  out[threadIdx.x] = mask;
}

// The device math and bit functions that <cmath> lacks, and CUDA's min/max overloads.
__global__ void math_kernel(float* f, int* i, double* d) {
  const float x = 2.0f;
  f[0] = rsqrtf(4.0f * x);
  f[1] = __expf(x) - expf(x);
  f[2] = __fdividef(1.0f, 8.0f);
  f[3] = __int_as_float(__float_as_int(-1.5f));
  f[4] = min(3.0f, NAN);  // NaN-ignoring, like fminf
  f[5] = max(-2.0f, 1.0f);
  f[6] = float(isnan(NAN) && !isnan(x));
  f[7] = __saturatef(1.5f);
  i[0] = min(-3, 4);
  i[1] = int(max(2u, 7u));
  i[2] = int(min(int64_t(-5), int64_t(9)));
  i[3] = __popc(0xf0f0u);
  i[4] = __clz(1);
  i[5] = __ffs(8);
  i[6] = int(max(-1, 5u) == 0xffffffffu);  // (int, unsigned) compares as unsigned
  d[0] = rsqrt(16.0);
  d[1] = min(1.5, 2.0f);
}

}  // namespace

TEST(device_math_functions) {
  emu_test::DeviceArray<float> df(8);
  emu_test::DeviceArray<int> di(7);
  emu_test::DeviceArray<double> dd(2);
  launch("math", math_kernel, dim3(1), dim3(1), 0, df.get(), di.get(), dd.get());
  const auto f = df.download();
  const auto i = di.download();
  const auto d = dd.download();
  CHECK_NEAR(f[0], 1.0 / std::sqrt(8.0), 1e-6);
  CHECK_EQ(f[1], 0.0f);
  CHECK_EQ(f[2], 0.125f);
  CHECK_EQ(f[3], -1.5f);
  CHECK_EQ(f[4], 3.0f);
  CHECK_EQ(f[5], 1.0f);
  CHECK_EQ(f[6], 1.0f);
  CHECK_EQ(f[7], 1.0f);
  const std::vector<int> expected{-3, 7, -5, 8, 31, 4, 1};
  for (size_t k = 0; k < expected.size(); ++k) CHECK_EQ(i[k], expected[k]);
  CHECK_EQ(d[0], 0.25);
  CHECK_EQ(d[1], 1.5);
}

TEST(grid_stride_loop_covers_every_element) {
  const int64_t n = 100003;
  const auto x = emu_test::random_floats(size_t(n), 1);
  emu_test::DeviceArray<float> dx(x), dout{size_t(n)};
  launch("axpb", axpb_kernel, grid_for(n, 128, 37), dim3(128), 0, dout.get(), dx.get(), 2.5f, -1.0f, n);
  const auto out = dout.download();
  int wrong = 0;
  for (int64_t i = 0; i < n; ++i) wrong += out[size_t(i)] != 2.5f * x[size_t(i)] - 1.0f;
  CHECK_EQ(wrong, 0);
}

TEST(block_sum_with_shared_memory_and_barriers) {
  const int64_t n = 256 * 37 + 101;
  const auto x = emu_test::random_floats(size_t(n), 2);
  const unsigned blocks = unsigned((n + 255) / 256);
  emu_test::DeviceArray<float> dx(x), dsums(blocks);
  launch("block_sum", block_sum_kernel, dim3(blocks), dim3(256), 0, dsums.get(), dx.get(), n);
  const auto sums = dsums.download();
  for (unsigned b = 0; b < blocks; ++b) {
    double expected = 0;
    for (int64_t i = b * 256; i < std::min<int64_t>(n, (b + 1) * 256); ++i) expected += x[size_t(i)];
    CHECK_NEAR(sums[b], expected, 1e-4);
  }
}

template <class T>
void check_warp_sums(unsigned seed) {
  const unsigned n = 4 * 96;
  std::mt19937 gen(seed);
  std::vector<T> x(n);
  for (T& v : x) v = T(int(gen() % 2001) - 1000) / T(8);
  emu_test::DeviceArray<T> dx(x), ddown(n), dbutterfly(n), dsegment(n);
  launch("warp_sum", warp_sum_kernel<T>, dim3(4), dim3(96), 0, ddown.get(), dbutterfly.get(), dsegment.get(), dx.get());
  const auto down = ddown.download(), butterfly = dbutterfly.download(), segment = dsegment.download();
  for (unsigned w = 0; w < n / 32; ++w) {
    const T total = std::accumulate(x.begin() + w * 32, x.begin() + w * 32 + 32, T(0));
    CHECK_EQ(down[w * 32], total);
    for (unsigned lane = 0; lane < 32; ++lane) {
      const unsigned i = w * 32 + lane, first = i - lane % 8;
      CHECK_EQ(butterfly[i], total);
      CHECK_EQ(segment[i], std::accumulate(x.begin() + first, x.begin() + first + 8, T(0)));
    }
  }
}

TEST(warp_sums_with_shfl_down_and_shfl_xor) {
  check_warp_sums<float>(3);
  check_warp_sums<double>(4);
  check_warp_sums<int>(5);
  check_warp_sums<long long>(6);
  check_warp_sums<unsigned>(7);
}

TEST(shfl_up_scan_broadcast_and_segments) {
  const unsigned n = 2 * 64;
  std::vector<int> x(n);
  for (unsigned i = 0; i < n; ++i) x[i] = int(i * 7 % 13) - 6 + int(i) * 100;
  emu_test::DeviceArray<int> dx(x), dscan(n), dbroadcast(n), dsegments(3 * n);
  launch("scan", scan_kernel, dim3(2), dim3(64), 0, dscan.get(), dbroadcast.get(), dsegments.get(), dx.get());
  const auto scan = dscan.download(), broadcast = dbroadcast.download(), segments = dsegments.download();
  for (unsigned i = 0; i < n; ++i) {
    const unsigned first = i - i % 32;
    CHECK_EQ(scan[i], std::accumulate(x.begin() + first, x.begin() + i + 1, 0));
    CHECK_EQ(broadcast[i], x[first + 7]);
    // PTX: a source lane outside the caller's segment leaves the caller's own value.
    CHECK_EQ(segments[3 * i], i % 8 + 3 < 8 ? x[i + 3] : x[i]);
    CHECK_EQ(segments[3 * i + 1], i % 16 >= 5 ? x[i - 5] : x[i]);
    CHECK_EQ(segments[3 * i + 2], x[i - i % 8 + 5]);
  }
}

TEST(ballot_any_all) {
  const unsigned n = 128;
  std::vector<int> pred(n);
  std::mt19937 gen(8);
  for (unsigned i = 0; i < n; ++i) pred[i] = i < 32 ? 1 : (i < 64 ? 0 : int(gen() % 3 == 0) * 5);
  emu_test::DeviceArray<int> dpred(pred), dany(n), dall(n);
  emu_test::DeviceArray<unsigned> dballot(n);
  launch("vote", vote_kernel, dim3(2), dim3(64), 0, dballot.get(), dany.get(), dall.get(), dpred.get());
  const auto ballot = dballot.download();
  const auto any = dany.download(), all = dall.download();
  for (unsigned i = 0; i < n; ++i) {
    unsigned expected = 0;
    for (unsigned lane = 0; lane < 32; ++lane) expected |= unsigned(pred[i - i % 32 + lane] != 0) << lane;
    CHECK_EQ(ballot[i], expected);
    CHECK_EQ(any[i], int(expected != 0));
    CHECK_EQ(all[i], int(expected == 0xffffffffu));
  }
}

TEST(atomics_across_many_blocks) {
  const int n = 200000;
  std::vector<int> values(n);
  std::mt19937 gen(9);
  for (int& v : values) v = int(gen() % 2000001) - 1000000;
  emu_test::DeviceArray<int> dvalues(values), dcount(std::vector<int>{0}), dmax(std::vector<int>{INT32_MIN}),
      dmin(std::vector<int>{INT32_MAX});
  emu_test::DeviceArray<float> dfsum(std::vector<float>{0.0f});
  emu_test::DeviceArray<double> ddsum(std::vector<double>{0.0});
  emu_test::DeviceArray<unsigned long long> dwide(std::vector<unsigned long long>{0});
  emu_test::DeviceArray<unsigned> dcas(std::vector<unsigned>{0xffffffffu});
  launch("atomics", atomics_kernel, dim3(97), dim3(128), 0, dfsum.get(), ddsum.get(), dcount.get(), dwide.get(),
         dmax.get(), dmin.get(), dcas.get(), dvalues.get(), n);
  CHECK_EQ(dfsum.download()[0], float(n));  // exact: every partial sum is an integer below 2^24
  CHECK_EQ(ddsum.download()[0], 0.5 * n);
  CHECK_EQ(dcount.download()[0], n);
  CHECK_EQ(dwide.download()[0], (unsigned long long)n << 33);
  CHECK_EQ(dmax.download()[0], *std::max_element(values.begin(), values.end()));
  CHECK_EQ(dmin.download()[0], *std::min_element(values.begin(), values.end()));
  CHECK(dcas.download()[0] < unsigned(n));
}

TEST(three_dimensional_grid_and_block_coordinates) {
  const dim3 grid(2, 3, 2), block(4, 3, 5);
  const unsigned threads = 4 * 3 * 5, blocks = 2 * 3 * 2;
  emu_test::DeviceArray<int> dout(threads * blocks);
  launch("coordinates", coordinates_kernel, grid, block, 0, dout.get());
  const auto out = dout.download();
  for (unsigned bz = 0; bz < 2; ++bz)
    for (unsigned by = 0; by < 3; ++by)
      for (unsigned bx = 0; bx < 2; ++bx)
        for (unsigned tz = 0; tz < 5; ++tz)
          for (unsigned ty = 0; ty < 3; ++ty)
            for (unsigned tx = 0; tx < 4; ++tx) {
              const unsigned b = bx + 2 * (by + 3 * bz), t = tx + 4 * (ty + 3 * tz);
              CHECK_EQ(out[b * threads + t], int(tx * 10000 + ty * 1000 + tz * 100 + bx * 10 + by * 3 + bz));
            }
}

TEST(dynamic_and_plain_shared_memory) {
  const unsigned n = 3 * 64;
  std::vector<int> x(n);
  std::iota(x.begin(), x.end(), 1);
  emu_test::DeviceArray<int> dx(x), dout(n);
  launch("reverse", reverse_kernel, dim3(3), dim3(64), 64 * sizeof(int), dout.get(), dx.get());
  const auto out = dout.download();
  for (unsigned i = 0; i < n; ++i) CHECK_EQ(out[i], 3 * x[i - i % 64 + 63 - i % 64]);
}

TEST(activemask_names_the_lanes_in_the_branch) {
  emu_test::DeviceArray<unsigned> dout(64);
  launch("activemask", activemask_kernel, dim3(1), dim3(64), 0, dout.get());
  const auto out = dout.download();
  for (unsigned i = 0; i < 64; ++i) CHECK_EQ(out[i], i % 32 < 10 ? 0x3ffu : 0u);
}

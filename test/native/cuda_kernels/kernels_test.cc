// Runs every launcher of native/cuda/{elementwise,reduce,index,random}.cu on the emulated device and compares it
// with the tf::cpu implementation: odd sizes, zero-size, broadcast and non-contiguous strides, every op of
// each family, every dtype the bindings dispatch. Exits non-zero on the first mismatch, naming it.
//
// Through CMake: configure with TF_CUDA=EMULATE (kernels.cmake), then
//   cmake --build <dir> --target tf_cuda_kernels_test && TENSORFORGE_EMU_CHECKED=1 <dir>/tf_cuda_kernels_test
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "core/elementwise.h"
#include "core/error.h"
#include "core/nn.h"
#include "core/reduce.h"
#include "core/strided.h"
#include "cpu/nn.h"
#include "cuda/kernel.h"


namespace {

using namespace tf;

int failures = 0;
std::mt19937_64 rng(20261207);

void check_cuda(cudaError_t err, const std::string& what) {
  if (err != cudaSuccess)
    fail(ErrorKind::Generic, what, ": ", cudaGetErrorString(err), " ", emu::last_error_message());
}

// A device copy of a host vector; to_host() synchronizes.
template <class T>
struct DeviceVector {
  T* ptr = nullptr;
  size_t n;
  explicit DeviceVector(const std::vector<T>& host) : n(host.size()) {
    check_cuda(cudaMalloc(&ptr, std::max<size_t>(1, n) * sizeof(T)), "cudaMalloc");
    check_cuda(cudaMemcpy(ptr, host.data(), n * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy to device");
  }
  ~DeviceVector() { cudaFree(ptr); }
  DeviceVector(const DeviceVector&) = delete;
  std::vector<T> to_host() const {
    check_cuda(cudaDeviceSynchronize(), "kernel");
    std::vector<T> host(n);
    check_cuda(cudaMemcpy(host.data(), ptr, n * sizeof(T), cudaMemcpyDeviceToHost), "cudaMemcpy to host");
    return host;
  }
};

template <class T>
std::vector<T> random_values(size_t n, double lo, double hi) {
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<T> v(n);
  for (T& e : v) e = T(std::is_floating_point_v<T> ? dist(rng) : std::floor(dist(rng)));
  return v;
}

template <class T>
const char* dtype_name() {
  if constexpr (std::is_same_v<T, float>) return "float32";
  else if constexpr (std::is_same_v<T, double>) return "float64";
  else if constexpr (std::is_same_v<T, int32_t>) return "int32";
  else return "uint8";
}

// Element-by-element comparison: |got - want| <= tol * max(1, |want|), NaN matching NaN; tol 0 is bit-exact
// (for floats, the same bits).
template <class T>
bool same(T got, T want, double tol) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(got) || std::isnan(want)) return std::isnan(got) && std::isnan(want);
    if (tol == 0) return std::memcmp(&got, &want, sizeof(T)) == 0;
    if (std::isinf(got) || std::isinf(want)) return got == want;
    return std::fabs(double(got) - double(want)) <= tol * std::max(1.0, std::fabs(double(want)));
  } else {
    return std::fabs(double(got) - double(want)) <= tol;
  }
}

template <class T>
void expect_equal(const std::vector<T>& got, const std::vector<T>& want, double tol, const std::string& what) {
  for (size_t i = 0; i < want.size(); ++i)
    if (!same(got[i], want[i], tol)) {
      std::printf("FAIL %s: element %zu of %zu is %.17g, the CPU gives %.17g\n", what.c_str(), i, want.size(),
                  double(got[i]), double(want[i]));
      ++failures;
      return;
    }
}

// Runs `run(device)` where device selects the namespace; both must return normally, or both throw tf::Error
// (an op a dtype does not define).
bool both_or_neither(const std::string& what, const std::function<void()>& cpu_run,
                     const std::function<void()>& cuda_run) {
  bool cpu_threw = false, cuda_threw = false;
  try {
    cpu_run();
  } catch (const Error&) {
    cpu_threw = true;
  }
  try {
    cuda_run();
  } catch (const Error&) {
    cuda_threw = true;
  }
  if (cpu_threw != cuda_threw) {
    std::printf("FAIL %s: the CPU %s, CUDA %s\n", what.c_str(), cpu_threw ? "threw" : "ran",
                cuda_threw ? "threw" : "ran");
    ++failures;
  }
  return !cpu_threw && !cuda_threw;
}

// ---------------------------------------------------------------------------------------------------------
// Elementwise: layouts

enum class Pattern { Contiguous, EveryOther, Transposed, Broadcast };

Dims strides_for(Pattern p, const Dims& shape) {
  const size_t nd = shape.size();
  Dims st(nd);
  int64_t s = 1;
  if (p == Pattern::Transposed) {  // the shape's dims laid out in reverse order
    for (size_t d = 0; d < nd; ++d) st[d] = s, s *= std::max<int64_t>(1, shape[d]);
    return st;
  }
  for (size_t d = nd; d-- > 0;) {
    st[d] = s * (p == Pattern::EveryOther ? 2 : 1);
    s *= std::max<int64_t>(1, shape[d]);
  }
  if (p == Pattern::Broadcast)  // broadcast along every other dim, starting with the first
    for (size_t d = 0; d < nd; d += 2) st[d] = 0;
  return st;
}

int64_t extent(const Dims& shape, const Dims& st) {
  int64_t e = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 0) return 0;
    e += (shape[d] - 1) * st[d];
  }
  return e;
}

struct LayoutCase {
  std::string name;
  Dims shape;
  std::vector<Pattern> patterns;  // per operand, out first; cycled
};

const std::vector<LayoutCase>& layout_cases() {
  using P = Pattern;
  static const std::vector<LayoutCase> cases = {
      {"contiguous [3,5,7]", {3, 5, 7}, {P::Contiguous}},
      {"contiguous [701,37]", {701, 37}, {P::Contiguous}},
      {"broadcast [3,5,7]", {3, 5, 7}, {P::Contiguous, P::Contiguous, P::Broadcast, P::Broadcast}},
      {"strided out, transposed x [4,3,5]", {4, 3, 5}, {P::EveryOther, P::Transposed, P::Broadcast, P::Contiguous}},
      {"transposed [2,9,1,3]", {2, 9, 1, 3}, {P::Contiguous, P::Broadcast, P::Transposed, P::Transposed}},
      {"every other, scalar broadcast [37]", {37}, {P::EveryOther, P::EveryOther, P::Broadcast, P::Contiguous}},
      {"zero-size [4,0,3]", {4, 0, 3}, {P::Contiguous, P::Transposed}},
      {"scalar []", {}, {P::Contiguous}},
  };
  return cases;
}

// Operand buffers of one case: host copies of the inputs (out's initial contents included, so unwritten
// positions are compared too).
template <int N>
struct Operands {
  std::array<Dims, N> strides;  // (first: the layout is built from them)
  StridedLayout<N> layout;
  std::array<int64_t, N> sizes;

  explicit Operands(const LayoutCase& c) : strides(strides_of(c)), layout(c.shape, pointers(strides)) {
    for (int k = 0; k < N; ++k) sizes[k] = extent(c.shape, strides[k]);
  }
  static std::array<Dims, N> strides_of(const LayoutCase& c) {
    std::array<Dims, N> st;
    for (int k = 0; k < N; ++k) st[k] = strides_for(c.patterns[k % c.patterns.size()], c.shape);
    return st;
  }
  static std::array<const Dims*, N> pointers(const std::array<Dims, N>& st) {
    std::array<const Dims*, N> p;
    for (int k = 0; k < N; ++k) p[k] = &st[k];
    return p;
  }
};

template <class T>
std::vector<T> inputs_for(size_t n) {
  if constexpr (std::is_floating_point_v<T>) return random_values<T>(n, -3, 3);
  else if constexpr (std::is_same_v<T, int32_t>) return random_values<T>(n, -50, 50);
  else return random_values<T>(n, 0, 256);
}

template <class T>
void test_maps() {
  for (const LayoutCase& c : layout_cases()) {
    const std::string where_in = std::string(dtype_name<T>()) + " " + c.name;
    Operands<4> ops(c);
    const auto out0 = inputs_for<T>(ops.sizes[0]);
    const auto x = inputs_for<T>(ops.sizes[1]), y = inputs_for<T>(ops.sizes[2]);
    DeviceVector<T> dx(x), dy(y);
    const T a = T(0.5), b = T(2);
    for (int op = 0; op < int(UnaryOp::kCount); ++op) {
      const StridedLayout<2> layout(c.shape, {&ops.strides[0], &ops.strides[1]});
      std::vector<T> want = out0;
      DeviceVector<T> got(out0);
      if (both_or_neither(
              "unary " + std::to_string(op) + " " + where_in,
              [&] { cpu::unary<T>(UnaryOp(op), layout, want.data(), x.data(), a, b); },
              [&] { cuda::unary<T>(UnaryOp(op), layout, got.ptr, dx.ptr, a, b); }))
        expect_equal(got.to_host(), want, 0, "unary op " + std::to_string(op) + " " + where_in);
    }
    const StridedLayout<3> layout3(c.shape, {&ops.strides[0], &ops.strides[1], &ops.strides[2]});
    for (int op = 0; op < int(BinaryOp::kCount); ++op) {
      std::vector<T> want = out0;
      DeviceVector<T> got(out0);
      if (both_or_neither(
              "binary " + std::to_string(op) + " " + where_in,
              [&] { cpu::binary<T>(BinaryOp(op), layout3, want.data(), x.data(), y.data(), a, b); },
              [&] { cuda::binary<T>(BinaryOp(op), layout3, got.ptr, dx.ptr, dy.ptr, a, b); }))
        expect_equal(got.to_host(), want, 0, "binary op " + std::to_string(op) + " " + where_in);
    }
    // Compare on inputs with many ties: the x values rounded to the y grid.
    std::vector<T> xt = x;
    for (size_t i = 0; i < xt.size() && !y.empty(); ++i) xt[i] = i % 3 == 0 ? y[i % y.size()] : xt[i];
    DeviceVector<T> dxt(xt);
    for (int op = 0; op < int(CompareOp::kCount); ++op) {
      std::vector<uint8_t> want(ops.sizes[0], 7);
      DeviceVector<uint8_t> got(want);
      cpu::compare<T>(CompareOp(op), layout3, want.data(), xt.data(), y.data());
      cuda::compare<T>(CompareOp(op), layout3, got.ptr, dxt.ptr, dy.ptr);
      expect_equal(got.to_host(), want, 0, "compare op " + std::to_string(op) + " " + where_in);
    }
    Operands<4> w(c);
    const auto cond = random_values<uint8_t>(w.sizes[1], 0, 2);
    const auto wx = inputs_for<T>(w.sizes[2]), wy = inputs_for<T>(w.sizes[3]);
    std::vector<T> want = inputs_for<T>(w.sizes[0]);
    DeviceVector<T> got(want);
    DeviceVector<uint8_t> dcond(cond);
    DeviceVector<T> dwx(wx), dwy(wy);
    cpu::where<T>(w.layout, want.data(), cond.data(), wx.data(), wy.data());
    cuda::where<T>(w.layout, got.ptr, dcond.ptr, dwx.ptr, dwy.ptr);
    expect_equal(got.to_host(), want, 0, "where " + where_in);
  }
}

// More elements than one launch has threads (grid_for caps the grid at 65536 blocks of 256), so every thread
// takes a second trip around its grid-stride loop.
void test_grid_stride() {
  const int64_t n = int64_t(65536) * 256 + 333;
  const Dims shape{n}, contiguous{1};
  const StridedLayout<2> layout(shape, {&contiguous, &contiguous});
  const auto x = random_values<float>(size_t(n), -3, 3);
  std::vector<float> want(static_cast<size_t>(n));
  DeviceVector<float> dx(x), got(want);
  cpu::unary<float>(UnaryOp::NEG, layout, want.data(), x.data(), 0, 0);
  cuda::unary<float>(UnaryOp::NEG, layout, got.ptr, dx.ptr, 0, 0);
  expect_equal(got.to_host(), want, 0, "unary neg over " + std::to_string(n) + " elements");
}

template <class To, class From>
void test_copy_pair() {
  for (const LayoutCase& c : layout_cases()) {
    Operands<2> ops(c);
    const auto x = random_values<From>(ops.sizes[1], 0, 200);  // in range of every dtype
    std::vector<To> want = random_values<To>(ops.sizes[0], 0, 100);
    DeviceVector<To> got(want);
    DeviceVector<From> dx(x);
    cpu::copy<To, From>(ops.layout, want.data(), x.data());
    cuda::copy<To, From>(ops.layout, got.ptr, dx.ptr);
    expect_equal(got.to_host(), want, 0,
                 std::string("copy ") + dtype_name<From>() + " to " + dtype_name<To>() + " " + c.name);
  }
}

template <class To>
void test_copy_to() {
  test_copy_pair<To, float>();
  test_copy_pair<To, double>();
  test_copy_pair<To, int32_t>();
  test_copy_pair<To, uint8_t>();
}

template <class T>
void test_random() {
  // Negative values only for the float dtypes (converting them to uint8 is undefined).
  const double low = std::is_floating_point_v<T> ? -2 : 0.5;
  const double bounds[4][2] = {{low, 3}, {6, 1.5}, {0.3, 0}, {low, 9}};
  for (int kind = 0; kind < 4; ++kind)
    for (int64_t n : {int64_t(0), int64_t(1), int64_t(1001), int64_t(70000)}) {
      std::vector<T> want(n, T(7));
      DeviceVector<T> got(want);
      const uint64_t seed = 0x1234567890abcdefull, offset = 977;
      cpu::random_fill<T>(RandomKind(kind), want.data(), n, seed, offset, bounds[kind][0], bounds[kind][1]);
      cuda::random_fill<T>(RandomKind(kind), got.ptr, n, seed, offset, bounds[kind][0], bounds[kind][1]);
      expect_equal(got.to_host(), want, 0,
                   std::string("random_fill kind ") + std::to_string(kind) + " " + dtype_name<T>() + " n " +
                       std::to_string(n));
    }
}

// ---------------------------------------------------------------------------------------------------------
// Reductions

struct ReduceCase {
  std::string name;
  Dims shape;            // the input, contiguous
  std::vector<int> axes;  // reduced dims
  bool transpose = false;  // view the input with its dims reversed (non-contiguous)
};

// The binding's view: kept dims then reduced dims, with the input's strides.
ReduceShape reduce_shape(const ReduceCase& c) {
  Dims shape = c.shape, st = strides_for(c.transpose ? Pattern::Transposed : Pattern::Contiguous, c.shape);
  ReduceShape s;
  for (size_t d = 0; d < shape.size(); ++d) {
    const bool reduced = std::find(c.axes.begin(), c.axes.end(), int(d)) != c.axes.end();
    (reduced ? s.reduced_shape : s.kept_shape).push_back(shape[d]);
    (reduced ? s.reduced_strides : s.kept_strides).push_back(st[d]);
  }
  return s;
}

// Ties of the extreme and NaNs at known places: every row's extreme value appears several times, and the
// float inputs carry two NaNs in some blocks.
template <class T>
std::vector<T> reduce_inputs(size_t n, ReduceOp op) {
  std::vector<T> x = op == ReduceOp::PROD ? random_values<T>(n, 0.9, 1.1) : inputs_for<T>(n);
  if constexpr (std::is_same_v<T, int32_t>)
    if (op == ReduceOp::PROD)
      for (size_t i = 0; i < n; ++i) x[i] = i % 5 == 0 ? -1 : 1;
  if (op == ReduceOp::PROD) return x;  // (factors near 1: a product that overflows depends on the order)
  for (size_t i = 0; i < n; i += 13) x[i] = T(3);
  for (size_t i = 5; i < n; i += 17) x[i] = T(-3);
  if constexpr (std::is_floating_point_v<T>)
    for (size_t i = 101; i < n; i += 1009) x[i] = x[i + 2 < n ? i + 2 : i] = std::numeric_limits<T>::quiet_NaN();
  return x;
}

template <class T>
void test_reduce() {
  const std::vector<ReduceCase> cases = {
      {"columns [40,2100] axis 0 (thread a column)", {40, 2100}, {0}},
      {"few columns [40,64] axis 0 (warp a column)", {40, 64}, {0}},
      {"short blocks [57,5] axis 1 (thread a block)", {57, 5}, {1}},
      {"rows [6,300] axis 1 (warp a row)", {6, 300}, {1}},
      {"rows [3,5000] axis 1 (block a row)", {3, 5000}, {1}},
      {"all of [37,71] (one block)", {37, 71}, {0, 1}},
      {"[4,6,50] axes 0,2 (strided block)", {4, 6, 50}, {0, 2}},
      {"transposed [9,11,13] axes 1,2", {9, 11, 13}, {1, 2}, true},
      {"transposed [33,70] axis 0", {33, 70}, {0}, true},
      {"transposed [33,70] axis 1 (stride 33)", {33, 70}, {1}, true},
      {"empty reduced dim [5,0] axis 1", {5, 0}, {1}},
      {"no outputs [0,7] axis 1", {0, 7}, {1}},
  };
  for (const ReduceCase& c : cases) {
    const ReduceShape s = reduce_shape(c);
    int64_t numel = 1, outer = 1, count = 1;
    for (int64_t d : c.shape) numel *= d;
    for (int64_t d : s.kept_shape) outer *= d;
    for (int64_t d : s.reduced_shape) count *= d;
    for (int op = 0; op < int(ReduceOp::kCount); ++op) {
      const ReduceOp rop = ReduceOp(op);
      const bool picks = rop == ReduceOp::MAX || rop == ReduceOp::MIN || rop == ReduceOp::ARGMAX ||
                         rop == ReduceOp::ARGMIN;
      if (picks && count == 0) continue;  // the binding refuses these
      const auto x = reduce_inputs<T>(size_t(numel), rop);
      DeviceVector<T> dx(x);
      const std::vector<double> params = rop == ReduceOp::NORM ? std::vector<double>{2, 1, 3, HUGE_VAL}
                                         : rop == ReduceOp::VAR ? std::vector<double>{1, 0}
                                                                : std::vector<double>{0};
      for (double param : params) {
        std::vector<T> want(outer, T(5));
        std::vector<int32_t> want_index(outer, -7);
        DeviceVector<T> got(want);
        DeviceVector<int32_t> got_index(want_index);
        cpu::reduce<T>(rop, s, x.data(), want.data(), want_index.data(), param);
        cuda::reduce<T>(rop, s, dx.ptr, got.ptr, got_index.ptr, param);
        const std::string what = std::string("reduce op ") + std::to_string(op) + " param " + std::to_string(param) +
                                 " " + dtype_name<T>() + " " + c.name;
        // The sums run in a different order (float: the CPU adds float partial sums); picks are exact.
        const double tol = picks ? 0 : std::is_same_v<T, float> ? 1e-5 : std::is_same_v<T, double> ? 1e-12 : 1;
        expect_equal(got.to_host(), want, tol, what);
        expect_equal(got_index.to_host(), want_index, 0, what + " (index)");
      }
    }
  }
}

template <class T>
void test_softmax() {
  const int64_t shapes[][2] = {{7, 10}, {5, 1024}, {3, 1500}, {2, 1}, {0, 5}, {4, 0}};
  for (const auto& rn : shapes) {
    const int64_t rows = rn[0], n = rn[1];
    auto x = random_values<T>(size_t(rows * n), -8, 8);
    if (rows * n > 3) x[1] = x[2] = -std::numeric_limits<T>::infinity();
    const auto g = random_values<T>(size_t(rows * n), -1, 1);
    DeviceVector<T> dx(x), dg(g);
    for (bool log : {false, true}) {
      const std::string what = std::string(log ? "log_softmax " : "softmax ") + dtype_name<T>() + " [" +
                               std::to_string(rows) + "," + std::to_string(n) + "]";
      const double tol = std::is_same_v<T, float> ? 1e-6 : 1e-13;
      std::vector<T> want(x.size(), T(9));
      DeviceVector<T> got(want);
      cpu::softmax<T>(x.data(), want.data(), rows, n, log);
      cuda::softmax<T>(dx.ptr, got.ptr, rows, n, log);
      expect_equal(got.to_host(), want, tol, what);
      std::vector<T> want_gx(x.size(), T(9));
      DeviceVector<T> got_gx(want_gx);
      cpu::softmax_backward<T>(g.data(), want.data(), want_gx.data(), rows, n, log);
      cuda::softmax_backward<T>(dg.ptr, got.ptr, got_gx.ptr, rows, n, log);
      expect_equal(got_gx.to_host(), want_gx, tol, what + " backward");
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Index ops

template <class T>
void test_index() {
  const int64_t shapes[][4] = {{3, 7, 5, 11}, {2, 4, 9, 1}, {1, 3, 40, 70}, {0, 3, 2, 4}, {2, 5, 0, 3}};
  for (const auto& sh : shapes) {
    const int64_t outer = sh[0], dim = sh[1], n_idx = sh[2], inner = sh[3];
    const std::string where_in = std::string(dtype_name<T>()) + " [" + std::to_string(outer) + "," +
                                 std::to_string(dim) + "," + std::to_string(n_idx) + "," + std::to_string(inner) + "]";
    const size_t full = size_t(outer * dim * inner), picked = size_t(outer * n_idx * inner);
    // Indices repeat (n_idx > dim in some cases), so the adds collide.
    std::vector<int32_t> idx(n_idx), idx_each(picked);
    for (auto& i : idx) i = int32_t(rng() % uint64_t(dim));
    for (auto& i : idx_each) i = int32_t(rng() % uint64_t(dim));
    DeviceVector<int32_t> didx(idx), didx_each(idx_each);
    const auto x = inputs_for<T>(full), src = inputs_for<T>(picked);
    DeviceVector<T> dx(x), dsrc(src);
    // The atomic adds land in any order: float sums may differ in the last bits, integer sums are exact.
    const double add_tol = std::is_same_v<T, float> ? 1e-5 : std::is_same_v<T, double> ? 1e-13 : 0;
    {
      std::vector<T> want(picked, T(4));
      DeviceVector<T> got(want);
      cpu::index_select<T>(x.data(), idx.data(), want.data(), outer, dim, n_idx, inner);
      cuda::index_select<T>(dx.ptr, didx.ptr, got.ptr, outer, dim, n_idx, inner);
      expect_equal(got.to_host(), want, 0, "index_select " + where_in);
    }
    {
      std::vector<T> want(picked, T(4));
      DeviceVector<T> got(want);
      cpu::gather<T>(x.data(), idx_each.data(), want.data(), outer, dim, n_idx, inner);
      cuda::gather<T>(dx.ptr, didx_each.ptr, got.ptr, outer, dim, n_idx, inner);
      expect_equal(got.to_host(), want, 0, "gather " + where_in);
    }
    {
      std::vector<T> want = inputs_for<T>(full);
      DeviceVector<T> got(want);
      cpu::index_add<T>(src.data(), idx.data(), want.data(), outer, dim, n_idx, inner);
      cuda::index_add<T>(dsrc.ptr, didx.ptr, got.ptr, outer, dim, n_idx, inner);
      expect_equal(got.to_host(), want, add_tol, "index_add " + where_in);
    }
    {
      std::vector<T> want = inputs_for<T>(full);
      DeviceVector<T> got(want);
      cpu::scatter_add<T>(src.data(), idx_each.data(), want.data(), outer, dim, n_idx, inner);
      cuda::scatter_add<T>(dsrc.ptr, didx_each.ptr, got.ptr, outer, dim, n_idx, inner);
      expect_equal(got.to_host(), want, add_tol, "scatter_add " + where_in);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Dropout

template <class T>
void test_dropout() {
  for (double p : {0.0, 0.3, 1.0})
    for (int64_t n : {int64_t(0), int64_t(1), int64_t(4), int64_t(1001)}) {
      DropoutParams params;
      params.n = n;
      params.p = p;
      params.seed = 42;
      params.offset = 12345;
      const std::string what =
          std::string("dropout ") + dtype_name<T>() + " p " + std::to_string(p) + " n " + std::to_string(n);
      const auto x = inputs_for<T>(size_t(n)), dy = inputs_for<T>(size_t(n));
      DeviceVector<T> dx(x), ddy(dy);
      std::vector<T> want_y(n, T(8)), want_dx(n, T(8));
      std::vector<uint8_t> want_mask(n, 9);
      DeviceVector<T> got_y(want_y), got_dx(want_dx);
      DeviceVector<uint8_t> got_mask(want_mask);
      cpu::dropout_forward<T>(params, x.data(), want_y.data(), want_mask.data());
      cuda::dropout_forward<T>(params, dx.ptr, got_y.ptr, got_mask.ptr);
      expect_equal(got_mask.to_host(), want_mask, 0, what + " mask");
      expect_equal(got_y.to_host(), want_y, 0, what + " y");
      cpu::dropout_backward<T>(params, dy.data(), want_mask.data(), want_dx.data());
      cuda::dropout_backward<T>(params, ddy.ptr, got_mask.ptr, got_dx.ptr);
      expect_equal(got_dx.to_host(), want_dx, 0, what + " backward");
    }
}

template <class F>
void section(const char* name, F&& f) {
  const int before = failures;
  try {
    f();
  } catch (const std::exception& e) {
    std::printf("FAIL %s: %s\n", name, e.what());
    ++failures;
  }
  std::printf("%s %s\n", failures == before ? "ok  " : "FAIL", name);
}

}  // namespace

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // (progress shows even if a kernel crashes the process)
  section("unary/binary/compare/where float32", test_maps<float>);
  section("unary/binary/compare/where float64", test_maps<double>);
  section("unary/binary/compare/where int32", test_maps<int32_t>);
  section("unary/binary/compare/where uint8", test_maps<uint8_t>);
  section("grid-stride loops", test_grid_stride);
  section("copy to float32", test_copy_to<float>);
  section("copy to float64", test_copy_to<double>);
  section("copy to int32", test_copy_to<int32_t>);
  section("copy to uint8", test_copy_to<uint8_t>);
  section("random_fill float32", test_random<float>);
  section("random_fill float64", test_random<double>);
  section("random_fill int32", test_random<int32_t>);
  section("random_fill uint8", test_random<uint8_t>);
  section("reduce float32", test_reduce<float>);
  section("reduce float64", test_reduce<double>);
  section("reduce int32", test_reduce<int32_t>);
  section("softmax float32", test_softmax<float>);
  section("softmax float64", test_softmax<double>);
  section("index ops float32", test_index<float>);
  section("index ops float64", test_index<double>);
  section("index ops int32", test_index<int32_t>);
  section("dropout float32", test_dropout<float>);
  section("dropout float64", test_dropout<double>);
  std::printf("%s: %d failure(s)\n", failures == 0 ? "PASS" : "FAIL", failures);
  return failures == 0 ? 0 : 1;
}

// A tiny test harness for the emulator's self-test (tf_emu_selftest): TEST registers a case, CHECK records
// a failure and goes on; main() runs every case and prints one line per case.
#pragma once
#include <cstdio>
#include <functional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "cuda/kernel.h"

namespace emu_test {

struct Case {
  const char* name;
  void (*run)();
};
std::vector<Case>& cases();
// Failures of the running case.
std::vector<std::string>& failures();

struct Register {
  Register(const char* name, void (*run)()) { cases().push_back({name, run}); }
};

template <class A, class B>
std::string describe(const A& a, const B& b) {
  std::ostringstream out;
  out << a << " vs " << b;
  return out.str();
}

void fail(const char* file, int line, const std::string& what);
// Marks the running case skipped, with the reason.
void skip(const std::string& why);

// The stream tf::cuda::current_stream() returns (0 unless a case sets it).
extern cudaStream_t current;

// Synchronizes the current stream and checks that a kernel error `code` surfaces, whose detailed message
// contains every fragment; then that the error was cleared (the process goes on).
void expect_kernel_error(const char* file, int line, cudaError_t code, const std::vector<std::string>& fragments);

// A device array of n T, freed on scope exit.
template <class T>
class DeviceArray {
 public:
  explicit DeviceArray(size_t n) : n_(n) {
    if (cudaMalloc(&p_, n * sizeof(T)) != cudaSuccess) throw std::runtime_error(emu::last_error_message());
  }
  explicit DeviceArray(const std::vector<T>& host) : DeviceArray(host.size()) { upload(host); }
  ~DeviceArray() { cudaFree(p_); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  T* get() const { return p_; }
  void upload(const std::vector<T>& host) { cudaMemcpy(p_, host.data(), n_ * sizeof(T), cudaMemcpyHostToDevice); }
  std::vector<T> download() const {
    std::vector<T> host(n_);
    cudaMemcpy(host.data(), p_, n_ * sizeof(T), cudaMemcpyDeviceToHost);
    return host;
  }

 private:
  T* p_ = nullptr;
  size_t n_;
};

inline std::vector<float> random_floats(size_t n, unsigned seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(gen);
  return v;
}

}  // namespace emu_test

#define TF_EMU_CONCAT_(a, b) a##b
#define TF_EMU_CONCAT(a, b) TF_EMU_CONCAT_(a, b)
#define TEST(name)                                                                     \
  static void name();                                                                  \
  static ::emu_test::Register TF_EMU_CONCAT(register_, name)(#name, &name);            \
  static void name()
#define CHECK(cond)                                                                    \
  do {                                                                                 \
    if (!(cond)) ::emu_test::fail(__FILE__, __LINE__, "CHECK(" #cond ")");             \
  } while (0)
#define CHECK_EQ(a, b)                                                                 \
  do {                                                                                 \
    const auto a_ = (a);                                                               \
    const auto b_ = (b);                                                               \
    if (!(a_ == b_))                                                                   \
      ::emu_test::fail(__FILE__, __LINE__, "CHECK_EQ(" #a ", " #b "): " + ::emu_test::describe(a_, b_)); \
  } while (0)
#define CHECK_NEAR(a, b, tol)                                                          \
  do {                                                                                 \
    const double a_ = (a), b_ = (b);                                                   \
    if (!(std::fabs(a_ - b_) <= (tol)))                                                \
      ::emu_test::fail(__FILE__, __LINE__, "CHECK_NEAR(" #a ", " #b "): " + ::emu_test::describe(a_, b_)); \
  } while (0)
#define EXPECT_KERNEL_ERROR(code, ...) ::emu_test::expect_kernel_error(__FILE__, __LINE__, code, {__VA_ARGS__})

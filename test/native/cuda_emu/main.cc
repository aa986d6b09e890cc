// The self-test's runner, and test doubles for the three functions of cuda/runtime.cu that cuda/kernel.h
// calls (the real ones belong to the addon).
#include <cstdlib>
#include <stdexcept>

#include "check.h"

namespace emu_test {

cudaStream_t current = nullptr;

std::vector<Case>& cases() {
  static std::vector<Case> all;
  return all;
}

std::vector<std::string>& failures() {
  static std::vector<std::string> list;
  return list;
}

void fail(const char* file, int line, const std::string& what) {
  failures().push_back(std::string(file) + ":" + std::to_string(line) + ": " + what);
}

namespace {
std::string skipped;
}  // namespace

void skip(const std::string& why) { skipped = why; }

void expect_kernel_error(const char* file, int line, cudaError_t code, const std::vector<std::string>& fragments) {
  const cudaError_t got = cudaStreamSynchronize(current);
  const std::string message = emu::last_error_message();
  if (got != code)
    fail(file, line, std::string("expected ") + cudaGetErrorName(code) + ", got " + cudaGetErrorName(got) + " (" +
                         message + ")");
  for (const std::string& f : fragments)
    if (message.find(f) == std::string::npos) fail(file, line, "message lacks '" + f + "': " + message);
  const cudaError_t after = cudaStreamSynchronize(current);
  if (after != cudaSuccess)
    fail(file, line, std::string("the error was not cleared: ") + cudaGetErrorName(after));
}

}  // namespace emu_test

namespace tf::cuda {

cudaStream_t current_stream() { return emu_test::current; }

void note_launch(const char*, dim3, dim3) {}

void launch_failed(const char* name, dim3, dim3, size_t, cudaError_t err) {
  throw std::runtime_error(std::string(name) + ": " + cudaGetErrorName(err) + ": " + emu::last_error_message());
}

}  // namespace tf::cuda

// Runs every case, or those whose name contains argv[1].
int main(int argc, char** argv) {
  // Checked mode unless the caller chose: the error cases need red zones and bounds-checked shared arrays.
  setenv("TENSORFORGE_EMU_CHECKED", "1", 0);
  int failed = 0;
  size_t ran = 0;
  for (const emu_test::Case& c : emu_test::cases()) {
    if (argc > 1 && std::string(c.name).find(argv[1]) == std::string::npos) continue;
    ++ran;
    emu_test::failures().clear();
    emu_test::skipped.clear();
    emu_test::current = nullptr;
    try {
      c.run();
    } catch (const std::exception& e) {
      emu_test::failures().push_back(std::string("threw: ") + e.what());
    }
    const bool ok = emu_test::failures().empty();
    if (ok && !emu_test::skipped.empty()) {
      std::printf("skip %s (%s)\n", c.name, emu_test::skipped.c_str());
      continue;
    }
    std::printf("%s %s\n", ok ? "ok  " : "FAIL", c.name);
    for (const std::string& f : emu_test::failures()) std::printf("      %s\n", f.c_str());
    std::fflush(stdout);
    failed += !ok;
  }
  std::printf("%d of %zu cases failed\n", failed, ran);
  return failed == 0 ? 0 : 1;
}

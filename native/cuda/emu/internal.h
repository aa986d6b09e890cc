// What the emulator's runtime (runtime.cc) and execution engine (exec.cc) share.
#pragma once
#include <functional>
#include <string>

#include "cuda/emu/emu.h"

namespace emu::detail {

struct Config {
  int devices;         // TENSORFORGE_EMU_DEVICES, default 1
  size_t memory;       // TENSORFORGE_EMU_MEMORY, bytes per device, default 8 GiB
  bool checked;        // TENSORFORGE_EMU_CHECKED=1
  int workers;         // TENSORFORGE_EMU_WORKERS, default std::thread::hardware_concurrency()
};
const Config& config();

constexpr size_t kMaxSharedBytes = 48 * 1024;  // static + dynamic, CUDA's default limit per block
constexpr unsigned kMaxThreadsPerBlock = 1024;

struct Kernel {
  std::string name;
  dim3 grid, block;
  size_t shared_bytes;
  std::function<void()> body;
};

struct KernelError {
  cudaError_t code = cudaSuccess;
  std::string message;
};

// Runs every block of `kernel` on the calling thread and the emulator's workers; the first error wins and
// stops the blocks not yet started.
KernelError run_kernel(const Kernel& kernel);

// Checked mode: verifies the red zones and padding of every live allocation after `kernel` ran (runtime.cc).
KernelError verify_red_zones(const std::string& kernel);

}  // namespace emu::detail

#include "cuda/kernel.h"
// kernel.h first: it provides the CUDA runtime API, real or emulated.

#include "cuda/device.h"

namespace tf::cuda {

RuntimeInfo runtime_info() {
#if defined(TF_CUDA_EMULATE)
  constexpr bool emulated = true;
#else
  constexpr bool emulated = false;
#endif
  RuntimeInfo info{true, emulated, 0, 0, {}, ""};
  cudaRuntimeGetVersion(&info.runtime_version);
  if (cudaDriverGetVersion(&info.driver_version) != cudaSuccess) info.driver_version = 0;
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    cudaGetLastError();  // clear the sticky error so later calls start clean
    if (err == cudaErrorInsufficientDriver && info.driver_version == 0)
      info.reason = "no NVIDIA driver found (libcuda.so.1 could not be loaded)";
    else if (err == cudaErrorInsufficientDriver)
      info.reason = "the NVIDIA driver is older than this build's CUDA runtime (" +
                    std::to_string(info.runtime_version) + "); update the driver";
    else if (err == cudaErrorNoDevice)
      info.reason = "no CUDA-capable device is present";
    else
      info.reason = std::string("CUDA initialization failed: ") + cudaGetErrorString(err);
    return info;
  }
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, i) != cudaSuccess) continue;
    info.devices.push_back({i, p.name, p.major, p.minor, p.totalGlobalMem, p.multiProcessorCount});
  }
  if (info.devices.empty()) info.reason = "no CUDA-capable device is present";
  return info;
}

}  // namespace tf::cuda

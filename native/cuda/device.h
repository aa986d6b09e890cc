// What the CUDA side can report without a GPU: whether it was compiled in, and the devices or the reason
// there are none. Never aborts: a missing driver is a reason string.
#pragma once
#include <string>
#include <vector>

namespace tf::cuda {

struct DeviceInfo {
  int index;
  std::string name;
  int major, minor;
  size_t total_memory;
  int multiprocessors;
};

struct RuntimeInfo {
  bool compiled;
  bool emulated;        // the CUDA execution model run on the CPU (TF_CUDA=EMULATE)
  int runtime_version;  // e.g. 13000, 0 when not compiled
  int driver_version;   // 0 when no driver
  std::vector<DeviceInfo> devices;
  std::string reason;  // why devices is empty
};

RuntimeInfo runtime_info();

}  // namespace tf::cuda

// Built when no CUDA compiler was found: the addon reports that CUDA is not compiled in.
#include "cuda/device.h"

namespace tf::cuda {

RuntimeInfo runtime_info() {
  return {false, 0, 0, {}, "tensorforge was built without CUDA (no nvcc found at build time)"};
}

}  // namespace tf::cuda

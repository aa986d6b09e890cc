// In the emulated build (TF_CUDA=EMULATE) this directory is on the include path, so that sources written
// for nvcc that include <cuda_runtime.h> (cuda/device.cu) get the emulated runtime.
#pragma once
#include "cuda/emu/emu.h"

// CPU 2-D pooling kernels, float and double, PyTorch semantics: the entry points of core/pool.h (legend,
// layouts and semantics there), defined in cpu/pool.cc.
#pragma once

#include "core/pool.h"

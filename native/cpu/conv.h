// CPU conv2d kernels, float and double: the entries of core/conv.h (TF_CONV_ENTRIES), declared there once for
// every device. Legend, layouts and semantics: core/conv.h.
#pragma once
#include "core/conv.h"

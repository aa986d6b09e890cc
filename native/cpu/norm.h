// CPU kernels of the normalization family: the entry points of core/norm.h (layout and semantics there), and
// norm_apply, which cpu/norm.cc builds them from.
#pragma once
#include <cstdint>

#include "core/norm.h"

namespace tf::cpu {

// y = NormAffine{mean[s], invstd[s] * gamma[c], beta[c], relu}(x, residual) with given statistics (inference).
template <class T>
void norm_apply(const NormLayout& layout, const T* x, const T* mean, const T* invstd, const T* gamma, const T* beta,
                NormEpilogue<T> epilogue, T* y);

}  // namespace tf::cpu

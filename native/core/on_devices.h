// One declaration of a family's entry points for every device: a family header lists its entry points
// once in a macro and expands it here, so tf::cpu::fn and tf::cuda::fn always have the same signature and
// the binding picks one at run time (binding/args.h: TF_ON_DEVICE). A build without CUDA declares the
// cuda:: entries but never calls them, so nothing is left undefined.
#pragma once

#define TF_DECLARE_ON_DEVICES(ENTRIES) \
  namespace tf::cpu {                  \
  ENTRIES                              \
  }                                    \
  namespace tf::cuda {                 \
  ENTRIES                              \
  }

// TF_HD marks a function that both devices run: __host__ __device__ under nvcc, inline otherwise (the CPU
// build and the emulated-CUDA build, where device code is host code).
#pragma once

#if defined(__CUDACC__)
#define TF_HD __host__ __device__ __forceinline__
#else
#define TF_HD inline
#endif

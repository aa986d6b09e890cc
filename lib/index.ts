/**
 * tensorforge: PyTorch-like tensors, autograd, nn and optimizers for Node.js over a native C++/CUDA core.
 */
import './ops/install.js';
import {
  type NativeBackendInfo, backendInfo as nativeBackendInfo, getNumThreads as nativeGetNumThreads, packageVersion,
  setNumThreads as nativeSetNumThreads,
} from './kernels/device.js';

export { Tensor } from './tensor.js';
export type { Device, DeviceSpec, NestedArray, TensorLike } from './tensor.js';
export type { DType, TypedArray } from './dtype.js';
export * from './creation.js';
export { manualSeed, initialSeed, getRngState, setRngState } from './random.js';
export { noGrad, enableGrad, isGradEnabled, setGradEnabled, detectAnomaly } from './autograd/mode.js';
export { gradcheck } from './autograd/gradcheck.js';
export { releaseAfter } from './memory.js';
export { setFloat32MatmulPrecision, getFloat32MatmulPrecision, type MatmulPrecision } from './kernels/precision.js';
export * as autograd from './autograd/public.js';
export {
  neg, abs, sign, exp, log, log1p, sqrt, rsqrt, square, reciprocal, sin, cos, tanh, sigmoid, relu, leakyRelu, elu, gelu,
  softplus, clamp, add, sub, mul, div, pow, maximum, minimum, eq, ne, lt, le, gt, ge, where, maskedFill,
} from './ops/elementwise.js';
export { sum, mean, prod, variance as var, std, logsumexp, norm, max, min, maxAll, minAll, argmax, argmin, softmax, logSoftmax } from './ops/reduce.js';
export { reshape, view, flatten, squeeze, unsqueeze, permute, transpose, t, expand, slice, narrow, select, split, chunk, unbind, cat, stack, pad, flip, clone, contiguous } from './ops/shape.js';
export { matmul, bmm, addmm, outer } from './ops/linalg.js';
export { indexSelect, gather, scatterAdd, oneHot } from './ops/indexing.js';

export interface BackendInfo extends NativeBackendInfo {
  packageVersion: string;
  addonVersion: string;
}

/** What is running: package version, the GEMM library and its threads, CUDA devices or why there are none. */
export function backendInfo(): BackendInfo {
  return { ...nativeBackendInfo(), packageVersion, addonVersion: packageVersion };
}

/** Threads for tensorforge's CPU kernels and for OpenBLAS. */
export function setNumThreads(n: number): void {
  nativeSetNumThreads(n);
}
export function getNumThreads(): number {
  return nativeGetNumThreads();
}

export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * as data from './data/index.js';
export * as io from './io/index.js';
export * as train from './train/index.js';
export * as models from './models/index.js';
export * as cuda from './cuda.js';

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

/**
 * Threads for the CPU kernels (GEMMs included) that the calling JS thread runs, 1..256. The setting is per JS
 * thread: a worker_thread's call leaves the main thread's count (and other workers') alone, and each thread
 * starts at min(cores, 8). Results depend on the count, never on what other threads are doing: a seeded run
 * at a given count is bit-identical whether or not other worker_threads run tensor work beside it.
 */
export function setNumThreads(n: number): void {
  nativeSetNumThreads(n);
}
/** The calling JS thread's count (see setNumThreads). */
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

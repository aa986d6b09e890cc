/**
 * 2-D pooling kernels as tensor functions (max with argmax indices, average, adaptive average and max).
 * No CUDA pooling yet: cuda tensors go through hostFallback. x is [N, C, H, W], outputs [N, C, P, Q].
 */
import { native } from '../native.js';
import type { Pair, Shape4 } from '../bindings/conv.js';
import type { Tensor } from '../tensor.js';
import { floats, hostFallback, uninitialized } from './runtime.js';
import { kernelFamily } from './family.js';

/** This module's kernel family: its entry points and how each device runs them (see family.ts). */
export const poolFamily = kernelFamily('pool', [
  'maxPool2dForward', 'maxPool2dBackward', 'avgPool2dForward', 'avgPool2dBackward', 'adaptiveAvgPool2dForward',
  'adaptiveAvgPool2dBackward', 'adaptiveMaxPool2dForward', 'adaptiveMaxPool2dBackward', 'pool2dOutputShape',
], { cpu: 'native', cuda: 'host' });

/** A sliding pooling window and the shapes it maps between. */
export interface PoolWindow {
  kernel: Pair;
  stride: Pair;
  padding: Pair;
  dilation: Pair;
  ceilMode: boolean;
  xShape: Shape4;
  outShape: Shape4;
}

/** Values and int32 argmax indices (h·W + w within each input plane) of max pooling. */
export function maxPool2dForwardK(x: Tensor, w: PoolWindow): { values: Tensor; indices: Tensor } {
  return hostFallback('maxPool2d', [x], ([x]) => {
    const values = uninitialized(w.outShape, x.dtype);
    const indices = uninitialized(w.outShape, 'int32');
    native.maxPool2dForward(floats(x), w.xShape, floats(values), indices.buffer as Int32Array, w.kernel, w.stride, w.padding, w.dilation, w.ceilMode);
    return { values, indices };
  });
}

/** The input gradient of max pooling: g scattered to the saved argmax indices. */
export function maxPool2dBackwardK(g: Tensor, indices: Tensor, w: PoolWindow): Tensor {
  return hostFallback('maxPool2d backward', [g, indices], ([g, indices]) => {
    const gx = uninitialized(w.xShape, g.dtype);
    native.maxPool2dBackward(
      floats(g), w.outShape, indices.dataSync() as Int32Array, floats(gx), w.xShape, w.kernel, w.stride, w.padding, w.dilation, w.ceilMode,
    );
    return gx;
  });
}

export function avgPool2dForwardK(x: Tensor, w: PoolWindow, countIncludePad: boolean): Tensor {
  return hostFallback('avgPool2d', [x], ([x]) => {
    const out = uninitialized(w.outShape, x.dtype);
    native.avgPool2dForward(floats(x), w.xShape, floats(out), w.kernel, w.stride, w.padding, w.ceilMode, countIncludePad);
    return out;
  });
}

export function avgPool2dBackwardK(g: Tensor, w: PoolWindow, countIncludePad: boolean): Tensor {
  return hostFallback('avgPool2d backward', [g], ([g]) => {
    const gx = uninitialized(w.xShape, g.dtype);
    native.avgPool2dBackward(floats(g), w.outShape, floats(gx), w.xShape, w.kernel, w.stride, w.padding, w.ceilMode, countIncludePad);
    return gx;
  });
}

/** Adaptive average pooling of x [N, C, H, W] to [N, C, outShape[2], outShape[3]]. */
export function adaptiveAvgPool2dForwardK(x: Tensor, xShape: Shape4, outShape: Shape4): Tensor {
  return hostFallback('adaptiveAvgPool2d', [x], ([x]) => {
    const out = uninitialized(outShape, x.dtype);
    native.adaptiveAvgPool2dForward(floats(x), xShape, floats(out), [outShape[2], outShape[3]]);
    return out;
  });
}

export function adaptiveAvgPool2dBackwardK(g: Tensor, xShape: Shape4, outShape: Shape4): Tensor {
  return hostFallback('adaptiveAvgPool2d backward', [g], ([g]) => {
    const gx = uninitialized(xShape, g.dtype);
    native.adaptiveAvgPool2dBackward(floats(g), outShape, floats(gx), xShape);
    return gx;
  });
}

/** Adaptive max pooling: values and int32 argmax indices, as maxPool2dForwardK. */
export function adaptiveMaxPool2dForwardK(x: Tensor, xShape: Shape4, outShape: Shape4): { values: Tensor; indices: Tensor } {
  return hostFallback('adaptiveMaxPool2d', [x], ([x]) => {
    const values = uninitialized(outShape, x.dtype);
    const indices = uninitialized(outShape, 'int32');
    native.adaptiveMaxPool2dForward(floats(x), xShape, floats(values), indices.buffer as Int32Array, [outShape[2], outShape[3]]);
    return { values, indices };
  });
}

export function adaptiveMaxPool2dBackwardK(g: Tensor, indices: Tensor, xShape: Shape4, outShape: Shape4): Tensor {
  return hostFallback('adaptiveMaxPool2d backward', [g, indices], ([g, indices]) => {
    const gx = uninitialized(xShape, g.dtype);
    native.adaptiveMaxPool2dBackward(floats(g), outShape, indices.dataSync() as Int32Array, floats(gx), xShape);
    return gx;
  });
}

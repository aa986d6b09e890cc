/**
 * 2-D pooling kernels as tensor functions (max with argmax indices, average, adaptive average and max), native
 * on cpu and cuda. x is [N, C, H, W], outputs [N, C, P, Q]; any layout of x or g is read through a contiguous
 * copy where needed.
 */
import { native } from '../native.js';
import type { Pair, Shape4 } from '../bindings/conv.js';
import type { FloatBuffer, IndexBuffer } from '../bindings/reduce.js';
import type { Tensor } from '../tensor.js';
import { asOp, bufferOf, commonDevice, deviceOf, denseBuffer, memoizedShapeRule, uninitialized } from './runtime.js';
import { kernelFamily } from './family.js';

/** This module's kernel family: its entry points and how each device runs them (see family.ts). */
export const poolFamily = kernelFamily('pool', [
  'maxPool2dForward', 'maxPool2dBackward', 'avgPool2dForward', 'avgPool2dBackward', 'adaptiveAvgPool2dForward',
  'adaptiveAvgPool2dBackward', 'adaptiveMaxPool2dForward', 'adaptiveMaxPool2dBackward', 'pool2dOutputShape',
], { cpu: 'native', cuda: 'native' });

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

/**
 * [N, C, P, Q] of a max / average pooling of x [N, C, H, W] (dilation [1, 1] for average pooling), validated
 * by the rules the kernels apply (core/pool.cc), so the two cannot disagree.
 */
export function pool2dOutputShape(
  xShape: Shape4, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair, ceilMode: boolean, op = 'pool2d',
): Shape4 {
  return asOp(op, 'pool2dOutputShape', () => outputShape(xShape, kernel, stride, padding, dilation, ceilMode));
}

const outputShape = memoizedShapeRule(
  (xShape: Shape4, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair, ceilMode: boolean): Shape4 =>
    native.pool2dOutputShape(xShape, kernel, stride, padding, dilation, ceilMode),
);

const floatsOf = (t: Tensor): FloatBuffer => denseBuffer(t) as FloatBuffer;
const indicesOf = (t: Tensor): IndexBuffer => denseBuffer(t) as IndexBuffer;
const out = (t: Tensor): FloatBuffer => bufferOf(t) as FloatBuffer;

/** Values and int32 argmax indices (h·W + w within each input plane) of max pooling. */
export function maxPool2dForwardK(x: Tensor, w: PoolWindow): { values: Tensor; indices: Tensor } {
  const device = deviceOf(x);
  const values = uninitialized(w.outShape, x.dtype, device), indices = uninitialized(w.outShape, 'int32', device);
  native.maxPool2dForward(floatsOf(x), w.xShape, out(values), bufferOf(indices) as IndexBuffer, w.kernel, w.stride, w.padding, w.dilation, w.ceilMode);
  return { values, indices };
}

/** The input gradient of max pooling: g summed into the saved argmax positions. */
export function maxPool2dBackwardK(g: Tensor, indices: Tensor, w: PoolWindow): Tensor {
  const gx = uninitialized(w.xShape, g.dtype, commonDevice('maxPool2d backward', [g, indices]));
  native.maxPool2dBackward(floatsOf(g), w.outShape, indicesOf(indices), out(gx), w.xShape, w.kernel, w.stride, w.padding, w.dilation, w.ceilMode);
  return gx;
}

export function avgPool2dForwardK(x: Tensor, w: PoolWindow, countIncludePad: boolean): Tensor {
  const y = uninitialized(w.outShape, x.dtype, deviceOf(x));
  native.avgPool2dForward(floatsOf(x), w.xShape, out(y), w.kernel, w.stride, w.padding, w.ceilMode, countIncludePad);
  return y;
}

export function avgPool2dBackwardK(g: Tensor, w: PoolWindow, countIncludePad: boolean): Tensor {
  const gx = uninitialized(w.xShape, g.dtype, deviceOf(g));
  native.avgPool2dBackward(floatsOf(g), w.outShape, out(gx), w.xShape, w.kernel, w.stride, w.padding, w.ceilMode, countIncludePad);
  return gx;
}

/** Adaptive average pooling of x [N, C, H, W] to [N, C, outShape[2], outShape[3]]. */
export function adaptiveAvgPool2dForwardK(x: Tensor, xShape: Shape4, outShape: Shape4): Tensor {
  const y = uninitialized(outShape, x.dtype, deviceOf(x));
  native.adaptiveAvgPool2dForward(floatsOf(x), xShape, out(y), [outShape[2], outShape[3]]);
  return y;
}

export function adaptiveAvgPool2dBackwardK(g: Tensor, xShape: Shape4, outShape: Shape4): Tensor {
  const gx = uninitialized(xShape, g.dtype, deviceOf(g));
  native.adaptiveAvgPool2dBackward(floatsOf(g), outShape, out(gx), xShape);
  return gx;
}

/** Adaptive max pooling: values and int32 argmax indices, as maxPool2dForwardK. */
export function adaptiveMaxPool2dForwardK(x: Tensor, xShape: Shape4, outShape: Shape4): { values: Tensor; indices: Tensor } {
  const device = deviceOf(x);
  const values = uninitialized(outShape, x.dtype, device), indices = uninitialized(outShape, 'int32', device);
  native.adaptiveMaxPool2dForward(floatsOf(x), xShape, out(values), bufferOf(indices) as IndexBuffer, [outShape[2], outShape[3]]);
  return { values, indices };
}

export function adaptiveMaxPool2dBackwardK(g: Tensor, indices: Tensor, xShape: Shape4, outShape: Shape4): Tensor {
  const gx = uninitialized(xShape, g.dtype, commonDevice('adaptiveMaxPool2d backward', [g, indices]));
  native.adaptiveMaxPool2dBackward(floatsOf(g), outShape, indicesOf(indices), out(gx), xShape);
  return gx;
}

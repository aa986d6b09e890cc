/**
 * 2-D pooling as functions (PyTorch semantics): max (with argmax indices), average, adaptive average
 * and max, global average. Inputs are [N, C, H, W]; outputs [N, C, P, Q].
 */
import { publicApi } from '../../checks.js';
import type { Tensor } from '../../tensor.js';
import { attach } from '../../autograd/node.js';
import { defineOp } from '../../ops/registry.js';
import { type Shape4, shape4 } from '../../kernels/conv.js';
import {
  type PoolWindow, adaptiveAvgPool2dBackwardK, adaptiveAvgPool2dForwardK, adaptiveMaxPool2dBackwardK, adaptiveMaxPool2dForwardK,
  avgPool2dBackwardK, avgPool2dForwardK, maxPool2dBackwardK, maxPool2dForwardK, pool2dOutputShape, poolFamily,
} from '../../kernels/pool.js';
import { elementwiseFamily } from '../../kernels/elementwise.js';
import { reduceFamily } from '../../kernels/reduce.js';
import { mean } from '../../ops/reduce.js';
import { type PairArg, pair, requireFloatLike, requireRank } from './common.js';

export interface MaxPool2dOptions {
  /** Defaults to the kernel size. */
  stride?: PairArg;
  /** Implicit -inf padding per side, at most half the kernel. */
  padding?: PairArg;
  dilation?: PairArg;
  /** Ceil instead of floor in the output size; the last window must start inside the input or left padding. */
  ceilMode?: boolean;
}

export interface AvgPool2dOptions {
  stride?: PairArg;
  padding?: PairArg;
  ceilMode?: boolean;
  /** Divide by the window clipped to the padded input (true) or by the number of input elements in it. */
  countIncludePad?: boolean;
}

/** Validates a pooling call and resolves its window parameters and output shape. */
function poolWindow(op: string, x: Tensor, kernelSize: PairArg, options: MaxPool2dOptions): PoolWindow {
  requireFloatLike(op, x);
  requireRank(op, x, 'input', [4], '(N, C, H, W)');
  const kernel = pair(kernelSize, op, 'kernelSize', 1);
  const stride = pair(options.stride ?? kernel, op, 'stride', 1);
  const padding = pair(options.padding ?? 0, op, 'padding', 0);
  const dilation = pair(options.dilation ?? 1, op, 'dilation', 1);
  const ceilMode = options.ceilMode ?? false;
  if (padding[0] > kernel[0] / 2 || padding[1] > kernel[1] / 2) {
    throw new RangeError(`${op}: padding [${padding.join(', ')}] must be at most half the kernel size [${kernel.join(', ')}]`);
  }
  const xShape = shape4(x);
  const outShape = pool2dOutputShape(xShape, kernel, stride, padding, dilation, ceilMode, op);
  return { kernel, stride, padding, dilation, ceilMode, xShape, outShape };
}

/**
 * Max pooling with the argmax of each window: values [N, C, P, Q] and int32 indices [N, C, P, Q] holding
 * h·W + w of each window's first maximum in its input plane. The gradient goes to those positions.
 */
export const maxPool2dWithIndices = defineOp('maxPool2d', [poolFamily], (
  x: Tensor, kernelSize: PairArg, options: MaxPool2dOptions = {},
): { values: Tensor; indices: Tensor } => maxPool2dRecorded(x, kernelSize, options, true));

/** Max pooling: x [N, C, H, W] → [N, C, P, Q]. */
export const maxPool2d = publicApi('maxPool2d', function maxPool2d(x: Tensor, kernelSize: PairArg, options: MaxPool2dOptions = {}): Tensor {
  return maxPool2dRecorded(x, kernelSize, options, false).values;
});

/** The indices are the backward's scratch, released after it, unless the caller gets them. */
function maxPool2dRecorded(
  x: Tensor, kernelSize: PairArg, options: MaxPool2dOptions, indicesOut: boolean,
): { values: Tensor; indices: Tensor } {
  const w = poolWindow('maxPool2d', x, kernelSize, options);
  const { values, indices } = maxPool2dForwardK(x, w);
  attach('maxPool2d', values, [x], [(g) => maxPool2dBackwardK(g, indices, w)], [], indicesOut ? [] : [indices]);
  return { values, indices };
}

/** Average pooling: x [N, C, H, W] → [N, C, P, Q], zero padding, PyTorch's divisors. */
export const avgPool2d = defineOp('avgPool2d', [poolFamily], (x: Tensor, kernelSize: PairArg, options: AvgPool2dOptions = {}): Tensor => {
  const w = poolWindow('avgPool2d', x, kernelSize, { ...options, dilation: 1 });
  const countIncludePad = options.countIncludePad ?? true;
  const out = avgPool2dForwardK(x, w, countIncludePad);
  return attach('avgPool2d', out, [x], [(g) => avgPool2dBackwardK(g, w, countIncludePad)]);
});

function adaptiveShape(op: string, x: Tensor, outputSize: PairArg): { xShape: Shape4; outShape: Shape4 } {
  requireFloatLike(op, x);
  requireRank(op, x, 'input', [4], '(N, C, H, W)');
  const size = pair(outputSize, op, 'outputSize', 1);
  const xShape = shape4(x);
  return { xShape, outShape: [xShape[0], xShape[1], size[0], size[1]] };
}

/** Adaptive average pooling to outputSize: window i along an axis of In elements covers [⌊i·In/Out⌋, ⌈(i+1)·In/Out⌉). */
export const adaptiveAvgPool2d = defineOp('adaptiveAvgPool2d', [poolFamily, elementwiseFamily, reduceFamily], (x: Tensor, outputSize: PairArg): Tensor => {
  const { xShape, outShape } = adaptiveShape('adaptiveAvgPool2d', x, outputSize);
  const out = adaptiveAvgPool2dForwardK(x, xShape, outShape);
  return attach('adaptiveAvgPool2d', out, [x], [(g) => adaptiveAvgPool2dBackwardK(g, xShape, outShape)]);
});

/** Adaptive max pooling to outputSize (windows as adaptiveAvgPool2d); the gradient goes to each window's argmax. */
export const adaptiveMaxPool2d = defineOp('adaptiveMaxPool2d', [poolFamily], (x: Tensor, outputSize: PairArg): Tensor => {
  const { xShape, outShape } = adaptiveShape('adaptiveMaxPool2d', x, outputSize);
  const { values, indices } = adaptiveMaxPool2dForwardK(x, xShape, outShape);
  return attach('adaptiveMaxPool2d', values, [x], [(g) => adaptiveMaxPool2dBackwardK(g, indices, xShape, outShape)], [], [indices]);
});

/** Mean over H and W: x [N, C, H, W] → [N, C]. */
export const globalAvgPool2d = publicApi('globalAvgPool2d', function globalAvgPool2d(x: Tensor): Tensor {
  requireFloatLike('globalAvgPool2d', x);
  requireRank('globalAvgPool2d', x, 'input', [4], '(N, C, H, W)');
  return mean(x, [2, 3]);
});

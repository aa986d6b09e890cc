/**
 * 2-D pooling as functions (PyTorch semantics): max (with argmax indices), average, adaptive average
 * and max, global average. Inputs are [N, C, H, W]; outputs [N, C, P, Q].
 */
import type { Tensor } from '../../tensor.js';
import type { Shape4 } from '../../bindings/conv.js';
import { attach } from '../../autograd/engine.js';
import { defineOp } from '../../ops/registry.js';
import { uninitialized } from '../../ops/kernels.js';
import { mean } from '../../ops/reduce.js';
import { native } from '../../native.js';
import { type Pair, type PairArg, floats, pair, requireFloatLike, requireRank, requireWindowFits, windowOut } from './common.js';

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

interface Window {
  kernel: Pair;
  stride: Pair;
  padding: Pair;
  dilation: Pair;
  ceilMode: boolean;
  xShape: Shape4;
  outShape: Shape4;
}

const shape4 = (t: Tensor): Shape4 => [t.shape[0]!, t.shape[1]!, t.shape[2]!, t.shape[3]!];

/** Validates a pooling call and resolves its window parameters and output shape. */
function poolWindow(op: string, x: Tensor, kernelSize: PairArg, options: MaxPool2dOptions): Window {
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
  requireWindowFits(op, x, kernel, padding, dilation);
  const xShape = shape4(x);
  const outShape: Shape4 = [
    xShape[0], xShape[1],
    windowOut(xShape[2], kernel[0], stride[0], padding[0], dilation[0], ceilMode),
    windowOut(xShape[3], kernel[1], stride[1], padding[1], dilation[1], ceilMode),
  ];
  return { kernel, stride, padding, dilation, ceilMode, xShape, outShape };
}

/**
 * Max pooling with the argmax of each window: values [N, C, P, Q] and int32 indices [N, C, P, Q] holding
 * h·W + w of each window's first maximum in its input plane. The gradient goes to those positions.
 */
export const maxPool2dWithIndices = defineOp('maxPool2d', (
  x: Tensor, kernelSize: PairArg, options: MaxPool2dOptions = {},
): { values: Tensor; indices: Tensor } => {
  const w = poolWindow('maxPool2d', x, kernelSize, options);
  const values = uninitialized(w.outShape, x.dtype);
  const indices = uninitialized(w.outShape, 'int32');
  const idx = indices.buffer as Int32Array;
  native.maxPool2dForward(floats(x), w.xShape, floats(values), idx, w.kernel, w.stride, w.padding, w.dilation, w.ceilMode);
  const grad = (g: Tensor): Tensor => {
    const gx = uninitialized(w.xShape, x.dtype);
    native.maxPool2dBackward(floats(g), w.outShape, idx, floats(gx), w.xShape, w.kernel, w.stride, w.padding, w.dilation, w.ceilMode);
    return gx;
  };
  return { values: attach('maxPool2d', values, [x], [grad]), indices };
});

/** Max pooling: x [N, C, H, W] → [N, C, P, Q]. */
export function maxPool2d(x: Tensor, kernelSize: PairArg, options: MaxPool2dOptions = {}): Tensor {
  return maxPool2dWithIndices(x, kernelSize, options).values;
}

/** Average pooling: x [N, C, H, W] → [N, C, P, Q], zero padding, PyTorch's divisors. */
export const avgPool2d = defineOp('avgPool2d', (x: Tensor, kernelSize: PairArg, options: AvgPool2dOptions = {}): Tensor => {
  const w = poolWindow('avgPool2d', x, kernelSize, { ...options, dilation: 1 });
  const countIncludePad = options.countIncludePad ?? true;
  const out = uninitialized(w.outShape, x.dtype);
  native.avgPool2dForward(floats(x), w.xShape, floats(out), w.kernel, w.stride, w.padding, w.ceilMode, countIncludePad);
  const grad = (g: Tensor): Tensor => {
    const gx = uninitialized(w.xShape, x.dtype);
    native.avgPool2dBackward(floats(g), w.outShape, floats(gx), w.xShape, w.kernel, w.stride, w.padding, w.ceilMode, countIncludePad);
    return gx;
  };
  return attach('avgPool2d', out, [x], [grad]);
});

function adaptiveShape(op: string, x: Tensor, outputSize: PairArg): { xShape: Shape4; outShape: Shape4; size: Pair } {
  requireFloatLike(op, x);
  requireRank(op, x, 'input', [4], '(N, C, H, W)');
  const size = pair(outputSize, op, 'outputSize', 1);
  const xShape = shape4(x);
  return { xShape, outShape: [xShape[0], xShape[1], size[0], size[1]], size };
}

/** Adaptive average pooling to outputSize: window i along an axis of In elements covers [⌊i·In/Out⌋, ⌈(i+1)·In/Out⌉). */
export const adaptiveAvgPool2d = defineOp('adaptiveAvgPool2d', (x: Tensor, outputSize: PairArg): Tensor => {
  const { xShape, outShape, size } = adaptiveShape('adaptiveAvgPool2d', x, outputSize);
  const out = uninitialized(outShape, x.dtype);
  native.adaptiveAvgPool2dForward(floats(x), xShape, floats(out), size);
  return attach('adaptiveAvgPool2d', out, [x], [
    (g) => {
      const gx = uninitialized(xShape, x.dtype);
      native.adaptiveAvgPool2dBackward(floats(g), outShape, floats(gx), xShape);
      return gx;
    },
  ]);
});

/** Adaptive max pooling to outputSize (windows as adaptiveAvgPool2d); the gradient goes to each window's argmax. */
export const adaptiveMaxPool2d = defineOp('adaptiveMaxPool2d', (x: Tensor, outputSize: PairArg): Tensor => {
  const { xShape, outShape, size } = adaptiveShape('adaptiveMaxPool2d', x, outputSize);
  const out = uninitialized(outShape, x.dtype);
  const indices = new Int32Array(out.numel);
  native.adaptiveMaxPool2dForward(floats(x), xShape, floats(out), indices, size);
  return attach('adaptiveMaxPool2d', out, [x], [
    (g) => {
      const gx = uninitialized(xShape, x.dtype);
      native.adaptiveMaxPool2dBackward(floats(g), outShape, indices, floats(gx), xShape);
      return gx;
    },
  ]);
});

/** Mean over H and W: x [N, C, H, W] → [N, C]. */
export function globalAvgPool2d(x: Tensor): Tensor {
  requireFloatLike('globalAvgPool2d', x);
  requireRank('globalAvgPool2d', x, 'input', [4], '(N, C, H, W)');
  return mean(x, [2, 3]);
}

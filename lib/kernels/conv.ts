/**
 * conv2d's three kernels as tensor functions (forward, gradient of the input, gradient of the weight), native
 * on cpu and cuda; transposed convolution and conv1d use the same three (lib/nn/functional/conv.ts). On cuda,
 * float32 may use TF32 tensor cores when allowTf32() (setFloat32MatmulPrecision('high')).
 *
 * Legend: N batch, C input channels, H W input size, K output channels, R S kernel size, P Q output size.
 */
import { native } from '../native.js';
import type { Pair, Shape4 } from '../bindings/conv.js';
import type { FloatBuffer } from '../bindings/reduce.js';
import type { Tensor } from '../tensor.js';
import { allowTf32 } from './precision.js';
import { asOp, bufferOf, commonDevice, denseBuffer, memoizedShapeRule, uninitialized } from './runtime.js';
import { kernelFamily } from './family.js';

/** This module's kernel family: its entry points and how each device runs them (see family.ts). */
export const convFamily = kernelFamily('conv', ['conv2dForward', 'conv2dBackwardData', 'conv2dBackwardWeight', 'conv2dOutputShape'], { cpu: 'native', cuda: 'native' });

export type { Pair, Shape4 } from '../bindings/conv.js';

/** Stride, symmetric zero padding, dilation and groups of a convolution. */
export interface ConvGeometry {
  stride: Pair;
  padding: Pair;
  dilation: Pair;
  groups: number;
}

export const shape4 = (t: Tensor): Shape4 => [t.shape[0]!, t.shape[1]!, t.shape[2]!, t.shape[3]!];

/** A tensor's elements as the contiguous buffer from element 0 that the conv entry points take. */
const dense = (t: Tensor): FloatBuffer => denseBuffer(t) as FloatBuffer;
const denseOrNull = (t: Tensor | null): FloatBuffer | null => (t ? dense(t) : null);
const output = (t: Tensor): FloatBuffer => bufferOf(t) as FloatBuffer;

/**
 * [N, K, P, Q] of conv2d(x [N, C, H, W], w [K, C/G, R, S]), validated by the rule the kernels apply
 * (core/conv.cc: channels, groups, the window fitting the padded input); its errors name `op`.
 */
export function conv2dOutputShape(xShape: Shape4, wShape: Shape4, g: ConvGeometry, op = 'conv2d'): Shape4 {
  return asOp(op, 'conv2dOutputShape', () => outputShape(xShape, wShape, g.stride, g.padding, g.dilation, g.groups));
}

const outputShape = memoizedShapeRule(
  (xShape: Shape4, wShape: Shape4, stride: Pair, padding: Pair, dilation: Pair, groups: number): Shape4 =>
    native.conv2dOutputShape(xShape, wShape, stride, padding, dilation, groups),
);

/** y [N, K, P, Q] = conv2d(x, w) + bias[K] (bias may be null). */
export function conv2dForwardK(x: Tensor, w: Tensor, bias: Tensor | null, g: ConvGeometry): Tensor {
  const device = commonDevice('conv2d', [x, w, bias]);
  const xShape = shape4(x), wShape = shape4(w);
  const y = uninitialized(conv2dOutputShape(xShape, wShape, g), x.dtype, device);
  native.conv2dForward(dense(x), xShape, dense(w), wShape, denseOrNull(bias), output(y), g.stride, g.padding, g.dilation, g.groups, allowTf32());
  return y;
}

/** The gradient [xShape] of sum(conv2d(x, w) · gy) with respect to x, for gy [N, K, P, Q]. */
export function conv2dBackwardDataK(gy: Tensor, w: Tensor, xShape: Shape4, g: ConvGeometry): Tensor {
  const gx = uninitialized(xShape, gy.dtype, commonDevice('conv2d backward', [gy, w]));
  native.conv2dBackwardData(dense(gy), dense(w), shape4(w), output(gx), xShape, g.stride, g.padding, g.dilation, g.groups, allowTf32());
  return gx;
}

/** The gradients of sum(conv2d(x, w) + bias) · gy) with respect to w [wShape] and, with `withBias`, bias [K]. */
export function conv2dBackwardWeightK(
  x: Tensor, gy: Tensor, wShape: Shape4, withBias: boolean, g: ConvGeometry,
): { gw: Tensor; gb: Tensor | null } {
  const device = commonDevice('conv2d backward', [x, gy]);
  const gw = uninitialized(wShape, x.dtype, device);
  const gb = withBias ? uninitialized([wShape[0]], x.dtype, device) : null;
  native.conv2dBackwardWeight(
    dense(x), shape4(x), dense(gy), output(gw), wShape, gb && output(gb), g.stride, g.padding, g.dilation, g.groups, allowTf32(),
  );
  return { gw, gb };
}

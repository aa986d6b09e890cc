/**
 * conv2d's three kernels as tensor functions (forward, gradient of the input, gradient of the weight);
 * transposed convolution uses the same three with roles swapped. No CUDA convolution yet: cuda tensors go
 * through hostFallback.
 *
 * Legend: N batch, C input channels, H W input size, K output channels, R S kernel size, P Q output size.
 */
import { native } from '../native.js';
import type { Pair, Shape4 } from '../bindings/conv.js';
import type { Tensor } from '../tensor.js';
import { floats, floatsOrNull, hostFallback, uninitialized } from './runtime.js';
import { kernelFamily } from './family.js';

/** This module's kernel family: its entry points and how each device runs them (see family.ts). */
export const convFamily = kernelFamily('conv', ['conv2dForward', 'conv2dBackwardData', 'conv2dBackwardWeight', 'conv2dOutputShape'], { cpu: 'native', cuda: 'host' });

export type { Pair, Shape4 } from '../bindings/conv.js';

/** Stride, symmetric zero padding, dilation and groups of a convolution. */
export interface ConvGeometry {
  stride: Pair;
  padding: Pair;
  dilation: Pair;
  groups: number;
}

export const shape4 = (t: Tensor): Shape4 => [t.shape[0]!, t.shape[1]!, t.shape[2]!, t.shape[3]!];

/** [N, K, P, Q] of conv2d(x [N, C, H, W], w [K, C/G, R, S]), validated as the kernels validate it. */
export function conv2dOutputShape(xShape: Shape4, wShape: Shape4, g: ConvGeometry): Shape4 {
  return native.conv2dOutputShape(xShape, wShape, g.stride, g.padding, g.dilation, g.groups);
}

/** y [N, K, P, Q] = conv2d(x, w) + bias[K] (bias may be null). */
export function conv2dForwardK(x: Tensor, w: Tensor, bias: Tensor | null, g: ConvGeometry): Tensor {
  return hostFallback('conv2d', [x, w, bias], ([x, w, bias]) => {
    const xShape = shape4(x), wShape = shape4(w);
    const y = uninitialized(conv2dOutputShape(xShape, wShape, g), x.dtype);
    native.conv2dForward(floats(x), xShape, floats(w), wShape, floatsOrNull(bias), floats(y), g.stride, g.padding, g.dilation, g.groups);
    return y;
  });
}

/** The gradient [xShape] of sum(conv2d(x, w) · gy) with respect to x, for gy [N, K, P, Q]. */
export function conv2dBackwardDataK(gy: Tensor, w: Tensor, xShape: Shape4, g: ConvGeometry): Tensor {
  return hostFallback('conv2d backward', [gy, w], ([gy, w]) => {
    const gx = uninitialized(xShape, gy.dtype);
    native.conv2dBackwardData(floats(gy), floats(w), shape4(w), floats(gx), xShape, g.stride, g.padding, g.dilation, g.groups);
    return gx;
  });
}

/** The gradients of sum(conv2d(x, w) + bias) · gy) with respect to w [wShape] and, with `withBias`, bias [K]. */
export function conv2dBackwardWeightK(
  x: Tensor, gy: Tensor, wShape: Shape4, withBias: boolean, g: ConvGeometry,
): { gw: Tensor; gb: Tensor | null } {
  return hostFallback('conv2d backward', [x, gy], ([x, gy]) => {
    const gw = uninitialized(wShape, x.dtype);
    const gb = withBias ? uninitialized([wShape[0]], x.dtype) : null;
    native.conv2dBackwardWeight(floats(x), shape4(x), floats(gy), floats(gw), wShape, floatsOrNull(gb), g.stride, g.padding, g.dilation, g.groups);
    return { gw, gb };
  });
}

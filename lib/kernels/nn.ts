/** Dropout, PReLU and 2-D upsampling kernels as tensor functions, native on cpu and cuda. */
import { native } from '../native.js';
import type { UpsampleMode } from '../bindings/nn.js';
import type { FloatBuffer } from '../bindings/reduce.js';
import type { BoolBuffer } from '../bindings/elementwise.js';
import type { Tensor } from '../tensor.js';
import { bufferOf, commonDevice, deviceOf, denseBuffer, uninitialized } from './runtime.js';
import { kernelFamily } from './family.js';

/** This module's kernel families: their entry points and how each device runs them (see family.ts). */
export const dropoutFamily = kernelFamily('dropout', ['dropoutForward', 'dropoutBackward'], { cpu: 'native', cuda: 'native' });
export const preluFamily = kernelFamily('prelu', ['preluForward', 'preluBackward'], { cpu: 'native', cuda: 'native' });
export const upsampleFamily = kernelFamily('upsample', ['upsample2dForward', 'upsample2dBackward'], { cpu: 'native', cuda: 'native' });

export type { UpsampleMode } from '../bindings/nn.js';

/**
 * Inverted dropout from Philox(seed) at counter `offset`: y = x·mask / (1 − p) and the bool mask, both
 * with x's shape (the caller reserves ceil(n / 4) counters per call).
 */
export function dropoutForwardK(x: Tensor, p: number, seed: number, offset: number): { y: Tensor; mask: Tensor } {
  const device = deviceOf(x);
  const y = uninitialized(x.shape, x.dtype, device), mask = uninitialized(x.shape, 'bool', device);
  native.dropoutForward(denseBuffer(x) as FloatBuffer, x.numel, p, seed, offset, bufferOf(y) as FloatBuffer, bufferOf(mask) as BoolBuffer);
  return { y, mask };
}

/** The input gradient of dropout: g·mask / (1 − p). */
export function dropoutBackwardK(g: Tensor, mask: Tensor, p: number): Tensor {
  const device = commonDevice('dropout backward', [g, mask]);
  const gx = uninitialized(g.shape, g.dtype, device);
  native.dropoutBackward(denseBuffer(g) as FloatBuffer, denseBuffer(mask) as BoolBuffer, g.numel, p, bufferOf(gx) as FloatBuffer);
  return gx;
}

const floatsOf = (t: Tensor): FloatBuffer => denseBuffer(t) as FloatBuffer;
const out = (t: Tensor): FloatBuffer => bufferOf(t) as FloatBuffer;

/** PReLU over x viewed as (N, C, L) with `weight` of 1 or C slopes. */
export function preluForwardK(x: Tensor, weight: Tensor, N: number, C: number, L: number): Tensor {
  const y = uninitialized(x.shape, x.dtype, commonDevice('prelu', [x, weight]));
  native.preluForward(floatsOf(x), N, C, L, floatsOf(weight), weight.numel, out(y));
  return y;
}

/** Gradients [x, weight] of PReLU (null where `needs` is false). */
export function preluBackwardK(x: Tensor, g: Tensor, weight: Tensor, N: number, C: number, L: number, needs: readonly boolean[]): Array<Tensor | null> {
  const device = commonDevice('prelu backward', [x, g, weight]);
  const gx = needs[0] ? uninitialized(x.shape, x.dtype, device) : null;
  const gw = needs[1] ? uninitialized(weight.shape, x.dtype, device) : null;
  native.preluBackward(floatsOf(x), floatsOf(g), N, C, L, floatsOf(weight), weight.numel, gx && out(gx), gw && out(gw));
  return [gx, gw];
}

/** Upsampling of x [N, C, inH, inW] to [N, C, ...out]; scale: the factors that gave `out`, or [0, 0] when it was given. */
export interface UpsampleArgs {
  out: [number, number];
  scale: [number, number];
  mode: UpsampleMode;
  alignCorners: boolean;
}

export function upsample2dForwardK(x: Tensor, a: UpsampleArgs): Tensor {
  const [N, C, inH, inW] = x.shape as [number, number, number, number];
  const y = uninitialized([N, C, ...a.out], x.dtype, deviceOf(x));
  native.upsample2dForward(floatsOf(x), N, C, inH, inW, a.out[0], a.out[1], a.mode, a.alignCorners, a.scale[0], a.scale[1], out(y));
  return y;
}

/** The gradient [xShape] of upsample2dForwardK from g [N, C, ...out]. */
export function upsample2dBackwardK(g: Tensor, xShape: readonly number[], a: UpsampleArgs): Tensor {
  const [N, C, inH, inW] = xShape as [number, number, number, number];
  const gx = uninitialized(xShape, g.dtype, deviceOf(g));
  native.upsample2dBackward(floatsOf(g), N, C, inH, inW, a.out[0], a.out[1], a.mode, a.alignCorners, a.scale[0], a.scale[1], out(gx));
  return gx;
}

/**
 * Dropout, PReLU and 2-D upsampling kernels as tensor functions. Dropout runs natively on cpu and cuda;
 * PReLU and upsampling have no CUDA kernels yet and go through hostFallback on cuda.
 */
import { native } from '../native.js';
import type { UpsampleMode } from '../bindings/nn.js';
import type { FloatBuffer } from '../bindings/reduce.js';
import type { BoolBuffer } from '../bindings/elementwise.js';
import type { Tensor } from '../tensor.js';
import { bufferOf, commonDevice, deviceOf, denseBuffer, floats, hostFallback, uninitialized } from './runtime.js';
import { kernelFamily } from './family.js';

/** This module's kernel families: their entry points and how each device runs them (see family.ts). */
export const dropoutFamily = kernelFamily('dropout', ['dropoutForward', 'dropoutBackward'], { cpu: 'native', cuda: 'native' });
export const preluFamily = kernelFamily('prelu', ['preluForward', 'preluBackward'], { cpu: 'native', cuda: 'host' });
export const upsampleFamily = kernelFamily('upsample', ['upsample2dForward', 'upsample2dBackward'], { cpu: 'native', cuda: 'host' });

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

/** PReLU over x viewed as (N, C, L) with `weight` of 1 or C slopes. */
export function preluForwardK(x: Tensor, weight: Tensor, N: number, C: number, L: number): Tensor {
  return hostFallback('prelu', [x, weight], ([x, weight]) => {
    const y = uninitialized(x.shape, x.dtype);
    native.preluForward(floats(x), N, C, L, floats(weight), weight.numel, floats(y));
    return y;
  });
}

/** Gradients [x, weight] of PReLU (null where `needs` is false). */
export function preluBackwardK(x: Tensor, g: Tensor, weight: Tensor, N: number, C: number, L: number, needs: readonly boolean[]): Array<Tensor | null> {
  return hostFallback('prelu backward', [x, g, weight], ([x, g, weight]) => {
    const gx = needs[0] ? uninitialized(x.shape, x.dtype) : null;
    const gw = needs[1] ? uninitialized(weight.shape, x.dtype) : null;
    native.preluBackward(floats(x), floats(g), N, C, L, floats(weight), weight.numel, gx && floats(gx), gw && floats(gw));
    return [gx, gw];
  });
}

/** Upsampling of x [N, C, inH, inW] to [N, C, ...out]; scale: the factors that gave `out`, or [0, 0] when it was given. */
export interface UpsampleArgs {
  out: [number, number];
  scale: [number, number];
  mode: UpsampleMode;
  alignCorners: boolean;
}

export function upsample2dForwardK(x: Tensor, a: UpsampleArgs): Tensor {
  return hostFallback('interpolate', [x], ([x]) => {
    const [N, C, inH, inW] = x.shape as [number, number, number, number];
    const y = uninitialized([N, C, ...a.out], x.dtype);
    native.upsample2dForward(floats(x), N, C, inH, inW, a.out[0], a.out[1], a.mode, a.alignCorners, a.scale[0], a.scale[1], floats(y));
    return y;
  });
}

/** The gradient [xShape] of upsample2dForwardK from g [N, C, ...out]. */
export function upsample2dBackwardK(g: Tensor, xShape: readonly number[], a: UpsampleArgs): Tensor {
  return hostFallback('interpolate backward', [g], ([g]) => {
    const [N, C, inH, inW] = xShape as [number, number, number, number];
    const gx = uninitialized(xShape, g.dtype);
    native.upsample2dBackward(floats(g), N, C, inH, inW, a.out[0], a.out[1], a.mode, a.alignCorners, a.scale[0], a.scale[1], floats(gx));
    return gx;
  });
}

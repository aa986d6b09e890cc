/**
 * The fused optimizer steps and the gradient-clipping helpers as tensor functions: each step updates a
 * contiguous parameter and its state tensors (the parameter's shape, dtype and device) in place. No CUDA
 * kernels yet: cuda tensors go through hostFallback, which writes the updated tensors back.
 */
import { native } from '../native.js';
import type { Tensor } from '../tensor.js';
import { floats, floatsOrNull, hostFallback } from './runtime.js';
import { kernelFamily } from './family.js';

/** This module's kernel family: its entry points and how each device runs them (see family.ts). */
export const optimFamily = kernelFamily('optim', ['sgdStep', 'adamStep', 'rmspropStep', 'adagradStep', 'sumOfSquares', 'scaleInPlace', 'clampInPlace'], { cpu: 'native', cuda: 'host' });

/** SGD; see bindings/optim.ts for the update rule. momentumBuffer may be null without momentum. */
export function sgdStepK(
  param: Tensor, grad: Tensor, momentumBuffer: Tensor | null,
  h: { lr: number; momentum: number; dampening: number; weightDecay: number; nesterov: boolean; maximize: boolean }, firstStep: boolean,
): void {
  hostFallback('SGD', [param, grad, momentumBuffer], ([p, g, buf]) => {
    native.sgdStep(floats(p!), floats(g!), floatsOrNull(buf), h.lr, h.momentum, h.dampening, h.weightDecay, h.nesterov, h.maximize, firstStep);
  }, [0, 2]);
}

/** Adam / AdamW at 1-based `step`; maxExpAvgSq only with amsgrad. */
export function adamStepK(
  param: Tensor, grad: Tensor, expAvg: Tensor, expAvgSq: Tensor, maxExpAvgSq: Tensor | null, step: number,
  h: { lr: number; betas: [number, number]; eps: number; weightDecay: number; amsgrad: boolean; maximize: boolean }, decoupled: boolean,
): void {
  hostFallback('Adam', [param, grad, expAvg, expAvgSq, maxExpAvgSq], ([p, g, m, v, vmax]) => {
    native.adamStep(
      floats(p!), floats(g!), floats(m!), floats(v!), floatsOrNull(vmax), step,
      h.lr, h.betas[0], h.betas[1], h.eps, h.weightDecay, h.amsgrad, decoupled, h.maximize,
    );
  }, [0, 2, 3, 4]);
}

/** RMSprop; gradAvg only when centered, momentumBuffer only with momentum. */
export function rmspropStepK(
  param: Tensor, grad: Tensor, squareAvg: Tensor, gradAvg: Tensor | null, momentumBuffer: Tensor | null,
  h: { lr: number; alpha: number; eps: number; weightDecay: number; momentum: number; centered: boolean; maximize: boolean },
): void {
  hostFallback('RMSprop', [param, grad, squareAvg, gradAvg, momentumBuffer], ([p, g, sq, avg, buf]) => {
    native.rmspropStep(
      floats(p!), floats(g!), floats(sq!), floatsOrNull(avg), floatsOrNull(buf), h.lr, h.alpha, h.eps, h.weightDecay, h.momentum, h.centered, h.maximize,
    );
  }, [0, 2, 3, 4]);
}

/** Adagrad at 1-based `step`. */
export function adagradStepK(
  param: Tensor, grad: Tensor, sum: Tensor, step: number,
  h: { lr: number; lrDecay: number; weightDecay: number; eps: number; maximize: boolean },
): void {
  hostFallback('Adagrad', [param, grad, sum], ([p, g, s]) => {
    native.adagradStep(floats(p!), floats(g!), floats(s!), step, h.lr, h.lrDecay, h.weightDecay, h.eps, h.maximize);
  }, [0, 2]);
}

/** Sum of squares of a float tensor's elements, accumulated in float64. */
export function sumOfSquaresK(t: Tensor): number {
  return hostFallback('clipGradNorm', [t], ([t]) => native.sumOfSquares(floats(t)));
}

/** t *= s in place (t contiguous). */
export function scaleInPlaceK(t: Tensor, s: number): void {
  hostFallback('clipGradNorm', [t], ([t]) => native.scaleInPlace(floats(t), s), [0]);
  t.storage.version++;
}

/** t = clamp(t, lo, hi) in place (t contiguous). */
export function clampInPlaceK(t: Tensor, lo: number, hi: number): void {
  hostFallback('clipGradValue', [t], ([t]) => native.clampInPlace(floats(t), lo, hi), [0]);
  t.storage.version++;
}

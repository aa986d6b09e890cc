/**
 * Shared pieces of the functional API: option normalization (pairs, 'same'/'valid' padding), argument
 * checks whose messages name the function, the argument, what was expected and what was received, and
 * the bridge from autograd to fused native backward kernels.
 */
import { describe } from '../../checks.js';
import type { Tensor } from '../../tensor.js';
import type { GradFn } from '../../autograd/node.js';
import { requireFloat } from '../../kernels/runtime.js';

export type Pair = [number, number];
export type PairArg = number | readonly [number, number];

export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Expands a number to a (height, width) pair and checks every entry is an integer >= min. */
export function pair(value: PairArg, op: string, arg: string, min: number): Pair {
  const isPair = Array.isArray(value) && value.length === 2;
  const p: Pair = typeof value === 'number' ? [value, value] : isPair ? [value[0], value[1]] : [NaN, NaN];
  if (!p.every((v) => Number.isInteger(v) && v >= min)) {
    throw new RangeError(`${op}: ${arg} must be an integer >= ${min} or a pair of them, got ${describe(value)}`);
  }
  return p;
}

export type ConvPadding = PairArg | 'same' | 'valid';

/**
 * Per-side padding of a convolution as [top, bottom, left, right]. 'same' (stride 1 only) keeps the
 * size: the total dilation·(k − 1) is split with the odd element on the bottom/right, as PyTorch.
 */
export function convPadding(padding: ConvPadding, kernel: Pair, dilation: Pair, stride: Pair, op: string): [number, number, number, number] {
  if (padding === 'valid') return [0, 0, 0, 0];
  if (padding === 'same') {
    if (stride[0] !== 1 || stride[1] !== 1) {
      throw new RangeError(`${op}: padding 'same' needs stride 1, got stride [${stride.join(', ')}]`);
    }
    const th = dilation[0] * (kernel[0] - 1), tw = dilation[1] * (kernel[1] - 1);
    return [Math.floor(th / 2), th - Math.floor(th / 2), Math.floor(tw / 2), tw - Math.floor(tw / 2)];
  }
  if (typeof padding === 'string') throw new RangeError(`${op}: padding must be a number, a pair, 'same' or 'valid', got '${padding}'`);
  const [ph, pw] = pair(padding, op, 'padding', 0);
  return [ph, ph, pw, pw];
}

export function requireRank(op: string, t: Tensor, arg: string, ranks: readonly number[], layout: string): void {
  if (!ranks.includes(t.ndim)) {
    const want = ranks.length === 1 ? `rank ${ranks[0]}` : `rank ${ranks.slice(0, -1).join(', ')} or ${ranks[ranks.length - 1]}`;
    throw new RangeError(`${op}: ${arg} must be ${want} ${layout}, got rank ${t.ndim} ${fmtShape(t.shape)}`);
  }
}

export function requireShape(op: string, t: Tensor, arg: string, shape: readonly number[], why = ''): void {
  if (t.ndim !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new RangeError(`${op}: ${arg} must have shape ${fmtShape(shape)}${why}, got ${fmtShape(t.shape)}`);
  }
}

/** x is float; every other given tensor has x's dtype. */
export function requireFloatLike(op: string, x: Tensor, others: Record<string, Tensor | null | undefined> = {}, xArg = 'input'): void {
  requireFloat(op, x, xArg);
  for (const [arg, t] of Object.entries(others)) {
    if (t && t.dtype !== x.dtype) throw new TypeError(`${op}: ${arg} must have the ${xArg}'s dtype ${x.dtype}, got ${t.dtype}`);
  }
}

export function requireInt32(op: string, t: Tensor, arg: string): void {
  if (t.dtype !== 'int32') throw new TypeError(`${op}: ${arg} must be int32 class indices, got ${t.dtype}`);
}

/**
 * Gradient functions for inputs whose gradients come from one fused backward kernel. The kernel runs
 * once per upstream gradient, the first time any input asks, and computes only the gradients of inputs
 * that require them (`needs[i]`). Each result is handed out once: a later backward through a retained
 * graph recomputes, even with the same upstream gradient object (the first results may have been
 * released, or taken as a leaf's .grad and changed since).
 */
export function fusedBackward(
  inputs: ReadonlyArray<Tensor | null | undefined>,
  compute: (g: Tensor, needs: boolean[]) => Array<Tensor | null>,
): GradFn[] {
  const needs = inputs.map((t) => t != null && t.requiresGrad);
  let lastG: Tensor | null = null;
  let grads: Array<Tensor | null> = [];
  return inputs.map((_, i) => (g: Tensor) => {
    if (g !== lastG || grads[i] == null) {
      grads = compute(g, needs);
      lastG = g;
    }
    const gi = grads[i]!;
    grads[i] = null;
    return gi;
  });
}

export const product = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

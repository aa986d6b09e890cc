/** Pieces shared by the layers: argument checks naming the layer, parameter allocation, PyTorch's default init. */
import { describe } from '../../checks.js';
import { zeros } from '../../creation.js';
import type { Tensor } from '../../tensor.js';
import { Parameter } from '../module.js';
import { calculateFanInAndFanOut, kaimingUniform_, uniform_ } from '../init.js';

/** Element type of a layer's parameters. */
export type FloatDType = 'float32' | 'float64';

/** Options every parameterized layer accepts. */
export interface DTypeOptions {
  /** Parameter element type; default float32. */
  dtype?: FloatDType;
}

export function fail(owner: string, message: string): never {
  throw new RangeError(`${owner}: ${message}`);
}

export function show(value: unknown): string {
  return describe(value);
}

/** Throws unless options (after its default {}) is an object: `null` or a number there is a slip. */
export function checkOptions(owner: string, options: unknown): void {
  if (options === null || typeof options !== 'object') fail(owner, `options must be an object, got ${show(options)}`);
}

export function checkPositiveInt(owner: string, name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0) fail(owner, `${name} must be a positive integer, got ${show(value)}`);
}

export function checkNonNegativeInt(owner: string, name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) fail(owner, `${name} must be a non-negative integer, got ${show(value)}`);
}

export function checkPositive(owner: string, name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) fail(owner, `${name} must be a finite positive number, got ${show(value)}`);
}

export function checkDType(owner: string, dtype: string): FloatDType {
  if (dtype !== 'float32' && dtype !== 'float64') fail(owner, `dtype must be 'float32' or 'float64', got ${show(dtype)}`);
  return dtype;
}

/** A zero-filled parameter. */
export function newParameter(shape: readonly number[], dtype: FloatDType = 'float32'): Parameter {
  return new Parameter(zeros(shape, { dtype }));
}

/**
 * PyTorch's default for Linear and convolutions: weight kaiming-uniform with a = √5 (so U(±1/√fanIn)),
 * bias U(±1/√fanIn) with fanIn computed from the weight.
 */
export function resetLinearLike(weight: Tensor, bias: Tensor | null): void {
  kaimingUniform_(weight, { a: Math.sqrt(5) });
  if (bias !== null) {
    const { fanIn } = calculateFanInAndFanOut(weight);
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    uniform_(bias, -bound, bound);
  }
}

/** A (height, width) pair from a number or a pair. */
export function pairOf(value: number | readonly [number, number]): [number, number] {
  return typeof value === 'number' ? [value, value] : [value[0], value[1]];
}

/** PyTorch's rendering of a tuple: (a, b). */
export function tuple(values: readonly number[]): string {
  return `(${values.join(', ')}${values.length === 1 ? ',' : ''})`;
}

/** A float as Python prints it (1e-05, 0.1), so reprs read like PyTorch's. */
export function pyFloat(x: number): string {
  if (x !== 0 && Math.abs(x) < 1e-4) return x.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  return Number.isInteger(x) ? x.toFixed(1) : String(x);
}

export function pyBool(b: boolean): string {
  return b ? 'True' : 'False';
}

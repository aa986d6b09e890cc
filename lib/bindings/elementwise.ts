/**
 * Types of the strided elementwise entry points. Each operand is (buffer, offset, strides) over `shape`;
 * a buffer is a typed array (cpu) or a device handle (cuda), all of one device.
 */
import type { DeviceHandle } from './device.js';

export type AnyArray = Float32Array | Float64Array | Int32Array | Uint8Array;
/** A typed array or the device memory behind a handle. */
export type AnyBuffer = AnyArray | DeviceHandle;
export type BoolBuffer = Uint8Array | DeviceHandle;

export interface ElementwiseBinding {
  /** Op names in id order; lib/ops resolves names to ids once at load. */
  readonly unaryOps: readonly string[];
  readonly binaryOps: readonly string[];
  readonly compareOps: readonly string[];
  readonly reduceOps: readonly string[];
  /** out = f(x; a, b). out and x share a dtype. */
  unary(
    op: number, shape: readonly number[],
    out: AnyBuffer, outOff: number, outStrides: readonly number[],
    x: AnyBuffer, xOff: number, xStrides: readonly number[],
    a: number, b: number,
  ): void;
  /** out = f(x, y; alpha, beta). */
  binary(
    op: number, shape: readonly number[],
    out: AnyBuffer, outOff: number, outStrides: readonly number[],
    x: AnyBuffer, xOff: number, xStrides: readonly number[],
    y: AnyBuffer, yOff: number, yStrides: readonly number[],
    alpha: number, beta: number,
  ): void;
  /** out (Uint8Array) = x <op> y. */
  compare(
    op: number, shape: readonly number[],
    out: BoolBuffer, outOff: number, outStrides: readonly number[],
    x: AnyBuffer, xOff: number, xStrides: readonly number[],
    y: AnyBuffer, yOff: number, yStrides: readonly number[],
  ): void;
  /** out = cond ? x : y. */
  where(
    shape: readonly number[],
    out: AnyBuffer, outOff: number, outStrides: readonly number[],
    cond: BoolBuffer, condOff: number, condStrides: readonly number[],
    x: AnyBuffer, xOff: number, xStrides: readonly number[],
    y: AnyBuffer, yOff: number, yStrides: readonly number[],
  ): void;
  /**
   * Fills out from Philox(seed) at counter `offset` (two elements per counter): kind 0 uniform [a, b),
   * 1 normal(mean a, std b), 2 bernoulli(p = a), 3 integers in [a, b).
   */
  random(out: AnyBuffer, kind: number, seed: number, offset: number, a: number, b: number): void;
  /** out = x, converting dtype; both strided. */
  copy(shape: readonly number[], out: AnyBuffer, outOff: number, outStrides: readonly number[], x: AnyBuffer, xOff: number, xStrides: readonly number[]): void;
}

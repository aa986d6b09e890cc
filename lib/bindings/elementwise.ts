/** Types of the strided elementwise entry points. Each operand is (array, offset, strides) over `shape`. */

export type AnyArray = Float32Array | Float64Array | Int32Array | Uint8Array;

export interface ElementwiseBinding {
  /** Op names in id order; lib/ops resolves names to ids once at load. */
  readonly unaryOps: readonly string[];
  readonly binaryOps: readonly string[];
  readonly compareOps: readonly string[];
  readonly reduceOps: readonly string[];
  /** out = f(x; a, b). out and x share a dtype. */
  unary(
    op: number, shape: number[],
    out: AnyArray, outOff: number, outStrides: number[],
    x: AnyArray, xOff: number, xStrides: number[],
    a: number, b: number,
  ): void;
  /** out = f(x, y; alpha, beta). */
  binary(
    op: number, shape: number[],
    out: AnyArray, outOff: number, outStrides: number[],
    x: AnyArray, xOff: number, xStrides: number[],
    y: AnyArray, yOff: number, yStrides: number[],
    alpha: number, beta: number,
  ): void;
  /** out (Uint8Array) = x <op> y. */
  compare(
    op: number, shape: number[],
    out: Uint8Array, outOff: number, outStrides: number[],
    x: AnyArray, xOff: number, xStrides: number[],
    y: AnyArray, yOff: number, yStrides: number[],
  ): void;
  /** out = cond ? x : y. */
  where(
    shape: number[],
    out: AnyArray, outOff: number, outStrides: number[],
    cond: Uint8Array, condOff: number, condStrides: number[],
    x: AnyArray, xOff: number, xStrides: number[],
    y: AnyArray, yOff: number, yStrides: number[],
  ): void;
  /**
   * Fills out from Philox(seed) at counter `offset` (two elements per counter): kind 0 uniform [a, b),
   * 1 normal(mean a, std b), 2 bernoulli(p = a), 3 integers in [a, b).
   */
  random(out: AnyArray, kind: number, seed: number, offset: number, a: number, b: number): void;
  /** out = x, converting dtype; both strided. */
  copy(shape: number[], out: AnyArray, outOff: number, outStrides: number[], x: AnyArray, xOff: number, xStrides: number[]): void;
}

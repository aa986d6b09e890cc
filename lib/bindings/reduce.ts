/** Types of the reduction, softmax and indexing entry points. */
import type { FloatArray } from './runtime.js';

export type NumericArray = Float32Array | Float64Array | Int32Array;

export interface ReduceBinding {
  /**
   * Reduces a strided view whose dims are [kept..., reduced...] into a contiguous `out` over the kept
   * dims. `index` receives argmax/argmin positions (flat within the reduced block) and may be null for
   * ops other than argmax/argmin. `param`: correction for var, p for norm.
   */
  reduce(
    op: number, x: NumericArray, xOff: number,
    keptShape: number[], keptStrides: number[], reducedShape: number[], reducedStrides: number[],
    out: NumericArray | null, index: Int32Array | null, param: number,
  ): void;
  /** Row-wise (log-)softmax over contiguous [rows, n]. */
  softmax(x: FloatArray, out: FloatArray, rows: number, n: number, log: boolean): void;
  softmaxBackward(grad: FloatArray, y: FloatArray, gradInput: FloatArray, rows: number, n: number, log: boolean): void;
  /** out[o, j, i] = src[o, idx[j], i] over contiguous [outer, dim, inner]. */
  indexSelect(src: NumericArray, idx: Int32Array, out: NumericArray, outer: number, dim: number, nIdx: number, inner: number): void;
  /** out[o, idx[j], i] += src[o, j, i]. */
  indexAdd(src: NumericArray, idx: Int32Array, out: NumericArray, outer: number, dim: number, nIdx: number, inner: number): void;
  /** out[o, j, i] = src[o, idx[o, j, i], i]. */
  gather(src: NumericArray, idx: Int32Array, out: NumericArray, outer: number, dim: number, nIdx: number, inner: number): void;
  /** out[o, idx[o, j, i], i] += src[o, j, i]. */
  scatterAdd(src: NumericArray, idx: Int32Array, out: NumericArray, outer: number, dim: number, nIdx: number, inner: number): void;
}

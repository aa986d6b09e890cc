/** Types of the reduction, softmax and indexing entry points; every buffer may be a device handle (see device.ts). */
import type { FloatArray } from './runtime.js';
import type { DeviceHandle } from './device.js';

export type NumericArray = Float32Array | Float64Array | Int32Array;
export type NumericBuffer = NumericArray | DeviceHandle;
export type FloatBuffer = FloatArray | DeviceHandle;
export type IndexBuffer = Int32Array | DeviceHandle;

export interface ReduceBinding {
  /**
   * Reduces a strided view whose dims are [kept..., reduced...] into a contiguous `out` over the kept
   * dims. `index` receives argmax/argmin positions (flat within the reduced block) and may be null for
   * ops other than argmax/argmin. `param`: correction for var, p for norm.
   */
  reduce(
    op: number, x: NumericBuffer, xOff: number,
    keptShape: number[], keptStrides: number[], reducedShape: number[], reducedStrides: number[],
    out: NumericBuffer | null, index: IndexBuffer | null, param: number,
  ): void;
  /** Row-wise (log-)softmax over contiguous [rows, n]. */
  softmax(x: FloatBuffer, out: FloatBuffer, rows: number, n: number, log: boolean): void;
  softmaxBackward(grad: FloatBuffer, y: FloatBuffer, gradInput: FloatBuffer, rows: number, n: number, log: boolean): void;
  /** out[o, j, i] = src[o, idx[j], i] over contiguous [outer, dim, inner]. */
  indexSelect(src: NumericBuffer, idx: IndexBuffer, out: NumericBuffer, outer: number, dim: number, nIdx: number, inner: number): void;
  /** out[o, idx[j], i] += src[o, j, i]. */
  indexAdd(src: NumericBuffer, idx: IndexBuffer, out: NumericBuffer, outer: number, dim: number, nIdx: number, inner: number): void;
  /** out[o, j, i] = src[o, idx[o, j, i], i]. */
  gather(src: NumericBuffer, idx: IndexBuffer, out: NumericBuffer, outer: number, dim: number, nIdx: number, inner: number): void;
  /** out[o, idx[o, j, i], i] += src[o, j, i]. */
  scatterAdd(src: NumericBuffer, idx: IndexBuffer, out: NumericBuffer, outer: number, dim: number, nIdx: number, inner: number): void;
}

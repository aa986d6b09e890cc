/**
 * Index kernels over [outer, dim, inner] blocks of contiguous tensors (indexSelect, indexAdd, gather,
 * scatterAdd); native on cpu and cuda. The caller validates shapes and index dtypes.
 */
import { native } from '../native.js';
import type { Tensor } from '../tensor.js';
import type { IndexBuffer, NumericBuffer } from '../bindings/reduce.js';
import { bufferOf, commonDevice, denseBuffer } from './runtime.js';
import { kernelFamily } from './family.js';

/** This module's kernel family: its entry points and how each device runs them (see family.ts). */
export const indexingFamily = kernelFamily('indexing', ['indexSelect', 'indexAdd', 'gather', 'scatterAdd'], { cpu: 'native', cuda: 'native' });

/** [outer, size, nIdx, inner] of one index kernel call. */
export type IndexDims = [outer: number, size: number, nIdx: number, inner: number];

type IndexEntry = 'indexSelect' | 'indexAdd' | 'gather' | 'scatterAdd';

/**
 * Runs one index kernel writing into `out` (contiguous, whole storage: a fresh tensor the caller made):
 * indexSelect/gather overwrite it, indexAdd/scatterAdd add into it.
 */
export function indexK(entry: IndexEntry, op: string, src: Tensor, index: Tensor, out: Tensor, dims: IndexDims): Tensor {
  commonDevice(op, [src, index, out]);
  const [outer, size, nIdx, inner] = dims;
  native[entry](denseBuffer(src) as NumericBuffer, denseBuffer(index) as IndexBuffer, bufferOf(out) as NumericBuffer, outer, size, nIdx, inner);
  return out;
}

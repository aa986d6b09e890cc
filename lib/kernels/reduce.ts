/** Reductions and row softmax on tensors of one device; native on cpu and cuda. */
import { native } from '../native.js';
import type { Tensor } from '../tensor.js';
import type { FloatBuffer, IndexBuffer, NumericBuffer } from '../bindings/reduce.js';
import { bufferOf, commonDevice, deviceOf, denseBuffer, uninitialized } from './runtime.js';
import { kernelFamily } from './family.js';

/** This module's kernel family: its entry points and how each device runs them (see family.ts). */
export const reduceFamily = kernelFamily('reduce', ['reduce', 'softmax', 'softmaxBackward'], { cpu: 'native', cuda: 'native' });

const reduceIds = Object.fromEntries(native.reduceOps.map((n, i) => [n, i])) as Record<string, number>;

/**
 * Reduces `dims` (normalized, sorted) of x (not bool). Returns the contiguous results over the kept dims:
 * values (null for argmax/argmin) and int32 indices (argmax/argmin/max/min, else null).
 */
export function reduceK(op: string, x: Tensor, dims: number[], param = 0): { values: Tensor | null; indices: Tensor | null } {
  const device = deviceOf(x);
  const kept = x.shape.map((_, i) => i).filter((i) => !dims.includes(i));
  const keptShape = kept.map((i) => x.shape[i]!);
  const wantsIndex = op === 'argmax' || op === 'argmin' || op === 'max' || op === 'min';
  const values = op === 'argmax' || op === 'argmin' ? null : uninitialized(keptShape, x.dtype, device);
  const indices = wantsIndex ? uninitialized(keptShape, 'int32', device) : null;
  native.reduce(
    reduceIds[op]!, bufferOf(x) as NumericBuffer, x.offset,
    keptShape, kept.map((i) => x.strides[i]!), dims.map((i) => x.shape[i]!), dims.map((i) => x.strides[i]!),
    values ? (bufferOf(values) as NumericBuffer) : null, indices ? (bufferOf(indices) as IndexBuffer) : null, param,
  );
  return { values, indices };
}

/** Row-wise (log-)softmax of a [rows, n] view (its last dim contiguous rows): a new contiguous tensor. */
export function softmaxK(x: Tensor, rows: number, n: number, log: boolean): Tensor {
  const y = uninitialized(x.shape, x.dtype, deviceOf(x));
  native.softmax(denseBuffer(x) as FloatBuffer, bufferOf(y) as FloatBuffer, rows, n, log);
  return y;
}

/** The input gradient of softmaxK from its output y and the upstream gradient g (same shape). */
export function softmaxBackwardK(g: Tensor, y: Tensor, rows: number, n: number, log: boolean): Tensor {
  const device = commonDevice(log ? 'logSoftmax' : 'softmax', [g, y]);
  const gx = uninitialized(g.shape, g.dtype, device);
  native.softmaxBackward(denseBuffer(g) as FloatBuffer, denseBuffer(y) as FloatBuffer, bufferOf(gx) as FloatBuffer, rows, n, log);
  return gx;
}

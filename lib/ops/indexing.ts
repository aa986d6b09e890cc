/** Index-based selection and accumulation: indexSelect, gather, scatterAdd, oneHot. */
import { publicApi } from '../checks.js';
import type { Tensor } from '../tensor.js';
import type { DType } from '../dtype.js';
import { isFloatDType } from '../dtype.js';
import { attach } from '../autograd/node.js';
import { defineOp } from './registry.js';
import { checkShape, copyAs, deviceOf, empty, toDevice } from '../kernels/runtime.js';
import { elementwiseFamily } from '../kernels/elementwise.js';
import { indexK, indexingFamily } from '../kernels/indexing.js';
import { normalizeDim } from './dims.js';

function requireIndex(op: string, index: Tensor): void {
  if (index.dtype !== 'int32') throw new TypeError(`${op}: index must be int32, got ${index.dtype}`);
}

/** [outer, dim, inner] sizes of `shape` around dim d. */
function around(shape: readonly number[], d: number): [number, number, number] {
  const outer = shape.slice(0, d).reduce((a, b) => a * b, 1);
  const inner = shape.slice(d + 1).reduce((a, b) => a * b, 1);
  return [outer, shape[d]!, inner];
}

/** Gradient helper: zeros of `shape` with src added at index along d (index and src have src's shape). */
export function scatterAddInto(shape: readonly number[], d: number, index: Tensor, src: Tensor): Tensor {
  const [outer, size, inner] = around(shape, d);
  return indexK('scatterAdd', 'scatterAdd', src, index, empty(shape, src.dtype, deviceOf(src)), [outer, size, src.shape[d]!, inner]);
}

/** Rows of x along dim picked by a 1-D int32 index. */
export const indexSelect = defineOp('indexSelect', [indexingFamily, elementwiseFamily], (x: Tensor, dim: number, index: Tensor): Tensor => {
  requireIndex('indexSelect', index);
  if (index.ndim !== 1) throw new RangeError(`indexSelect: index must be 1-D, got shape [${index.shape.join(', ')}]`);
  const d = normalizeDim(dim, x.ndim, 'indexSelect');
  const src = x.dtype === 'bool' ? copyAs(x, 'int32') : x;
  const [outer, size, inner] = around(x.shape, d);
  const shape = [...x.shape];
  shape[d] = index.numel;
  const dims = [outer, size, index.numel, inner] as const;
  const out = indexK('indexSelect', 'indexSelect', src, index, empty(shape, src.dtype, deviceOf(src)), [...dims]);
  const result = x.dtype === 'bool' ? copyAs(out, 'bool') : out;
  if (!isFloatDType(x.dtype)) return result;
  return attach('indexSelect', result, [x], [
    (g) => indexK('indexAdd', 'indexSelect backward', g, index, empty(x.shape, g.dtype, deviceOf(g)), [...dims]),
  ]);
});

function checkAlongDim(op: string, ref: readonly number[], other: readonly number[], d: number, what: string): void {
  if (ref.length !== other.length || ref.some((s, i) => i !== d && s !== other[i])) {
    throw new RangeError(`${op}: ${what} shape [${other.join(', ')}] must match [${ref.join(', ')}] in every dim but ${d}`);
  }
}

/** out[..., j, ...] = x[..., index[..., j, ...], ...] along dim; index has x's shape except along dim. */
export const gather = defineOp('gather', [indexingFamily, elementwiseFamily], (x: Tensor, dim: number, index: Tensor): Tensor => {
  requireIndex('gather', index);
  const d = normalizeDim(dim, x.ndim, 'gather');
  checkAlongDim('gather', x.shape, index.shape, d, 'index');
  const [outer, size, inner] = around(x.shape, d);
  const out = indexK('gather', 'gather', x, index, empty(index.shape, x.dtype, deviceOf(x)), [outer, size, index.shape[d]!, inner]);
  if (!isFloatDType(x.dtype)) return out;
  return attach('gather', out, [x], [(g) => scatterAddInto(x.shape, d, index, g)]);
});

/** x + src added at index along dim (out of place); index has src's shape. */
export const scatterAdd = defineOp('scatterAdd', [indexingFamily, elementwiseFamily], (x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor => {
  requireIndex('scatterAdd', index);
  if (src.dtype !== x.dtype) throw new TypeError(`scatterAdd: src dtype ${src.dtype} must match input dtype ${x.dtype}`);
  const d = normalizeDim(dim, x.ndim, 'scatterAdd');
  if (index.shape.join() !== src.shape.join()) {
    throw new RangeError(`scatterAdd: index shape [${index.shape.join(', ')}] must equal src shape [${src.shape.join(', ')}]`);
  }
  checkAlongDim('scatterAdd', x.shape, src.shape, d, 'src');
  const [outer, size, inner] = around(x.shape, d);
  const out = indexK('scatterAdd', 'scatterAdd', src, index, copyAs(x, x.dtype), [outer, size, src.shape[d]!, inner]);
  if (!isFloatDType(x.dtype)) return out;
  return attach('scatterAdd', out, [x, src], [(g) => g, (g) => gather(g, d, index)]);
});

/** One-hot encoding of int32 class indices: shape [...labels.shape, numClasses]. */
export const oneHot = publicApi('oneHot', function oneHot(labels: Tensor, numClasses: number, dtype: DType = 'int32'): Tensor {
  requireIndex('oneHot', labels);
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new RangeError(`oneHot: numClasses must be a positive integer, got ${numClasses}`);
  }
  checkShape([...labels.shape, numClasses], 'oneHot');
  const flat = labels.dataSync() as Int32Array;
  const out = empty([...labels.shape, numClasses], dtype);
  const data = out.buffer;
  flat.forEach((c, i) => {
    if (c < 0 || c >= numClasses) throw new RangeError(`oneHot: label ${c} at position ${i} is outside [0, ${numClasses})`);
    data[i * numClasses + c] = 1;
  });
  return labels.device === 'cpu' ? out : toDevice(out, deviceOf(labels));
});


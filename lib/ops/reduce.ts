/**
 * Reductions over any set of dims (with keepdim), max/min with indices, softmax and log-softmax.
 * Float inputs accumulate in float64 inside the kernels.
 */
import { publicApi } from '../checks.js';
import type { Tensor, DimArg } from '../tensor.js';
import { attach } from '../autograd/node.js';
import { defineOp } from './registry.js';
import { copyAs, requireFloat } from '../kernels/runtime.js';
import { reduceFamily, reduceK, softmaxBackwardK, softmaxK } from '../kernels/reduce.js';
import { elementwiseFamily } from '../kernels/elementwise.js';
import { indexingFamily } from '../kernels/indexing.js';
import { normalizeDim, reshape, expand, contiguous, transpose } from './shape.js';
import { div, exp, mul, mulScalar, sub, sign, abs, powScalar, eq, where } from './elementwise.js';
import { scatterAddInto } from './indexing.js';
import { isFloatDType } from '../dtype.js';

function normalizeDims(x: Tensor, dim: DimArg | undefined, op: string): number[] {
  if (dim === undefined) return x.shape.map((_, i) => i);
  const dims = (Array.isArray(dim) ? dim : [dim]).map((d) => normalizeDim(d, x.ndim, op));
  // a 0-d tensor's dim 0 (or -1) is the tensor itself, as in PyTorch: nothing to reduce over
  if (x.ndim === 0) return [];
  if (new Set(dims).size !== dims.length) throw new RangeError(`${op}: dims must be distinct, got [${dims.join(', ')}]`);
  return dims.sort((a, b) => a - b);
}

function keptShape(x: Tensor, dims: number[], keepdim: boolean): number[] {
  return keepdim ? x.shape.map((d, i) => (dims.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !dims.includes(i));
}

/** Reshapes a reduced gradient so it broadcasts against x (size 1 in the reduced dims). */
function unreduce(g: Tensor, x: Tensor, dims: number[]): Tensor {
  return expand(reshape(g, x.shape.map((d, i) => (dims.includes(i) ? 1 : d))), x.shape);
}

function reduction(
  name: string, x: Tensor, dim: DimArg | undefined, keepdim: boolean, param: number,
  grad: ((g: Tensor, y: Tensor, dims: number[]) => Tensor) | null,
): Tensor {
  const dims = normalizeDims(x, dim, name);
  const src = name !== 'sum' && name !== 'prod' && !isFloatDType(x.dtype) ? copyAs(x, 'float32') : x.dtype === 'bool' ? copyAs(x, 'int32') : x;
  const values = reshape(reduceK(name, src, dims, param).values!, keptShape(x, dims, keepdim));
  if (!grad || !isFloatDType(x.dtype)) return values;
  return attach(name, values, [x], [(g) => grad(g, values, dims)], [values]);
}

/** Sum over dims (all by default), keeping them as size 1 with keepdim. */
export const sum = defineOp('sum', [reduceFamily, elementwiseFamily], (x: Tensor, dim?: DimArg, keepdim = false): Tensor =>
  reduction('sum', x, dim, keepdim, 0, (g, _y, dims) => unreduce(g, x, dims)));

/** Mean over dims (all by default), keeping them as size 1 with keepdim. */
export const mean = defineOp('mean', [reduceFamily, elementwiseFamily], (x: Tensor, dim?: DimArg, keepdim = false): Tensor =>
  reduction('mean', x, dim, keepdim, 0, (g, _y, dims) => {
    const count = dims.reduce((a, d) => a * x.shape[d]!, 1);
    return mulScalar(unreduce(g, x, dims), 1 / count);
  }));

/** Product over dims (all by default), keeping them as size 1 with keepdim. */
export const prod = defineOp('prod', [reduceFamily, elementwiseFamily], (x: Tensor, dim?: DimArg, keepdim = false): Tensor =>
  reduction('prod', x, dim, keepdim, 0, (g, y, dims) => div(mul(unreduce(g, x, dims), unreduce(y, x, dims)), x)));

/** Variance with Bessel's correction by default (correction 1), as PyTorch. */
export const variance = defineOp('var', [reduceFamily, elementwiseFamily], (x: Tensor, dim?: DimArg, options: { correction?: number; keepdim?: boolean } = {}): Tensor => {
  const correction = options.correction ?? 1;
  return reduction('var', x, dim, options.keepdim ?? false, correction, (g, _y, dims) => {
    const count = dims.reduce((a, d) => a * x.shape[d]!, 1);
    const centered = sub(x, mean(x, dims, true));
    return mul(unreduce(g, x, dims), mulScalar(centered, 2 / Math.max(0, count - correction)));
  });
});

export const std = publicApi('std', function std(x: Tensor, dim?: DimArg, options: { correction?: number; keepdim?: boolean } = {}): Tensor {
  return variance(x, dim, options).sqrt();
});

/** log Σ e^x over dims, computed stably (max subtracted first). */
export const logsumexp = defineOp('logsumexp', [reduceFamily, elementwiseFamily], (x: Tensor, dim: DimArg, keepdim = false): Tensor => {
  requireFloat('logsumexp', x);
  return reduction('logsumexp', x, dim, keepdim, 0, (g, y, dims) => mul(unreduce(g, x, dims), exp(sub(x, unreduce(y, x, dims)))));
});

/** p-norm over dims (all by default): p = 1, 2, Infinity or any p > 0. */
export const norm = defineOp('norm', [reduceFamily, elementwiseFamily], (x: Tensor, p = 2, dim?: DimArg, keepdim = false): Tensor => {
  requireFloat('norm', x);
  if (!(p > 0)) throw new RangeError(`norm: p must be > 0, got ${p}`);
  return reduction('norm', x, dim, keepdim, p, (g, y, dims) => {
    const gy = unreduce(g, x, dims), ny = unreduce(y, x, dims);
    if (p === Infinity) return mul(gy, mul(sign(x), where(eq(abs(x), ny), 1, 0)));
    if (p === 1) return mul(gy, sign(x));
    // d||x||_p/dx = sign(x)|x|^(p-1) / ||x||^(p-1); zero where the norm is zero
    const scaled = div(mul(sign(x), powScalar(abs(x), p - 1)), powScalar(ny, p - 1));
    return mul(gy, where(eq(ny, 0), 0, scaled));
  });
});

interface ValuesIndices {
  values: Tensor;
  indices: Tensor;
}

/** max/min along one dim: values and int32 indices; the gradient flows to the selected element. */
function pick(name: 'max' | 'min', x: Tensor, dim: number, keepdim: boolean): ValuesIndices {
  const d = normalizeDim(dim, x.ndim, name);
  const { values, indices } = reduceK(name, x, [d]);
  const shape = keptShape(x, [d], keepdim);
  const idx = reshape(indices!, shape);
  const vals = reshape(values!, shape);
  if (!isFloatDType(x.dtype)) return { values: vals, indices: idx };
  const out = attach(name, vals, [x], [(g) => scatterAddInto(x.shape, d, reshape(idx, keptShape(x, [d], true)), reshape(g, keptShape(x, [d], true)))]);
  return { values: out, indices: idx };
}

/** Max along one dim: values and int32 indices of the first maximum (NaN wins); the gradient flows to that element. */
export const max = defineOp('max', [reduceFamily, indexingFamily], (x: Tensor, dim: number, keepdim = false): ValuesIndices => pick('max', x, dim, keepdim));
/** Min along one dim: values and int32 indices of the first minimum (NaN wins); the gradient flows to that element. */
export const min = defineOp('min', [reduceFamily, indexingFamily], (x: Tensor, dim: number, keepdim = false): ValuesIndices => pick('min', x, dim, keepdim));

/** Max over all elements (a 0-d tensor). */
export const maxAll = publicApi('maxAll', function maxAll(x: Tensor): Tensor {
  return max(reshape(x, [-1]), 0).values;
});
export const minAll = publicApi('minAll', function minAll(x: Tensor): Tensor {
  return min(reshape(x, [-1]), 0).values;
});

function argReduce(name: 'argmax' | 'argmin', x: Tensor, dim: number | undefined, keepdim: boolean): Tensor {
  if (dim === undefined) return reshape(reduceK(name, reshape(x, [-1]), [0]).indices!, keepdim ? x.shape.map(() => 1) : []);
  const d = normalizeDim(dim, x.ndim, name);
  return reshape(reduceK(name, x, [d]).indices!, keptShape(x, [d], keepdim));
}
/** int32 index of the first maximum along dim, or of the flattened input when dim is omitted. */
export const argmax = defineOp('argmax', [reduceFamily, elementwiseFamily], (x: Tensor, dim?: number, keepdim = false): Tensor => argReduce('argmax', x, dim, keepdim), { differentiable: false });
/** int32 index of the first minimum along dim, or of the flattened input when dim is omitted. */
export const argmin = defineOp('argmin', [reduceFamily, elementwiseFamily], (x: Tensor, dim?: number, keepdim = false): Tensor => argReduce('argmin', x, dim, keepdim), { differentiable: false });

/** x with `dim` moved last, contiguous (a copy only when needed). */
function toLast(x: Tensor, d: number): Tensor {
  return contiguous(d === x.ndim - 1 ? x : transpose(x, d, x.ndim - 1));
}
function fromLast(x: Tensor, d: number): Tensor {
  return d === x.ndim - 1 ? x : transpose(x, d, x.ndim - 1);
}

function softmaxOp(name: 'softmax' | 'logSoftmax', x: Tensor, dim: number): Tensor {
  requireFloat(name, x);
  if (x.ndim === 0) return reshape(softmaxOp(name, reshape(x, [1]), dim), []);
  const d = normalizeDim(dim, x.ndim, name);
  const log = name === 'logSoftmax';
  const xl = toLast(x, d);
  const n = xl.shape[xl.ndim - 1]!;
  const rows = n === 0 ? 0 : xl.numel / n;
  const yl = softmaxK(xl, rows, n, log);
  const y = fromLast(yl, d);
  return attach(name, y, [x], [(g) => fromLast(softmaxBackwardK(toLast(g, d), yl, rows, n, log), d)], [yl]);
}

/** e^x / Σ e^x along dim, computed stably. */
export const softmax = defineOp('softmax', [reduceFamily, elementwiseFamily], (x: Tensor, dim: number): Tensor => softmaxOp('softmax', x, dim));
/** x − logsumexp(x) along dim. */
export const logSoftmax = defineOp('logSoftmax', [reduceFamily, elementwiseFamily], (x: Tensor, dim: number): Tensor => softmaxOp('logSoftmax', x, dim));

/**
 * Views and data movement. Views share storage (reshape of a viewable tensor, permute, expand, narrow,
 * select, squeeze); the rest copy. Gradients of views map the gradient back through the inverse view.
 */
import { publicApi } from '../checks.js';
import { Tensor, contiguousStrides } from '../tensor.js';
import { type DeviceSpec, deviceName, isDeviceSpec } from '../storage.js';
import type { DType } from '../dtype.js';
import { isFloatDType } from '../dtype.js';
import { attach } from '../autograd/node.js';
import { defineOp } from './registry.js';
import { elementwiseFamily } from '../kernels/elementwise.js';
import { reduceFamily } from '../kernels/reduce.js';
import { checkShape, commonDevice, copyAs, copyInto, deviceOf, empty, resolveDevice, toDevice } from '../kernels/runtime.js';
import { fill_ } from './elementwise.js';
import { indexSelect } from './indexing.js';
import { indexedDim, normalizeDim } from './dims.js';

export { normalizeDim } from './dims.js';

function makeView(x: Tensor, shape: readonly number[], strides: readonly number[], offset: number): Tensor {
  return new Tensor(x.storage, shape, strides, offset, x.dtype);
}

/** Records a view op whose gradient is `back(g)`. */
function viewOf(name: string, x: Tensor, out: Tensor, back: (g: Tensor) => Tensor): Tensor {
  return isFloatDType(x.dtype) ? attach(name, out, [x], [back]) : out;
}

/** Resolves one -1 entry and checks the element count matches. */
function inferShape(op: string, x: Tensor, shape: readonly number[]): number[] {
  const out = [...shape];
  const free = out.indexOf(-1);
  if (free !== out.lastIndexOf(-1)) throw new RangeError(`${op}: only one dimension can be -1, got [${shape.join(', ')}]`);
  if (free >= 0) {
    const known = out.reduce((a, d, i) => (i === free ? a : a * d), 1);
    if (known === 0 || x.numel % known !== 0) {
      throw new RangeError(`${op}: cannot reshape a tensor of ${x.numel} elements to [${shape.join(', ')}]`);
    }
    out[free] = x.numel / known;
  }
  const n = checkShape(out, op);
  if (n !== x.numel) {
    throw new RangeError(`${op}: shape [${shape.join(', ')}] has ${n} elements, input [${x.shape.join(', ')}] has ${x.numel}`);
  }
  return out;
}

/** Strides that view x as `shape` without copying, or null when its memory layout does not allow it. */
function viewStrides(x: Tensor, shape: readonly number[]): number[] | null {
  if (x.numel === 0 || x.isContiguous()) return contiguousStrides(shape);
  const old = x.shape, oldStrides = x.strides;
  const strides = new Array<number>(shape.length);
  let viewD = shape.length - 1;
  let chunkBase = oldStrides[old.length - 1]!;
  let tensorNumel = 1, viewNumel = 1;
  for (let d = old.length - 1; d >= 0; d--) {
    tensorNumel *= old[d]!;
    if (d === 0 || (old[d - 1] !== 1 && oldStrides[d - 1] !== tensorNumel * chunkBase)) {
      while (viewD >= 0 && (viewNumel < tensorNumel || shape[viewD] === 1)) {
        strides[viewD] = viewNumel * chunkBase;
        viewNumel *= shape[viewD]!;
        viewD--;
      }
      if (viewNumel !== tensorNumel) return null;
      if (d > 0) {
        chunkBase = oldStrides[d - 1]!;
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  return viewD === -1 ? strides : null;
}

/** A view with a new shape; throws when the layout needs a copy (use reshape). */
export const view = defineOp('view', [elementwiseFamily], (x: Tensor, shape: readonly number[]): Tensor => {
  const target = inferShape('view', x, shape);
  const strides = viewStrides(x, target);
  if (!strides) {
    throw new Error(`view: shape [${shape.join(', ')}] is incompatible with the input's strides [${x.strides.join(', ')}]; use reshape()`);
  }
  return viewOf('view', x, makeView(x, target, strides, x.offset), (g) => reshape(g, x.shape));
});

/** A view when possible, a contiguous copy otherwise. */
export const reshape = publicApi('reshape', function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const target = inferShape('reshape', x, shape);
  return viewStrides(x, target) ? view(x, target) : view(contiguous(x), target);
});

export const flatten = publicApi('flatten', function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normalizeDim(startDim, x.ndim, 'flatten'), e = normalizeDim(endDim, x.ndim, 'flatten');
  if (s > e) throw new RangeError(`flatten: startDim ${startDim} must not come after endDim ${endDim}`);
  const merged = x.shape.slice(s, e + 1).reduce((a, b) => a * b, 1);
  return reshape(x, [...x.shape.slice(0, s), merged, ...x.shape.slice(e + 1)]);
});

export const squeeze = publicApi('squeeze', function squeeze(x: Tensor, dim?: number): Tensor {
  if (dim === undefined) return reshape(x, x.shape.filter((d) => d !== 1));
  const d = normalizeDim(dim, x.ndim, 'squeeze');
  return x.shape[d] === 1 ? reshape(x, x.shape.filter((_, i) => i !== d)) : x;
});

export const unsqueeze = publicApi('unsqueeze', function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normalizeDim(dim, x.ndim, 'unsqueeze', true);
  return reshape(x, [...x.shape.slice(0, d), 1, ...x.shape.slice(d)]);
});

/** A view with the dims reordered: dim i of the result is dim dims[i] of x. */
export const permute = defineOp('permute', [elementwiseFamily], (x: Tensor, dims: readonly number[]): Tensor => {
  if (dims.length !== x.ndim) {
    throw new RangeError(`permute: expected ${x.ndim} dims for input of shape [${x.shape.join(', ')}], got [${dims.join(', ')}]`);
  }
  const order = dims.map((d) => normalizeDim(d, x.ndim, 'permute'));
  if (new Set(order).size !== order.length) throw new RangeError(`permute: dims must be distinct, got [${dims.join(', ')}]`);
  const out = makeView(x, order.map((d) => x.shape[d]!), order.map((d) => x.strides[d]!), x.offset);
  const inverse = new Array<number>(order.length);
  order.forEach((d, i) => (inverse[d] = i));
  return viewOf('permute', x, out, (g) => permute(g, inverse));
});

export const transpose = publicApi('transpose', function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  const a = normalizeDim(dim0, x.ndim, 'transpose'), b = normalizeDim(dim1, x.ndim, 'transpose');
  const order = x.shape.map((_, i) => i);
  [order[a], order[b]] = [order[b]!, order[a]!];
  return permute(x, order);
});

/** Transpose of a matrix (a 0-d or 1-d tensor is returned as is). */
export const t = publicApi('t', function t(x: Tensor): Tensor {
  if (x.ndim > 2) throw new RangeError(`t: expects a tensor with <= 2 dims, got shape [${x.shape.join(', ')}]`);
  return x.ndim < 2 ? x : transpose(x, 0, 1);
});

/** Broadcasts to `shape` without copying (-1 keeps a dim). */
export const expand = defineOp('expand', [reduceFamily], (x: Tensor, shape: readonly number[]): Tensor => {
  const lead = shape.length - x.ndim;
  if (lead < 0) throw new RangeError(`expand: target [${shape.join(', ')}] has fewer dims than input [${x.shape.join(', ')}]`);
  const target = shape.map((d, i) => (d === -1 && i >= lead ? x.shape[i - lead]! : d));
  checkShape(target, 'expand');
  const strides = target.map((d, i) => {
    if (i < lead) return 0;
    const xd = x.shape[i - lead]!;
    if (xd === d) return x.strides[i - lead]!;
    if (xd === 1) return 0;
    throw new RangeError(`expand: input [${x.shape.join(', ')}] cannot expand to [${shape.join(', ')}] (dim ${i}: ${xd} vs ${d})`);
  });
  return viewOf('expand', x, makeView(x, target, strides, x.offset), (g) => g);
});

/** The gradient of a view that selects part of x: g written into zeros of x's shape. */
function scatterToView(g: Tensor, x: Tensor, select: (z: Tensor) => Tensor): Tensor {
  const z = empty(x.shape, g.dtype, deviceOf(g));
  copyInto(select(z), g);
  return z;
}

/** Elements start, start+step, ... below end along dim (negative start/end count from the end). */
export const slice = defineOp('slice', [elementwiseFamily], (x: Tensor, dim: number, start = 0, end?: number, step = 1): Tensor => {
  const d = indexedDim(dim, x.shape, 'slice');
  const size = x.shape[d]!;
  if (!Number.isInteger(step) || step < 1) throw new RangeError(`slice: step must be a positive integer, got ${step}`);
  const clampIndex = (v: number) => Math.min(Math.max(v < 0 ? v + size : v, 0), size);
  if (!Number.isInteger(start) || (end !== undefined && !Number.isInteger(end))) {
    throw new RangeError(`slice: start and end must be integers, got ${start} and ${end}`);
  }
  const s = clampIndex(start), e = Math.max(s, clampIndex(end ?? size));
  const shape = [...x.shape];
  shape[d] = Math.ceil((e - s) / step);
  const strides = [...x.strides];
  strides[d] = x.strides[d]! * step;
  const out = makeView(x, shape, strides, x.offset + (shape[d] ? s * x.strides[d]! : 0));
  return viewOf('slice', x, out, (g) => scatterToView(g, x, (z) => slice(z, d, s, e, step)));
});

export const narrow = publicApi('narrow', function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const d = indexedDim(dim, x.shape, 'narrow');
  const size = x.shape[d]!;
  const s = start < 0 ? start + size : start;
  if (!Number.isInteger(s) || !Number.isInteger(length) || s < 0 || length < 0 || s + length > size) {
    throw new RangeError(`narrow: start ${start} and length ${length} must lie within dim ${dim} of size ${size}`);
  }
  return slice(x, d, s, s + length);
});

/** Removes dim by taking one index of it. */
export const select = publicApi('select', function select(x: Tensor, dim: number, index: number): Tensor {
  const d = indexedDim(dim, x.shape, 'select');
  const size = x.shape[d]!;
  if (!Number.isInteger(index) || index < -size || index >= size) {
    throw new RangeError(`select: index ${index} is out of range for dim ${dim} of size ${size}`);
  }
  return squeeze(narrow(x, d, index < 0 ? index + size : index, 1), d);
});

export const split = publicApi('split', function split(x: Tensor, sizeOrSections: number | number[], dim = 0): Tensor[] {
  const d = indexedDim(dim, x.shape, 'split');
  const size = x.shape[d]!;
  let sizes: number[];
  if (typeof sizeOrSections === 'number') {
    if (!Number.isInteger(sizeOrSections) || sizeOrSections <= 0) {
      throw new RangeError(`split: split size must be a positive integer, got ${sizeOrSections}`);
    }
    sizes = [];
    for (let s = 0; s < size; s += sizeOrSections) sizes.push(Math.min(sizeOrSections, size - s));
  } else {
    sizes = sizeOrSections;
    const total = sizes.reduce((a, b) => a + b, 0);
    if (total !== size) throw new RangeError(`split: sections [${sizes.join(', ')}] sum to ${total}, dim ${dim} has size ${size}`);
  }
  let start = 0;
  return sizes.map((len) => {
    const part = narrow(x, d, start, len);
    start += len;
    return part;
  });
});

export const chunk = publicApi('chunk', function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  if (!Number.isInteger(chunks) || chunks <= 0) throw new RangeError(`chunk: chunks must be a positive integer, got ${chunks}`);
  const size = x.shape[indexedDim(dim, x.shape, 'chunk')]!;
  return split(x, Math.max(1, Math.ceil(size / chunks)), dim);
});

export const unbind = publicApi('unbind', function unbind(x: Tensor, dim = 0): Tensor[] {
  const d = indexedDim(dim, x.shape, 'unbind');
  return Array.from({ length: x.shape[d]! }, (_, i) => select(x, d, i));
});

/** Joins tensors along an existing dim. */
export const cat = defineOp('cat', [elementwiseFamily], (tensors: readonly Tensor[], dim = 0): Tensor => {
  if (tensors.length === 0) throw new RangeError('cat: expects a non-empty list of tensors');
  const first = tensors[0]!;
  commonDevice('cat', tensors);
  const d = normalizeDim(dim, first.ndim, 'cat');
  let total = 0;
  tensors.forEach((t, i) => {
    if (t.dtype !== first.dtype) throw new TypeError(`cat: tensor ${i} has dtype ${t.dtype}, tensor 0 has ${first.dtype}`);
    if (t.ndim !== first.ndim || t.shape.some((s, j) => j !== d && s !== first.shape[j])) {
      throw new RangeError(`cat: tensor ${i} has shape [${t.shape.join(', ')}], incompatible with [${first.shape.join(', ')}] along dim ${d}`);
    }
    total += t.shape[d]!;
  });
  const shape = [...first.shape];
  shape[d] = total;
  const out = empty(shape, first.dtype, deviceOf(first));
  const starts: number[] = [];
  let start = 0;
  for (const t of tensors) {
    starts.push(start);
    copyInto(narrow(out, d, start, t.shape[d]!), t);
    start += t.shape[d]!;
  }
  if (!isFloatDType(first.dtype)) return out;
  return attach('cat', out, [...tensors], tensors.map((t, i) => (g: Tensor) => narrow(g, d, starts[i]!, t.shape[d]!)));
});

/** Joins tensors along a new dim. */
export const stack = publicApi('stack', function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new RangeError('stack: expects a non-empty list of tensors');
  const d = normalizeDim(dim, tensors[0]!.ndim, 'stack', true);
  tensors.forEach((t, i) => {
    if (t.shape.join() !== tensors[0]!.shape.join()) {
      throw new RangeError(`stack: tensor ${i} has shape [${t.shape.join(', ')}], tensor 0 has [${tensors[0]!.shape.join(', ')}]`);
    }
  });
  return cat(tensors.map((t) => unsqueeze(t, d)), d);
});

/**
 * Constant padding, PyTorch order: [left, right] for the last dim, then [top, bottom] for the one
 * before, and so on. Padding amounts must be >= 0.
 */
export const pad = defineOp('pad', [elementwiseFamily], (x: Tensor, padding: readonly number[], value = 0): Tensor => {
  if (padding.length % 2 !== 0 || padding.length / 2 > x.ndim) {
    throw new RangeError(`pad: padding must have an even length of at most ${2 * x.ndim}, got [${padding.join(', ')}]`);
  }
  if (padding.some((p) => !Number.isInteger(p) || p < 0)) {
    throw new RangeError(`pad: padding amounts must be non-negative integers, got [${padding.join(', ')}]`);
  }
  const shape = [...x.shape];
  const region = (z: Tensor): Tensor => {
    let v = z;
    for (let k = 0; k < padding.length / 2; k++) v = narrow(v, x.ndim - 1 - k, padding[2 * k]!, x.shape[x.ndim - 1 - k]!);
    return v;
  };
  for (let k = 0; k < padding.length / 2; k++) shape[x.ndim - 1 - k]! += padding[2 * k]! + padding[2 * k + 1]!;
  const out = empty(shape, x.dtype, deviceOf(x));
  if (value !== 0) fill_(out, value);
  copyInto(region(out), x);
  if (!isFloatDType(x.dtype)) return out;
  return attach('pad', out, [x], [(g) => region(g)]);
});

/** Reverses the order of elements along dims (a copy). */
export const flip = publicApi('flip', function flip(x: Tensor, dims: number | number[]): Tensor {
  let out = x;
  for (const dim of Array.isArray(dims) ? dims : [dims]) {
    const d = indexedDim(dim, x.shape, 'flip');
    const n = x.shape[d]!;
    const reversed = Tensor.fromArray(Int32Array.from({ length: n }, (_, i) => n - 1 - i));
    out = indexSelect(out, d, toDevice(reversed, deviceOf(x)));
  }
  return out === x ? clone(x) : out;
});

/** A contiguous copy (records identity gradient). */
export const clone = defineOp('clone', [elementwiseFamily], (x: Tensor): Tensor => {
  const out = copyAs(x, x.dtype);
  return isFloatDType(x.dtype) ? attach('clone', out, [x], [(g) => g]) : out;
});

export const contiguous = publicApi('contiguous', function contiguous(x: Tensor): Tensor {
  return x.isContiguous() ? x : clone(x);
});

const dtypes: readonly string[] = ['float32', 'float64', 'int32', 'bool'];

/**
 * Converts dtype or device (a copy; x itself when it already has that dtype or is on that device, as
 * PyTorch). Devices: 'cpu', 'cuda' (cuda:0) or 'cuda:N'; when CUDA is not usable it throws the reason.
 */
export const to = defineOp('to', [elementwiseFamily], (x: Tensor, target: DType | DeviceSpec): Tensor => {
  if (isDeviceSpec(target)) {
    const device = resolveDevice(target, `to('${target}')`);
    if (deviceName(device) === x.deviceName) return x;
    const out = toDevice(x, device);
    if (!isFloatDType(x.dtype)) return out;
    const from = deviceOf(x);
    return attach('to', out, [x], [(g) => toDevice(g, from)]);
  }
  if (!dtypes.includes(target)) {
    throw new TypeError(`to: unknown dtype or device '${String(target)}'`);
  }
  if (target === x.dtype) return x;
  const out = copyAs(x, target);
  if (!isFloatDType(x.dtype) || !isFloatDType(target)) return out;
  return attach('to', out, [x], [(g) => copyAs(g, x.dtype)]);
});

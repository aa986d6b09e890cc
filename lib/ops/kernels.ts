/**
 * The one place where tensor ops reach a device: allocation and the strided native kernels, dispatched
 * on the storage's device. Everything here works on tensors and knows nothing of autograd.
 */
import { native } from '../native.js';
import { DType, isFloatDType } from '../dtype.js';
import { allocateStorage } from '../memory.js';
import { Tensor, contiguousStrides } from '../tensor.js';

const opIds = (names: readonly string[]): Record<string, number> =>
  Object.fromEntries(names.map((n, i) => [n, i]));
export const unaryIds = opIds(native.unaryOps);
export const binaryIds = opIds(native.binaryOps);
export const compareIds = opIds(native.compareOps);
export const reduceIds = opIds(native.reduceOps);

/** Validates a shape (non-negative integers, element count within 2^53) and returns its element count. */
export function checkShape(shape: readonly number[], op: string, what = 'shape'): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new RangeError(`${op}: ${what} must contain non-negative integers, got [${shape.join(', ')}]`);
    }
    n *= d;
  }
  if (n > 2 ** 53) throw new RangeError(`${op}: ${what} [${shape.join(', ')}] has more than 2^53 elements`);
  if (shape.length > 16) throw new RangeError(`${op}: at most 16 dims are supported, got ${shape.length}`);
  return n;
}

/** A new contiguous tensor (zero-filled on CPU). */
export function empty(shape: readonly number[], dtype: DType = 'float32'): Tensor {
  const n = checkShape(shape, 'empty');
  return new Tensor(allocateStorage(dtype, n, true), [...shape], contiguousStrides(shape), 0, dtype);
}

/**
 * A new contiguous tensor whose contents are undefined: for kernel outputs that write every element
 * (skips the zero fill, which costs as much as a memory-bound kernel).
 */
export function uninitialized(shape: readonly number[], dtype: DType = 'float32'): Tensor {
  const n = checkShape(shape, 'empty');
  return new Tensor(allocateStorage(dtype, n, false), [...shape], contiguousStrides(shape), 0, dtype);
}

function requireCpu(op: string, ...ts: Tensor[]): void {
  for (const t of ts) {
    if (t.device !== 'cpu') throw new Error(`${op}: tensor on ${t.device} is not supported by this build`);
  }
}

export function requireFloat(op: string, t: Tensor, arg = 'input'): void {
  if (!isFloatDType(t.dtype)) throw new TypeError(`${op}: ${arg} must be float32 or float64, got ${t.dtype}`);
}

export function requireSameDType(op: string, a: Tensor, b: Tensor): void {
  if (a.dtype !== b.dtype) {
    throw new TypeError(`${op}: dtypes must match, got ${a.dtype} and ${b.dtype} (convert one with .to())`);
  }
}

/** NumPy broadcasting of two shapes. */
export function broadcastShapes(op: string, a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1, db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new RangeError(
        `${op}: shapes [${a.join(', ')}] and [${b.join(', ')}] are not broadcastable (dim ${i}: ${da} vs ${db})`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides that read `t` as if expanded to `shape` (0 along broadcast dims). */
export function broadcastStrides(t: Tensor, shape: readonly number[]): number[] {
  const lead = shape.length - t.ndim;
  return shape.map((d, i) => (i < lead || t.shape[i - lead] !== d ? 0 : t.strides[i - lead]!));
}

/** A tensor an in-place op offers as the output of its kernel (see writeInto), or null. */
let destination: Tensor | null = null;

function sameLayout(a: Tensor, b: Tensor): boolean {
  return a.offset === b.offset && a.strides.every((s, i) => s === b.strides[i]) && a.shape.every((d, i) => d === b.shape[i]);
}

/**
 * Runs fn offering `target` as the output of the first kernel whose result has target's shape and dtype
 * and whose inputs do not overlap target in another layout (an input that is target itself is fine:
 * every element is read before it is written). Returns what fn returns: target itself when it was used.
 */
export function writeInto(target: Tensor, fn: () => Tensor): Tensor {
  const previous = destination;
  destination = target;
  try {
    return fn();
  } finally {
    destination = previous;
  }
}

/** The output of an elementwise kernel: the offered destination when it fits, else a new tensor. */
function output(shape: readonly number[], dtype: DType, inputs: readonly Tensor[]): Tensor {
  const d = destination;
  const fits = d !== null && d.dtype === dtype && d.ndim === shape.length && d.shape.every((s, i) => s === shape[i]) &&
    inputs.every((t) => t.storage !== d.storage || sameLayout(t, d));
  if (!fits) return uninitialized(shape, dtype);
  destination = null;
  return d;
}

export function unaryK(op: string, x: Tensor, a = 0, b = 0): Tensor {
  requireCpu(op, x);
  const out = output(x.shape, x.dtype, [x]);
  native.unary(unaryIds[op]!, [...x.shape], out.buffer, out.offset, [...out.strides], x.buffer, x.offset, [...x.strides], a, b);
  return out;
}

export function binaryK(op: string, x: Tensor, y: Tensor, alpha = 1, beta = 0, name = op): Tensor {
  requireCpu(name, x, y);
  requireSameDType(name, x, y);
  const shape = broadcastShapes(name, x.shape, y.shape);
  const out = output(shape, x.dtype, [x, y]);
  native.binary(
    binaryIds[op]!, shape, out.buffer, out.offset, [...out.strides],
    x.buffer, x.offset, broadcastStrides(x, shape), y.buffer, y.offset, broadcastStrides(y, shape), alpha, beta,
  );
  return out;
}

export function compareK(op: string, x: Tensor, y: Tensor): Tensor {
  requireCpu(op, x, y);
  requireSameDType(op, x, y);
  const shape = broadcastShapes(op, x.shape, y.shape);
  const out = uninitialized(shape, 'bool');
  native.compare(
    compareIds[op]!, shape, out.buffer as Uint8Array, 0, [...out.strides],
    x.buffer, x.offset, broadcastStrides(x, shape), y.buffer, y.offset, broadcastStrides(y, shape),
  );
  return out;
}

export function whereK(cond: Tensor, x: Tensor, y: Tensor): Tensor {
  requireCpu('where', cond, x, y);
  requireSameDType('where', x, y);
  if (cond.dtype !== 'bool') throw new TypeError(`where: condition must be bool, got ${cond.dtype}`);
  const shape = broadcastShapes('where', broadcastShapes('where', cond.shape, x.shape), y.shape);
  const out = output(shape, x.dtype, [cond, x, y]);
  native.where(
    shape, out.buffer, out.offset, [...out.strides], cond.buffer as Uint8Array, cond.offset, broadcastStrides(cond, shape),
    x.buffer, x.offset, broadcastStrides(x, shape), y.buffer, y.offset, broadcastStrides(y, shape),
  );
  return out;
}

/** Writes src (broadcast to dst's shape, converting dtype) into the view dst. */
export function copyInto(dst: Tensor, src: Tensor): void {
  requireCpu('copy', dst, src);
  broadcastShapes('copy_', src.shape, dst.shape);
  native.copy([...dst.shape], dst.buffer, dst.offset, [...dst.strides], src.buffer, src.offset, broadcastStrides(src, dst.shape));
  dst.storage.version++;
}

/** A contiguous copy in `dtype`. */
export function copyAs(x: Tensor, dtype: DType): Tensor {
  const out = uninitialized(x.shape, dtype);
  requireCpu('copy', x);
  native.copy([...x.shape], out.buffer, 0, [...out.strides], x.buffer, x.offset, [...x.strides]);
  return out;
}

/** Reduces `dims` (normalized, sorted) of x. Returns the contiguous result over the kept dims. */
export function reduceK(op: string, x: Tensor, dims: number[], param = 0): { values: Tensor | null; indices: Tensor | null } {
  requireCpu(op, x);
  const kept = x.shape.map((_, i) => i).filter((i) => !dims.includes(i));
  const keptShape = kept.map((i) => x.shape[i]!);
  const wantsIndex = op === 'argmax' || op === 'argmin' || op === 'max' || op === 'min';
  const values = op === 'argmax' || op === 'argmin' ? null : uninitialized(keptShape, x.dtype);
  const indices = wantsIndex ? uninitialized(keptShape, 'int32') : null;
  native.reduce(
    reduceIds[op]!, x.buffer as Float32Array, x.offset,
    keptShape, kept.map((i) => x.strides[i]!), dims.map((i) => x.shape[i]!), dims.map((i) => x.strides[i]!),
    values ? (values.buffer as Float32Array) : null, indices ? (indices.buffer as Int32Array) : null, param,
  );
  return { values, indices };
}

/** Fills a new tensor from the shared counter-based generator (see random.ts). */
export function randomK(shape: readonly number[], dtype: DType, kind: number, seed: number, offset: number, a: number, b: number): Tensor {
  const out = uninitialized(shape, dtype);
  native.random(out.buffer, kind, seed, offset, a, b);
  return out;
}

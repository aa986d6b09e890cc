/**
 * The tensor side of the kernel layer: shape and dtype checks, allocation on a device, the operands a
 * native call takes (a typed array on cpu, a device handle on cuda), and copies within and across devices.
 */
import { native } from '../native.js';
import { type DType, type TypedArray, arrayConstructors, isFloatDType } from '../dtype.js';
import { allocateStorage } from '../memory.js';
import { type CpuStorage, type DeviceId, type DeviceSpec, parseDevice } from '../storage.js';
import { Tensor, contiguousStrides } from '../tensor.js';
import { checkShape } from '../checks.js';
import type { AnyBuffer } from '../bindings/elementwise.js';
import { type DeviceHandle, deviceDownload, deviceDownloadAsync, deviceUpload, requireCudaDevice } from './device.js';

export const cpu: DeviceId = { type: 'cpu', index: 0 };

/**
 * A native shape rule (an output size, say) memoized by its arguments. The rule lives once, in C++, where the
 * kernels check it; a training step asks it the same few questions every step, and a native call with array
 * arguments costs microseconds. A rule's arguments have a fixed structure (numbers, flags and fixed-length
 * arrays of them), so their flattened values identify a question; the last `capacity` answers are kept and
 * looked up by comparing values (no key string is built: joining the arrays cost more than the lookup).
 * Errors are not cached. Results are shared between callers, so they are frozen.
 */
export function memoizedShapeRule<A extends readonly unknown[], R>(rule: (...args: A) => R, capacity = 16): (...args: A) => R {
  const keys: unknown[][] = [], results: R[] = [];
  let next = 0;
  const flat: unknown[] = [];
  const flatten = (args: readonly unknown[]): void => {
    flat.length = 0;
    for (const a of args) {
      if (Array.isArray(a)) {
        flat.push(a.length);
        for (const v of a) flat.push(v);
      } else flat.push(a);
    }
  };
  const find = (): number => {
    for (let e = 0; e < keys.length; e++) {
      const key = keys[e]!;
      if (key.length !== flat.length) continue;
      let i = 0;
      while (i < flat.length && key[i] === flat[i]) i++;
      if (i === flat.length) return e;
    }
    return -1;
  };
  return (...args: A): R => {
    flatten(args);
    const hit = find();
    if (hit >= 0) return results[hit]!;
    const result = Object.freeze(rule(...args));
    keys[next] = flat.slice();
    results[next] = result;
    next = (next + 1) % capacity;
    return result;
  };
}

export { asOp, checkShape } from '../checks.js';

export function requireFloat(op: string, t: Tensor, arg = 'input'): void {
  if (!isFloatDType(t.dtype)) throw new TypeError(`${op}: ${arg} must be float32 or float64, got ${t.dtype}`);
}

export function requireSameDType(op: string, a: Tensor, b: Tensor): void {
  if (a.dtype !== b.dtype) {
    throw new TypeError(`${op}: dtypes must match, got ${a.dtype} and ${b.dtype} (convert one with .to())`);
  }
}

export function deviceOf(t: Tensor): DeviceId {
  return { type: t.device, index: t.deviceIndex };
}

function sameDevice(a: DeviceId, b: DeviceId): boolean {
  return a.type === b.type && a.index === b.index;
}

/**
 * The one device of the given tensors (nulls skipped; cpu when none is given). Checked here, before the
 * native call, so that the message names the op: "add: expected all tensors on one device, got cuda:0 and cpu".
 */
export function commonDevice(op: string, tensors: ReadonlyArray<Tensor | null | undefined>): DeviceId {
  // Compared field by field: this runs on every kernel call, and most calls are all-cpu.
  let first: Tensor | null = null;
  for (const t of tensors) {
    if (!t) continue;
    if (first === null) first = t;
    else if (t.device !== first.device || t.deviceIndex !== first.deviceIndex) {
      throw new Error(`${op}: expected all tensors on one device, got ${first.deviceName} and ${t.deviceName}`);
    }
  }
  return first === null || first.device === 'cpu' ? cpu : deviceOf(first);
}

/** Parses a device spec and checks that it is usable: a cuda device throws the reason it is not. */
export function resolveDevice(spec: DeviceSpec | undefined, op: string): DeviceId {
  if (spec === undefined) return cpu;
  const device = parseDevice(spec, op);
  if (device.type === 'cuda') requireCudaDevice(op, device.index);
  return device;
}

function allocate(shape: readonly number[], dtype: DType, device: DeviceId, zero: boolean, op: string): Tensor {
  const n = checkShape(shape, op);
  let storage;
  try {
    storage = allocateStorage(dtype, n, zero, device);
  } catch (e) {
    // a size the host cannot hold: the allocator's RangeError, named after the op that asked
    if (e instanceof RangeError) e.message = `${op}: ${e.message}`;
    throw e;
  }
  return new Tensor(storage, [...shape], contiguousStrides(shape), 0, dtype);
}

/** A new contiguous zero-filled tensor (`op` names the public op in a shape error). */
export function empty(shape: readonly number[], dtype: DType = 'float32', device: DeviceId = cpu, op = 'empty'): Tensor {
  return allocate(shape, dtype, device, true, op);
}

/**
 * A new contiguous tensor whose contents are undefined: for kernel outputs that write every element
 * (skips the zero fill, which costs as much as a memory-bound kernel).
 */
export function uninitialized(shape: readonly number[], dtype: DType = 'float32', device: DeviceId = cpu): Tensor {
  return allocate(shape, dtype, device, false, 'empty');
}

/** The device handle of a cuda tensor's storage. */
function handleOf(t: Tensor): DeviceHandle {
  const s = t.storage;
  if (s.device !== 'cuda') throw new Error(`tensorforge: expected a cuda tensor, got one on ${t.deviceName}`);
  return s.handle;
}

/** What a native entry point takes for t's storage: its typed array (cpu) or its device handle (cuda). */
export function bufferOf(t: Tensor): AnyBuffer {
  const s = t.storage;
  return s.device === 'cpu' ? s.data : s.handle;
}

/** NumPy broadcasting of two shapes. */
export function broadcastShapes(op: string, a: readonly number[], b: readonly number[]): readonly number[] {
  if (sameShape(a, b)) return a;  // most calls: nothing to broadcast, nothing to allocate
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

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Strides that read `t` as if expanded to `shape` (0 along broadcast dims). */
export function broadcastStrides(t: Tensor, shape: readonly number[]): readonly number[] {
  if (sameShape(t.shape, shape)) return t.strides;
  const lead = shape.length - t.ndim;
  return shape.map((d, i) => (i < lead || t.shape[i - lead] !== d ? 0 : t.strides[i - lead]!));
}

/**
 * Throws unless an in-place write by `op` into t is well defined: a view whose elements share memory (an
 * expanded view: stride 0 along a dim of size > 1) would have several results written to one element, and
 * PyTorch refuses it too. Views here come from expand, slice, permute, select and reshape, so a zero stride
 * is the only way two elements of one view can share memory. O(ndim).
 */
export function checkWritable(op: string, t: Tensor): void {
  for (let i = 0; i < t.strides.length; i++) {
    if (t.strides[i] === 0 && t.shape[i]! > 1) {
      throw new Error(
        `${op}: the destination is an expanded view whose elements share memory (stride 0 along dim ${i} of size ${t.shape[i]}), ` +
          `shape [${t.shape.join(', ')}]; call .contiguous() / clone() first`,
      );
    }
  }
}

/** The first and last storage element t's view reaches (t non-empty). */
function extent(t: Tensor): [number, number] {
  let lo = t.offset, hi = t.offset;
  for (let i = 0; i < t.strides.length; i++) {
    const reach = t.strides[i]! * (t.shape[i]! - 1);
    if (reach < 0) lo += reach;
    else hi += reach;
  }
  return [lo, hi];
}

/**
 * Whether reading `src` while writing `dst` element by element could read an element already written: they
 * share a storage, their extents intersect, and the layouts differ (the same layout reads each element
 * before writing it). Conservative (interleaved views that never touch count as overlapping), as PyTorch's
 * check is; the caller then copies src first. O(ndim).
 */
export function mayOverlap(dst: Tensor, src: Tensor): boolean {
  if (src.storage !== dst.storage || src.numel === 0 || dst.numel === 0) return false;
  if (src.offset === dst.offset && src.ndim === dst.ndim && src.shape.every((d, i) => d === dst.shape[i] && src.strides[i] === dst.strides[i])) {
    return false;
  }
  const [a0, a1] = extent(dst), [b0, b1] = extent(src);
  return a0 <= b1 && b0 <= a1;
}

/**
 * Writes src (broadcast to dst's shape, converting dtype) into the view dst; both on one device. `op` is
 * the public op, for errors. A src that overlaps dst in another layout is copied first (PyTorch's copy_
 * does the same), so `a.copy_(a.T)` and shifted slices read the values from before the write.
 */
export function copyInto(dst: Tensor, src: Tensor, op = 'copy_'): void {
  commonDevice(op, [dst, src]);
  broadcastShapes(op, src.shape, dst.shape);
  checkWritable(op, dst);
  if (mayOverlap(dst, src)) src = copyAs(src, src.dtype);
  native.copy(dst.shape, bufferOf(dst), dst.offset, dst.strides, bufferOf(src), src.offset, broadcastStrides(src, dst.shape));
  dst.storage.version++;
}

/** A contiguous copy in `dtype` on x's device. */
export function copyAs(x: Tensor, dtype: DType): Tensor {
  const out = uninitialized(x.shape, dtype, deviceOf(x));
  native.copy(x.shape, bufferOf(out), 0, out.strides, bufferOf(x), x.offset, x.strides);
  return out;
}

/** Whether t is contiguous and spans its whole storage from element 0. */
function isWholeStorage(t: Tensor): boolean {
  return t.offset === 0 && t.numel === t.storage.length && t.isContiguous();
}

/**
 * t's elements as one contiguous buffer from element 0, for the entry points that take no offset or
 * strides: on cpu a zero-copy subarray where the layout allows; on cuda the handle itself when t spans
 * its storage, else a contiguous copy's. Not recorded by autograd.
 */
export function denseBuffer(t: Tensor): AnyBuffer {
  if (t.device === 'cpu' && t.isContiguous()) return hostView(t);
  return bufferOf(isWholeStorage(t) ? t : copyAs(t, t.dtype));
}

/** A contiguous cpu tensor's elements without copying: the whole array when t spans it, else a subarray. */
function hostView(t: Tensor): TypedArray {
  const data = (t.storage as CpuStorage).data;
  return t.offset === 0 && t.numel === data.length ? data : data.subarray(t.offset, t.offset + t.numel);
}

/** A host array for the elements of a cuda tensor (contiguous on the device first when needed). */
function downloadTarget(t: Tensor): { source: Tensor; out: TypedArray } {
  return { source: isWholeStorage(t) ? t : copyAs(t, t.dtype), out: new arrayConstructors[t.dtype](t.numel) };
}

/** t's elements in row-major order on the host: see Tensor.dataSync. */
export function hostData(t: Tensor): TypedArray {
  if (t.device === 'cpu') return t.isContiguous() ? hostView(t) : copyAs(t, t.dtype).buffer;
  const { source, out } = downloadTarget(t);
  deviceDownload(handleOf(source), 0, out);
  return out;
}

/** As hostData, without blocking the event loop while a cuda device finishes its work. */
export async function hostDataAsync(t: Tensor): Promise<TypedArray> {
  if (t.device === 'cpu') return hostData(t);
  const { source, out } = downloadTarget(t);
  await deviceDownloadAsync(handleOf(source), 0, out);
  return out;
}

/**
 * A contiguous copy of t on `device` with t's dtype and shape (t itself when already there); between two
 * cuda devices it goes through the host. Not recorded by autograd: ops/shape.ts's `to` attaches the gradient.
 */
export function toDevice(t: Tensor, device: DeviceId): Tensor {
  if (sameDevice(deviceOf(t), device)) return t;
  // from cuda, hostData is a fresh download that the cpu tensor can own
  if (device.type === 'cpu') return Tensor.fromArray(hostData(t), t.shape);
  const out = uninitialized(t.shape, t.dtype, device);
  deviceUpload(handleOf(out), 0, hostData(t));
  return out;
}

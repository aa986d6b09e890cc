/**
 * Tensor creation: from data, constant fills, ranges, identity, and random tensors, on any device.
 * Random tensors hold the same numbers on every device for the same generator state.
 */
import './ops/install.js';
import { Tensor, type NestedArray } from './tensor.js';
import type { DeviceId, DeviceSpec } from './storage.js';
import { DType, TypedArray, allocate, isFloatDType } from './dtype.js';
import { checkDType, checkShape, describe, publicApi } from './checks.js';
import { empty as emptyK, resolveDevice, toDevice } from './kernels/runtime.js';
import { fillK } from './kernels/elementwise.js';
import { randomK } from './kernels/random.js';
import { nextStream } from './random.js';

export interface CreateOptions {
  dtype?: DType;
  requiresGrad?: boolean;
  /** 'cpu' (default), 'cuda' or 'cuda:N'. */
  device?: DeviceSpec;
}

/**
 * The device options ask for, checked to be usable, after checking the options themselves (`op` names the
 * caller in the error).
 */
function deviceFor(options: CreateOptions, op: string): DeviceId {
  if (options === null || typeof options !== 'object') throw new TypeError(`${op}: options must be an object, got ${describe(options)}`);
  if (options.dtype !== undefined) checkDType(options.dtype, op);
  if (options.device !== undefined && typeof options.device !== 'string') {
    throw new TypeError(`${op}: device must be 'cpu', 'cuda' or 'cuda:N', got ${describe(options.device)}`);
  }
  return resolveDevice(options.device, op);
}

/** Moves a tensor built on the host to the requested device and applies requiresGrad. */
function finish(t: Tensor, options: CreateOptions, device: DeviceId): Tensor {
  const placed = toDevice(t, device);
  if (options.requiresGrad) placed.requiresGrad = true;
  return placed;
}

function inferShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let level: NestedArray = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0]!;
  }
  return shape;
}

/**
 * A tensor from nested arrays, a number, or a typed array (wrapped without copying; its dtype follows
 * the array unless options.dtype asks for a conversion).
 */
export const tensor = publicApi('tensor', function tensor(data: NestedArray | TypedArray, options: CreateOptions & { shape?: number[] } = {}): Tensor {
  const device = deviceFor(options, 'tensor');
  if (ArrayBuffer.isView(data)) {
    const t = Tensor.fromArray(data as TypedArray, options.shape, 'tensor');
    return finish(options.dtype && options.dtype !== t.dtype ? t.to(options.dtype) : t, options, device);
  }
  if (typeof data !== 'number' && typeof data !== 'boolean' && !Array.isArray(data)) {
    throw new TypeError(`tensor: data must be a number, nested arrays of numbers or a typed array, got ${describe(data)}`);
  }
  const shape = inferShape(data as NestedArray);
  const flat = (Array.isArray(data) ? (data as unknown[]).flat(Infinity) : [data]) as unknown[];
  const n = checkShape(shape, 'tensor');
  if (flat.length !== n) throw new RangeError(`tensor: nested arrays are ragged; shape [${shape.join(', ')}] needs ${n} numbers, got ${flat.length}`);
  flat.forEach((v, i) => {
    if (typeof v !== 'number' && typeof v !== 'boolean') throw new TypeError(`tensor: element ${i} is not a number: ${String(v)}`);
  });
  const dtype = options.dtype ?? 'float32';
  const arr = allocate(dtype, n);
  for (let i = 0; i < n; i++) arr[i] = Number(flat[i]);
  return finish(Tensor.fromArray(arr, shape), options, device);
});

/** Wraps a typed array with a shape, no copy (for the kinds asTensorArray in dtype.ts wraps). */
export const fromArray = publicApi('fromArray', function fromArray(data: TypedArray, shape?: readonly number[]): Tensor {
  return Tensor.fromArray(data, shape, 'fromArray');
});

/** A tensor of `shape` filled with `value` (`op` names the public function in errors). */
function filled(op: string, shape: readonly number[], value: number, options: CreateOptions): Tensor {
  const device = deviceFor(options, op);
  if (typeof value !== 'number' && typeof value !== 'boolean') throw new TypeError(`${op}: fill value must be a number, got ${describe(value)}`);
  const t = emptyK(shape, options.dtype ?? 'float32', device, op);
  if (value !== 0) fillK(t, Number(value));
  return finish(t, options, device);
}

export const empty = publicApi('empty', function empty(shape: readonly number[], options: CreateOptions = {}): Tensor {
  return filled('empty', shape, 0, options);
});

export const zeros = publicApi('zeros', function zeros(shape: readonly number[], options: CreateOptions = {}): Tensor {
  return filled('zeros', shape, 0, options);
});

export const full = publicApi('full', function full(shape: readonly number[], value: number, options: CreateOptions = {}): Tensor {
  return filled('full', shape, value, options);
});

export const ones = publicApi('ones', function ones(shape: readonly number[], options: CreateOptions = {}): Tensor {
  return filled('ones', shape, 1, options);
});

/** t's dtype and device unless options say otherwise (PyTorch's *_like). */
const like = (t: Tensor, options: CreateOptions): CreateOptions => ({ dtype: t.dtype, device: t.deviceName, ...options });

export const zerosLike = publicApi('zerosLike', function zerosLike(t: Tensor, options: CreateOptions = {}): Tensor {
  return zeros(t.shape, like(t, options));
});
export const onesLike = publicApi('onesLike', function onesLike(t: Tensor, options: CreateOptions = {}): Tensor {
  return ones(t.shape, like(t, options));
});
export const fullLike = publicApi('fullLike', function fullLike(t: Tensor, value: number, options: CreateOptions = {}): Tensor {
  return full(t.shape, value, like(t, options));
});

/** start, start+step, ... below end (arange(n) is 0..n-1). */
export const arange = publicApi('arange', function arange(start: number, end?: number, step = 1, options: CreateOptions = {}): Tensor {
  if (end === undefined) [start, end] = [0, start];
  if (step === 0 || !Number.isFinite(step)) throw new RangeError(`arange: step must be finite and non-zero, got ${step}`);
  if (!Number.isFinite(start) || !Number.isFinite(end)) throw new RangeError(`arange: bounds must be finite, got ${start} and ${end}`);
  const device = deviceFor(options, 'arange');
  const n = Math.max(0, Math.ceil((end - start) / step));
  const dtype = options.dtype ?? ([start, end, step].every(Number.isInteger) ? 'int32' : 'float32');
  const t = emptyK([n], dtype, undefined, 'arange');
  const data = t.buffer;
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return finish(t, options, device);
});

/** `steps` evenly spaced values from start to end inclusive. */
export const linspace = publicApi('linspace', function linspace(start: number, end: number, steps: number, options: CreateOptions = {}): Tensor {
  if (!Number.isInteger(steps) || steps < 0) throw new RangeError(`linspace: steps must be a non-negative integer, got ${steps}`);
  const device = deviceFor(options, 'linspace');
  const t = emptyK([steps], options.dtype ?? 'float32', undefined, 'linspace');
  const data = t.buffer;
  const delta = steps > 1 ? (end - start) / (steps - 1) : 0;
  for (let i = 0; i < steps; i++) data[i] = i === steps - 1 ? end : start + i * delta;
  return finish(t, options, device);
});

/** n×m identity (m defaults to n). */
export const eye = publicApi('eye', function eye(n: number, m = n, options: CreateOptions = {}): Tensor {
  const device = deviceFor(options, 'eye');
  const t = emptyK([n, m], options.dtype ?? 'float32', undefined, 'eye');
  const data = t.buffer;
  for (let i = 0; i < Math.min(n, m); i++) data[i * m + i] = 1;
  return finish(t, options, device);
});

function random(shape: readonly number[], kind: number, a: number, b: number, options: CreateOptions, op: string): Tensor {
  const device = deviceFor(options, op);
  const dtype = options.dtype ?? 'float32';
  if (kind !== 3 && !isFloatDType(dtype)) throw new TypeError(`${op}: dtype must be float32 or float64, got ${dtype}`);
  const n = checkShape(shape, op);
  const { seed, offset } = nextStream(n);
  return finish(randomK(shape, dtype, kind, seed, offset, a, b, device), options, device);
}

/** Uniform in [low, high) (default [0, 1)). */
export const rand = publicApi('rand', function rand(shape: readonly number[], options: CreateOptions & { low?: number; high?: number } = {}): Tensor {
  return random(shape, 0, options.low ?? 0, options.high ?? 1, options, 'rand');
});

/** Normal with mean and std (default standard normal). */
export const randn = publicApi('randn', function randn(shape: readonly number[], options: CreateOptions & { mean?: number; std?: number } = {}): Tensor {
  return random(shape, 1, options.mean ?? 0, options.std ?? 1, options, 'randn');
});

/** Integers uniform in [low, high), int32 by default. */
export const randint = publicApi('randint', function randint(low: number, high: number, shape: readonly number[], options: CreateOptions = {}): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
    throw new RangeError(`randint: need integers low < high, got ${low} and ${high}`);
  }
  return random(shape, 3, low, high, { dtype: 'int32', ...options }, 'randint');
});

/** 1 with probability p (a number or a tensor of probabilities), else 0. */
export const bernoulli = publicApi('bernoulli', function bernoulli(p: number | Tensor, shape?: readonly number[], options: CreateOptions = {}): Tensor {
  if (typeof p === 'number') {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`bernoulli: p must be in [0, 1], got ${p}`);
    return random(shape ?? [], 2, p, 0, options, 'bernoulli');
  }
  const u = rand(p.shape, { dtype: p.dtype, device: p.deviceName });
  return u.lt(p).to(p.dtype);
});

export const randLike = publicApi('randLike', function randLike(t: Tensor): Tensor {
  return rand(t.shape, { dtype: t.dtype, device: t.deviceName });
});
export const randnLike = publicApi('randnLike', function randnLike(t: Tensor): Tensor {
  return randn(t.shape, { dtype: t.dtype, device: t.deviceName });
});

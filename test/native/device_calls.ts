/**
 * Calls a native entry point on the cpu and on cuda:0 with the same arguments, for the cuda_* kernel suites:
 * each typed-array argument becomes a device handle holding its data, and after the call every handle is
 * downloaded back, so outputs can be compared position by position with a cpu call's.
 */
import { expect } from 'vitest';
import { native } from '../../lib/native.js';
import { makeRng, randomArray, type Rng } from '../util.js';

export type Handle = { readonly __deviceHandle: unique symbol };
export type HostArray = Float32Array | Float64Array | Int32Array | Uint8Array;
interface DeviceSurface {
  deviceCount(): number;
  deviceAlloc(device: number, dtype: number, length: number, zero: boolean): Handle;
  deviceFree(handle: Handle): void;
  deviceUpload(handle: Handle, offset: number, src: HostArray): void;
  deviceDownload(handle: Handle, offset: number, dst: HostArray): void;
}
/** The device-memory entry points, which lib/ does not type. */
export const dev = native as unknown as DeviceSurface;
const ops = native as unknown as Record<string, (...args: unknown[]) => unknown>;

export const deviceCount = dev.deviceCount();

const DTYPE_CODE = new Map<unknown, number>([[Float32Array, 0], [Float64Array, 1], [Int32Array, 2], [Uint8Array, 3]]);
const isHostArray = (v: unknown): v is HostArray => ArrayBuffer.isView(v) && DTYPE_CODE.has(v.constructor);

/** A new cuda:0 buffer holding a's elements (its length is a's: entry points read a handle's length as the tensor's). */
export function upload(a: HostArray): Handle {
  const h = dev.deviceAlloc(0, DTYPE_CODE.get(a.constructor)!, a.length, false);
  if (a.length > 0) dev.deviceUpload(h, 0, a);
  return h;
}

/** A copy of `like` holding the first like.length elements of h. */
export function download<A extends HostArray>(h: Handle, like: A): A {
  const out = like.slice() as A;
  if (out.length > 0) dev.deviceDownload(h, 0, out);
  return out;
}

/** A copy of every typed array in args (other values kept), so two calls never share an output. */
export function cloneArgs(args: readonly unknown[]): unknown[] {
  return args.map((a) => (isHostArray(a) ? a.slice() : a));
}

/** native[name](...args) on the cpu; outputs land in the arrays of args. */
export function callOnCpu(name: string, args: unknown[]): void {
  ops[name]!(...args);
}

/**
 * native[name](...args) with each typed array uploaded to cuda:0 (its contents: outputs start with whatever
 * the array held, NaN-filled by the callers so an unwritten element shows); every array then holds its
 * handle's contents after the call.
 */
export function callOnDevice(name: string, args: unknown[]): void {
  const handles = new Map<HostArray, Handle>();
  try {
    const mapped = args.map((a) => {
      if (!isHostArray(a)) return a;
      const h = upload(a);
      handles.set(a, h);
      return h;
    });
    ops[name]!(...mapped);
    for (const [a, h] of handles) if (a.length > 0) dev.deviceDownload(h, 0, a);
  } finally {
    for (const h of handles.values()) dev.deviceFree(h);
  }
}

/** n random values in [lo, hi) rounded to float32, as a Float64Array (the same values in either dtype). */
export function f32Values(n: number, rng: Rng, lo = -2, hi = 2): Float64Array {
  return Float64Array.from(randomArray(Float32Array, n, rng, lo, hi));
}

/** An output array of n NaNs in `dtype`'s array type. */
export function nans(Arr: Float32ArrayConstructor | Float64ArrayConstructor, n: number): Float32Array | Float64Array {
  return new Arr(n).fill(NaN);
}

/**
 * Largest |a - b| / (atol + rtol * |b|) over the elements (NaN where one is NaN and the other is not): at most 1
 * when a is within tolerance of b. Equal NaNs and equal infinities count as equal.
 */
export function worstError(a: ArrayLike<number>, b: ArrayLike<number>, atol: number, rtol: number): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!, y = b[i]!;
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (Number.isNaN(x) !== Number.isNaN(y)) return NaN;
      continue;
    }
    if (x === y) continue;
    worst = Math.max(worst, Math.abs(x - y) / (atol + rtol * Math.abs(y)));
  }
  return worst;
}

export type FloatCtor = Float32ArrayConstructor | Float64ArrayConstructor;

export interface Tolerance {
  atol: number;
  rtol: number;
}

/** How a suite compares a cuda call with the cpu. */
export interface Expectation {
  /** Argument positions the call writes (those holding null are skipped). */
  outputs: number[];
  /** Same arithmetic as the cpu kernel: each dtype's cuda result equals the cpu's bit for bit. */
  bitwise?: boolean;
  /** Against the float64 cpu reference, per dtype of the cuda call. */
  float32: Tolerance;
  float64: Tolerance;
}

/**
 * Runs native[name] on cuda with makeArgs(Float32Array) and makeArgs(Float64Array) (the same values: callers draw
 * float32-representable ones) and compares each output with the float64 cpu call (integer outputs exactly), and,
 * when `bitwise`, with the cpu call of the same dtype. `label` names the case in failures.
 */
export function expectDeviceMatchesCpu(label: string, name: string, makeArgs: (Arr: FloatCtor) => unknown[], e: Expectation): void {
  const reference = makeArgs(Float64Array);
  callOnCpu(name, reference);
  for (const Arr of [Float32Array, Float64Array] as const) {
    const onDevice = makeArgs(Arr);
    callOnDevice(name, onDevice);
    const sameDtype = e.bitwise ? makeArgs(Arr) : null;
    if (sameDtype) callOnCpu(name, sameDtype);
    const tol = Arr === Float32Array ? e.float32 : e.float64;
    for (const i of e.outputs) {
      const got = onDevice[i] as HostArray | null, want = reference[i] as HostArray;
      if (got === null) continue;
      const what = `${label}: ${name} ${Arr.name} output ${i}`;
      const integer = got instanceof Int32Array;
      expect(worstError(got, want, integer ? 0 : tol.atol, integer ? 0 : tol.rtol), `${what} vs the float64 cpu reference`).toBeLessThanOrEqual(1);
      if (sameDtype) expect(worstError(got, sameDtype[i] as HostArray, 0, 0), `${what} vs the ${Arr.name} cpu call, bit for bit`).toBe(0);
    }
  }
}

export { makeRng };

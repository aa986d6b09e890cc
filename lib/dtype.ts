/** Element types. float64 exists for gradchecks and references; bool is the result of comparisons. */
export type DType = 'float32' | 'float64' | 'int32' | 'bool';

export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;
export type FloatArray = Float32Array | Float64Array;

export const arrayConstructors = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  bool: Uint8Array,
} as const;

export function isFloatDType(dtype: DType): dtype is 'float32' | 'float64' {
  return dtype === 'float32' || dtype === 'float64';
}

/** The dtype whose storage `a` is; a TypeError for any other kind of array (see asTensorArray). */
export function dtypeOfArray(a: TypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Uint8Array) return 'bool';
  throw new TypeError(`tensor: a ${(a as object)?.constructor?.name ?? typeof a} is not a tensor storage array (Float32Array, Float64Array, Int32Array or Uint8Array)`);
}

/** Integer arrays read into int32 (a copy), every value of which int32 holds exactly. */
const widenedToInt32 = [Int8Array, Int16Array, Uint16Array, Uint8ClampedArray];
/** Integer arrays read into int32 when every value fits (a copy; a RangeError names the first that does not). */
const narrowedToInt32 = [Uint32Array, BigInt64Array, BigUint64Array];

/**
 * The storage array for typed array `data` given to `op` (tensor, fromArray), as PyTorch's
 * torch.from_numpy maps NumPy's kinds onto its dtypes, given ours (float32, float64, int32, bool):
 * Float32Array, Float64Array and Int32Array are wrapped without copying; Uint8Array is the bool storage
 * (wrapped; pass dtype 'int32' to read bytes as numbers); Int8, Int16, Uint16 and Uint8Clamped arrays are
 * copied into int32, exactly; Uint32, BigInt64 and BigUint64 arrays are copied into int32 when every value
 * fits and refused otherwise (RangeError). Any other object, a DataView, or an array whose ArrayBuffer was
 * detached (transferred to a worker) is refused with a TypeError.
 */
export function asTensorArray(data: ArrayBufferView, op: string): TypedArray {
  const kind = (data as object)?.constructor?.name ?? typeof data;
  if (!ArrayBuffer.isView(data) || data instanceof DataView) {
    throw new TypeError(`${op}: data must be a typed array, got ${data instanceof DataView ? 'a DataView' : kind}`);
  }
  if (data.byteLength === 0 && isDetached(data)) {
    throw new TypeError(`${op}: the ${kind}'s ArrayBuffer is detached (transferred elsewhere); pass an array that owns its memory`);
  }
  if (data instanceof Float32Array || data instanceof Float64Array || data instanceof Int32Array) return data;
  if (data instanceof Uint8Array) return data;
  if (widenedToInt32.some((C) => data instanceof C)) return Int32Array.from(data as unknown as ArrayLike<number>);
  if (narrowedToInt32.some((C) => data instanceof C)) {
    const src = data as unknown as ArrayLike<number | bigint>;
    const out = new Int32Array(src.length);
    for (let i = 0; i < src.length; i++) {
      const v = src[i]!;
      if (v > 2147483647 || v < -2147483648) {
        throw new RangeError(`${op}: element ${i} of the ${kind} (${v}) does not fit int32, the widest integer dtype`);
      }
      out[i] = Number(v);
    }
    return out;
  }
  throw new TypeError(`${op}: a ${kind} has no tensor dtype (float32, float64, int32, bool); convert it to a Float32Array or Float64Array first`);
}

/** Whether a view's ArrayBuffer was detached (Node 20 has no ArrayBuffer.prototype.detached). */
function isDetached(view: ArrayBufferView): boolean {
  try {
    new Uint8Array(view.buffer, 0, 0);
    return false;
  } catch {
    return true;
  }
}

export function allocate(dtype: DType, n: number): TypedArray {
  return new arrayConstructors[dtype](n);
}

/** Machine epsilon of a float dtype (float32 for the others). */
export function epsilonOf(dtype: DType): number {
  return dtype === 'float64' ? Number.EPSILON : 1.1920928955078125e-7;
}

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

export function dtypeOfArray(a: TypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  return 'bool';
}

export function allocate(dtype: DType, n: number): TypedArray {
  return new arrayConstructors[dtype](n);
}

/** Machine epsilon of a float dtype (float32 for the others). */
export function epsilonOf(dtype: DType): number {
  return dtype === 'float64' ? Number.EPSILON : 1.1920928955078125e-7;
}

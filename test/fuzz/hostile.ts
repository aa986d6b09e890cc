/**
 * Hostile argument values for the native-boundary fuzzer: each mutation keeps the JS side cheap (no
 * allocation sized by a hostile number) while the native side sees sizes, offsets and buffers that
 * disagree with each other.
 */
import fc from 'fast-check';

/** Dimensions and integers that break naive size arithmetic. */
export const HOSTILE_NUMBERS: readonly number[] = [
  0, 1, 3, 7, -1, 1.5, NaN, Infinity, -Infinity, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 1, 2 ** 53, 2 ** 53 + 2, -0,
  -(2 ** 31), -(2 ** 53), Number.MAX_VALUE, Number.MIN_VALUE, 2 ** 62, 255, 256, 65535,
];

const hostileNumber = fc.constantFrom(...HOSTILE_NUMBERS);

/** Shapes of rank 0–6 from the hostile dims, plus ones whose element count overflows 64 bits. */
const hostileDims: fc.Arbitrary<unknown> = fc.oneof(
  fc.array(hostileNumber, { maxLength: 6 }),
  fc.constantFrom(
    [2 ** 21, 2 ** 21, 2 ** 21],
    [2 ** 31 - 1, 2 ** 31 - 1, 2 ** 31 - 1],
    [2 ** 53, 2 ** 53],
    [3, 2 ** 32 + 1, 2 ** 32 + 1],
    [0, 2 ** 53, 2 ** 53, 7],
    new Array(17).fill(1),
    [1, , 3], // a hole
    ['2', '3'],
    [1n, 2n],
  ),
);

const junk: fc.Arbitrary<unknown> = fc.constantFrom(
  undefined, null, '', 'x', '3', true, false, {}, [], 3n, Symbol('s'), () => 0, new ArrayBuffer(16),
  new DataView(new ArrayBuffer(16)), { length: 4, 0: 1 }, new Date(0),
);

const strings = fc.constantFrom('', 'none', 'mean', 'sum', 'MEAN', 'mean\0', 'nearest', 'bilinear', 'bicubic', 'x'.repeat(10_000));

const TYPED = [
  Float32Array, Float64Array, Int32Array, Uint8Array, Int8Array, Int16Array, Uint16Array, Uint32Array,
  Uint8ClampedArray,
] as const;
type Typed = InstanceType<(typeof TYPED)[number]>;
type TypedCtor = new (buffer: ArrayBufferLike, byteOffset?: number, length?: number) => Typed;

function isTyped(v: unknown): v is Typed {
  return ArrayBuffer.isView(v) && !(v instanceof DataView) && !(v instanceof BigInt64Array) && !(v instanceof BigUint64Array);
}

function detached(v: Typed): Typed {
  const copy = v.slice() as Typed;
  structuredClone(copy.buffer, { transfer: [copy.buffer as ArrayBuffer] });
  return copy;
}

/** Same kind, fewer elements, starting at a nonzero byteOffset inside a larger ArrayBuffer. */
function offsetShorter(v: Typed, shortBy: number, skip: number): Typed {
  const Ctor = v.constructor as TypedCtor;
  const len = Math.max(0, v.length - shortBy);
  const bytes = v.BYTES_PER_ELEMENT;
  const buf = new ArrayBuffer((len + skip + 2) * bytes);
  const out = new Ctor(buf, skip * bytes, len);
  out.set(v.subarray(0, len) as never);
  return out;
}

/** Values a typed-array argument can be replaced with. */
function typedMutation(v: Typed): fc.Arbitrary<unknown> {
  const n = v.length;
  return fc.oneof(
    fc.integer({ min: 1, max: Math.max(1, n) }).map((k) => v.subarray(0, n - k)), // shorter, same memory
    fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 5 })).map(([k, s]) => offsetShorter(v, k, s)),
    fc.integer({ min: 0, max: 3 }).map((s) => offsetShorter(v, 0, s)), // same length, offset into a bigger buffer
    fc.constant(new (v.constructor as new (n: number) => Typed)(0)),
    fc.constantFrom(...TYPED).filter((C) => !(v instanceof C)).map((C) => new C(n)), // wrong kind
    fc.constant(new BigInt64Array(n)),
    fc.constant(Array.from(v)), // plain array
    fc.constant(detached(v)),
    fc.constant(new (v.constructor as TypedCtor)(new SharedArrayBuffer(n * v.BYTES_PER_ELEMENT))),
    // contents hostile: class targets, indices, masks out of range
    fc.constantFrom(-1, -100, 3, 1000, 2 ** 31 - 1, -(2 ** 31), 255).map((x) => {
      const out = v.slice() as Typed;
      if (out.length) out[out.length - 1] = x;
      return out;
    }),
    fc.constantFrom(NaN, Infinity, -Infinity).map((x) => (v.slice() as Typed).fill(x)),
  );
}

function numberMutation(v: number): fc.Arbitrary<unknown> {
  return fc.oneof(
    hostileNumber,
    fc.constantFrom(v + 1, v - 1, v * 2, v + 0.5, -v, v * 1024),
    fc.integer({ min: -4, max: 64 }),
    fc.double(),
    fc.constant(String(v)),
  );
}

function dimsMutation(v: unknown[]): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.tuple(fc.nat({ max: Math.max(0, v.length - 1) }), fc.oneof(hostileNumber, fc.integer({ min: -2, max: 12 }))).map(
      ([i, x]) => v.map((d, k) => (k === i ? x : d)),
    ),
    fc.constant(v.slice(0, -1)),
    hostileNumber.map((x) => [...v, x]),
    hostileDims,
    fc.constant(Int32Array.from(v as number[])),
  );
}

/** A value to put in place of `v`, chosen by what `v` is. */
export function mutationOf(v: unknown): fc.Arbitrary<unknown> {
  let specific: fc.Arbitrary<unknown>;
  if (isTyped(v)) specific = typedMutation(v);
  else if (typeof v === 'number') specific = numberMutation(v);
  else if (Array.isArray(v)) specific = dimsMutation(v);
  else if (typeof v === 'boolean') specific = fc.constantFrom(!v, 0, 1, 'true', null);
  else if (typeof v === 'string') specific = strings;
  else specific = fc.oneof(typedMutation(new Float32Array(4)), hostileNumber);
  return fc.oneof({ arbitrary: specific, weight: 4 }, { arbitrary: junk, weight: 1 });
}

/** Any argument at all, for fully random calls. */
export const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileNumber,
  fc.integer({ min: -2, max: 64 }),
  hostileDims,
  junk,
  strings,
  fc.boolean(),
  fc.tuple(fc.constantFrom(...TYPED), fc.nat({ max: 64 })).map(([C, n]) => new C(n)),
);

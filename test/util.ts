/**
 * Test helpers shared by every suite: a seeded generator whose seed is fresh per run (printed on
 * failure through the returned label), random arrays, and closeness checks against float64 references.
 */
import { expect } from 'vitest';

export interface Rng {
  seed: number;
  /** uniform in [0, 1) */
  next(): number;
  /** uniform in [lo, hi) */
  uniform(lo?: number, hi?: number): number;
  /** integer in [lo, hi] */
  int(lo: number, hi: number): number;
  normal(): number;
}

/** mulberry32; pass TF_TEST_SEED to replay a failing run. */
export function makeRng(seed: number = Number(process.env.TF_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31))): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    seed,
    next,
    uniform: (lo = -1, hi = 1) => lo + (hi - lo) * next(),
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    normal: () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next()),
  };
}

export function randomArray(Ctor: Float32ArrayConstructor, n: number, rng: Rng, lo?: number, hi?: number): Float32Array;
export function randomArray(Ctor: Float64ArrayConstructor, n: number, rng: Rng, lo?: number, hi?: number): Float64Array;
export function randomArray(
  Ctor: Float32ArrayConstructor | Float64ArrayConstructor, n: number, rng: Rng, lo?: number, hi?: number,
): Float32Array | Float64Array;
/** n values uniform in [lo, hi) (default [-1, 1)). */
export function randomArray(
  Ctor: Float32ArrayConstructor | Float64ArrayConstructor,
  n: number,
  rng: Rng,
  lo = -1,
  hi = 1,
): Float32Array | Float64Array {
  const out = new Ctor(n);
  for (let i = 0; i < n; i++) out[i] = rng.uniform(lo, hi);
  return out;
}

/**
 * Asserts |actual[i] - expected[i]| <= atol + rtol * |expected[i]| everywhere; the message names the
 * first offending index, both values, and the seed that reproduces it.
 */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  opts: { atol?: number; rtol?: number; seed?: number; label?: string } = {},
): void {
  const { atol = 1e-5, rtol = 1e-5 } = opts;
  expect(actual.length, `${opts.label ?? ''} length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!, e = expected[i]!;
    const ok = Number.isNaN(e) ? Number.isNaN(a) : Math.abs(a - e) <= atol + rtol * Math.abs(e) || a === e;
    if (!ok) {
      expect.fail(
        `${opts.label ?? 'values'} differ at index ${i}: got ${a}, expected ${e} ` +
          `(atol ${atol}, rtol ${rtol}${opts.seed !== undefined ? `, TF_TEST_SEED=${opts.seed}` : ''})`,
      );
    }
  }
}

/** Central differences of the scalar f() with respect to every element of v (perturbed in place). */
export function numericGrad(f: () => number, v: Float64Array, h = 1e-6): Float64Array {
  const g = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const keep = v[i]!;
    v[i] = keep + h;
    const up = f();
    v[i] = keep - h;
    const down = f();
    v[i] = keep;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Tolerances of a float64 central-difference gradient check. */
export const gradTol = { atol: 1e-5, rtol: 1e-3 };

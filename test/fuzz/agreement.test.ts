/**
 * The TypeScript layer and the native layer agree on what they reject: for shapes, reshape, matmul,
 * conv2d and maxPool2d geometry drawn from small and hostile values, the TS function accepts exactly
 * when the native entry point (given the same geometry) accepts, and both compute the same output shape.
 * Known, deliberate differences are listed where they are filtered out.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { native } from '../../lib/native.js';
import { checkShape } from '../../lib/kernels/runtime.js';
import { zeros } from '../../lib/creation.js';
import { reshape } from '../../lib/ops/shape.js';
import { matmul } from '../../lib/ops/linalg.js';
import { F } from '../../lib/nn/index.js';
import type { Pair, Shape4 } from '../../lib/bindings/conv.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 250);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const params = { numRuns: RUNS, seed: SEED, endOnFailure: true };

function accepts(f: () => unknown): { ok: true; value: unknown } | { ok: false; error: unknown } {
  try {
    return { ok: true, value: f() };
  } catch (error) {
    return { ok: false, error };
  }
}

const contiguous = (shape: number[]): number[] => shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));

/**
 * Whether native.copy accepts `shape`: with empty buffers and zero strides it gets past the shape check
 * only to stop at the buffer length (no kernel ever runs over a huge shape).
 */
function nativeAcceptsShape(shape: number[]): boolean {
  const zero = shape.map(() => 0);
  const r = accepts(() => native.copy(shape, new Float32Array(0), 0, zero, new Float32Array(0), 0, zero));
  return r.ok || /needs at least 1 elements/.test(String(r.error));
}

/**
 * The one documented difference: TS multiplies all dims, so a 0 anywhere makes the count 0; native checks
 * the running product and rejects an overflowing prefix before it reaches the 0 ([2^53, 2^53, 0]).
 */
function zeroAfterOverflow(shape: number[]): boolean {
  let n = 1;
  for (const d of shape) {
    if (d === 0) return n > 2 ** 53;
    n *= d;
  }
  return false;
}

const HOSTILE_DIMS = [0, 1, 3, 7, -1, 1.5, NaN, Infinity, 2 ** 31 - 1, 2 ** 53, -0];

describe('TypeScript and native checks agree', () => {
  it('tensor shapes: checkShape (used by every creation function) vs the native shape check', () => {
    fc.assert(fc.property(fc.array(fc.constantFrom(...HOSTILE_DIMS), { maxLength: 6 }), (shape) => {
      const ts = accepts(() => checkShape(shape, 'zeros'));
      const nat = nativeAcceptsShape(shape);
      expect(nat, `shape [${shape}]`).toBe(ts.ok && !zeroAfterOverflow(shape));
      if (ts.ok && (ts.value as number) <= 4096) expect(zeros(shape).shape).toEqual(shape);
    }), params);
  });

  it('reshape: the resolved target shape is one native accepts exactly when TS does', () => {
    fc.assert(fc.property(
      fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 }),
      fc.array(fc.constantFrom(0, 1, 2, 3, 4, 6, -1, 1.5, NaN, 2 ** 53), { maxLength: 4 }),
      (from, to) => {
        const x = zeros(from);
        const ts = accepts(() => reshape(x, to).shape);
        // TS resolves one -1 from the element count before native ever sees a shape.
        const target = ts.ok ? (ts.value as number[]) : to;
        const n = x.numel;
        // Strides of an empty tensor are never used (and contiguous ones may pass 2^53 next to a 0 dim).
        const strides = n === 0 ? target.map(() => 0) : contiguous(target);
        const nat = accepts(() => native.copy(target, new Float32Array(n), 0, strides, new Float32Array(n), 0, strides));
        if (ts.ok) expect(nat.ok, `reshape [${from}] -> [${to}]`).toBe(!zeroAfterOverflow(target));
        else if (!to.includes(-1)) expect(nat.ok && checkShape(to, 'reshape') === n, `reshape [${from}] -> [${to}]`).toBe(false);
      },
    ), params);
  });

  it('matmul: every product TS accepts, including empty dims, native gemm accepts with exact buffers', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 }),
      (m, k, k2, n) => {
        const ts = accepts(() => matmul(zeros([m, k]), zeros([k2, n])).shape);
        expect(ts.ok, `[${m}, ${k}] @ [${k2}, ${n}]`).toBe(k === k2);
        if (!ts.ok) return;
        expect(ts.value).toEqual([m, n]);
        const nat = accepts(() => native.gemm(1, false, false, m, n, k, 1, new Float32Array(m * k), 0, Math.max(1, k), 0,
          new Float32Array(k * n), 0, Math.max(1, n), 0, 0, new Float32Array(m * n), 0, Math.max(1, n), 0));
        expect(nat.ok, `gemm ${m}x${k} @ ${k}x${n}: ${nat.ok ? '' : String(nat.error)}`).toBe(true);
      }), params);
  });

  const small = fc.integer({ min: 0, max: 5 });
  const pair = (values: number[]): fc.Arbitrary<Pair> => fc.tuple(fc.constantFrom(...values), fc.constantFrom(...values));

  it('conv2d: F.conv2d accepts exactly the geometry conv2dOutputShape accepts, with the same output shape', () => {
    fc.assert(fc.property(
      fc.tuple(small, small, small, small), fc.tuple(small, fc.integer({ min: 0, max: 3 }), small, small),
      pair([-1, 0, 1, 2, 1.5]), pair([-1, 0, 1, 2]), pair([0, 1, 2]), fc.constantFrom(0, 1, 2, 3, 1.5),
      (xShape, wShape, stride, padding, dilation, groups) => {
        const ts = accepts(() => F.conv2d(zeros(xShape), zeros(wShape), null, { stride, padding, dilation, groups }).shape);
        const nat = accepts(() => native.conv2dOutputShape(xShape as Shape4, wShape as Shape4, stride, padding, dilation, groups));
        const label = `x [${xShape}] w [${wShape}] stride ${stride} padding ${padding} dilation ${dilation} groups ${groups}`;
        expect(nat.ok, `${label}: TS ${ts.ok ? 'accepts' : String(ts.error)}, native ${nat.ok ? 'accepts' : String(nat.error)}`).toBe(ts.ok);
        if (ts.ok && nat.ok) expect(ts.value, label).toEqual(nat.value);
      },
    ), params);
  });

  it('maxPool2d: F.maxPool2d accepts exactly the geometry pool2dOutputShape accepts, with the same output shape', () => {
    fc.assert(fc.property(
      fc.tuple(small, small, small, small), pair([-1, 0, 1, 2, 3]), pair([-1, 0, 1, 2, 1.5]), pair([-1, 0, 1, 2]),
      pair([0, 1, 2]), fc.boolean(),
      (xShape, kernel, stride, padding, dilation, ceilMode) => {
        const ts = accepts(() => F.maxPool2d(zeros(xShape), kernel, { stride, padding, dilation, ceilMode }).shape);
        const nat = accepts(() => native.pool2dOutputShape(xShape as Shape4, kernel, stride, padding, dilation, ceilMode));
        const label = `x [${xShape}] kernel ${kernel} stride ${stride} padding ${padding} dilation ${dilation} ceil ${ceilMode}`;
        expect(nat.ok, `${label}: TS ${ts.ok ? 'accepts' : String(ts.error)}, native ${nat.ok ? 'accepts' : String(nat.error)}`).toBe(ts.ok);
        if (ts.ok && nat.ok) expect(ts.value, label).toEqual(nat.value);
      },
    ), params);
  });
});

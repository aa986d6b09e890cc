/**
 * Property-based fuzzing of the raw native binding, bypassing the TypeScript layer: every entry point is
 * called with its valid baseline mutated in 1–3 arguments, with arguments missing or extra, with
 * another argument aliased in, and with fully random arguments. Each call must return or throw a
 * TypeError/RangeError whose message starts with the entry point's name; a crash or an out-of-bounds
 * access kills this file's worker (or trips the sanitizer build, scripts/test-asan.sh).
 *
 * FUZZ_RUNS sets the mutated calls per entry point (default 250; `npm run fuzz` uses 2000);
 * FUZZ_SEED replays a run; FUZZ_TRACE=file writes each call there before making it, so the last line
 * names the input of a call that crashed.
 */
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { native } from '../../lib/native.js';
import { specs } from './specs.js';
import { anyValue, mutationOf } from './hostile.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 250);
const RANDOM_RUNS = Math.max(20, Math.round(RUNS / 5));
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

const TRACE = process.env.FUZZ_TRACE;

/** A one-line rendering of an argument list: typed arrays by kind, length and byte offset. */
function render(args: unknown[]): string {
  return args
    .map((a) => {
      if (ArrayBuffer.isView(a)) {
        const n = 'length' in a ? (a as { length: number }).length : a.byteLength;
        return `${a.constructor.name}(${n}${a.byteOffset ? ` @${a.byteOffset}` : ''})`;
      }
      if (typeof a === 'string') return JSON.stringify(a.length > 20 ? `${a.slice(0, 20)}...` : a);
      if (typeof a === 'bigint') return `${a}n`;
      if (typeof a === 'symbol' || typeof a === 'function') return typeof a;
      if (Array.isArray(a)) return `[${render(a)}]`;
      return Object.is(a, -0) ? '-0' : String(a);
    })
    .join(', ');
}

const addon = native as unknown as Record<string, unknown>;
const entryPoints = Object.keys(addon).filter((k) => typeof addon[k] === 'function').sort();

/** Calls the entry point; passes when it returns, or throws a TypeError/RangeError naming it. */
function callChecked(name: string, args: unknown[]): void {
  const fn = addon[name] as (...a: unknown[]) => unknown;
  if (TRACE) writeFileSync(TRACE, `${name}(${render(args)})\n`, { flag: 'a' });
  try {
    fn(...args);
  } catch (err) {
    if (!(err instanceof TypeError || err instanceof RangeError)) {
      throw new Error(`${name} threw a non-Type/RangeError: ${String(err)}`);
    }
    if (!err.message.startsWith(`${name}:`)) throw new Error(`${name} threw an error not naming it: ${err.message}`);
  }
}

/** The baseline with 1–3 arguments replaced, truncated, extended or aliased, drawn through `g`. */
function mutatedArgs(g: fc.GeneratorValue, base: unknown[]): unknown[] {
  const args = base.slice();
  const mode = g(() => fc.constantFrom('replace', 'replace', 'replace', 'truncate', 'extend', 'alias'));
  if (mode === 'truncate') return args.slice(0, g(() => fc.nat({ max: Math.max(0, args.length - 1) })));
  if (mode === 'extend') return [...args, ...g(() => fc.array(anyValue, { minLength: 1, maxLength: 3 }))];
  if (args.length === 0) return g(() => fc.array(anyValue, { maxLength: 4 }));
  const count = g(() => fc.integer({ min: 1, max: Math.min(3, args.length) }));
  for (let k = 0; k < count; k++) {
    const i = g(() => fc.nat({ max: args.length - 1 }));
    args[i] = mode === 'alias' ? args[g(() => fc.nat({ max: args.length - 1 }))] : g(() => mutationOf(base[i]));
  }
  return args;
}

describe('native binding fuzz', () => {
  it('every entry point has a fuzz spec, and every spec an entry point', () => {
    expect(entryPoints.filter((k) => !(k in specs))).toEqual([]);
    expect(Object.keys(specs).filter((k) => !entryPoints.includes(k))).toEqual([]);
  });

  // Inputs that once broke the addon; under scripts/test-asan.sh they trip the sanitizer if the fix regresses.
  it('regressions found by fuzzing', () => {
    // A SharedArrayBuffer-backed buffer threw a bare "Invalid argument" not naming the op.
    const shared = new Float32Array(new SharedArrayBuffer(20)).fill(2);
    expect(native.sumOfSquares(shared)).toBe(20);
    // A tiny positive scale factor made the source coordinate Inf/NaN, cast to int64 and used as an index.
    for (const mode of ['nearest', 'bilinear'] as const) {
      const x = new Float32Array(18).fill(1), y = new Float32Array(60);
      native.upsample2dForward(x, 1, 2, 3, 3, 5, 6, mode, false, Number.MIN_VALUE, 1e-39, y);
      expect(y.every((v) => v === 1)).toBe(true);
      native.upsample2dBackward(y, 1, 2, 3, 3, 5, 6, mode, false, Number.MIN_VALUE, 1e-39, x);
      expect(x.reduce((a, b) => a + b, 0)).toBeCloseTo(60, 3);
    }
    // Zero planes / elements with a huge size no buffer bounds: no allocation sized by it ("out of memory").
    const none = new Float32Array(0);
    native.upsample2dForward(none, 0, 2, 3, 3, 2 ** 53, 6, 'nearest', false, 0, 0, none);
    native.upsample2dBackward(none, 2, 0, 3, 3, 6, 2 ** 31 - 1, 'bilinear', false, 0, 0, none);
    const gradWeight = new Float32Array([7]);
    native.preluBackward(none, none, 0, 2 ** 53, 0, new Float32Array(1), 1, null, gradWeight);
    expect(gradWeight[0]).toBe(0);
  });

  // Without a CUDA device every device entry point but deviceCount throws why, whatever its arguments.
  const deviceCount = (native as unknown as { deviceCount(): number }).deviceCount();
  const needsDevice = (name: string): boolean => name.startsWith('device') && name !== 'deviceCount';
  for (const name of entryPoints) {
    const spec = specs[name];
    it.skipIf(needsDevice(name) && deviceCount === 0)(name, () => {
      expect(spec, `no fuzz spec for native.${name}`).toBeDefined();
      if (!spec) return;
      const fn = addon[name] as (...a: unknown[]) => unknown;
      // The baseline itself must be accepted, or the mutations test nothing.
      expect(() => fn(...spec.baseline())).not.toThrow();
      try {
        fc.assert(
          fc.property(fc.gen(), (g) => callChecked(name, mutatedArgs(g, spec.baseline()))),
          { numRuns: RUNS, seed: SEED, endOnFailure: true },
        );
        fc.assert(
          fc.property(fc.array(anyValue, { maxLength: 16 }), (args) => callChecked(name, args)),
          { numRuns: RANDOM_RUNS, seed: SEED, endOnFailure: true },
        );
      } finally {
        spec.after?.();
      }
    });
  }
});

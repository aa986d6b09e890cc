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
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { native } from '../../lib/native.js';
import '../../lib/index.js';
import { kernelFamilies } from '../../lib/kernels/family.js';
import { specs } from './specs.js';
import { anyValue } from './hostile.js';
import { addon, callChecked, mutatedArgs, trace } from './calls.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 250);
const RANDOM_RUNS = Math.max(20, Math.round(RUNS / 5));
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

const entryPoints = Object.keys(addon).filter((k) => typeof addon[k] === 'function').sort();

/** The checked call, traced first. */
function tracedCall(name: string, args: unknown[]): void {
  trace(name, args);
  callChecked(name, args);
}

describe('native binding fuzz', () => {
  it('every entry point has a fuzz spec, and every spec an entry point', () => {
    expect(entryPoints.filter((k) => !(k in specs))).toEqual([]);
    expect(Object.keys(specs).filter((k) => !entryPoints.includes(k))).toEqual([]);
  });

  // The op table (lib/ops/registry.ts) names the native entry points its ops reach through these families.
  it('every entry point of every kernel family is an addon function with a fuzz spec', () => {
    const named = [...kernelFamilies.values()].flatMap((f) => f.entries.map((e) => ({ entry: e as string, family: f.name })));
    expect(named.filter(({ entry }) => !entryPoints.includes(entry)), 'named by a family, missing from the addon').toEqual([]);
    expect(named.filter(({ entry }) => !(entry in specs)), 'named by a family, without a fuzz spec').toEqual([]);
  });

  // Inputs that once broke the addon; under scripts/test-asan.sh they trip the sanitizer if the fix regresses.
  it('regressions found by fuzzing', () => {
    // A SharedArrayBuffer-backed buffer threw a bare "Invalid argument" not naming the op.
    const shared = new Float32Array(new SharedArrayBuffer(20)).fill(2);
    const acc = new Float64Array(1);
    native.gradNormAccumulate(2, acc, 1, shared);
    expect(acc[0]).toBe(20);
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
      const fn = addon[name]!;
      // The baseline itself must be accepted, or the mutations test nothing.
      expect(() => fn(...spec.baseline())).not.toThrow();
      try {
        fc.assert(
          fc.property(fc.gen(), (g) => tracedCall(name, mutatedArgs(g, spec.baseline()))),
          { numRuns: RUNS, seed: SEED, endOnFailure: true },
        );
        fc.assert(
          fc.property(fc.array(anyValue, { maxLength: 16 }), (args) => tracedCall(name, args)),
          { numRuns: RANDOM_RUNS, seed: SEED, endOnFailure: true },
        );
      } finally {
        spec.after?.();
      }
    });
  }
});

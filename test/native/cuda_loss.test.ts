// The CUDA fused losses (cuda/loss.cu) against the CPU kernels, through the same bindings: every option
// combination, odd sizes (class rows longer than a warp, more samples than the first stage has warps or
// threads, so the per-block partials and the final sum both matter), ignored and out-of-range targets,
// class weights, 'none' / 'mean' / 'sum', zero-size, float32 and float64. Runs where a CUDA device is
// usable (the emulated device of build-emu in the cuda-emulated project).
import { describe, expect, it } from 'vitest';
import { native } from '../../lib/native.js';
import { expectClose, makeRng, randomArray, type Rng } from '../util.js';
import { type HostArray, deviceCount, dev, upload } from './device_calls.js';

type FloatCtor = Float32ArrayConstructor | Float64ArrayConstructor;
const ops = native as unknown as Record<string, (...args: unknown[]) => void>;
const hasCuda = deviceCount > 0;

/**
 * Runs entry point `op` on host copies of `args` and on device copies, and returns the contents of the array
 * arguments at `outputs` after each run (outputs start NaN-filled, so an element a kernel misses shows).
 */
function onBoth(op: string, args: unknown[], outputs: number[]): { cpu: HostArray[]; cuda: HostArray[] } {
  const isArray = (a: unknown): a is HostArray => ArrayBuffer.isView(a);
  const fresh = (i: number, a: HostArray): HostArray => {
    const copy = a.slice();
    if (outputs.includes(i) && !(copy instanceof Int32Array)) copy.fill(NaN);
    return copy;
  };
  const cpuArgs = args.map((a, i) => (isArray(a) ? fresh(i, a) : a));
  ops[op]!(...cpuArgs);
  const handles = args.map((a, i) => (isArray(a) ? upload(fresh(i, a)) : null));
  try {
    ops[op]!(...args.map((a, i) => handles[i] ?? a));
    return {
      cpu: outputs.map((i) => cpuArgs[i] as HostArray),
      cuda: outputs.map((i) => {
        const out = (args[i] as HostArray).slice();
        dev.deviceDownload(handles[i]!, 0, out);
        return out;
      }),
    };
  } finally {
    for (const h of handles) if (h) dev.deviceFree(h);
  }
}

function expectSame(op: string, args: unknown[], outputs: number[], Arr: FloatCtor, seed: number, label: string): HostArray[] {
  const { cpu, cuda } = onBoth(op, args, outputs);
  // Sums of many terms in another order: float64 agrees to ~1e-12 relative, not bitwise.
  const tol = Arr === Float32Array ? 2e-6 : 1e-10;
  cpu.forEach((c, k) => expectClose(cuda[k]!, c, { atol: tol, rtol: tol, seed, label: `${op} ${label} output ${outputs[k]}` }));
  return cuda;
}

const REDUCTIONS = ['none', 'mean', 'sum'] as const;
type Reduction = (typeof REDUCTIONS)[number];
const upstreamFor = (Arr: FloatCtor, reduction: Reduction, samples: number, rng: Rng) =>
  randomArray(Arr as Float64ArrayConstructor, reduction === 'none' ? samples : 1, rng, 0.5, 2);

/** Class targets in [0, C) with some set to ignoreIndex. */
function targets(rng: Rng, samples: number, C: number, ignoreIndex: number | null): Int32Array {
  return Int32Array.from({ length: samples }, () => (ignoreIndex !== null && rng.next() < 0.25 ? ignoreIndex : rng.int(0, C - 1)));
}

describe.skipIf(!hasCuda)('cuda fused losses match the cpu kernels', () => {
  const rng = makeRng();
  // (N, C, L): one sample; rows shorter and longer than a warp (C = 70: three passes per lane); L > 1
  // (strided rows); more samples than a first-stage launch has warps (N * L = 2100 > 256 blocks * 8 warps).
  const classShapes: Array<[number, number, number]> = [[1, 1, 1], [7, 3, 1], [5, 33, 3], [3, 70, 2], [2100, 3, 1]];

  for (const Arr of [Float32Array, Float64Array] as FloatCtor[]) {
    const f = (n: number, lo = -4, hi = 4) => randomArray(Arr as Float64ArrayConstructor, n, rng, lo, hi);

    it(`${Arr.name} cross-entropy with class targets: weights, label smoothing, ignore_index, every reduction`, () => {
      for (const [N, C, L] of classShapes) {
        for (const [weighted, smoothing, ignore] of [[false, 0, null], [true, 0.15, -100], [true, 0, 1], [false, 0.3, -100]] as const) {
          if (ignore === 1 && C < 2) continue;
          const S = N * L, x = f(N * C * L), w = weighted ? f(C, 0.2, 2) : null;
          const t = targets(rng, S, C, ignore);
          for (const r of REDUCTIONS) {
            const label = `N${N} C${C} L${L} w${weighted} e${smoothing} ignore${ignore} ${r}`;
            const ii = ignore ?? -100;
            expectSame('crossEntropyForward', [x, t, N, C, L, w, ii, smoothing, r, new Arr(S), new Arr(1)], [9, 10], Arr, rng.seed, label);
            const g = upstreamFor(Arr, r, S, rng);
            expectSame('crossEntropyBackward', [x, t, N, C, L, w, ii, smoothing, r, g, new Arr(N * C * L)], [10], Arr, rng.seed, label);
          }
        }
      }
    });

    it(`${Arr.name} cross-entropy with probability targets and NLL`, () => {
      for (const [N, C, L] of classShapes) {
        const S = N * L, x = f(N * C * L), p = f(N * C * L, 0, 1), w = f(C, 0.2, 2);
        const t = targets(rng, S, C, C > 1 ? -100 : null);
        for (const weight of [null, w]) {
          for (const r of REDUCTIONS) {
            const label = `N${N} C${C} L${L} weighted ${weight !== null} ${r}`;
            const g = upstreamFor(Arr, r, S, rng);
            expectSame('crossEntropyProbForward', [x, p, N, C, L, weight, 0.1, r, new Arr(S), new Arr(1)], [8, 9], Arr, rng.seed, label);
            expectSame('crossEntropyProbBackward', [x, p, N, C, L, weight, 0.1, r, g, new Arr(N * C * L)], [9], Arr, rng.seed, label);
            expectSame('nllForward', [x, t, N, C, L, weight, -100, r, new Arr(S), new Arr(1)], [8, 9], Arr, rng.seed, label);
            expectSame('nllBackward', [t, N, C, L, weight, -100, r, g, new Arr(N * C * L)], [8], Arr, rng.seed, label);
          }
        }
      }
    });

    it(`${Arr.name} multi-margin and distillation`, () => {
      for (const [N, C] of [[1, 1], [9, 5], [4, 45], [2100, 3]]) {
        const x = f(N * C), te = f(N * C), t = targets(rng, N, C, null), w = f(C, 0.2, 2);
        for (const r of REDUCTIONS) {
          for (const weight of [null, w]) {
            const label = `N${N} C${C} ${r} weighted ${weight !== null}`;
            const g = upstreamFor(Arr, r, N, rng);
            expectSame('multiMarginForward', [x, t, N, C, weight, 0.7, r, new Arr(N), new Arr(1)], [7, 8], Arr, rng.seed, label);
            expectSame('multiMarginBackward', [x, t, N, C, weight, 0.7, r, g, new Arr(N * C)], [8], Arr, rng.seed, label);
          }
        }
        const temperature = rng.uniform(0.5, 4);
        expectSame('klDivDistillForward', [x, te, N, C, temperature, new Arr(N), new Arr(1)], [5, 6], Arr, rng.seed, `N${N} C${C}`);
        expectSame('klDivDistillBackward', [x, te, N, C, temperature, f(1, 0.5, 2), new Arr(N * C)], [6], Arr, rng.seed, `N${N} C${C}`);
      }
    });

    it(`${Arr.name} pointwise losses: MSE, L1, smooth L1, Huber, BCE with logits (pos_weight)`, () => {
      // 70001 elements: more than a first stage's 256 blocks of 256 threads cover in one pass.
      for (const n of [1, 37, 70001]) {
        const x = f(n), t = f(n, -2, 2), p = f(n, 0, 1);
        for (const r of REDUCTIONS) {
          const g = upstreamFor(Arr, r, n, rng), label = `n${n} ${r}`;
          const cases: Array<[string, unknown[]]> = [
            ['mseLoss', [x, t, n, r]],
            ['l1Loss', [x, t, n, r]],
            ['smoothL1Loss', [x, t, n, 0.7, r]],
            ['smoothL1Loss', [x, t, n, 0, r]],
            ['huberLoss', [x, t, n, 1.3, r]],
            ['bceWithLogits', [x, p, n, null, 1, r]],
          ];
          if (n % 37 === 0) cases.push(['bceWithLogits', [x, p, n, f(37, 0.5, 3), 37, r]]);
          for (const [name, a] of cases) {
            expectSame(`${name}Forward`, [...a, new Arr(n), new Arr(1)], [a.length, a.length + 1], Arr, rng.seed, label);
            expectSame(`${name}Backward`, [...a, g, new Arr(n)], [a.length + 1], Arr, rng.seed, label);
          }
        }
      }
    });

    it(`${Arr.name} masked (-inf) logits: finite cross-entropies, distillation and BCE, as on the cpu`, () => {
      // A third of each row masked, never the target (class 0 in an ignored row), never where the target has
      // mass (probabilities), the same classes in the teacher; every output must be finite on both devices.
      for (const [N, C, L] of classShapes.filter(([, C]) => C > 1)) {
        const S = N * L, t = targets(rng, S, C, -100), x = f(N * C * L), p = f(N * C * L, 0, 1);
        x.forEach((_, e) => {
          const c = Math.floor(e / L) % C, i = Math.floor(e / (C * L)) * L + (e % L);
          if (c !== Math.max(t[i]!, 0) && rng.next() < 1 / 3) {
            x[e] = -Infinity;
            p[e] = 0;
          }
        });
        for (const r of REDUCTIONS) {
          const g = upstreamFor(Arr, r, S, rng), label = `N${N} C${C} L${L} ${r}`;
          const outputs = [
            ...expectSame('crossEntropyForward', [x, t, N, C, L, null, -100, 0, r, new Arr(S), new Arr(1)], [9, 10], Arr, rng.seed, label),
            ...expectSame('crossEntropyBackward', [x, t, N, C, L, null, -100, 0.2, r, g, new Arr(N * C * L)], [10], Arr, rng.seed, label),
            ...expectSame('crossEntropyProbForward', [x, p, N, C, L, null, 0, r, new Arr(S), new Arr(1)], [8, 9], Arr, rng.seed, label),
            ...expectSame('crossEntropyProbBackward', [x, p, N, C, L, null, 0, r, g, new Arr(N * C * L)], [9], Arr, rng.seed, label),
          ];
          if (L === 1) {
            outputs.push(...expectSame('klDivDistillForward', [x, x.map((v) => v / 2), N, C, 2, new Arr(N), new Arr(1)], [5, 6], Arr, rng.seed, label));
            outputs.push(...expectSame('klDivDistillBackward', [x, x.map((v) => v / 2), N, C, 2, f(1, 0.5, 2), new Arr(N * C)], [6], Arr, rng.seed, label));
          }
          for (const out of outputs) expect(out.every(Number.isFinite), label).toBe(true);
        }
        const n = N * C * L, bceTarget = x.map((v) => (v === -Infinity ? 0 : 0.5));
        const bce = [...expectSame('bceWithLogitsForward', [x, bceTarget, n, null, 1, 'sum', null, new Arr(1)], [7], Arr, rng.seed, 'bce'),
          ...expectSame('bceWithLogitsBackward', [x, bceTarget, n, null, 1, 'sum', f(1), new Arr(n)], [7], Arr, rng.seed, 'bce')];
        for (const out of bce) expect(out.every(Number.isFinite), `N${N} C${C} L${L} bce`).toBe(true);
      }
    });

    it(`${Arr.name} zero samples: 'mean' is NaN and 'sum' 0, as on the cpu`, () => {
      for (const r of ['mean', 'sum'] as const) {
        const [loss] = expectSame('crossEntropyForward', [new Arr(0), new Int32Array(0), 0, 3, 1, null, -100, 0, r, null, new Arr(1)], [10], Arr, rng.seed, r);
        expect(Number.isNaN(loss![0]!)).toBe(r === 'mean');
        expectSame('mseLossForward', [new Arr(0), new Arr(0), 0, r, null, new Arr(1)], [5], Arr, rng.seed, r);
        expectSame('nllBackward', [new Int32Array(0), 0, 3, 1, null, -100, r, new Arr(1), new Arr(0)], [], Arr, rng.seed, r);
      }
    });
  }

  it('a target out of range gives a NaN loss and gradient row on cuda (the cpu throws)', () => {
    const N = 4, C = 3, x = randomArray(Float64Array, N * C, rng), t = Int32Array.from([0, 7, 2, -1]);
    expect(() => native.crossEntropyForward(x, t, N, C, 1, null, -100, 0, 'mean', null, new Float64Array(1))).toThrow(
      /crossEntropyForward: target\[1\] = 7 is out of range \[0, 3\)/,
    );
    const h = [upload(x), upload(t), upload(new Float64Array(N)), upload(new Float64Array(1)), upload(new Float64Array(N * C)), upload(Float64Array.from([1]))];
    try {
      ops.crossEntropyForward!(h[0], h[1], N, C, 1, null, -100, 0, 'none', h[2], h[3]);
      const losses = new Float64Array(N);
      dev.deviceDownload(h[2]!, 0, losses);
      expect(Array.from(losses, Number.isNaN)).toEqual([false, true, false, true]);
      ops.nllBackward!(h[1], N, C, 1, null, -100, 'sum', h[5], h[4]);
      const grad = new Float64Array(N * C);
      dev.deviceDownload(h[4]!, 0, grad);
      expect(Array.from(grad, Number.isNaN)).toEqual([0, 1, 0, 1].flatMap((bad) => [bad, bad, bad].map(Boolean)));
    } finally {
      for (const handle of h) dev.deviceFree(handle);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { native } from '../../lib/native.js';
import type { LossReduction } from '../../lib/bindings/loss.js';
import { dot, expectClose, gradTol, makeRng, numericGrad, randomArray, type Rng } from '../util.js';

const F64 = Float64Array;

/**
 * A forward binding as a function returning the reduced loss: the bindings write it to a trailing
 * one-element buffer (the input's dtype), which this appends after the arguments given.
 */
function reduced<F extends (...args: never[]) => void>(forward: F): (...args: Parameters<F>) => number {
  return (...args) => {
    const input = args[0] as unknown as Float32Array | Float64Array;
    const loss = new (input.constructor as Float64ArrayConstructor)(1);
    (forward as unknown as (...a: unknown[]) => void)(...args, loss);
    return loss[0]!;
  };
}
const REDUCTIONS: LossReduction[] = ['none', 'mean', 'sum'];


/**
 * The scalar whose gradient a backward call computes: gradOutput[0] * loss for 'mean'/'sum', and
 * sum_i gradOutput[i] * losses[i] for 'none'. `forward` runs the forward binding with a losses buffer.
 */
function upstreamScalar(forward: (losses: Float64Array | null) => number, reduction: LossReduction, g: Float64Array, samples: number) {
  return () => {
    if (reduction !== 'none') return g[0]! * forward(null);
    const losses = new F64(samples);
    forward(losses);
    return dot(losses, g);
  };
}

/** log_softmax over the class axis of (N, C, L), in float64. */
function logSoftmax(x: ArrayLike<number>, N: number, C: number, L: number, scale = 1): Float64Array {
  const out = new F64(N * C * L);
  for (let n = 0; n < N; n++)
    for (let l = 0; l < L; l++) {
      const at = (c: number) => (n * C + c) * L + l;
      let mx = -Infinity;
      for (let c = 0; c < C; c++) mx = Math.max(mx, scale * x[at(c)]!);
      let s = 0;
      for (let c = 0; c < C; c++) s += Math.exp(scale * x[at(c)]! - mx);
      for (let c = 0; c < C; c++) out[at(c)] = scale * x[at(c)]! - mx - Math.log(s);
    }
  return out;
}

function reduce(per: Float64Array, reduction: LossReduction, denom: number): number {
  const sum = per.reduce((a, b) => a + b, 0);
  return reduction === 'mean' ? sum / denom : sum;
}

/** PyTorch's decomposition: (1 - e) * nll(weighted) + (e / C) * smooth term, both over the kept samples. */
function refCrossEntropy(
  x: ArrayLike<number>, t: Int32Array, N: number, C: number, L: number, w: ArrayLike<number> | null,
  ignore: number, eps: number, reduction: LossReduction,
) {
  const lp = logSoftmax(x, N, C, L), per = new F64(N * L);
  let wsum = 0;
  for (let i = 0; i < N * L; i++) {
    const y = t[i]!;
    if (y === ignore) continue;
    const at = (c: number) => (Math.floor(i / L) * C + c) * L + (i % L);
    const wy = w ? w[y]! : 1;
    wsum += wy;
    let smooth = 0;
    for (let c = 0; c < C; c++) smooth -= (w ? w[c]! : 1) * lp[at(c)]!;
    per[i] = (1 - eps) * -wy * lp[at(y)]! + (eps / C) * smooth;
  }
  return { per, value: reduce(per, reduction, wsum) };
}

function classCase(rng: Rng, L: number) {
  const N = rng.int(1, 5), C = 2 * rng.int(1, 4) + 1;
  const target = new Int32Array(N * L).map(() => rng.int(0, C - 1));
  target[rng.int(0, N * L - 1)] = -100;
  return { N, C, L, target };
}

describe('native cross-entropy with class targets', () => {
  const rng = makeRng();
  for (const Arr of [Float32Array, Float64Array]) {
    for (const L of [1, 3]) {
      it(`${Arr.name} L=${L}: every reduction, weights, label smoothing, ignore_index vs reference`, () => {
        for (const [weighted, eps] of [[false, 0], [true, 0], [false, 0.2], [true, 0.15]] as const) {
          const { N, C, target } = classCase(rng, L);
          const x = randomArray(Arr, N * C * L, rng, -4, 4), w = weighted ? randomArray(Arr, C, rng, 0.2, 2) : null;
          for (const reduction of REDUCTIONS) {
            const ref = refCrossEntropy(x, target, N, C, L, w, -100, eps, reduction);
            const losses = new Arr(N * L);
            const value = reduced(native.crossEntropyForward)(x, target, N, C, L, w, -100, eps, reduction, losses);
            const tol = Arr === Float32Array ? 1e-5 : 1e-12;
            expectClose([value], [ref.value], { atol: tol, rtol: tol, seed: rng.seed, label: `${reduction} value` });
            expectClose(losses, ref.per, { atol: tol, rtol: tol, seed: rng.seed, label: `${reduction} losses` });
          }
        }
      });
    }
  }

  for (const reduction of REDUCTIONS) {
    it(`backward (${reduction}) matches central differences, float64, weighted + smoothed + ignored`, () => {
      const { N, C, L, target } = classCase(rng, 2);
      const x = randomArray(F64, N * C * L, rng, -3, 3), w = randomArray(F64, C, rng, 0.2, 2), eps = 0.1;
      const g = randomArray(F64, reduction === 'none' ? N * L : 1, rng, 0.5, 2);
      const f = upstreamScalar((losses) => reduced(native.crossEntropyForward)(x, target, N, C, L, w, -100, eps, reduction, losses),
        reduction, g, N * L);
      const gx = new F64(x.length);
      native.crossEntropyBackward(x, target, N, C, L, w, -100, eps, reduction, g, gx);
      expectClose(gx, numericGrad(f, x), { ...gradTol, seed: rng.seed });
    });
  }

  it('is stable for huge logits, NaN when every sample is ignored, handles zero batch', () => {
    const x = F64.from([1000, -1000, 0, 0, 1e4, -1e4]);
    const v = reduced(native.crossEntropyForward)(x, Int32Array.from([1, 0]), 2, 3, 1, null, -100, 0, 'sum', null);
    expect(v).toBeCloseTo(2000 + 1e4, 6);
    expect(reduced(native.crossEntropyForward)(x, Int32Array.from([5, 5]), 2, 3, 1, null, 5, 0, 'mean', null)).toBeNaN();
    expect(reduced(native.crossEntropyForward)(new F64(0), new Int32Array(0), 0, 3, 1, null, -100, 0, 'sum', null)).toBe(0);
    const gx = new F64(0);
    native.crossEntropyBackward(new F64(0), new Int32Array(0), 0, 3, 1, null, -100, 0, 'mean', F64.from([1]), gx);
  });

  it('out-of-range target is a RangeError naming the index and value', () => {
    const call = () => reduced(native.crossEntropyForward)(new F64(6), Int32Array.from([0, 3]), 2, 3, 1, null, -100, 0, 'mean', null);
    expect(call).toThrow(RangeError);
    expect(call).toThrow(/crossEntropyForward: target\[1\] = 3 is out of range \[0, 3\)/);
    expect(() => native.nllBackward(Int32Array.from([-1]), 1, 3, 1, null, -100, 'sum', F64.from([1]), new F64(3)))
      .toThrow(/nllBackward: target\[0\] = -1 is out of range \[0, 3\)/);
  });
});

describe('native cross-entropy with probability targets', () => {
  const rng = makeRng();
  const probs = (N: number, C: number, L: number) => {
    const t = randomArray(F64, N * C * L, rng, 0, 1);
    for (let n = 0; n < N; n++)
      for (let l = 0; l < L; l++) {
        let s = 0;
        for (let c = 0; c < C; c++) s += t[(n * C + c) * L + l]!;
        for (let c = 0; c < C; c++) t[(n * C + c) * L + l]! /= s;
      }
    return t;
  };
  for (const Arr of [Float32Array, Float64Array]) {
    it(`${Arr.name} forward vs reference: mean divides by N * L`, () => {
      const N = rng.int(1, 4), C = 2 * rng.int(1, 3) + 1, L = rng.int(1, 3), eps = 0.1;
      const x = randomArray(Arr, N * C * L, rng, -3, 3), t = Arr.from(probs(N, C, L)), w = randomArray(Arr, C, rng, 0.5, 2);
      const lp = logSoftmax(x, N, C, L), per = new F64(N * L);
      for (let i = 0; i < N * L; i++)
        for (let c = 0; c < C; c++) {
          const at = (Math.floor(i / L) * C + c) * L + (i % L);
          per[i]! -= w[c]! * ((1 - eps) * t[at]! + eps / C) * lp[at]!;
        }
      const tol = Arr === Float32Array ? 1e-5 : 1e-12;
      for (const reduction of REDUCTIONS) {
        const losses = new Arr(N * L);
        const v = reduced(native.crossEntropyProbForward)(x, t, N, C, L, w, eps, reduction, losses);
        expectClose([v], [reduce(per, reduction, N * L)], { atol: tol, rtol: tol, seed: rng.seed, label: reduction });
        expectClose(losses, per, { atol: tol, rtol: tol, seed: rng.seed });
      }
    });
  }

  for (const reduction of REDUCTIONS) {
    it(`backward (${reduction}) matches central differences`, () => {
      const N = rng.int(1, 3), C = 5, L = 2, t = probs(N, C, L), w = randomArray(F64, C, rng, 0.5, 2);
      const x = randomArray(F64, N * C * L, rng, -3, 3), g = randomArray(F64, reduction === 'none' ? N * L : 1, rng);
      const f = upstreamScalar((losses) => reduced(native.crossEntropyProbForward)(x, t, N, C, L, w, 0.05, reduction, losses), reduction, g, N * L);
      const gx = new F64(x.length);
      native.crossEntropyProbBackward(x, t, N, C, L, w, 0.05, reduction, g, gx);
      expectClose(gx, numericGrad(f, x), { ...gradTol, seed: rng.seed });
    });
  }
});

describe('native NLL and multi-margin', () => {
  const rng = makeRng();
  for (const reduction of REDUCTIONS) {
    it(`NLL (${reduction}) forward vs reference and backward vs central differences`, () => {
      const { N, C, L, target } = classCase(rng, 3);
      const lp = logSoftmax(randomArray(F64, N * C * L, rng, -2, 2), N, C, L), w = randomArray(F64, C, rng, 0.3, 2);
      const per = new F64(N * L);
      let wsum = 0;
      for (let i = 0; i < N * L; i++) {
        const y = target[i]!;
        if (y === -100) continue;
        per[i] = -w[y]! * lp[(Math.floor(i / L) * C + y) * L + (i % L)]!;
        wsum += w[y]!;
      }
      const losses = new F64(N * L);
      expectClose([reduced(native.nllForward)(lp, target, N, C, L, w, -100, reduction, losses)], [reduce(per, reduction, wsum)],
        { atol: 1e-12, rtol: 1e-12 });
      expectClose(losses, per, { atol: 1e-12, rtol: 1e-12 });
      const g = randomArray(F64, reduction === 'none' ? N * L : 1, rng);
      const f = upstreamScalar((ls) => reduced(native.nllForward)(lp, target, N, C, L, w, -100, reduction, ls), reduction, g, N * L);
      const gx = new F64(lp.length).fill(3);
      native.nllBackward(target, N, C, L, w, -100, reduction, g, gx);
      expectClose(gx, numericGrad(f, lp), { ...gradTol, seed: rng.seed });
    });
  }

  for (const Arr of [Float32Array, Float64Array]) {
    it(`${Arr.name} multi-margin (p = 1) forward vs reference; backward vs central differences`, () => {
      const N = rng.int(1, 5), C = 2 * rng.int(1, 4) + 1, margin = rng.uniform(0.5, 1.5);
      const x = randomArray(Arr, N * C, rng, -1, 1), w = randomArray(Arr, C, rng, 0.5, 2);
      const target = new Int32Array(N).map(() => rng.int(0, C - 1));
      const per = new F64(N);
      for (let n = 0; n < N; n++) {
        const y = target[n]!;
        for (let c = 0; c < C; c++) if (c !== y) per[n]! += (w[y]! * Math.max(0, margin - x[n * C + y]! + x[n * C + c]!)) / C;
      }
      const tol = Arr === Float32Array ? 1e-5 : 1e-12;
      for (const reduction of REDUCTIONS) {
        const losses = new Arr(N);
        const v = reduced(native.multiMarginForward)(x, target, N, C, w, margin, reduction, losses);
        expectClose([v], [reduce(per, reduction, N)], { atol: tol, rtol: tol, seed: rng.seed, label: reduction });
        expectClose(losses, per, { atol: tol, rtol: tol, seed: rng.seed });
      }
      const x64 = F64.from(x), w64 = F64.from(w), g = F64.from([rng.uniform(0.5, 2)]);
      const f = upstreamScalar((ls) => reduced(native.multiMarginForward)(x64, target, N, C, w64, margin, 'mean', ls), 'mean', g, N);
      const gx = new F64(N * C);
      native.multiMarginBackward(x64, target, N, C, w64, margin, 'mean', g, gx);
      expectClose(gx, numericGrad(f, x64), { ...gradTol, seed: rng.seed });
    });
  }
});

type PointwiseName = 'mse' | 'l1' | 'smoothL1' | 'huber' | 'bce';
const softplus = (v: number) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
const refPointwise: Record<PointwiseName, (x: number, t: number, param: number) => number> = {
  mse: (x, t) => (x - t) ** 2,
  l1: (x, t) => Math.abs(x - t),
  smoothL1: (x, t, beta) => (Math.abs(x - t) < beta ? (0.5 * (x - t) ** 2) / beta : Math.abs(x - t) - 0.5 * beta),
  huber: (x, t, delta) => (Math.abs(x - t) <= delta ? 0.5 * (x - t) ** 2 : delta * (Math.abs(x - t) - 0.5 * delta)),
  // -pw t log(sigmoid(x)) - (1 - t) log(1 - sigmoid(x)), param = pw
  bce: (x, t, pw) => -pw * t * Math.log(1 / (1 + Math.exp(-x))) - (1 - t) * Math.log(1 - 1 / (1 + Math.exp(-x))),
};

/** Calls the forward / backward binding of a pointwise loss; posWeight has lastDim entries. */
function pointwise(name: PointwiseName, x: Float32Array | Float64Array, t: typeof x, n: number, param: number,
  posWeight: typeof x | null, lastDim: number, reduction: LossReduction) {
  return {
    forward: (losses: typeof x | null): number => {
      switch (name) {
        case 'mse': return reduced(native.mseLossForward)(x, t, n, reduction, losses);
        case 'l1': return reduced(native.l1LossForward)(x, t, n, reduction, losses);
        case 'smoothL1': return reduced(native.smoothL1LossForward)(x, t, n, param, reduction, losses);
        case 'huber': return reduced(native.huberLossForward)(x, t, n, param, reduction, losses);
        case 'bce': return reduced(native.bceWithLogitsForward)(x, t, n, posWeight, lastDim, reduction, losses);
      }
    },
    backward: (g: typeof x, gx: typeof x): void => {
      switch (name) {
        case 'mse': return native.mseLossBackward(x, t, n, reduction, g, gx);
        case 'l1': return native.l1LossBackward(x, t, n, reduction, g, gx);
        case 'smoothL1': return native.smoothL1LossBackward(x, t, n, param, reduction, g, gx);
        case 'huber': return native.huberLossBackward(x, t, n, param, reduction, g, gx);
        case 'bce': return native.bceWithLogitsBackward(x, t, n, posWeight, lastDim, reduction, g, gx);
      }
    },
  };
}

describe('native pointwise losses', () => {
  const rng = makeRng();
  const names: PointwiseName[] = ['mse', 'l1', 'smoothL1', 'huber', 'bce'];
  for (const name of names) {
    for (const Arr of [Float32Array, Float64Array]) {
      it(`${name} ${Arr.name} forward vs reference for every reduction`, () => {
        const lastDim = 2 * rng.int(1, 3) + 1, n = lastDim * rng.int(1, 9), param = rng.uniform(0.3, 1.5);
        const x = randomArray(Arr, n, rng, -3, 3);
        const t = name === 'bce' ? randomArray(Arr, n, rng, 0, 1) : randomArray(Arr, n, rng, -3, 3);
        const pw = name === 'bce' ? randomArray(Arr, lastDim, rng, 0.5, 3) : null;
        const per = Float64Array.from(x, (v, i) => refPointwise[name](v, t[i]!, name === 'bce' ? pw![i % lastDim]! : param));
        const tol = Arr === Float32Array ? 1e-5 : 1e-12;
        for (const reduction of REDUCTIONS) {
          const losses = new Arr(n);
          const v = pointwise(name, x, t, n, param, pw, lastDim, reduction).forward(losses);
          expectClose([v], [reduce(per, reduction, n)], { atol: tol, rtol: tol, seed: rng.seed, label: reduction });
          expectClose(losses, per, { atol: tol, rtol: tol, seed: rng.seed });
        }
      });
    }
    for (const reduction of REDUCTIONS) {
      it(`${name} backward (${reduction}) matches central differences`, () => {
        const lastDim = 3, n = 3 * rng.int(1, 6), param = rng.uniform(0.5, 1.5);
        const x = randomArray(F64, n, rng, -3, 3);
        const t = name === 'bce' ? randomArray(F64, n, rng, 0, 1) : randomArray(F64, n, rng, -3, 3);
        const pw = name === 'bce' && reduction !== 'sum' ? randomArray(F64, lastDim, rng, 0.5, 3) : null;
        const g = randomArray(F64, reduction === 'none' ? n : 1, rng);
        const fns = pointwise(name, x, t, n, param, pw, lastDim, reduction);
        const gx = new F64(n);
        fns.backward(g, gx);
        expectClose(gx, numericGrad(upstreamScalar((ls) => fns.forward(ls), reduction, g, n), x), { ...gradTol, seed: rng.seed });
      });
    }
  }

  it('smooth L1 with beta = 0 is L1; BCE is stable for large logits; mean over zero elements is NaN', () => {
    const x = F64.from([0.5, -2, 3]), t = F64.from([1, 1, -1]);
    expect(reduced(native.smoothL1LossForward)(x, t, 3, 0, 'sum', null)).toBe(reduced(native.l1LossForward)(x, t, 3, 'sum', null));
    const big = F64.from([800, -800]), y = F64.from([0, 1]);
    expect(reduced(native.bceWithLogitsForward)(big, y, 2, null, 1, 'sum', null)).toBeCloseTo(1600, 9);
    expect(reduced(native.mseLossForward)(new F64(0), new F64(0), 0, 'mean', null)).toBeNaN();
  });
});

describe('native distillation KL', () => {
  const rng = makeRng();
  for (const Arr of [Float32Array, Float64Array]) {
    it(`${Arr.name} forward = T^2 * batchmean KL(softmax(t/T) || softmax(s/T))`, () => {
      const N = rng.int(1, 5), C = 2 * rng.int(1, 5) + 1, T = rng.uniform(1, 5);
      const s = randomArray(Arr, N * C, rng, -4, 4), te = randomArray(Arr, N * C, rng, -4, 4);
      const lp = logSoftmax(s, N, C, 1, 1 / T), lq = logSoftmax(te, N, C, 1, 1 / T), per = new F64(N);
      for (let i = 0; i < N * C; i++) per[Math.floor(i / C)]! += T * T * Math.exp(lq[i]!) * (lq[i]! - lp[i]!);
      const losses = new Arr(N);
      const v = reduced(native.klDivDistillForward)(s, te, N, C, T, losses);
      const tol = Arr === Float32Array ? 1e-5 : 1e-12;
      expectClose([v], [reduce(per, 'mean', N)], { atol: tol, rtol: tol, seed: rng.seed });
      expectClose(losses, per, { atol: tol, rtol: tol, seed: rng.seed });
    });
  }

  it('backward matches central differences; identical logits give zero loss', () => {
    const N = rng.int(1, 4), C = 7, T = rng.uniform(1, 4);
    const s = randomArray(F64, N * C, rng, -3, 3), te = randomArray(F64, N * C, rng, -3, 3), g = F64.from([rng.uniform(0.5, 2)]);
    const gs = new F64(N * C);
    native.klDivDistillBackward(s, te, N, C, T, g, gs);
    expectClose(gs, numericGrad(() => g[0]! * reduced(native.klDivDistillForward)(s, te, N, C, T, null), s), { ...gradTol, seed: rng.seed });
    expect(reduced(native.klDivDistillForward)(s, s, N, C, T, null)).toBeCloseTo(0, 12);
  });
});

describe('loss entry points reject bad arguments with TypeError/RangeError naming them', () => {
  const f = (n: number) => new Float32Array(n);
  const t2 = () => Int32Array.from([0, 1]);
  const cases: Array<[string, () => unknown, ErrorConstructor, RegExp]> = [
    ['bad reduction', () => reduced(native.crossEntropyForward)(f(6), t2(), 2, 3, 1, null, -100, 0, 'avg' as LossReduction, null),
      RangeError, /crossEntropyForward: reduction must be 'none', 'mean' or 'sum', got 'avg'/],
    ['float targets for class indices', () => reduced(native.crossEntropyForward)(f(6), f(2) as unknown as Int32Array, 2, 3, 1, null, -100, 0, 'mean', null),
      TypeError, /crossEntropyForward: target must be int32, got float32/],
    ['short target', () => reduced(native.crossEntropyForward)(f(6), Int32Array.from([0]), 2, 3, 1, null, -100, 0, 'mean', null),
      RangeError, /crossEntropyForward: target needs at least 2 elements, got 1/],
    ['short logits', () => reduced(native.crossEntropyForward)(f(5), t2(), 2, 3, 1, null, -100, 0, 'mean', null),
      RangeError, /crossEntropyForward: logits needs at least 6 elements, got 5/],
    ['short weight', () => reduced(native.crossEntropyForward)(f(6), t2(), 2, 3, 1, f(2), -100, 0, 'mean', null),
      RangeError, /crossEntropyForward: weight needs at least 3 elements, got 2/],
    ['label smoothing above 1', () => reduced(native.crossEntropyForward)(f(6), t2(), 2, 3, 1, null, -100, 1.5, 'mean', null),
      RangeError, /crossEntropyForward: labelSmoothing must be in \[0, 1\], got 1.5/],
    ['zero classes', () => reduced(native.crossEntropyForward)(f(6), t2(), 2, 0, 1, null, -100, 0, 'mean', null),
      RangeError, /crossEntropyForward: number of classes C must be >= 1, got 0/],
    ["'none' without losses", () => reduced(native.crossEntropyForward)(f(6), t2(), 2, 3, 1, null, -100, 0, 'none', null),
      TypeError, /crossEntropyForward: losses is required for reduction 'none'/],
    ["'none' short gradOutput", () => native.crossEntropyBackward(f(6), t2(), 2, 3, 1, null, -100, 0, 'none', f(1), f(6)),
      RangeError, /crossEntropyBackward: gradOutput needs at least 2 elements, got 1/],
    ['short gradInput', () => native.crossEntropyBackward(f(6), t2(), 2, 3, 1, null, -100, 0, 'mean', f(1), f(5)),
      RangeError, /crossEntropyBackward: gradInput needs at least 6 elements, got 5/],
    ['mixed dtypes', () => reduced(native.crossEntropyProbForward)(f(6), new Float64Array(6), 2, 3, 1, null, 0, 'mean', null),
      TypeError, /crossEntropyProbForward: logits and target must have the same dtype, got float32 and float64/],
    ['fractional ignore index', () => reduced(native.nllForward)(f(6), t2(), 2, 3, 1, null, 0.5, 'mean', null),
      RangeError, /nllForward: ignoreIndex must be an integer, got 0.5/],
    ['multi-margin target out of range', () => reduced(native.multiMarginForward)(f(6), Int32Array.from([0, -100]), 2, 3, null, 1, 'mean', null),
      RangeError, /multiMarginForward: target\[1\] = -100 is out of range \[0, 3\)/],
    ['multi-margin infinite margin', () => reduced(native.multiMarginForward)(f(6), t2(), 2, 3, null, Infinity, 'mean', null),
      RangeError, /multiMarginForward: margin must be finite, got inf/],
    ['negative smooth L1 beta', () => reduced(native.smoothL1LossForward)(f(4), f(4), 4, -1, 'mean', null),
      RangeError, /smoothL1LossForward: beta must be finite and >= 0, got -1/],
    ['zero Huber delta', () => reduced(native.huberLossForward)(f(4), f(4), 4, 0, 'mean', null),
      RangeError, /huberLossForward: delta must be finite and > 0, got 0/],
    ['short MSE target', () => reduced(native.mseLossForward)(f(4), f(3), 4, 'mean', null),
      RangeError, /mseLossForward: target needs at least 4 elements, got 3/],
    ['short posWeight', () => reduced(native.bceWithLogitsForward)(f(6), f(6), 6, f(2), 3, 'mean', null),
      RangeError, /bceWithLogitsForward: posWeight needs at least 3 elements, got 2/],
    ['zero lastDim', () => reduced(native.bceWithLogitsForward)(f(6), f(6), 6, null, 0, 'mean', null),
      RangeError, /bceWithLogitsForward: lastDim must be >= 1, got 0/],
    ['non-positive temperature', () => reduced(native.klDivDistillForward)(f(6), f(6), 2, 3, 0, null),
      RangeError, /klDivDistillForward: temperature must be finite and > 0, got 0/],
    ['short teacher', () => native.klDivDistillBackward(f(6), f(4), 2, 3, 1, f(1), f(6)),
      RangeError, /klDivDistillBackward: teacher needs at least 6 elements, got 4/],
    ['int32 input', () => reduced(native.l1LossForward)(new Int32Array(4) as unknown as Float32Array, f(4), 4, 'mean', null),
      TypeError, /l1LossForward: input must be float32 or float64, got int32/],
    ['too few arguments', () => (native.huberLossBackward as unknown as () => void)(),
      TypeError, /huberLossBackward: expected 7 arguments, got 0/],
  ];
  for (const [name, call, Err, message] of cases) {
    it(name, () => {
      expect(call).toThrow(Err);
      expect(call).toThrow(message);
    });
  }
});

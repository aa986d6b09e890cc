import { describe, expect, it } from 'vitest';
import { native } from '../../lib/native.js';
import { dot, expectClose, gradTol, makeRng, numericGrad, randomArray, type Rng } from '../util.js';

type Ctor = Float32Array | Float64Array;
const F64 = Float64Array;


/**
 * Naive float64 normalization: element (o, c, l) of x (outer, C, L) belongs to statistic
 * statOf(o, c); returns y, mean, invstd and the biased variance per statistic.
 */
function refNorm(
  x: ArrayLike<number>, outer: number, C: number, L: number, numStats: number, statOf: (o: number, c: number) => number,
  gamma: ArrayLike<number> | null, beta: ArrayLike<number> | null, eps: number,
) {
  const sum = new Float64Array(numStats), cnt = new Float64Array(numStats), sq = new Float64Array(numStats);
  const each = (fn: (i: number, c: number, s: number) => void) => {
    for (let o = 0; o < outer; o++) for (let c = 0; c < C; c++) for (let l = 0; l < L; l++) fn((o * C + c) * L + l, c, statOf(o, c));
  };
  each((i, _c, s) => { sum[s]! += x[i]!; cnt[s]!++; });
  const mean = sum.map((v, s) => (cnt[s] ? v / cnt[s]! : 0));
  each((i, _c, s) => { sq[s]! += (x[i]! - mean[s]!) ** 2; });
  const variance = sq.map((v, s) => (cnt[s] ? v / cnt[s]! : 0));
  const invstd = variance.map((v) => 1 / Math.sqrt(v + eps));
  const y = new Float64Array(outer * C * L);
  each((i, c, s) => { y[i] = (x[i]! - mean[s]!) * invstd[s]! * (gamma ? gamma[c]! : 1) + (beta ? beta[c]! : 0); });
  return { y, mean, invstd, variance, count: cnt };
}

function sizes(rng: Rng) {
  return { N: rng.int(2, 4), C: 2 * rng.int(1, 4) + 1, L: 2 * rng.int(0, 3) + 1 };
}

describe('native batch norm', () => {
  const rng = makeRng();
  for (const Arr of [Float32Array, Float64Array]) {
    const tol = Arr === Float32Array ? { atol: 1e-5, rtol: 1e-4 } : { atol: 1e-12, rtol: 1e-10 };
    for (const affine of [true, false]) {
      it(`${Arr.name} training forward, affine=${affine}: output, saved stats, running stats`, () => {
        const { N, C, L } = sizes(rng);
        const x = randomArray(Arr, N * C * L, rng, -3, 5);
        const gamma = affine ? randomArray(Arr, C, rng, 0.5, 2) : null, beta = affine ? randomArray(Arr, C, rng) : null;
        const rm = randomArray(Arr, C, rng), rv = randomArray(Arr, C, rng, 0.5, 2);
        const rm0 = F64.from(rm), rv0 = F64.from(rv);
        const y = new Arr(N * C * L), mean = new Arr(C), invstd = new Arr(C);
        const momentum = rng.uniform(0.05, 0.5), eps = 1e-5;
        native.batchNormForward(x, N, C, L, gamma, beta, rm, rv, momentum, eps, y, mean, invstd, false, null);
        const ref = refNorm(x, N, C, L, C, (_o, c) => c, gamma, beta, eps);
        expectClose(y, ref.y, { ...tol, seed: rng.seed, label: 'y' });
        const yRelu = new Arr(N * C * L);
        native.batchNormForward(x, N, C, L, gamma, beta, null, null, momentum, eps, yRelu, mean, invstd, true, null);
        expectClose(yRelu, ref.y.map((v) => Math.max(v, 0)), { ...tol, seed: rng.seed, label: 'y with fused ReLU' });
        const residual = randomArray(Arr, N * C * L, rng, -1, 1), yRes = new Arr(N * C * L);
        native.batchNormForward(x, N, C, L, gamma, beta, null, null, momentum, eps, yRes, mean, invstd, true, residual);
        expectClose(yRes, ref.y.map((v, i) => Math.max(v + residual[i]!, 0)), { ...tol, seed: rng.seed, label: 'y + residual, ReLU' });
        expectClose(mean, ref.mean, { ...tol, seed: rng.seed, label: 'saveMean' });
        expectClose(invstd, ref.invstd, { ...tol, seed: rng.seed, label: 'saveInvstd' });
        const n = N * L;
        expectClose(rm, rm0.map((r, c) => (1 - momentum) * r + momentum * ref.mean[c]!), { ...tol, label: 'runningMean' });
        expectClose(rv, rv0.map((r, c) => (1 - momentum) * r + momentum * ref.variance[c]! * n / (n - 1)),
          { ...tol, label: 'runningVar (unbiased)' });
      });
    }

    it(`${Arr.name} inference with running stats, plain, with a residual, with a fused ReLU`, () => {
      const { N, C, L } = sizes(rng);
      const x = randomArray(Arr, N * C * L, rng, -3, 3);
      const gamma = randomArray(Arr, C, rng, 0.5, 2), beta = randomArray(Arr, C, rng);
      const rm = randomArray(Arr, C, rng), rv = randomArray(Arr, C, rng, 0.5, 2), eps = 1e-3;
      const expected = new Float64Array(N * C * L);
      for (let i = 0; i < expected.length; i++) {
        const c = Math.floor(i / L) % C;
        expected[i] = (x[i]! - rm[c]!) / Math.sqrt(rv[c]! + eps) * gamma[c]! + beta[c]!;
      }
      const residual = randomArray(Arr, N * C * L, rng, -1, 1);
      for (const relu of [false, true])
        for (const res of [null, residual]) {
          const y = new Arr(N * C * L);
          native.batchNormInference(x, N, C, L, gamma, beta, rm, rv, eps, relu, res, y);
          const want = expected.map((v, i) => (res ? v + res[i]! : v)).map((v) => (relu ? Math.max(v, 0) : v));
          expectClose(y, want, { ...tol, seed: rng.seed, label: `relu ${relu}, residual ${res !== null}` });
        }
    });
  }

  for (const [affine, relu] of [[true, false], [false, false], [true, true], [false, true]] as const) {
    it(`training backward matches central differences of the forward (float64, affine=${affine}, fused ReLU=${relu})`, () => {
      const { N, C, L } = sizes(rng);
      const n = N * C * L, eps = 1e-5;
      const x = randomArray(F64, n, rng, -2, 2), g = randomArray(F64, n, rng);
      const gamma = affine ? randomArray(F64, C, rng, 0.5, 2) : null, beta = affine ? randomArray(F64, C, rng) : null;
      const y = new F64(n), mean = new F64(C), invstd = new F64(C);
      const loss = () => {
        native.batchNormForward(x, N, C, L, gamma, beta, null, null, 0.1, eps, y, mean, invstd, relu, null);
        return dot(y, g);
      };
      loss();
      if (relu) expect(y.some((v) => v === 0) && y.some((v) => v > 0)).toBe(true);
      const gx = new F64(n), gg = new F64(C), gb = new F64(C);
      native.batchNormBackward(x, g, N, C, L, gamma, mean, invstd, true, gx, affine ? gg : null, affine ? gb : null, relu ? y : null);
      expectClose(gx, numericGrad(loss, x), { ...gradTol, seed: rng.seed, label: 'gradX' });
      if (gamma && beta) {
        expectClose(gg, numericGrad(loss, gamma), { ...gradTol, seed: rng.seed, label: 'gradGamma' });
        expectClose(gb, numericGrad(loss, beta), { ...gradTol, seed: rng.seed, label: 'gradBeta' });
      }
    });
  }

  for (const relu of [false, true]) {
    it(`eval-mode backward matches central differences of batchNormInference (fused ReLU=${relu})`, () => {
      const { N, C, L } = sizes(rng);
      const n = N * C * L, eps = 1e-5;
      const x = randomArray(F64, n, rng), g = randomArray(F64, n, rng);
      const gamma = randomArray(F64, C, rng, 0.5, 2), beta = randomArray(F64, C, rng);
      const rm = randomArray(F64, C, rng), rv = randomArray(F64, C, rng, 0.5, 2), y = new F64(n);
      const loss = () => {
        native.batchNormInference(x, N, C, L, gamma, beta, rm, rv, eps, relu, null, y);
        return dot(y, g);
      };
      loss();
      const invstd = rv.map((v) => 1 / Math.sqrt(v + eps));
      const gx = new F64(n), gg = new F64(C), gb = new F64(C);
      native.batchNormBackward(x, g, N, C, L, gamma, rm, invstd, false, gx, gg, gb, relu ? y : null);
      expectClose(gx, numericGrad(loss, x), { ...gradTol, label: 'gradX' });
      expectClose(gg, numericGrad(loss, gamma), { ...gradTol, label: 'gradGamma' });
      expectClose(gb, numericGrad(loss, beta), { ...gradTol, label: 'gradBeta' });
    });
  }

  it('float32 backward agrees with float64', () => {
    const { N, C, L } = sizes(rng);
    const n = N * C * L;
    const x = randomArray(F64, n, rng), g = randomArray(F64, n, rng), gamma = randomArray(F64, C, rng, 0.5, 2);
    const run = <A extends Ctor>(Arr: { new (n: number): A; from(a: ArrayLike<number>): A }) => {
      const xs = Arr.from(x), mean = new Arr(C), invstd = new Arr(C), gx = new Arr(n), gg = new Arr(C), gb = new Arr(C);
      native.batchNormForward(xs, N, C, L, Arr.from(gamma), null, null, null, 0.1, 1e-5, new Arr(n), mean, invstd, false, null);
      native.batchNormBackward(xs, Arr.from(g), N, C, L, Arr.from(gamma), mean, invstd, true, gx, gg, gb, null);
      return [gx, gg, gb];
    };
    const f32 = run(Float32Array), f64 = run(Float64Array);
    for (let k = 0; k < 3; k++) expectClose(f32[k]!, f64[k]!, { atol: 1e-4, rtol: 1e-3, seed: rng.seed });
  });

  it('zero batch: empty output, zero parameter gradients, running stats untouched', () => {
    const C = 3, rm = F64.from([1, 2, 3]), rv = F64.from([4, 5, 6]);
    native.batchNormForward(new F64(0), 0, C, 5, null, null, rm, rv, 0.1, 1e-5, new F64(0), new F64(C), new F64(C), true, null);
    expect(Array.from(rm)).toEqual([1, 2, 3]);
    expect(Array.from(rv)).toEqual([4, 5, 6]);
    const gg = F64.from([9, 9, 9]), gb = F64.from([9, 9, 9]);
    native.batchNormBackward(new F64(0), new F64(0), 0, C, 5, F64.from([1, 1, 1]), new F64(C), new F64(C), true,
      new F64(0), gg, gb, new F64(0));
    expect(Array.from(gg)).toEqual([0, 0, 0]);
    expect(Array.from(gb)).toEqual([0, 0, 0]);
  });
});

describe('native layer norm', () => {
  const rng = makeRng();
  for (const Arr of [Float32Array, Float64Array]) {
    it(`${Arr.name} forward over the last D elements, with and without affine`, () => {
      const M = rng.int(1, 6), D = 2 * rng.int(1, 9) + 1, eps = 1e-5;
      const x = randomArray(Arr, M * D, rng, -2, 4);
      for (const affine of [true, false]) {
        const gamma = affine ? randomArray(Arr, D, rng) : null, beta = affine ? randomArray(Arr, D, rng) : null;
        const y = new Arr(M * D), mean = new Arr(M), invstd = new Arr(M);
        native.layerNormForward(x, M, D, gamma, beta, eps, y, mean, invstd);
        const ref = refNorm(x, M, D, 1, M, (o) => o, gamma, beta, eps);
        const tol = Arr === Float32Array ? { atol: 1e-5, rtol: 1e-4 } : { atol: 1e-12, rtol: 1e-10 };
        expectClose(y, ref.y, { ...tol, seed: rng.seed, label: 'y' });
        expectClose(mean, ref.mean, { ...tol, seed: rng.seed, label: 'saveMean' });
        expectClose(invstd, ref.invstd, { ...tol, seed: rng.seed, label: 'saveInvstd' });
      }
      native.layerNormForward(new Arr(0), 0, D, null, null, eps, new Arr(0), new Arr(0), new Arr(0));
    });
  }

  it('backward matches central differences (float64)', () => {
    const M = rng.int(1, 5), D = 2 * rng.int(1, 6) + 1, n = M * D, eps = 1e-5;
    const x = randomArray(F64, n, rng), g = randomArray(F64, n, rng);
    const gamma = randomArray(F64, D, rng), beta = randomArray(F64, D, rng);
    const y = new F64(n), mean = new F64(M), invstd = new F64(M);
    const loss = () => {
      native.layerNormForward(x, M, D, gamma, beta, eps, y, mean, invstd);
      return dot(y, g);
    };
    loss();
    const gx = new F64(n), gg = new F64(D), gb = new F64(D);
    native.layerNormBackward(x, g, M, D, gamma, mean, invstd, gx, gg, gb);
    expectClose(gx, numericGrad(loss, x), { ...gradTol, seed: rng.seed, label: 'gradX' });
    expectClose(gg, numericGrad(loss, gamma), { ...gradTol, seed: rng.seed, label: 'gradGamma' });
    expectClose(gb, numericGrad(loss, beta), { ...gradTol, seed: rng.seed, label: 'gradBeta' });
    const gxOnly = new F64(n);
    native.layerNormBackward(x, g, M, D, gamma, mean, invstd, gxOnly, null, null);
    expectClose(gxOnly, gx, { atol: 0, rtol: 0 });
  });
});

describe('native group norm', () => {
  const rng = makeRng();
  const groupSizes = () => {
    const G = rng.int(1, 3), cpg = rng.int(1, 3);
    return { N: rng.int(1, 3), C: G * cpg, G, L: 2 * rng.int(0, 3) + 1 };
  };
  for (const Arr of [Float32Array, Float64Array]) {
    it(`${Arr.name} forward`, () => {
      const { N, C, G, L } = groupSizes(), eps = 1e-5;
      const x = randomArray(Arr, N * C * L, rng, -2, 4);
      const gamma = randomArray(Arr, C, rng), beta = randomArray(Arr, C, rng);
      const y = new Arr(N * C * L), mean = new Arr(N * G), invstd = new Arr(N * G);
      native.groupNormForward(x, N, C, L, G, gamma, beta, eps, y, mean, invstd);
      const ref = refNorm(x, N, C, L, N * G, (o, c) => o * G + Math.floor(c / (C / G)), gamma, beta, eps);
      const tol = Arr === Float32Array ? { atol: 1e-5, rtol: 1e-4 } : { atol: 1e-12, rtol: 1e-10 };
      expectClose(y, ref.y, { ...tol, seed: rng.seed, label: 'y' });
      expectClose(mean, ref.mean, { ...tol, seed: rng.seed, label: 'saveMean' });
      expectClose(invstd, ref.invstd, { ...tol, seed: rng.seed, label: 'saveInvstd' });
    });
  }

  it('backward matches central differences (float64), and zero batch works', () => {
    const { N, C, G, L } = groupSizes(), n = N * C * L, eps = 1e-5;
    const x = randomArray(F64, n, rng), g = randomArray(F64, n, rng);
    const gamma = randomArray(F64, C, rng), beta = randomArray(F64, C, rng);
    const y = new F64(n), mean = new F64(N * G), invstd = new F64(N * G);
    const loss = () => {
      native.groupNormForward(x, N, C, L, G, gamma, beta, eps, y, mean, invstd);
      return dot(y, g);
    };
    loss();
    const gx = new F64(n), gg = new F64(C), gb = new F64(C);
    native.groupNormBackward(x, g, N, C, L, G, gamma, mean, invstd, gx, gg, gb);
    expectClose(gx, numericGrad(loss, x), { ...gradTol, seed: rng.seed, label: 'gradX' });
    expectClose(gg, numericGrad(loss, gamma), { ...gradTol, seed: rng.seed, label: 'gradGamma' });
    expectClose(gb, numericGrad(loss, beta), { ...gradTol, seed: rng.seed, label: 'gradBeta' });
    native.groupNormForward(new F64(0), 0, C, L, G, null, null, eps, new F64(0), new F64(0), new F64(0));
  });
});

describe('norm entry points reject bad arguments with TypeError/RangeError naming them', () => {
  const f = (n: number) => new Float32Array(n);
  type BnArgs = Parameters<typeof native.batchNormForward>;
  const bn = (): BnArgs => [f(24), 2, 3, 4, f(3), f(3), f(3), f(3), 0.1, 1e-5, f(24), f(3), f(3), false, null];
  type GnArgs = Parameters<typeof native.groupNormForward>;
  const gn = (): GnArgs => [f(24), 2, 4, 3, 2, f(4), f(4), 1e-5, f(24), f(4), f(4)];
  type LnBwdArgs = Parameters<typeof native.layerNormBackward>;
  const lnb = (): LnBwdArgs => [f(15), f(15), 3, 5, f(5), f(3), f(3), f(15), f(5), f(5)];
  const cases: Array<[string, () => void, ErrorConstructor, RegExp]> = [
    ['short gamma', () => { const a = bn(); a[4] = f(2); native.batchNormForward(...a); }, RangeError,
      /batchNormForward: gamma needs at least 3 elements, got 2/],
    ['short x', () => { const a = bn(); a[0] = f(23); native.batchNormForward(...a); }, RangeError,
      /batchNormForward: x needs at least 24 elements, got 23/],
    ['short y', () => { const a = bn(); a[10] = f(1); native.batchNormForward(...a); }, RangeError, /batchNormForward: y needs/],
    ['short running var', () => { const a = bn(); a[7] = f(1); native.batchNormForward(...a); }, RangeError,
      /batchNormForward: runningVar needs at least 3/],
    ['momentum > 1', () => { const a = bn(); a[8] = 1.5; native.batchNormForward(...a); }, RangeError,
      /batchNormForward: momentum must be in \[0, 1\], got 1.5/],
    ['negative eps', () => { const a = bn(); a[9] = -1; native.batchNormForward(...a); }, RangeError,
      /batchNormForward: eps must be finite and >= 0, got -1/],
    ['one value per channel', () => { const a = bn(); a[1] = 1; a[3] = 1; native.batchNormForward(...a); }, RangeError,
      /batchNormForward: expected more than 1 value per channel when training/],
    ['mixed dtypes', () => { const a = bn(); a[5] = new Float64Array(3); native.batchNormForward(...a); }, TypeError,
      /batchNormForward: x and beta must have the same dtype, got float32 and float64/],
    ['int32 x', () => { const a = bn(); (a as unknown[])[0] = new Int32Array(24); native.batchNormForward(...a); }, TypeError,
      /batchNormForward: x must be float32 or float64, got int32/],
    ['negative C', () => { const a = bn(); a[2] = -3; native.batchNormForward(...a); }, RangeError,
      /batchNormForward: C must be in \[0, /],
    ['array instead of buffer', () => { const a = bn(); (a as unknown[])[10] = [0]; native.batchNormForward(...a); },
      TypeError, /batchNormForward: y must be a Float32Array/],
    ['inference missing running mean', () => {
      native.batchNormInference(f(24), 2, 3, 4, null, null, null as unknown as Float32Array, f(3), 1e-5, false, null, f(24));
    }, TypeError, /batchNormInference: runningMean must be a Float32Array/],
    ['inference non-boolean relu', () => {
      native.batchNormInference(f(24), 2, 3, 4, null, null, f(3), f(3), 1e-5, 1 as unknown as boolean, null, f(24));
    }, TypeError, /batchNormInference: fuseRelu must be a boolean/],
    ['backward short gradY', () => {
      native.batchNormBackward(f(24), f(20), 2, 3, 4, null, f(3), f(3), true, f(24), null, null, null);
    }, RangeError, /batchNormBackward: gradY needs at least 24 elements, got 20/],
    ['backward short gradGamma', () => {
      native.batchNormBackward(f(24), f(24), 2, 3, 4, null, f(3), f(3), true, null, f(2), null, null);
    }, RangeError, /batchNormBackward: gradGamma needs at least 3/],
    ['non-boolean fuseRelu', () => { const a = bn(); (a as unknown[])[13] = 'yes'; native.batchNormForward(...a); }, TypeError,
      /batchNormForward: fuseRelu must be a boolean/],
    ['short residual', () => { const a = bn(); a[14] = f(23); native.batchNormForward(...a); }, RangeError,
      /batchNormForward: residual needs at least 24 elements, got 23/],
    ['residual overlapping y', () => { const a = bn(); a[14] = a[10]; native.batchNormForward(...a); }, RangeError,
      /batchNormForward: .*(y.*residual|residual.*y)/],
    ['backward short reluOutput', () => {
      native.batchNormBackward(f(24), f(24), 2, 3, 4, null, f(3), f(3), true, f(24), null, null, f(23));
    }, RangeError, /batchNormBackward: reluOutput needs at least 24 elements, got 23/],
    ['backward reluOutput overlapping gradX', () => {
      const gx = f(24);
      native.batchNormBackward(f(24), f(24), 2, 3, 4, null, f(3), f(3), true, gx, null, null, gx);
    }, RangeError, /batchNormBackward: .*gradX.*reluOutput|batchNormBackward: .*reluOutput.*gradX/],
    ['groups do not divide C', () => { const a = gn(); a[4] = 3; native.groupNormForward(...a); }, RangeError,
      /groupNormForward: channels C = 4 must be divisible by groups G = 3/],
    ['zero groups', () => { const a = gn(); a[4] = 0; native.groupNormForward(...a); }, RangeError,
      /groupNormForward: groups must be >= 1, got 0/],
    ['group norm short saveMean', () => { const a = gn(); a[9] = f(3); native.groupNormForward(...a); }, RangeError,
      /groupNormForward: saveMean needs at least 4 elements, got 3/],
    ['layer norm short saveInvstd', () => { const a = lnb(); a[6] = f(2); native.layerNormBackward(...a); }, RangeError,
      /layerNormBackward: saveInvstd needs at least 3 elements, got 2/],
    ['layer norm fractional D', () => { const a = lnb(); a[3] = 2.5; native.layerNormBackward(...a); }, RangeError,
      /layerNormBackward: D must be an integer, got 2.5/],
    ['too few arguments', () => { (native.layerNormForward as unknown as () => void)(); }, TypeError,
      /layerNormForward: expected 9 arguments, got 0/],
  ];
  for (const [name, call, Err, message] of cases) {
    it(name, () => {
      expect(call).toThrow(Err);
      expect(call).toThrow(message);
    });
  }
});

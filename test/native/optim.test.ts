import { describe, expect, it } from 'vitest';
import { native } from '../../lib/native.js';
import { expectClose, makeRng, randomArray } from '../util.js';

const F64 = Float64Array;
const STEPS = 20;
const trajTol = { atol: 1e-12, rtol: 1e-6 };

/** Float64 references of the torch.optim update rules, one element at a time (docs pseudocode). */
interface SgdCfg { lr: number; momentum: number; dampening: number; wd: number; nesterov: boolean; maximize: boolean }
function refSgd(p0: Float64Array, grads: Float64Array[], c: SgdCfg): Float64Array[] {
  const p = F64.from(p0), buf = new F64(p.length), out: Float64Array[] = [];
  grads.forEach((grad, t) => {
    for (let i = 0; i < p.length; i++) {
      let g = c.maximize ? -grad[i]! : grad[i]!;
      if (c.wd !== 0) g += c.wd * p[i]!;
      if (c.momentum !== 0) {
        buf[i] = t === 0 ? g : c.momentum * buf[i]! + (1 - c.dampening) * g;
        g = c.nesterov ? g + c.momentum * buf[i]! : buf[i]!;
      }
      p[i]! -= c.lr * g;
    }
    out.push(F64.from(p));
  });
  return out;
}

interface AdamCfg { lr: number; b1: number; b2: number; eps: number; wd: number; amsgrad: boolean; decoupled: boolean; maximize: boolean }
function refAdam(p0: Float64Array, grads: Float64Array[], c: AdamCfg): Float64Array[] {
  const p = F64.from(p0), m = new F64(p.length), v = new F64(p.length), vmax = new F64(p.length), out: Float64Array[] = [];
  grads.forEach((grad, k) => {
    const t = k + 1;
    for (let i = 0; i < p.length; i++) {
      let g = c.maximize ? -grad[i]! : grad[i]!;
      if (c.decoupled) p[i]! *= 1 - c.lr * c.wd;
      else g += c.wd * p[i]!;
      m[i] = c.b1 * m[i]! + (1 - c.b1) * g;
      v[i] = c.b2 * v[i]! + (1 - c.b2) * g * g;
      const mhat = m[i]! / (1 - c.b1 ** t);
      let vhat: number;
      if (c.amsgrad) {
        vmax[i] = Math.max(vmax[i]!, v[i]!);
        vhat = vmax[i]! / (1 - c.b2 ** t);
      } else vhat = v[i]! / (1 - c.b2 ** t);
      p[i]! -= (c.lr * mhat) / (Math.sqrt(vhat) + c.eps);
    }
    out.push(F64.from(p));
  });
  return out;
}

interface RmsCfg { lr: number; alpha: number; eps: number; wd: number; momentum: number; centered: boolean; maximize: boolean }
function refRmsprop(p0: Float64Array, grads: Float64Array[], c: RmsCfg): Float64Array[] {
  const n = p0.length, p = F64.from(p0), v = new F64(n), ga = new F64(n), b = new F64(n), out: Float64Array[] = [];
  for (const grad of grads) {
    for (let i = 0; i < n; i++) {
      let g = c.maximize ? -grad[i]! : grad[i]!;
      g += c.wd * p[i]!;
      v[i] = c.alpha * v[i]! + (1 - c.alpha) * g * g;
      let vt = v[i]!;
      if (c.centered) {
        ga[i] = c.alpha * ga[i]! + (1 - c.alpha) * g;
        vt -= ga[i]! ** 2;
      }
      if (c.momentum > 0) {
        b[i] = c.momentum * b[i]! + g / (Math.sqrt(vt) + c.eps);
        p[i]! -= c.lr * b[i]!;
      } else p[i]! -= (c.lr * g) / (Math.sqrt(vt) + c.eps);
    }
    out.push(F64.from(p));
  }
  return out;
}

interface AdagradCfg { lr: number; lrDecay: number; wd: number; eps: number; init: number; maximize: boolean }
function refAdagrad(p0: Float64Array, grads: Float64Array[], c: AdagradCfg): Float64Array[] {
  const p = F64.from(p0), s = new F64(p.length).fill(c.init), out: Float64Array[] = [];
  grads.forEach((grad, k) => {
    const clr = c.lr / (1 + k * c.lrDecay);
    for (let i = 0; i < p.length; i++) {
      let g = c.maximize ? -grad[i]! : grad[i]!;
      g += c.wd * p[i]!;
      s[i]! += g * g;
      p[i]! -= (clr * g) / (Math.sqrt(s[i]!) + c.eps);
    }
    out.push(F64.from(p));
  });
  return out;
}

type Buf = Float32Array | Float64Array;

// The group entries over one parameter, in the per-parameter argument order the cases below use.
const sgd1 = (p: Buf, g: Buf, buf: Buf | null, lr: number, momentum: number, dampening: number, weightDecay: number,
  nesterov: boolean, maximize: boolean, first: boolean) =>
  native.sgdStep({ lr, momentum, dampening, weightDecay, nesterov, maximize }, 1, [first ? 1 : 0], p, g, buf);
const adam1 = (p: Buf, g: Buf, m: Buf, v: Buf, vmax: Buf | null, step: number, lr: number, b1: number, b2: number, eps: number,
  weightDecay: number, amsgrad: boolean, decoupled: boolean, maximize: boolean) =>
  native.adamStep({ lr, betas: [b1, b2], eps, weightDecay, amsgrad, maximize }, decoupled, 1, [step], p, g, m, v, vmax);
const rmsprop1 = (p: Buf, g: Buf, sq: Buf, ga: Buf | null, buf: Buf | null, lr: number, alpha: number, eps: number,
  weightDecay: number, momentum: number, centered: boolean, maximize: boolean) =>
  native.rmspropStep({ lr, alpha, eps, weightDecay, momentum, centered, maximize }, 1, p, g, sq, ga, buf);
const adagrad1 = (p: Buf, g: Buf, sum: Buf, step: number, lr: number, lrDecay: number, weightDecay: number, eps: number,
  maximize: boolean) =>
  native.adagradStep({ lr, lrDecay, weightDecay, eps, initialAccumulatorValue: 0, maximize }, 1, [step], p, g, sum);
/** sum x^2 through gradNormAccumulate (float64 accumulator). */
const sumOfSquares = (x: Buf): number => {
  const acc = new Float64Array(1);
  native.gradNormAccumulate(2, acc, 1, x);
  return acc[0]!;
};

describe('native fused optimizers follow the torch.optim rules for 20 steps', () => {
  const rng = makeRng();
  const setup = () => {
    const n = 2 * rng.int(3, 40) + 1;
    const p0 = randomArray(F64, n, rng);
    const grads = Array.from({ length: STEPS }, () => randomArray(F64, n, rng));
    return { n, p0, grads };
  };
  const label = (k: number) => ({ ...trajTol, seed: rng.seed, label: `step ${k + 1}` });

  const sgdCfgs: Array<[string, SgdCfg]> = [
    ['plain', { lr: 0.1, momentum: 0, dampening: 0, wd: 0, nesterov: false, maximize: false }],
    ['momentum + dampening + weight decay', { lr: 0.05, momentum: 0.9, dampening: 0.3, wd: 0.01, nesterov: false, maximize: false }],
    ['nesterov + weight decay', { lr: 0.05, momentum: 0.8, dampening: 0, wd: 0.02, nesterov: true, maximize: false }],
    ['maximize with momentum', { lr: 0.05, momentum: 0.5, dampening: 0, wd: 0, nesterov: false, maximize: true }],
  ];
  for (const [name, c] of sgdCfgs) {
    it(`sgd ${name}`, () => {
      const { n, p0, grads } = setup();
      const ref = refSgd(p0, grads, c), p = F64.from(p0), buf = c.momentum ? new F64(n).fill(123) : null;
      grads.forEach((g, k) => {
        sgd1(p, g, buf, c.lr, c.momentum, c.dampening, c.wd, c.nesterov, c.maximize, k === 0);
        expectClose(p, ref[k]!, label(k));
      });
    });
  }

  const adamBase = { lr: 0.01, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0, amsgrad: false, decoupled: false, maximize: false };
  const adamCfgs: Array<[string, AdamCfg]> = [
    ['defaults', adamBase],
    ['L2 weight decay', { ...adamBase, wd: 0.05, b1: 0.8, b2: 0.95 }],
    ['AdamW decoupled decay', { ...adamBase, wd: 0.1, decoupled: true }],
    ['amsgrad', { ...adamBase, amsgrad: true, b2: 0.9 }],
    ['maximize + amsgrad + AdamW', { ...adamBase, amsgrad: true, decoupled: true, wd: 0.01, maximize: true }],
  ];
  for (const [name, c] of adamCfgs) {
    it(`adam ${name}`, () => {
      const { n, p0, grads } = setup();
      const ref = refAdam(p0, grads, c), p = F64.from(p0), m = new F64(n), v = new F64(n);
      const vmax = c.amsgrad ? new F64(n) : null;
      grads.forEach((g, k) => {
        adam1(p, g, m, v, vmax, k + 1, c.lr, c.b1, c.b2, c.eps, c.wd, c.amsgrad, c.decoupled, c.maximize);
        expectClose(p, ref[k]!, label(k));
      });
    });
  }

  const rmsBase = { lr: 0.01, alpha: 0.99, eps: 1e-8, wd: 0, momentum: 0, centered: false, maximize: false };
  const rmsCfgs: Array<[string, RmsCfg]> = [
    ['plain', rmsBase],
    ['centered', { ...rmsBase, centered: true, alpha: 0.9 }],
    ['momentum + weight decay', { ...rmsBase, momentum: 0.9, wd: 0.01 }],
    ['centered + momentum + maximize', { ...rmsBase, centered: true, momentum: 0.5, alpha: 0.8, maximize: true }],
  ];
  for (const [name, c] of rmsCfgs) {
    it(`rmsprop ${name}`, () => {
      const { n, p0, grads } = setup();
      const ref = refRmsprop(p0, grads, c), p = F64.from(p0), sq = new F64(n);
      const ga = c.centered ? new F64(n) : null, buf = c.momentum > 0 ? new F64(n) : null;
      grads.forEach((g, k) => {
        rmsprop1(p, g, sq, ga, buf, c.lr, c.alpha, c.eps, c.wd, c.momentum, c.centered, c.maximize);
        expectClose(p, ref[k]!, label(k));
      });
    });
  }

  const adagradCfgs: Array<[string, AdagradCfg]> = [
    ['plain', { lr: 0.1, lrDecay: 0, wd: 0, eps: 1e-10, init: 0, maximize: false }],
    ['lr decay + weight decay + initial accumulator + maximize', { lr: 0.1, lrDecay: 0.05, wd: 0.01, eps: 1e-10, init: 0.1, maximize: true }],
  ];
  for (const [name, c] of adagradCfgs) {
    it(`adagrad ${name}`, () => {
      const { n, p0, grads } = setup();
      const ref = refAdagrad(p0, grads, c), p = F64.from(p0), sum = new F64(n).fill(c.init);
      grads.forEach((g, k) => {
        adagrad1(p, g, sum, k + 1, c.lr, c.lrDecay, c.wd, c.eps, c.maximize);
        expectClose(p, ref[k]!, label(k));
      });
    });
  }

  it('float32 buffers follow the float64 trajectory closely (adam + sgd)', () => {
    const { n, p0, grads } = setup();
    const ref = refAdam(p0, grads, adamCfgs[2]![1]);
    const p = Float32Array.from(p0), m = new Float32Array(n), v = new Float32Array(n);
    grads.forEach((g, k) => adam1(p, Float32Array.from(g), m, v, null, k + 1, 0.01, 0.9, 0.999, 1e-8, 0.1, false, true, false));
    expectClose(p, ref[STEPS - 1]!, { atol: 1e-5, rtol: 1e-4, seed: rng.seed });
    const c = sgdCfgs[2]![1], refS = refSgd(p0, grads, c), ps = Float32Array.from(p0), buf = new Float32Array(n);
    grads.forEach((g, k) => sgd1(ps, Float32Array.from(g), buf, c.lr, c.momentum, c.dampening, c.wd, c.nesterov, false, k === 0));
    expectClose(ps, refS[STEPS - 1]!, { atol: 1e-5, rtol: 1e-4, seed: rng.seed });
  });

  it('empty parameters are a no-op', () => {
    adam1(new F64(0), new F64(0), new F64(0), new F64(0), null, 1, 0.1, 0.9, 0.999, 1e-8, 0, false, false, false);
    sgd1(new F64(0), new F64(0), null, 0.1, 0, 0, 0, false, false, true);
  });
});

describe('native gradient clipping helpers', () => {
  const rng = makeRng();
  for (const Arr of [Float32Array, Float64Array]) {
    it(`${Arr.name} gradNormAccumulate (p = 2) accumulates in float64 and does not depend on threads`, () => {
      const n = 2 * rng.int(30000, 60000) + 1, x = randomArray(Arr, n, rng);
      let expected = 0;
      for (let i = 0; i < n; i++) expected += x[i]! * x[i]!;
      const got = sumOfSquares(x);
      expectClose([got], [expected], { atol: 0, rtol: 1e-12, seed: rng.seed });
      const threads = native.getNumThreads();
      try {
        native.setNumThreads(1);
        expect(sumOfSquares(x)).toBe(got);
      } finally {
        native.setNumThreads(threads);
      }
      expect(sumOfSquares(new Arr(0))).toBe(0);
    });

    it(`${Arr.name} clipByNorm and clampInPlace are exact; clamp keeps NaN and lets hi win when lo > hi`, () => {
      const x = randomArray(Arr, 1001, rng, -3, 3), total = rng.uniform(2, 5), maxNorm = rng.uniform(0.5, 1.5);
      const round = Arr === Float32Array ? Math.fround : (v: number) => v;
      const coef = round(maxNorm / (total + 1e-6));
      const scaled = Array.from(x, (v) => round(v * coef));
      native.clipByNorm(F64.from([total]), maxNorm, 1, x);
      expect(Array.from(x)).toEqual(scaled);
      native.clipByNorm(F64.from([total]), total + 1e-3, 1, x);
      expect(Array.from(x)).toEqual(scaled);
      const lo = round(rng.uniform(-2, -1)), hi = round(rng.uniform(1, 2));
      const clamped = Array.from(x, (v) => Math.min(Math.max(v, lo), hi));
      native.clampInPlace(x, lo, hi);
      expect(Array.from(x)).toEqual(clamped);
      const y = Arr.from([NaN, -5, 5]);
      native.clampInPlace(y, -1, Infinity);
      expect(Array.from(y)).toEqual([NaN, -1, 5]);
      native.clampInPlace(y, 2, 1);
      expect(Array.from(y)).toEqual([NaN, 1, 1]);
    });
  }
});

describe('optim entry points reject bad arguments with TypeError/RangeError naming them', () => {
  const f = (n: number) => new Float32Array(n);
  type AdamArgs = Parameters<typeof adam1>;
  const adam = (): AdamArgs => [f(4), f(4), f(4), f(4), null, 1, 0.001, 0.9, 0.999, 1e-8, 0, false, false, false];
  const cases: Array<[string, () => unknown, ErrorConstructor, RegExp]> = [
    ['sgd momentum without buffer', () => sgd1(f(4), f(4), null, 0.1, 0.9, 0, 0, false, false, true),
      TypeError, /sgdStep: momentumBuffers\[0\] must be a Float32Array/],
    ['sgd short grad', () => sgd1(f(4), f(3), null, 0.1, 0, 0, 0, false, false, true),
      RangeError, /sgdStep: grads\[0\] needs at least 4 elements, got 3/],
    ['sgd nesterov with dampening', () => sgd1(f(4), f(4), f(4), 0.1, 0.9, 0.1, 0, true, false, true),
      RangeError, /sgdStep: nesterov needs momentum > 0 and dampening 0/],
    ['sgd negative lr', () => sgd1(f(4), f(4), null, -0.1, 0, 0, 0, false, false, true),
      RangeError, /sgdStep: lr must be a finite non-negative number, got -0.1/],
    ['sgd mixed dtypes', () => sgd1(f(4), new Float64Array(4), null, 0.1, 0, 0, 0, false, false, true),
      TypeError, /sgdStep: params\[0\] and grads\[0\] must have the same dtype, got float32 and float64/],
    ['adam step 0', () => { const a = adam(); a[5] = 0; adam1(...a); }, RangeError, /adamStep: steps\[0\] must be an integer in \[1, /],
    ['adam beta1 = 1', () => { const a = adam(); a[7] = 1; adam1(...a); }, RangeError, /adamStep: betas\[0\] must be in \[0, 1\), got 1/],
    ['adam amsgrad without max buffer', () => { const a = adam(); a[11] = true; adam1(...a); }, TypeError,
      /adamStep: maxExpAvgSqs\[0\] must be a Float32Array/],
    ['adam short expAvgSq', () => { const a = adam(); a[3] = f(2); adam1(...a); }, RangeError,
      /adamStep: expAvgSqs\[0\] needs at least 4 elements, got 2/],
    ['adam non-boolean amsgrad', () => { const a = adam(); (a as unknown[])[11] = 1; adam1(...a); }, TypeError,
      /adamStep: amsgrad must be a boolean/],
    ['adam int32 param', () => { const a = adam(); (a as unknown[])[0] = new Int32Array(4); adam1(...a); }, TypeError,
      /adamStep: params\[0\] must be float32 or float64, got int32/],
    ['rmsprop centered without gradAvg', () => rmsprop1(f(4), f(4), f(4), null, null, 0.01, 0.99, 1e-8, 0, 0, true, false),
      TypeError, /rmspropStep: gradAvgs\[0\] must be a Float32Array/],
    ['rmsprop negative alpha', () => rmsprop1(f(4), f(4), f(4), null, null, 0.01, -0.5, 1e-8, 0, 0, false, false),
      RangeError, /rmspropStep: alpha must be in \[0, 1\], got -0.5/],
    ['adagrad short sum', () => adagrad1(f(4), f(4), f(1), 1, 0.1, 0, 0, 1e-10, false),
      RangeError, /adagradStep: sums\[0\] needs at least 4 elements, got 1/],
    ['adagrad NaN eps', () => adagrad1(f(4), f(4), f(4), 1, 0.1, 0, 0, NaN, false),
      RangeError, /adagradStep: eps must be a finite non-negative number, got nan/i],
    ['clamp NaN bound', () => native.clampInPlace(f(4), NaN, 1), RangeError, /clampInPlace: bounds must not be NaN/],
    ['clipByNorm non-number maxNorm', () => native.clipByNorm(new Float64Array(1), '2' as unknown as number, 1, f(4)), TypeError,
      /clipByNorm: maxNorm must be a number/],
    ['clipByNorm float32 norm', () => native.clipByNorm(f(1), 1, 1, f(4)), TypeError, /clipByNorm: totalNorm must be float64, got float32/],
    ['gradNormAccumulate uint8', () => sumOfSquares(new Uint8Array(4) as unknown as Float32Array), TypeError,
      /gradNormAccumulate: grads\[0\] must be float32 or float64, got uint8/],
    ['gradNormAccumulate zero normType', () => native.gradNormAccumulate(0, new Float64Array(1), 1, f(4)), RangeError,
      /gradNormAccumulate: normType must be a positive number or Infinity, got 0/],
    ['too few arguments', () => (native.adagradStep as unknown as () => void)(), TypeError, /adagradStep: expected 3 arguments, got 0/],
  ];
  for (const [name, call, Err, message] of cases) {
    it(name, () => {
      expect(call).toThrow(Err);
      expect(call).toThrow(message);
    });
  }
});

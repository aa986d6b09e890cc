import { describe, expect, it } from 'vitest';
import { Tensor } from '../../lib/tensor.js';
import { fromArray, tensor, zeros } from '../../lib/creation.js';
import { SGD, Adam, AdamW, RMSprop, Adagrad, Optimizer, StepLR, clipGradNorm, clipGradValue } from '../../lib/optim/index.js';
import { Linear } from '../../lib/nn/layers/linear.js';
import { Sequential } from '../../lib/nn/layers/container.js';
import { expectClose, makeRng, randomArray, type Rng } from '../util.js';

const STEPS = 20;
const SIZES = [7, 13];

/** Float64 parameters (two tensors of odd sizes) and 20 pre-generated gradients for each. */
function problem(rng: Rng): { p0: Float64Array[]; grads: Float64Array[][] } {
  const p0 = SIZES.map((n) => randomArray(Float64Array, n, rng));
  const grads = Array.from({ length: STEPS }, () => SIZES.map((n) => randomArray(Float64Array, n, rng, -2, 2)));
  return { p0, grads };
}

/** Runs `make(params)` for STEPS steps on the fixed gradients; returns the parameters after every step. */
function run(p0: Float64Array[], grads: Float64Array[][], make: (ps: Tensor[]) => Optimizer<any>): Float64Array[][] {
  const params = p0.map((p) => fromArray(Float64Array.from(p)).requiresGrad_());
  const opt = make(params);
  return grads.map((gs) => {
    params.forEach((p, i) => (p.grad = fromArray(Float64Array.from(gs[i]!))));
    opt.step();
    return params.map((p) => Float64Array.from(p.dataSync() as Float64Array));
  });
}

/** Applies `rule(p, g, state, t)` to each tensor's elements for STEPS steps (t is 1-based); the float64 reference. */
function reference(
  p0: Float64Array[], grads: Float64Array[][],
  rule: (p: number, g: number, s: Record<string, number>, t: number) => number,
): Float64Array[][] {
  const params = p0.map((p) => Float64Array.from(p));
  const states = params.map((p) => Array.from({ length: p.length }, () => ({}) as Record<string, number>));
  return grads.map((gs, k) => {
    params.forEach((p, i) => {
      for (let j = 0; j < p.length; j++) p[j] = rule(p[j]!, gs[i]![j]!, states[i]![j]!, k + 1);
    });
    return params.map((p) => Float64Array.from(p));
  });
}

function expectTrajectory(actual: Float64Array[][], expected: Float64Array[][], seed: number): void {
  actual.forEach((ps, t) => ps.forEach((p, i) => expectClose(p, expected[t]![i]!, { atol: 1e-12, rtol: 1e-6, seed, label: `step ${t + 1} param ${i}` })));
}

interface SgdCase { lr: number; momentum?: number; dampening?: number; weightDecay?: number; nesterov?: boolean; maximize?: boolean }
const sgdRule = (c: SgdCase) => (p: number, grad: number, s: Record<string, number>, t: number): number => {
  const { lr, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false, maximize = false } = c;
  let g = (maximize ? -grad : grad) + weightDecay * p;
  if (momentum !== 0) {
    s.b = t === 1 ? g : momentum * s.b! + (1 - dampening) * g;
    g = nesterov ? g + momentum * s.b : s.b;
  }
  return p - lr * g;
};

interface AdamCase { lr: number; betas?: [number, number]; eps?: number; weightDecay?: number; amsgrad?: boolean; maximize?: boolean }
const adamRule = (c: AdamCase, decoupled: boolean) => (p: number, grad: number, s: Record<string, number>, t: number): number => {
  const { lr, betas: [b1, b2] = [0.9, 0.999], eps = 1e-8, weightDecay = decoupled ? 1e-2 : 0, amsgrad = false, maximize = false } = c;
  let g = maximize ? -grad : grad;
  if (decoupled) p *= 1 - lr * weightDecay;
  else g += weightDecay * p;
  s.m = b1 * (s.m ?? 0) + (1 - b1) * g;
  s.v = b2 * (s.v ?? 0) + (1 - b2) * g * g;
  s.vmax = Math.max(s.vmax ?? 0, s.v);
  const mHat = s.m / (1 - b1 ** t), vHat = (amsgrad ? s.vmax : s.v) / (1 - b2 ** t);
  return p - (lr * mHat) / (Math.sqrt(vHat) + eps);
};

interface RmsCase { lr: number; alpha?: number; eps?: number; weightDecay?: number; momentum?: number; centered?: boolean }
const rmsRule = (c: RmsCase) => (p: number, grad: number, s: Record<string, number>): number => {
  const { lr, alpha = 0.99, eps = 1e-8, weightDecay = 0, momentum = 0, centered = false } = c;
  const g = grad + weightDecay * p;
  s.v = alpha * (s.v ?? 0) + (1 - alpha) * g * g;
  let denom: number;
  if (centered) {
    s.gAvg = alpha * (s.gAvg ?? 0) + (1 - alpha) * g;
    denom = Math.sqrt(s.v - s.gAvg * s.gAvg) + eps;
  } else {
    denom = Math.sqrt(s.v) + eps;
  }
  if (momentum > 0) {
    s.b = momentum * (s.b ?? 0) + g / denom;
    return p - lr * s.b;
  }
  return p - (lr * g) / denom;
};

interface AdagradCase { lr: number; lrDecay?: number; weightDecay?: number; initialAccumulatorValue?: number; eps?: number }
const adagradRule = (c: AdagradCase) => (p: number, grad: number, s: Record<string, number>, t: number): number => {
  const { lr, lrDecay = 0, weightDecay = 0, initialAccumulatorValue = 0, eps = 1e-10 } = c;
  const g = grad + weightDecay * p;
  const clr = lr / (1 + (t - 1) * lrDecay);
  s.sum = (s.sum ?? initialAccumulatorValue) + g * g;
  return p - (clr * g) / (Math.sqrt(s.sum) + eps);
};

describe('optimizer trajectories match float64 references of the published rules (20 steps)', () => {
  const sgdCases: SgdCase[] = [
    { lr: 0.1 },
    { lr: 0.05, momentum: 0.9 },
    { lr: 0.05, momentum: 0.9, dampening: 0.3, weightDecay: 0.01 },
    { lr: 0.05, momentum: 0.8, nesterov: true, weightDecay: 0.02 },
    { lr: 0.05, momentum: 0.5, maximize: true },
  ];
  it.each(sgdCases)('SGD %o', (c) => {
    const rng = makeRng();
    const { p0, grads } = problem(rng);
    expectTrajectory(run(p0, grads, (ps) => new SGD(ps, c)), reference(p0, grads, sgdRule(c)), rng.seed);
  });

  const adamCases: AdamCase[] = [
    { lr: 0.01 },
    { lr: 0.02, betas: [0.8, 0.99], eps: 1e-6, weightDecay: 0.05 },
    { lr: 0.01, amsgrad: true },
    { lr: 0.01, amsgrad: true, weightDecay: 0.1, maximize: true },
  ];
  it.each(adamCases)('Adam %o', (c) => {
    const rng = makeRng();
    const { p0, grads } = problem(rng);
    expectTrajectory(run(p0, grads, (ps) => new Adam(ps, c)), reference(p0, grads, adamRule(c, false)), rng.seed);
  });
  it.each([{ lr: 0.01 }, { lr: 0.02, weightDecay: 0.3, amsgrad: true }] as AdamCase[])('AdamW %o', (c) => {
    const rng = makeRng();
    const { p0, grads } = problem(rng);
    expectTrajectory(run(p0, grads, (ps) => new AdamW(ps, c)), reference(p0, grads, adamRule(c, true)), rng.seed);
  });

  const rmsCases: RmsCase[] = [
    { lr: 0.01 },
    { lr: 0.01, alpha: 0.9, momentum: 0.7, weightDecay: 0.01 },
    { lr: 0.005, centered: true },
    { lr: 0.005, centered: true, momentum: 0.9, eps: 1e-4 },
  ];
  it.each(rmsCases)('RMSprop %o', (c) => {
    const rng = makeRng();
    const { p0, grads } = problem(rng);
    expectTrajectory(run(p0, grads, (ps) => new RMSprop(ps, c)), reference(p0, grads, rmsRule(c)), rng.seed);
  });

  const adagradCases: AdagradCase[] = [{ lr: 0.1 }, { lr: 0.1, lrDecay: 0.05, weightDecay: 0.01, initialAccumulatorValue: 0.3 }];
  it.each(adagradCases)('Adagrad %o', (c) => {
    const rng = makeRng();
    const { p0, grads } = problem(rng);
    expectTrajectory(run(p0, grads, (ps) => new Adagrad(ps, c)), reference(p0, grads, adagradRule(c)), rng.seed);
  });

  it('float32 parameters follow the float64 reference to float32 precision', () => {
    const rng = makeRng();
    const { p0, grads } = problem(rng);
    const p = fromArray(Float32Array.from(p0[0]!)).requiresGrad_();
    const opt = new Adam([p], { lr: 0.01 });
    for (const gs of grads) {
      p.grad = fromArray(Float32Array.from(gs[0]!));
      opt.step();
    }
    expectClose(p.dataSync(), reference(p0, grads, adamRule({ lr: 0.01 }, false))[STEPS - 1]![0]!, { atol: 1e-5, rtol: 1e-4, seed: rng.seed });
  });
});

describe('parameter groups, skipping and freezing', () => {
  it('groups with different learning rates update at their own rates; options override defaults', () => {
    const a = tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
    const b = tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
    const opt = new SGD([{ params: [a] }, { params: [b], lr: 0.5 }], { lr: 0.1, momentum: 0 });
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.1, 0.5]);
    a.grad = tensor([1, 1, 1], { dtype: 'float64' });
    b.grad = tensor([1, 1, 1], { dtype: 'float64' });
    opt.step();
    expectClose(a.dataSync(), [0.9, 1.9, 2.9], { atol: 1e-15 });
    expectClose(b.dataSync(), [0.5, 1.5, 2.5], { atol: 1e-15 });
    const c = tensor([0], { dtype: 'float64', requiresGrad: true });
    opt.addParamGroup({ params: [c], momentum: 0.9 });
    expect(opt.paramGroups[2]).toMatchObject({ lr: 0.1, momentum: 0.9 });
    expect(() => opt.addParamGroup({ params: [a] })).toThrow(/more than one parameter group/);
  });

  it('parameters whose grad is null are skipped and get no state', () => {
    const a = tensor([1, 2], { requiresGrad: true }), b = tensor([3, 4], { requiresGrad: true });
    const opt = new Adam([a, b], { lr: 0.1 });
    a.grad = tensor([1, -1]);
    opt.step();
    expect(Array.from(b.dataSync())).toEqual([3, 4]);
    expect(opt.state.has(b)).toBe(false);
    expect(opt.state.get(a)!.step).toBe(1);
  });

  it('a frozen submodule gets no gradient and is not updated', () => {
    const model = new Sequential(new Linear(4, 3), new Linear(3, 2));
    model.at(0).requiresGrad(false);
    const frozen = model.at(0).parameters().map((p) => Float32Array.from(p.dataSync() as Float32Array));
    const head = model.at(1).parameters().map((p) => Float32Array.from(p.dataSync() as Float32Array));
    const opt = new SGD(model.parameters(), { lr: 0.5 });
    const x = tensor([[1, 2, 3, 4], [-1, 0.5, 2, 0]]);
    model.call(x).square().sum().backward();
    opt.step();
    model.at(0).parameters().forEach((p, i) => {
      expect(p.grad).toBeNull();
      expect(Array.from(p.dataSync())).toEqual(Array.from(frozen[i]!));
    });
    model.at(1).parameters().forEach((p, i) => {
      expect(p.grad).not.toBeNull();
      expect(Array.from(p.dataSync())).not.toEqual(Array.from(head[i]!));
    });
  });

  it('zeroGrad sets every gradient to null; a closure is evaluated with gradients enabled', () => {
    const w = tensor([2], { requiresGrad: true });
    const opt = new SGD([w], { lr: 0.25 });
    const loss = opt.step(() => {
      opt.zeroGrad();
      const l = w.square().sum();
      l.backward();
      return l.item();
    });
    expect(loss).toBe(4);
    expect(w.item()).toBe(1);
    opt.zeroGrad();
    expect(w.grad).toBeNull();
  });
});

describe('argument checks', () => {
  const p = () => [zeros([2], { requiresGrad: true })];
  it('names the optimizer, argument and bad value', () => {
    expect(() => new SGD(p(), { lr: -0.1 })).toThrow('SGD: lr must be a finite non-negative number, got -0.1');
    expect(() => new SGD(p(), { momentum: 0, nesterov: true })).toThrow(/nesterov needs momentum > 0/);
    expect(() => new Adam(p(), { betas: [0.9, 1.5] })).toThrow('Adam: betas[1] must be in [0, 1), got 1.5');
    expect(() => new AdamW(p(), { eps: NaN })).toThrow('AdamW: eps must be a finite non-negative number, got nan');
    expect(() => new RMSprop(p(), { alpha: 2 })).toThrow('RMSprop: alpha must be in [0, 1], got 2');
    expect(() => new Adagrad(p(), { lrDecay: -1 })).toThrow('Adagrad: lrDecay must be a finite non-negative number, got -1');
    expect(() => new SGD([{ params: p(), lr: -1 }])).toThrow('SGD: lr must be a finite non-negative number, got -1');
    expect(() => new SGD([])).toThrow(/empty parameter list/);
    expect(() => new SGD([tensor([1], { dtype: 'int32' })])).toThrow(/float tensors/);
    const w = tensor([1], { requiresGrad: true });
    expect(() => new SGD([w.mul(2)])).toThrow(/non-leaf/);
  });

  it('a gradient of another dtype is an error', () => {
    const w = tensor([1, 2], { requiresGrad: true });
    const opt = new SGD([w], { lr: 0.1 });
    w.grad = tensor([1, 2], { dtype: 'float64' });
    expect(() => opt.step()).toThrow('SGD: parameter 0 is float32 but its gradient is float64');
  });
});

describe('state dicts', () => {
  it("have PyTorch's structure and resume a run exactly", () => {
    const rng = makeRng();
    const { p0, grads } = problem(rng);
    const make = (ps: Tensor[]) => new Adam([{ params: [ps[0]!] }, { params: [ps[1]!], lr: 0.02 }], { lr: 0.01, amsgrad: true });
    const full = run(p0, grads, make);

    const params = p0.map((p) => fromArray(Float64Array.from(p)).requiresGrad_());
    const first = make(params);
    grads.slice(0, 10).forEach((gs) => {
      params.forEach((p, i) => (p.grad = fromArray(Float64Array.from(gs[i]!))));
      first.step();
    });
    const sd = first.stateDict();
    expect(sd.param_groups).toEqual([
      { lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0, amsgrad: true, maximize: false, params: [0] },
      { lr: 0.02, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0, amsgrad: true, maximize: false, params: [1] },
    ]);
    expect(Object.keys(sd.state)).toEqual(['0', '1']);
    expect(Object.keys(sd.state[1]!)).toEqual(['step', 'exp_avg', 'exp_avg_sq', 'max_exp_avg_sq']);
    expect(sd.state[1]!.step).toBe(10);

    const resumedParams = params.map((p) => fromArray(Float64Array.from(p.dataSync() as Float64Array)).requiresGrad_());
    const resumed = make(resumedParams);
    resumed.loadStateDict(sd);
    // The loaded state is a copy: stepping the original does not move the resumed optimizer.
    (sd.state[0]!.exp_avg as Tensor).fill_(123);
    grads.slice(10).forEach((gs, k) => {
      resumedParams.forEach((p, i) => (p.grad = fromArray(Float64Array.from(gs[i]!))));
      resumed.step();
      resumedParams.forEach((p, i) => expectClose(p.dataSync(), full[10 + k]![i]!, { atol: 0, rtol: 0, seed: rng.seed }));
    });
  });

  it('restores hyperparameters and rejects mismatched groups', () => {
    const w = zeros([3], { requiresGrad: true });
    const opt = new SGD([w], { lr: 0.1, momentum: 0.9 });
    const sd = opt.stateDict();
    sd.param_groups[0]!.lr = 0.7;
    sd.param_groups[0]!.weight_decay = 0.01;
    opt.loadStateDict(sd);
    expect(opt.paramGroups[0]).toMatchObject({ lr: 0.7, weightDecay: 0.01, momentum: 0.9 });
    const other = new SGD([{ params: [w] }, { params: [zeros([1], { requiresGrad: true })] }]);
    expect(() => other.loadStateDict(sd)).toThrow(/1 parameter groups, this optimizer has 2/);
  });
});

describe('schedulers drive the optimizers', () => {
  it('StepLR changes each group lr', () => {
    const opt = new SGD([{ params: [zeros([1], { requiresGrad: true })] }, { params: [zeros([1], { requiresGrad: true })], lr: 1 }], { lr: 0.1 });
    const sched = new StepLR(opt, 2, 0.5);
    sched.step();
    sched.step();
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.05, 0.5]);
    expect(opt.stateDict().param_groups[0]!.initial_lr).toBe(0.1);
  });
});

describe('gradient clipping', () => {
  function withGrads(rng: Rng, sizes: number[]): Tensor[] {
    return sizes.map((n) => {
      const p = zeros([n], { dtype: 'float64', requiresGrad: true });
      p.grad = fromArray(randomArray(Float64Array, n, rng, -3, 3));
      return p;
    });
  }

  it('clipGradNorm returns the total norm and scales to maxNorm (2, 1, 3 and inf norms)', () => {
    for (const normType of [2, 1, 3, Infinity]) {
      const rng = makeRng();
      const ps = withGrads(rng, [5, 11]);
      const all = ps.flatMap((p) => Array.from(p.grad!.dataSync()));
      const norm = normType === Infinity ? Math.max(...all.map(Math.abs)) : all.reduce((s, v) => s + Math.abs(v) ** normType, 0) ** (1 / normType);
      const total = clipGradNorm(ps, 0.5, normType);
      expect(total.shape).toEqual([]);
      expect(total.item()).toBeCloseTo(norm, 10);
      const coef = 0.5 / (norm + 1e-6);
      expectClose(ps.flatMap((p) => Array.from(p.grad!.dataSync())), all.map((v) => v * coef), { atol: 1e-12, seed: rng.seed });
    }
  });

  it('clipGradNorm leaves small gradients alone, skips null grads, and can reject non-finite norms', () => {
    const rng = makeRng();
    const ps = withGrads(rng, [4]);
    const before = Array.from(ps[0]!.grad!.dataSync());
    const idle = zeros([3], { requiresGrad: true });
    clipGradNorm([...ps, idle], 1e9);
    expect(Array.from(ps[0]!.grad!.dataSync())).toEqual(before);
    expect(idle.grad).toBeNull();
    ps[0]!.grad = tensor([NaN, 1], { dtype: 'float64' });
    expect(() => clipGradNorm(ps, 1, 2, { errorIfNonfinite: true })).toThrow(/NaN/);
  });

  it('clipGradValue clamps each element', () => {
    const p = zeros([4], { requiresGrad: true });
    p.grad = tensor([-3, -0.5, 0.25, 9]);
    clipGradValue(p, 1);
    expect(Array.from(p.grad.dataSync())).toEqual([-1, -0.5, 0.25, 1]);
    expect(() => clipGradValue(p, -1)).toThrow('clipGradValue: clipValue must be a non-negative number, got -1');
  });
});

describe("PyTorch's state dict form", () => {
  it('accepts the step count as a one-element tensor', () => {
    const w = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    const opt = new Adam([w], { lr: 0.1 });
    opt.loadStateDict({
      state: { 0: { step: tensor(3, { dtype: 'float32' }), exp_avg: zeros([2]), exp_avg_sq: zeros([2]) } },
      param_groups: [{ lr: 0.1, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0, amsgrad: false, maximize: false, foreach: null, params: [0] }],
    });
    w.grad = tensor([1, 1], { dtype: 'float64' });
    opt.step();
    expect(opt.state.get(w)!.step).toBe(4);
    expect((opt.state.get(w)!.exp_avg as Tensor).dtype).toBe('float64');
  });
});

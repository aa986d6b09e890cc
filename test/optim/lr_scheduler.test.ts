import { describe, expect, it } from 'vitest';
import {
  CosineAnnealingLR,
  CosineAnnealingWarmRestarts,
  ExponentialLR,
  InverseSqrtLR,
  LambdaLR,
  LinearLR,
  LRScheduler,
  MultiStepLR,
  OneCycleLR,
  ReduceLROnPlateau,
  SequentialLR,
  StepLR,
  type OptimizerLike,
} from '../../lib/optim/lr_scheduler.js';
import { expectClose, makeRng } from '../util.js';

const rng = makeRng();
const BASES = [0.1, rng.uniform(0.001, 1)];

function optimizer(lrs: number[] = BASES): OptimizerLike {
  return { paramGroups: lrs.map((lr) => ({ lr, params: [] })) };
}

/** Steps `scheduler` so that `steps` epochs are seen (epoch 0 from construction); returns each epoch's rates per group. */
function run(scheduler: { step(): void; getLastLr(): number[] }, opt: OptimizerLike, steps: number): number[][] {
  const seen: number[][] = [];
  for (let t = 0; t < steps; t++) {
    if (t > 0) scheduler.step();
    expect(scheduler.getLastLr()).toEqual(opt.paramGroups.map((g) => g.lr));
    seen.push(scheduler.getLastLr());
  }
  return seen;
}

/** Compares, group by group, a run against a per-group reference sequence. */
function expectSequence(actual: number[][], reference: (base: number) => number[], label: string): void {
  BASES.forEach((base, g) => {
    expectClose(actual.map((lrs) => lrs[g]!), reference(base), { atol: 1e-12, rtol: 1e-9, seed: rng.seed, label: `${label} group ${g}` });
  });
}

/**
 * PyTorch's recursive ("chainable") update rules, one epoch at a time, used as a reference that
 * shares no code with the closed forms under test.
 */
function recursive(steps: number, base: number, first: number, next: (lr: number, epoch: number) => number): number[] {
  const out = [first];
  for (let e = 1; e < steps; e++) out.push(next(out[e - 1]!, e));
  return out;
}

describe('epoch schedulers against independent references over 100 steps', () => {
  const N = 100;

  it(`StepLR (seed ${rng.seed})`, () => {
    const opt = optimizer();
    const seq = run(new StepLR(opt, 7, 0.5), opt, N);
    expectSequence(seq, (b) => recursive(N, b, b, (lr, e) => (e % 7 === 0 ? lr * 0.5 : lr)), 'StepLR');
    expect(seq[6]![0]).toBe(0.1);
    expect(seq[7]![0]).toBe(0.05);
  });

  it('MultiStepLR, with a repeated and an unsorted milestone', () => {
    const opt = optimizer();
    const milestones = [60, 20, 20, 45];
    const seq = run(new MultiStepLR(opt, milestones, 0.3), opt, N);
    const count = (e: number) => milestones.filter((m) => m === e).length;
    expectSequence(seq, (b) => recursive(N, b, b, (lr, e) => lr * 0.3 ** count(e)), 'MultiStepLR');
  });

  it('ExponentialLR', () => {
    const opt = optimizer();
    expectSequence(run(new ExponentialLR(opt, 0.95), opt, N), (b) => recursive(N, b, b, (lr) => lr * 0.95), 'ExponentialLR');
  });

  it('CosineAnnealingLR, including past tMax where it rises again', () => {
    const T = 30, etaMin = 0.001;
    const opt = optimizer();
    const seq = run(new CosineAnnealingLR(opt, T, etaMin), opt, N);
    expectSequence(
      seq,
      (b) =>
        recursive(N, b, b, (lr, e) =>
          (e - 1 - T) % (2 * T) === 0
            ? lr + ((b - etaMin) * (1 - Math.cos(Math.PI / T))) / 2
            : ((1 + Math.cos((Math.PI * e) / T)) / (1 + Math.cos((Math.PI * (e - 1)) / T))) * (lr - etaMin) + etaMin,
        ),
      'CosineAnnealingLR',
    );
    expect(seq[T]![0]).toBeCloseTo(etaMin, 15);
    expect(seq[T + 1]![0]).toBeGreaterThan(etaMin);
  });

  for (const tMult of [1, 2, 3]) {
    it(`CosineAnnealingWarmRestarts tMult ${tMult}`, () => {
      const t0 = 10, etaMin = 1e-4;
      const opt = optimizer();
      const seq = run(new CosineAnnealingWarmRestarts(opt, t0, tMult, etaMin), opt, N);
      expectSequence(
        seq,
        (b) => {
          const out = [];
          let tCur = 0, tI = t0;
          for (let e = 0; e < N; e++) {
            if (e > 0 && ++tCur >= tI) {
              tCur -= tI;
              tI *= tMult;
            }
            out.push(etaMin + ((b - etaMin) * (1 + Math.cos((Math.PI * tCur) / tI))) / 2);
          }
          return out;
        },
        'CosineAnnealingWarmRestarts',
      );
      const restarts = tMult === 1 ? [10, 20, 30] : tMult === 2 ? [10, 30, 70] : [10, 40];
      for (const r of restarts) expect(seq[r]![0], `restart at ${r}`).toBe(0.1);
    });
  }

  it('CosineAnnealingWarmRestarts anneals within an epoch through fractional seek', () => {
    const opt = optimizer([1]);
    const s = new CosineAnnealingWarmRestarts(opt, 4);
    s.seek(2.5);
    expect(opt.paramGroups[0]!.lr).toBeCloseTo((1 + Math.cos((Math.PI * 2.5) / 4)) / 2, 15);
    s.seek(4.25);
    expect(opt.paramGroups[0]!.lr).toBeCloseTo((1 + Math.cos((Math.PI * 0.25) / 4)) / 2, 15);
  });

  it('LinearLR, constant after totalIters', () => {
    const start = 0.25, end = 0.9, total = 13;
    const opt = optimizer();
    const seq = run(new LinearLR(opt, start, end, total), opt, N);
    expectSequence(
      seq,
      (b) =>
        recursive(N, b, b * start, (lr, e) =>
          e > total ? lr : lr * (1 + (end - start) / (total * start + (e - 1) * (end - start))),
        ),
      'LinearLR',
    );
  });

  it('InverseSqrtLR peaks at base when t + 1 = warmupSteps', () => {
    const warmup = 8;
    const opt = optimizer();
    const seq = run(new InverseSqrtLR(opt, warmup), opt, N);
    expectSequence(
      seq,
      (b) => Array.from({ length: N }, (_, t) => (t + 1 < warmup ? (b * (t + 1)) / warmup : b / Math.sqrt((t + 1) / warmup))),
      'InverseSqrtLR',
    );
    expect(seq[warmup - 1]![0]).toBe(0.1);
  });

  it('LambdaLR with one function per group', () => {
    const opt = optimizer();
    const seq = run(new LambdaLR(opt, [(e) => 1 / (e + 1), (e) => 0.9 ** e]), opt, N);
    const lambdas = [(e: number) => 1 / (e + 1), (e: number) => 0.9 ** e];
    BASES.forEach((b, g) =>
      expectClose(seq.map((l) => l[g]!), Array.from({ length: N }, (_, e) => b * lambdas[g]!(e)), { rtol: 1e-12 }),
    );
  });

  it('SequentialLR: linear warmup, then cosine restarting its own count at the milestone', () => {
    const opt = optimizer();
    const warm = 5;
    const s = new SequentialLR(opt, [new LinearLR(opt, 0.1, 1, warm), new CosineAnnealingLR(opt, N - warm, 0)], [warm]);
    const seq = run(s, opt, N);
    expectSequence(
      seq,
      (b) =>
        Array.from({ length: N }, (_, e) =>
          e < warm ? b * (0.1 + (0.9 * e) / warm) : (b * (1 + Math.cos((Math.PI * (e - warm)) / (N - warm)))) / 2,
        ),
      'SequentialLR',
    );
    expect(seq[warm]![0]).toBe(0.1);
    expect(s.schedulers[1]!.lastEpoch).toBe(N - 1 - warm);
  });
});

describe('OneCycleLR', () => {
  /** The 1cycle policy written from its description: phase ends at pct·T − 1 (and 2·pct·T − 2), then T − 1. */
  function reference(T: number, maxLr: number, pct: number, div: number, finalDiv: number, three: boolean, cos: boolean): number[] {
    const init = maxLr / div, min = init / finalDiv;
    const ease = (a: number, b: number, p: number) => (cos ? b + ((a - b) * (1 + Math.cos(Math.PI * p))) / 2 : a + (b - a) * p);
    const up = pct * T - 1;
    return Array.from({ length: T }, (_, t) => {
      if (t <= up) return ease(init, maxLr, t / up);
      if (!three) return ease(maxLr, min, (t - up) / (T - 1 - up));
      const down = 2 * pct * T - 2;
      if (t <= down) return ease(maxLr, init, (t - up) / (down - up));
      return ease(init, min, (t - down) / (T - 1 - down));
    });
  }

  for (const [three, cos] of [[false, true], [true, true], [false, false], [true, false]] as const) {
    it(`threePhase ${three}, ${cos ? 'cos' : 'linear'}`, () => {
      const T = 100, maxLr = 0.8;
      const opt = optimizer([0.5]);
      const s = new OneCycleLR(opt, { maxLr, totalSteps: T, pctStart: 0.25, threePhase: three, annealStrategy: cos ? 'cos' : 'linear' });
      const seq = run(s, opt, T).map((l) => l[0]!);
      expectClose(seq, reference(T, maxLr, 0.25, 25, 1e4, three, cos), { atol: 1e-15, rtol: 1e-9 });
      expect(seq[0]).toBeCloseTo(maxLr / 25, 15);
      expect(seq[24]).toBeCloseTo(maxLr, 15);
      expect(seq[T - 1]).toBeCloseTo(maxLr / 25 / 1e4, 15);
      expect(opt.paramGroups[0]!.initialLr).toBeCloseTo(maxLr / 25, 15);
    });
  }

  it('allows step totalSteps, like PyTorch, and throws past it; epochs × stepsPerEpoch', () => {
    const opt = optimizer([0.1]);
    const s = new OneCycleLR(opt, { maxLr: 1, epochs: 2, stepsPerEpoch: 5 });
    expect(s.totalSteps).toBe(10);
    for (let i = 0; i < 10; i++) s.step();
    expect(() => s.step()).toThrow('OneCycleLR: tried to step 11 times; the schedule has totalSteps 10');
    const short = new OneCycleLR(optimizer([0.1]), { maxLr: 1, totalSteps: 10, pctStart: 0.1 });
    expect(short.getLastLr()[0]).toBe(1);
    expect([1, 2].map((t) => short.lrAt(t)[0]).every(Number.isFinite)).toBe(true);
  });
});

describe('ReduceLROnPlateau', () => {
  it('reduces after patience bad epochs, waits out the cooldown, and stops at minLr', () => {
    const opt = optimizer([1]);
    const s = new ReduceLROnPlateau(opt, { patience: 2, factor: 0.5, cooldown: 2, minLr: 0.2 });
    const metrics = [5, 4, 4, 4, 4, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3, 3, 3];
    const lrs = metrics.map((m) => (s.step(m), s.getLastLr()[0]));
    // Epochs 3, 4 bad; the 3rd bad epoch (index 4) reduces; cooldown swallows 5 and 6; 7, 8, then 9 improves;
    // 10, 11, 12 bad → reduce to 0.25; cooldown 13, 14; 15, 16, 17 bad → 0.125 clamped to 0.2.
    expect(lrs).toEqual([1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.25, 0.2]);
    expect(s.best).toBe(3);
  });

  it('threshold rel vs abs, mode max, and NaN never improves', () => {
    const rel = new ReduceLROnPlateau(optimizer([1]), { threshold: 0.1 });
    expect(rel.isBetter(0.91, 1)).toBe(false);
    expect(rel.isBetter(0.89, 1)).toBe(true);
    expect(rel.isBetter(0.9, 1), 'exactly at the threshold is not better').toBe(false);
    expect(new ReduceLROnPlateau(optimizer([1]), { threshold: 0 }).isBetter(1, 1)).toBe(false);
    const abs = new ReduceLROnPlateau(optimizer([1]), { threshold: 0.1, thresholdMode: 'abs', mode: 'max' });
    expect(abs.isBetter(1.09, 1)).toBe(false);
    expect(abs.isBetter(1.11, 1)).toBe(true);
    const opt = optimizer([1]);
    const s = new ReduceLROnPlateau(opt, { patience: 1 });
    for (const m of [1, NaN, NaN]) s.step(m);
    expect(s.best).toBe(1);
    expect(opt.paramGroups[0]!.lr).toBeCloseTo(0.1, 15);
  });

  it('skips reductions smaller than eps', () => {
    const opt = optimizer([1e-9]);
    const s = new ReduceLROnPlateau(opt, { patience: 0 });
    s.step(1);
    s.step(1);
    expect(opt.paramGroups[0]!.lr).toBe(1e-9);
  });

  it('state dict survives JSON and resumes the same decisions', () => {
    const metrics = Array.from({ length: 40 }, () => rng.uniform(0, 1));
    const make = () => {
      const opt = optimizer();
      return { opt, s: new ReduceLROnPlateau(opt, { patience: 1, cooldown: 1, factor: 0.7 }) };
    };
    const a = make();
    const full = metrics.map((m) => (a.s.step(m), a.s.getLastLr()));
    const b = make();
    metrics.slice(0, 17).forEach((m) => b.s.step(m));
    const c = make();
    c.s.loadStateDict(JSON.parse(JSON.stringify(b.s.stateDict())));
    expect(c.opt.paramGroups.map((g) => g.lr)).toEqual(full[16]);
    const resumed = metrics.slice(17).map((m) => (c.s.step(m), c.s.getLastLr()));
    expect(resumed).toEqual(full.slice(17));
    const fresh = make();
    fresh.s.loadStateDict(JSON.parse(JSON.stringify(fresh.s.stateDict())));
    expect(fresh.s.best).toBe(Infinity);
  });
});

describe('state dicts', () => {
  const builders: Array<[string, (opt: OptimizerLike) => LRScheduler]> = [
    ['StepLR', (o) => new StepLR(o, 3, 0.7)],
    ['MultiStepLR', (o) => new MultiStepLR(o, [5, 9], 0.5)],
    ['ExponentialLR', (o) => new ExponentialLR(o, 0.9)],
    ['CosineAnnealingLR', (o) => new CosineAnnealingLR(o, 12, 0.01)],
    ['CosineAnnealingWarmRestarts', (o) => new CosineAnnealingWarmRestarts(o, 3, 2)],
    ['LinearLR', (o) => new LinearLR(o, 0.2, 1, 6)],
    ['InverseSqrtLR', (o) => new InverseSqrtLR(o, 4)],
    ['LambdaLR', (o) => new LambdaLR(o, (e) => 1 / (1 + e))],
    ['OneCycleLR', (o) => new OneCycleLR(o, { maxLr: 2, totalSteps: 30 })],
    ['SequentialLR', (o) => new SequentialLR(o, [new LinearLR(o, 0.5, 1, 4), new ExponentialLR(o, 0.8), new StepLR(o, 2)], [4, 11])],
  ];
  for (const [name, build] of builders) {
    it(`${name} resumes the same sequence from a JSON round trip`, () => {
      const a = optimizer();
      const full = run(build(a), a, 30);
      const b = optimizer();
      const first = build(b);
      run(first, b, 13);
      const state = JSON.parse(JSON.stringify(first.stateDict()));
      const c = optimizer();
      const resumed = build(c);
      resumed.loadStateDict(state);
      expect(c.paramGroups.map((g) => g.lr)).toEqual(full[12]);
      const rest = [];
      for (let e = 13; e < 30; e++) {
        resumed.step();
        rest.push(resumed.getLastLr());
      }
      expect(rest).toEqual(full.slice(13));
      expect(resumed.lrAt(29)).toEqual(full[29]);
    });
  }

  it('keeps an initialLr already on the group, as when the optimizer was restored', () => {
    const opt: OptimizerLike = { paramGroups: [{ lr: 0.003, initialLr: 0.1 }] };
    const s = new StepLR(opt, 2, 0.5);
    expect(s.baseLrs).toEqual([0.1]);
    expect(opt.paramGroups[0]!.lr).toBe(0.1);
  });
});

describe('argument validation', () => {
  const cases: Array<[string, () => unknown, string]> = [
    ['StepLR stepSize 0', () => new StepLR(optimizer(), 0), 'StepLR: stepSize must be a positive integer, got 0'],
    ['StepLR stepSize 1.5', () => new StepLR(optimizer(), 1.5), 'StepLR: stepSize must be a positive integer, got 1.5'],
    ['StepLR gamma', () => new StepLR(optimizer(), 1, -1), 'StepLR: gamma must be a finite non-negative number, got -1'],
    ['no groups', () => new StepLR({ paramGroups: [] }, 1), 'StepLR: optimizer must have a non-empty paramGroups array'],
    ['bad lr', () => new ExponentialLR({ paramGroups: [{ lr: NaN }] }, 0.9), 'ExponentialLR: paramGroups[0].lr must be a finite non-negative number, got NaN'],
    ['milestones', () => new MultiStepLR(optimizer(), [3, -1]), 'MultiStepLR: milestones must be non-negative integers, got [3, -1]'],
    ['tMax', () => new CosineAnnealingLR(optimizer(), 0), 'CosineAnnealingLR: tMax must be a positive integer, got 0'],
    ['t0', () => new CosineAnnealingWarmRestarts(optimizer(), -2), 'CosineAnnealingWarmRestarts: t0 must be a positive integer, got -2'],
    ['tMult', () => new CosineAnnealingWarmRestarts(optimizer(), 2, 1.5), 'CosineAnnealingWarmRestarts: tMult must be a positive integer, got 1.5'],
    ['startFactor', () => new LinearLR(optimizer(), 0), 'LinearLR: startFactor must be in (0, 1], got 0'],
    ['endFactor', () => new LinearLR(optimizer(), 0.5, 2), 'LinearLR: endFactor must be in [0, 1], got 2'],
    ['warmupSteps', () => new InverseSqrtLR(optimizer(), 0), 'InverseSqrtLR: warmupSteps must be a positive integer, got 0'],
    ['lambdas', () => new LambdaLR(optimizer(), [(e) => e]), 'LambdaLR: got 1 lrLambda functions for 2 param groups'],
    ['maxLr groups', () => new OneCycleLR(optimizer(), { maxLr: [1], totalSteps: 5 }), 'OneCycleLR: maxLr has 1 entries but the optimizer has 2 param groups'],
    ['no steps', () => new OneCycleLR(optimizer(), { maxLr: 1 }), 'OneCycleLR: give totalSteps, or epochs and stepsPerEpoch'],
    ['pctStart', () => new OneCycleLR(optimizer(), { maxLr: 1, totalSteps: 5, pctStart: 1.5 }), 'OneCycleLR: pctStart must be in [0, 1], got 1.5'],
    ['anneal', () => new OneCycleLR(optimizer(), { maxLr: 1, totalSteps: 5, annealStrategy: 'exp' as 'cos' }), `OneCycleLR: annealStrategy must be 'cos' or 'linear', got "exp"`],
    ['milestone count', () => {
      const o = optimizer();
      return new SequentialLR(o, [new StepLR(o, 1), new StepLR(o, 2)], []);
    }, 'SequentialLR: expected 1 milestones for 2 schedulers, got []'],
    ['other optimizer', () => new SequentialLR(optimizer(), [new StepLR(optimizer(), 1)], []), 'SequentialLR: schedulers[0] drives a different optimizer'],
    ['plateau factor', () => new ReduceLROnPlateau(optimizer(), { factor: 1 }), 'ReduceLROnPlateau: factor must be in [0, 1), got 1'],
    ['plateau mode', () => new ReduceLROnPlateau(optimizer(), { mode: 'up' as 'min' }), `ReduceLROnPlateau: mode must be 'min' or 'max', got "up"`],
    ['plateau patience', () => new ReduceLROnPlateau(optimizer(), { patience: -1 }), 'ReduceLROnPlateau: patience must be a non-negative integer, got -1'],
    ['seek', () => new StepLR(optimizer(), 2).seek(-1), 'StepLR: epoch must be a finite non-negative number, got -1'],
  ];
  for (const [label, make, message] of cases) {
    it(label, () => expect(make).toThrow(message));
  }
});

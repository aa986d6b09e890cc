/**
 * Learning-rate schedules with PyTorch's semantics (torch.optim.lr_scheduler).
 *
 * A scheduler works on any optimizer exposing `paramGroups`, each with an `lr`. On construction it
 * records each group's starting rate as `initialLr` (kept if already present, as when resuming) and
 * applies the rate of epoch 0; each `step()` advances one epoch, or one batch for schedules meant
 * to be stepped per batch (OneCycleLR, warmups). Every schedule except ReduceLROnPlateau is computed
 * in closed form from the base rates and the epoch counter, so a resumed run, `seek()` and `lrAt()`
 * give exactly the rates an uninterrupted run would; a rate set by hand on a group is overwritten
 * by the next step rather than compounded as PyTorch's chainable form would.
 */

import { describe } from '../checks.js';

/** The part of a parameter group a scheduler reads and writes. */
export interface ParamGroupLike {
  lr: number;
  initialLr?: number;
  [key: string]: unknown;
}

/** The minimal optimizer a scheduler drives. */
export interface OptimizerLike {
  paramGroups: ParamGroupLike[];
}

/** The state a scheduler saves; restored with `loadStateDict` on a scheduler built with the same arguments. */
export interface SchedulerState {
  lastEpoch: number;
  baseLrs: number[];
  lastLr: number[];
  [key: string]: unknown;
}

function fail(owner: string, message: string): never {
  throw new Error(`${owner}: ${message}`);
}

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : Array.isArray(value) ? `[${value.map(show).join(', ')}]` : describe(value);
}

function checkPositiveInt(owner: string, name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0) fail(owner, `${name} must be a positive integer, got ${show(value)}`);
}

function checkNonNegative(owner: string, name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) fail(owner, `${name} must be a finite non-negative number, got ${show(value)}`);
}

function checkPositive(owner: string, name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) fail(owner, `${name} must be a finite positive number, got ${show(value)}`);
}

function checkGroups(owner: string, optimizer: OptimizerLike): void {
  if (!optimizer || !Array.isArray(optimizer.paramGroups) || optimizer.paramGroups.length === 0) {
    fail(owner, 'optimizer must have a non-empty paramGroups array');
  }
  optimizer.paramGroups.forEach((g, i) => {
    if (typeof g.lr !== 'number' || !Number.isFinite(g.lr) || g.lr < 0) {
      fail(owner, `paramGroups[${i}].lr must be a finite non-negative number, got ${show(g.lr)}`);
    }
  });
}

/** One value per group: a scalar repeated, or an array whose length must match the groups. */
function perGroup(owner: string, name: string, value: number | number[], groups: number): number[] {
  if (!Array.isArray(value)) return new Array<number>(groups).fill(value);
  if (value.length !== groups) fail(owner, `${name} has ${value.length} entries but the optimizer has ${groups} param groups`);
  return [...value];
}

/** The half-cosine from `start` (pct 0) to `end` (pct 1). */
function cosineAnneal(start: number, end: number, pct: number): number {
  return end + ((start - end) / 2) * (1 + Math.cos(Math.PI * pct));
}

/** Base of every epoch-indexed schedule: holds the epoch counter and writes rates to the groups. */
export abstract class LRScheduler {
  /** The epoch (or batch) whose rates are applied; 0 after construction. */
  lastEpoch = -1;
  /** Each group's `initialLr`, the rate the schedule scales. */
  baseLrs: number[];
  protected lastLr: number[] = [];

  /** Records `initialLr` on every group that lacks one; the subclass applies epoch 0 by calling `seek(0)`. */
  constructor(
    readonly optimizer: OptimizerLike,
    protected readonly owner: string,
  ) {
    checkGroups(owner, optimizer);
    for (const group of optimizer.paramGroups) group.initialLr ??= group.lr;
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr!);
  }

  /** The rate of every group at `epoch`, computed without changing any state. */
  abstract lrAt(epoch: number): number[];

  /** Advances one epoch (or batch) and applies its rates. */
  step(): void {
    this.seek(this.lastEpoch + 1);
  }

  /** Moves the schedule to `epoch` and applies its rates to the optimizer. */
  seek(epoch: number): void {
    if (!Number.isFinite(epoch) || epoch < 0) fail(this.owner, `epoch must be a finite non-negative number, got ${show(epoch)}`);
    const lrs = this.lrAt(epoch);
    this.lastEpoch = epoch;
    this.apply(lrs);
  }

  /** The rates applied by the latest step, one per group. */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** The epoch counter, base rates and last rates; enough to resume a scheduler built with the same arguments. */
  stateDict(): SchedulerState {
    return { lastEpoch: this.lastEpoch, baseLrs: [...this.baseLrs], lastLr: [...this.lastLr] };
  }

  /** Restores `stateDict()` output and re-applies that epoch's rates to the optimizer. */
  loadStateDict(state: SchedulerState): void {
    const groups = this.optimizer.paramGroups.length;
    if (!Number.isFinite(state?.lastEpoch) || !Array.isArray(state.baseLrs) || state.baseLrs.length !== groups) {
      fail(this.owner, `loadStateDict: expected { lastEpoch, baseLrs } for ${groups} param groups, got ${JSON.stringify(state)}`);
    }
    this.baseLrs = [...state.baseLrs];
    this.optimizer.paramGroups.forEach((g, i) => (g.initialLr = this.baseLrs[i]!));
    this.seek(state.lastEpoch);
  }

  /** Writes one rate per group to the optimizer and remembers them for getLastLr. */
  protected apply(lrs: number[]): void {
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = lrs[i]!));
    this.lastLr = lrs;
  }

  /** One rate per group from its base rate and index. */
  protected scaled(factor: (base: number, group: number) => number): number[] {
    return this.baseLrs.map((base, i) => factor(base, i));
  }
}

/** lr = base · gamma^floor(epoch / stepSize). */
export class StepLR extends LRScheduler {
  /** Decays every group's rate by `gamma` every `stepSize` epochs. */
  constructor(
    optimizer: OptimizerLike,
    readonly stepSize: number,
    readonly gamma = 0.1,
  ) {
    super(optimizer, 'StepLR');
    checkPositiveInt('StepLR', 'stepSize', stepSize);
    checkNonNegative('StepLR', 'gamma', gamma);
    this.seek(0);
  }

  /** See the class doc. */
  lrAt(epoch: number): number[] {
    return this.scaled((base) => base * this.gamma ** Math.floor(epoch / this.stepSize));
  }
}

/** lr = base · gamma^(number of milestones ≤ epoch); a milestone listed twice decays twice, as in PyTorch. */
export class MultiStepLR extends LRScheduler {
  readonly milestones: number[];

  /** Decays by `gamma` at each epoch in `milestones`. */
  constructor(
    optimizer: OptimizerLike,
    milestones: number[],
    readonly gamma = 0.1,
  ) {
    super(optimizer, 'MultiStepLR');
    if (!Array.isArray(milestones) || milestones.some((m) => !Number.isSafeInteger(m) || m < 0)) {
      fail('MultiStepLR', `milestones must be non-negative integers, got ${show(milestones)}`);
    }
    checkNonNegative('MultiStepLR', 'gamma', gamma);
    this.milestones = [...milestones].sort((a, b) => a - b);
    this.seek(0);
  }

  /** See the class doc. */
  lrAt(epoch: number): number[] {
    const passed = this.milestones.filter((m) => m <= epoch).length;
    return this.scaled((base) => base * this.gamma ** passed);
  }
}

/** lr = base · gamma^epoch. */
export class ExponentialLR extends LRScheduler {
  /** Decays by `gamma` every epoch. */
  constructor(
    optimizer: OptimizerLike,
    readonly gamma: number,
  ) {
    super(optimizer, 'ExponentialLR');
    checkNonNegative('ExponentialLR', 'gamma', gamma);
    this.seek(0);
  }

  /** See the class doc. */
  lrAt(epoch: number): number[] {
    return this.scaled((base) => base * this.gamma ** epoch);
  }
}

/**
 * lr = etaMin + (base − etaMin)·(1 + cos(π·epoch/tMax))/2: a half cosine from base to etaMin over
 * tMax epochs. Past tMax it keeps following the cosine back up, like PyTorch.
 */
export class CosineAnnealingLR extends LRScheduler {
  /** Anneals from each group's base rate to `etaMin` over `tMax` epochs. */
  constructor(
    optimizer: OptimizerLike,
    readonly tMax: number,
    readonly etaMin = 0,
  ) {
    super(optimizer, 'CosineAnnealingLR');
    checkPositiveInt('CosineAnnealingLR', 'tMax', tMax);
    checkNonNegative('CosineAnnealingLR', 'etaMin', etaMin);
    this.seek(0);
  }

  /** See the class doc. */
  lrAt(epoch: number): number[] {
    return this.scaled((base) => cosineAnneal(base, this.etaMin, epoch / this.tMax));
  }
}

/**
 * SGDR: a cosine from base to etaMin over a period that starts at t0 epochs and is multiplied by
 * tMult at every restart; lr = etaMin + (base − etaMin)·(1 + cos(π·tCur/tI))/2 where tCur counts
 * epochs since the last restart and tI is the current period. Fractional epochs are allowed, so
 * `seek(epoch + batch / batchesPerEpoch)` anneals per batch as PyTorch's `step(epoch)` does.
 */
export class CosineAnnealingWarmRestarts extends LRScheduler {
  /** Restarts after t0, t0·tMult, t0·tMult², ... epochs. */
  constructor(
    optimizer: OptimizerLike,
    readonly t0: number,
    readonly tMult = 1,
    readonly etaMin = 0,
  ) {
    super(optimizer, 'CosineAnnealingWarmRestarts');
    checkPositiveInt('CosineAnnealingWarmRestarts', 't0', t0);
    checkPositiveInt('CosineAnnealingWarmRestarts', 'tMult', tMult);
    checkNonNegative('CosineAnnealingWarmRestarts', 'etaMin', etaMin);
    this.seek(0);
  }

  /** Epochs since the last restart and the length of the current period, at `epoch`. */
  cyclePosition(epoch: number): { tCur: number; tI: number } {
    if (this.tMult === 1) return { tCur: epoch % this.t0, tI: this.t0 };
    let tCur = epoch, tI = this.t0;
    while (tCur >= tI) {
      tCur -= tI;
      tI *= this.tMult;
    }
    return { tCur, tI };
  }

  /** See the class doc. */
  lrAt(epoch: number): number[] {
    const { tCur, tI } = this.cyclePosition(epoch);
    return this.scaled((base) => cosineAnneal(base, this.etaMin, tCur / tI));
  }
}

/**
 * lr = base · (startFactor + (endFactor − startFactor)·min(epoch, totalIters)/totalIters): a linear
 * ramp of the multiplicative factor, then constant; the usual warmup.
 */
export class LinearLR extends LRScheduler {
  /** Ramps the factor from `startFactor` to `endFactor` over `totalIters` steps. */
  constructor(
    optimizer: OptimizerLike,
    readonly startFactor = 1 / 3,
    readonly endFactor = 1,
    readonly totalIters = 5,
  ) {
    super(optimizer, 'LinearLR');
    if (typeof startFactor !== 'number' || !(startFactor > 0 && startFactor <= 1)) fail('LinearLR', `startFactor must be in (0, 1], got ${show(startFactor)}`);
    if (typeof endFactor !== 'number' || !(endFactor >= 0 && endFactor <= 1)) fail('LinearLR', `endFactor must be in [0, 1], got ${show(endFactor)}`);
    checkPositiveInt('LinearLR', 'totalIters', totalIters);
    this.seek(0);
  }

  /** See the class doc. */
  lrAt(epoch: number): number[] {
    const factor = this.startFactor + ((this.endFactor - this.startFactor) * Math.min(epoch, this.totalIters)) / this.totalIters;
    return this.scaled((base) => base * factor);
  }
}

/**
 * The Transformer schedule ("Attention is all you need", normalized to peak at base):
 * lr = base · min((t + 1)/warmupSteps, sqrt(warmupSteps/(t + 1))) with t the step counter from 0.
 * It rises linearly to base at t + 1 = warmupSteps, then decays as 1/sqrt(t + 1).
 */
export class InverseSqrtLR extends LRScheduler {
  /** Linear warmup over `warmupSteps` steps, then inverse-square-root decay. */
  constructor(
    optimizer: OptimizerLike,
    readonly warmupSteps: number,
  ) {
    super(optimizer, 'InverseSqrtLR');
    checkPositiveInt('InverseSqrtLR', 'warmupSteps', warmupSteps);
    this.seek(0);
  }

  /** See the class doc. */
  lrAt(epoch: number): number[] {
    const t = epoch + 1;
    return this.scaled((base) => base * Math.min(t / this.warmupSteps, Math.sqrt(this.warmupSteps / t)));
  }
}

/** lr = base · lambda(epoch), with one function for all groups or one per group. Functions are not saved by stateDict. */
export class LambdaLR extends LRScheduler {
  private readonly lambdas: Array<(epoch: number) => number>;

  /** Scales each group's base rate by its `lrLambda(epoch)`. */
  constructor(optimizer: OptimizerLike, lrLambda: ((epoch: number) => number) | Array<(epoch: number) => number>) {
    super(optimizer, 'LambdaLR');
    const groups = optimizer.paramGroups.length;
    const lambdas = Array.isArray(lrLambda) ? lrLambda : new Array(groups).fill(lrLambda);
    if (lambdas.length !== groups) fail('LambdaLR', `got ${lambdas.length} lrLambda functions for ${groups} param groups`);
    if (lambdas.some((f) => typeof f !== 'function')) fail('LambdaLR', 'lrLambda must be a function or an array of functions');
    this.lambdas = lambdas;
    this.seek(0);
  }

  /** See the class doc. */
  lrAt(epoch: number): number[] {
    return this.scaled((base, i) => base * this.lambdas[i]!(epoch));
  }
}

/** Options of OneCycleLR; give totalSteps, or epochs and stepsPerEpoch. */
export interface OneCycleOptions {
  maxLr: number | number[];
  totalSteps?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  /** Fraction of the cycle spent increasing the rate; default 0.3. */
  pctStart?: number;
  /** Default 'cos'. */
  annealStrategy?: 'cos' | 'linear';
  /** initialLr = maxLr / divFactor; default 25. */
  divFactor?: number;
  /** minLr = initialLr / finalDivFactor; default 1e4. */
  finalDivFactor?: number;
  /** Three phases (up, back down to initialLr, then to minLr) instead of two; default false. */
  threePhase?: boolean;
}

/**
 * The 1cycle policy, stepped once per batch: from initialLr = maxLr/divFactor up to maxLr over the
 * first pctStart of totalSteps, then annealed down to minLr = initialLr/finalDivFactor. Phase k
 * runs from step s_k to e_k with pct = (t − s_k)/(e_k − s_k) and lr = anneal(from_k, to_k, pct),
 * where the phase ends are pctStart·T − 1 and T − 1 (three-phase: pctStart·T − 1, 2·pctStart·T − 2,
 * T − 1), exactly as PyTorch. Stepping past totalSteps throws. The group's `initialLr` is set to
 * maxLr/divFactor. Momentum is not cycled.
 */
export class OneCycleLR extends LRScheduler {
  readonly totalSteps: number;
  readonly maxLrs: number[];
  readonly minLrs: number[];
  private readonly phases: Array<{ end: number; from: 'initial' | 'max' | 'min'; to: 'initial' | 'max' | 'min' }>;
  private readonly anneal: (start: number, end: number, pct: number) => number;

  /** See OneCycleOptions for the arguments. */
  constructor(optimizer: OptimizerLike, opts: OneCycleOptions) {
    const owner = 'OneCycleLR';
    checkGroups(owner, optimizer);
    if (opts === null || typeof opts !== 'object') fail(owner, `options must be an object, got ${show(opts)}`);
    const { pctStart = 0.3, annealStrategy = 'cos', divFactor = 25, finalDivFactor = 1e4, threePhase = false } = opts;
    const groups = optimizer.paramGroups.length;
    const maxLrs = perGroup(owner, 'maxLr', opts.maxLr, groups);
    maxLrs.forEach((m) => checkPositive(owner, 'maxLr', m));
    checkPositive(owner, 'divFactor', divFactor);
    checkPositive(owner, 'finalDivFactor', finalDivFactor);
    optimizer.paramGroups.forEach((g, i) => (g.initialLr = maxLrs[i]! / divFactor));
    super(optimizer, owner);

    if (opts.totalSteps !== undefined) {
      checkPositiveInt(owner, 'totalSteps', opts.totalSteps);
      this.totalSteps = opts.totalSteps;
    } else {
      if (opts.epochs === undefined || opts.stepsPerEpoch === undefined) fail(owner, 'give totalSteps, or epochs and stepsPerEpoch');
      checkPositiveInt(owner, 'epochs', opts.epochs);
      checkPositiveInt(owner, 'stepsPerEpoch', opts.stepsPerEpoch);
      this.totalSteps = opts.epochs * opts.stepsPerEpoch;
    }
    if (!(pctStart >= 0 && pctStart <= 1)) fail(owner, `pctStart must be in [0, 1], got ${show(pctStart)}`);
    if (annealStrategy !== 'cos' && annealStrategy !== 'linear') {
      fail(owner, `annealStrategy must be 'cos' or 'linear', got ${show(annealStrategy)}`);
    }
    this.anneal = annealStrategy === 'cos' ? cosineAnneal : (start, end, pct) => start + (end - start) * pct;
    this.maxLrs = maxLrs;
    this.minLrs = this.baseLrs.map((b) => b / finalDivFactor);
    const T = this.totalSteps;
    this.phases = threePhase
      ? [
          { end: pctStart * T - 1, from: 'initial', to: 'max' },
          { end: 2 * pctStart * T - 2, from: 'max', to: 'initial' },
          { end: T - 1, from: 'initial', to: 'min' },
        ]
      : [
          { end: pctStart * T - 1, from: 'initial', to: 'max' },
          { end: T - 1, from: 'max', to: 'min' },
        ];
    this.seek(0);
  }

  /** See the class doc. */
  lrAt(step: number): number[] {
    if (step > this.totalSteps) {
      fail(this.owner, `tried to step ${step} times; the schedule has totalSteps ${this.totalSteps}`);
    }
    let p = 0, start = 0;
    while (p < this.phases.length - 1 && step > this.phases[p]!.end) start = this.phases[p++]!.end;
    const phase = this.phases[p]!;
    // A phase shorter than one step (pctStart·T ≤ 1) is already complete at its start.
    const span = phase.end - start;
    const pct = span > 0 ? (step - start) / span : 1;
    return this.scaled((base, i) => {
      const level = { initial: base, max: this.maxLrs[i]!, min: this.minLrs[i]! };
      return this.anneal(level[phase.from], level[phase.to], pct);
    });
  }
}

/**
 * Runs `schedulers` one after another: the k-th takes over at milestones[k − 1] and sees its own
 * epoch counter restart from 0 there, e.g. LinearLR warmup for 5 epochs, then CosineAnnealingLR.
 * The children must be built on the same optimizer; ReduceLROnPlateau cannot be one.
 */
export class SequentialLR extends LRScheduler {
  readonly schedulers: LRScheduler[];
  readonly milestones: number[];

  /** `milestones` must be increasing, one fewer than `schedulers`. */
  constructor(optimizer: OptimizerLike, schedulers: LRScheduler[], milestones: number[]) {
    super(optimizer, 'SequentialLR');
    if (!Array.isArray(schedulers) || schedulers.length === 0) fail(this.owner, 'needs at least one scheduler');
    schedulers.forEach((s, i) => {
      if (!(s instanceof LRScheduler)) fail(this.owner, `schedulers[${i}] is not an epoch-indexed LRScheduler`);
      if (s.optimizer !== optimizer) fail(this.owner, `schedulers[${i}] drives a different optimizer`);
    });
    if (!Array.isArray(milestones) || milestones.length !== schedulers.length - 1) {
      fail(this.owner, `expected ${schedulers.length - 1} milestones for ${schedulers.length} schedulers, got ${show(milestones)}`);
    }
    milestones.forEach((m, i) => {
      if (!Number.isSafeInteger(m) || m <= (i === 0 ? 0 : milestones[i - 1]!)) {
        fail(this.owner, `milestones must be increasing positive integers, got ${show(milestones)}`);
      }
    });
    this.schedulers = schedulers;
    this.milestones = [...milestones];
    this.seek(0);
  }

  /** The child in charge at `epoch` and the epoch it sees. */
  private locate(epoch: number): { child: LRScheduler; local: number } {
    let k = 0;
    while (k < this.milestones.length && this.milestones[k]! <= epoch) k++;
    return { child: this.schedulers[k]!, local: k === 0 ? epoch : epoch - this.milestones[k - 1]! };
  }

  /** See the class doc. */
  lrAt(epoch: number): number[] {
    const { child, local } = this.locate(epoch);
    return child.lrAt(local);
  }

  /** Moves this schedule and the child in charge to `epoch`. */
  override seek(epoch: number): void {
    super.seek(epoch);
    const { child, local } = this.locate(epoch);
    child.seek(local);
  }

  /** Includes the children's states. */
  override stateDict(): SchedulerState {
    return { ...super.stateDict(), schedulers: this.schedulers.map((s) => s.stateDict()) };
  }

  /** Restores the children's base rates, then re-applies this schedule's epoch. */
  override loadStateDict(state: SchedulerState): void {
    const children = state.schedulers;
    if (!Array.isArray(children) || children.length !== this.schedulers.length) {
      fail(this.owner, `loadStateDict: expected ${this.schedulers.length} child states`);
    }
    this.schedulers.forEach((s, i) => s.loadStateDict(children[i] as SchedulerState));
    super.loadStateDict(state);
  }
}

/** Options of ReduceLROnPlateau; the defaults are PyTorch's. */
export interface PlateauOptions {
  /** 'min' when lower metric is better (loss), 'max' for accuracy; default 'min'. */
  mode?: 'min' | 'max';
  /** new lr = lr · factor; default 0.1, must be < 1. */
  factor?: number;
  /** Epochs without improvement tolerated before reducing; default 10. */
  patience?: number;
  /** Minimum change that counts as improvement; default 1e-4. */
  threshold?: number;
  /** 'rel': better than best·(1 ∓ threshold); 'abs': better than best ∓ threshold; default 'rel'. */
  thresholdMode?: 'rel' | 'abs';
  /** Epochs to wait after a reduction before counting bad epochs again; default 0. */
  cooldown?: number;
  /** Lower bound on each group's rate; default 0. */
  minLr?: number | number[];
  /** A reduction smaller than eps is skipped; default 1e-8. */
  eps?: number;
}

/** The state ReduceLROnPlateau saves. */
export interface PlateauState {
  lastEpoch: number;
  best: number;
  numBadEpochs: number;
  cooldownCounter: number;
  lastLr: number[];
}

/**
 * Reduces every group's rate by `factor` when the metric passed to `step(metric)` has not improved
 * for more than `patience` epochs, then waits `cooldown` epochs. A NaN metric is never an
 * improvement. Unlike the other schedulers it reads a metric, so it has no closed form.
 */
export class ReduceLROnPlateau {
  readonly mode: 'min' | 'max';
  readonly factor: number;
  readonly patience: number;
  readonly threshold: number;
  readonly thresholdMode: 'rel' | 'abs';
  readonly cooldown: number;
  readonly minLrs: number[];
  readonly eps: number;
  /** The best metric so far (±Infinity before the first step). */
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  lastEpoch = 0;
  private lastLr: number[];

  /** See PlateauOptions for the arguments. */
  constructor(
    readonly optimizer: OptimizerLike,
    opts: PlateauOptions = {},
  ) {
    const owner = 'ReduceLROnPlateau';
    checkGroups(owner, optimizer);
    if (opts === null || typeof opts !== 'object') fail(owner, `options must be an object, got ${show(opts)}`);
    const { mode = 'min', factor = 0.1, patience = 10, threshold = 1e-4, thresholdMode = 'rel', cooldown = 0, minLr = 0, eps = 1e-8 } = opts;
    if (mode !== 'min' && mode !== 'max') fail(owner, `mode must be 'min' or 'max', got ${show(mode)}`);
    if (typeof factor !== 'number' || !(factor >= 0 && factor < 1)) fail(owner, `factor must be in [0, 1), got ${show(factor)}`);
    if (!Number.isSafeInteger(patience) || patience < 0) fail(owner, `patience must be a non-negative integer, got ${show(patience)}`);
    checkNonNegative(owner, 'threshold', threshold);
    if (thresholdMode !== 'rel' && thresholdMode !== 'abs') fail(owner, `thresholdMode must be 'rel' or 'abs', got ${show(thresholdMode)}`);
    if (!Number.isSafeInteger(cooldown) || cooldown < 0) fail(owner, `cooldown must be a non-negative integer, got ${show(cooldown)}`);
    const minLrs = perGroup(owner, 'minLr', minLr, optimizer.paramGroups.length);
    minLrs.forEach((m) => checkNonNegative(owner, 'minLr', m));
    checkNonNegative(owner, 'eps', eps);
    this.mode = mode;
    this.factor = factor;
    this.patience = patience;
    this.threshold = threshold;
    this.thresholdMode = thresholdMode;
    this.cooldown = cooldown;
    this.minLrs = minLrs;
    this.eps = eps;
    this.best = mode === 'min' ? Infinity : -Infinity;
    this.lastLr = optimizer.paramGroups.map((g) => g.lr);
  }

  /** Whether `value` beats `best` by more than the threshold. */
  isBetter(value: number, best: number): boolean {
    const { mode, thresholdMode: tm, threshold: th } = this;
    if (mode === 'min') return tm === 'rel' ? value < best * (1 - th) : value < best - th;
    return tm === 'rel' ? value > best * (1 + th) : value > best + th;
  }

  /** Records one epoch's metric and reduces the rates if it has plateaued. */
  step(metric: number): void {
    this.lastEpoch++;
    if (this.isBetter(metric, this.best)) {
      this.best = metric;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs++;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      this.optimizer.paramGroups.forEach((g, i) => {
        const reduced = Math.max(g.lr * this.factor, this.minLrs[i]!);
        if (g.lr - reduced > this.eps) g.lr = reduced;
      });
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** Whether the scheduler is waiting out a cooldown. */
  get inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  /** The rates after the latest step, one per group. */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** The counters, best metric and current rates. */
  stateDict(): PlateauState {
    const { lastEpoch, best, numBadEpochs, cooldownCounter } = this;
    return { lastEpoch, best, numBadEpochs, cooldownCounter, lastLr: [...this.lastLr] };
  }

  /** Restores `stateDict()` output (also after a JSON round trip), including the rates, onto the optimizer. */
  loadStateDict(state: PlateauState): void {
    const groups = this.optimizer.paramGroups.length;
    if (!Array.isArray(state?.lastLr) || state.lastLr.length !== groups) {
      fail('ReduceLROnPlateau', `loadStateDict: expected lastLr for ${groups} param groups, got ${JSON.stringify(state)}`);
    }
    this.lastEpoch = state.lastEpoch;
    // JSON turns the initial ±Infinity into null.
    this.best = typeof state.best === 'number' ? state.best : this.mode === 'min' ? Infinity : -Infinity;
    this.numBadEpochs = state.numBadEpochs;
    this.cooldownCounter = state.cooldownCounter;
    this.lastLr = [...state.lastLr];
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = this.lastLr[i]!));
  }
}

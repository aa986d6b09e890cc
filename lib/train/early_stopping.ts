/**
 * Early stopping on a monitored metric, with the best weights kept for restoring.
 *
 * An epoch improves when its value beats the best so far by more than minDelta (below best −
 * minDelta in 'min' mode, above best + minDelta in 'max' mode); NaN never improves. Training should
 * stop once `patience` consecutive epochs have not improved (Keras' and Lightning's convention).
 */

/** Options of EarlyStopping. */
export interface EarlyStoppingOptions {
  /** Consecutive epochs without improvement after which to stop; 0 stops at the first. Default 5. */
  patience?: number;
  /** Smallest change that counts as improvement; default 0. */
  minDelta?: number;
  /** 'min' for losses, 'max' for accuracies; default 'min'. */
  mode?: 'min' | 'max';
}

/** Tracks a metric per epoch, decides when to stop, and keeps a snapshot of the best epoch. */
export class EarlyStopping<T = unknown> {
  readonly patience: number;
  readonly minDelta: number;
  readonly mode: 'min' | 'max';
  /** The best value so far, undefined before the first improvement. */
  best: number | undefined;
  /** The epoch (1-based count of step calls) that produced `best`. */
  bestEpoch: number | undefined;
  /** What the snapshot function returned at the best epoch, e.g. a copy of the weights. */
  bestSnapshot: T | undefined;
  /** Consecutive epochs without improvement. */
  wait = 0;
  /** step() calls so far. */
  epoch = 0;
  /** Whether a step has returned true. */
  stopped = false;

  /** Validates the options; see EarlyStoppingOptions. */
  constructor(opts: EarlyStoppingOptions = {}) {
    const { patience = 5, minDelta = 0, mode = 'min' } = opts;
    if (!Number.isSafeInteger(patience) || patience < 0) throw new Error(`EarlyStopping: patience must be a non-negative integer, got ${patience}`);
    if (!Number.isFinite(minDelta) || minDelta < 0) throw new Error(`EarlyStopping: minDelta must be a finite non-negative number, got ${minDelta}`);
    if (mode !== 'min' && mode !== 'max') throw new Error(`EarlyStopping: mode must be 'min' or 'max', got ${JSON.stringify(mode)}`);
    this.patience = patience;
    this.minDelta = minDelta;
    this.mode = mode;
  }

  /** Whether `value` improves on the best so far. */
  isImprovement(value: number): boolean {
    if (Number.isNaN(value)) return false;
    if (this.best === undefined) return this.mode === 'min' ? value < Infinity : value > -Infinity;
    return this.mode === 'min' ? value < this.best - this.minDelta : value > this.best + this.minDelta;
  }

  /**
   * Records one epoch's value; on improvement calls `snapshot` (only then, so copying weights costs
   * nothing on other epochs) and keeps its result. Returns true when training should stop.
   */
  step(value: number, snapshot?: () => T): boolean {
    this.epoch++;
    if (this.isImprovement(value)) {
      this.best = value;
      this.bestEpoch = this.epoch;
      this.wait = 0;
      if (snapshot) this.bestSnapshot = snapshot();
    } else {
      this.wait++;
      if (this.wait >= this.patience) this.stopped = true;
    }
    return this.stopped;
  }
}

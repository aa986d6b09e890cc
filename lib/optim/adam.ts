/** Adam and AdamW. */
import { adamStepK } from '../kernels/optim.js';
import { Optimizer, type GroupItem, type ParamGroup, type ParamsInput } from './optimizer.js';

/** Adam/AdamW hyperparameters. */
export type AdamHyper = {
  /** Default 1e-3. */
  lr: number;
  /** Decay rates of the first and second moment averages; default [0.9, 0.999]. */
  betas: [number, number];
  /** Added to the denominator; default 1e-8. */
  eps: number;
  /** Adam: L2 penalty added to the gradient (default 0). AdamW: decoupled decay rate (default 1e-2). */
  weightDecay: number;
  /** Use the running maximum of the second moment (AMSGrad); default false. */
  amsgrad: boolean;
  /** Ascend instead of descend; default false. */
  maximize: boolean;
};

/** The Adam update shared by Adam and AdamW, which differ in how weight decay enters. */
abstract class AdamBase extends Optimizer<AdamHyper> {
  protected constructor(owner: string, private readonly decoupled: boolean, params: ParamsInput<AdamHyper>, defaults: AdamHyper) {
    super(owner, 'adam', params, defaults);
  }

  protected updateGroup(items: GroupItem[], g: ParamGroup<AdamHyper>): void {
    adamStepK(items.map(({ param, grad, state }) => {
      const step = this.nextStep(state);
      const m = this.stateTensor(state, 'exp_avg', param);
      const v = this.stateTensor(state, 'exp_avg_sq', param);
      const vmax = g.amsgrad ? this.stateTensor(state, 'max_exp_avg_sq', param) : null;
      return { param, grad, states: [m, v, vmax], step, firstStep: step === 1 };
    }), g, this.decoupled);
  }
}

const adamDefaults = (weightDecay: number): AdamHyper =>
  ({ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay, amsgrad: false, maximize: false });

/**
 * Adam (torch.optim.Adam), per parameter at step t = 1, 2, ...:
 *
 *   g = ∇ (−∇ if maximize) + weightDecay · p
 *   m = β₁ m + (1 − β₁) g            v = β₂ v + (1 − β₂) g²
 *   amsgrad: vmax = max(vmax, v), used in place of v below
 *   p = p − lr / (1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + eps)
 *
 * State: step, exp_avg, exp_avg_sq (and max_exp_avg_sq with amsgrad).
 */
export class Adam extends AdamBase {
  constructor(params: ParamsInput<AdamHyper>, options: Partial<AdamHyper> = {}) {
    super('Adam', false, params, { ...adamDefaults(0), ...options });
  }
}

/**
 * AdamW (torch.optim.AdamW): Adam with weight decay decoupled from the gradient,
 *
 *   p = p · (1 − lr · weightDecay), then the Adam update with g = ∇ (no L2 term).
 *
 * weightDecay defaults to 1e-2. State as Adam.
 */
export class AdamW extends AdamBase {
  constructor(params: ParamsInput<AdamHyper>, options: Partial<AdamHyper> = {}) {
    super('AdamW', true, params, { ...adamDefaults(1e-2), ...options });
  }
}

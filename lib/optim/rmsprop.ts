/** RMSprop. */
import { rmspropStepK } from '../kernels/optim.js';
import { Optimizer, type GroupItem, type ParamGroup, type ParamsInput } from './optimizer.js';

/** RMSprop hyperparameters (PyTorch's defaults). */
export type RMSpropHyper = {
  /** Default 1e-2. */
  lr: number;
  /** Smoothing constant of the squared-gradient average; default 0.99. */
  alpha: number;
  /** Added to the denominator; default 1e-8. */
  eps: number;
  /** L2 penalty added to the gradient; default 0. */
  weightDecay: number;
  /** Default 0. */
  momentum: number;
  /** Normalize by the estimated variance instead of the raw second moment; default false. */
  centered: boolean;
  /** Ascend instead of descend; default false. */
  maximize: boolean;
};

/**
 * RMSprop (torch.optim.RMSprop), per parameter:
 *
 *   g = ∇ (−∇ if maximize) + weightDecay · p
 *   v = α v + (1 − α) g²
 *   centered: ḡ = α ḡ + (1 − α) g,  d = √(v − ḡ²) + eps;  else d = √v + eps
 *   momentum > 0: b = momentum · b + g / d,  p = p − lr · b;  else p = p − lr · g / d
 *
 * State: step, square_avg (and momentum_buffer with momentum, grad_avg when centered).
 */
export class RMSprop extends Optimizer<RMSpropHyper> {
  constructor(params: ParamsInput<RMSpropHyper>, options: Partial<RMSpropHyper> = {}) {
    super('RMSprop', 'rmsprop', params, { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false, ...options });
  }

  protected updateGroup(items: GroupItem[], g: ParamGroup<RMSpropHyper>): void {
    rmspropStepK(items.map(({ param, grad, state }) => {
      const step = this.nextStep(state);
      const sq = this.stateTensor(state, 'square_avg', param);
      const buf = g.momentum > 0 ? this.stateTensor(state, 'momentum_buffer', param) : null;
      const avg = g.centered ? this.stateTensor(state, 'grad_avg', param) : null;
      return { param, grad, states: [sq, avg, buf], step, firstStep: step === 1 };
    }), g);
  }
}

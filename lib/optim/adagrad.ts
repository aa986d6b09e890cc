/** Adagrad. */
import { adagradStepK } from '../kernels/optim.js';
import { Optimizer, type GroupItem, type ParamGroup, type ParamsInput } from './optimizer.js';

/** Adagrad hyperparameters (PyTorch's defaults). */
export type AdagradHyper = {
  /** Default 1e-2. */
  lr: number;
  /** Default 0. */
  lrDecay: number;
  /** L2 penalty added to the gradient; default 0. */
  weightDecay: number;
  /** Starting value of the squared-gradient sum; default 0. */
  initialAccumulatorValue: number;
  /** Added to the denominator; default 1e-10. */
  eps: number;
  /** Ascend instead of descend; default false. */
  maximize: boolean;
};

/**
 * Adagrad (torch.optim.Adagrad), per parameter at step t = 1, 2, ...:
 *
 *   g = ∇ (−∇ if maximize) + weightDecay · p
 *   η = lr / (1 + (t − 1) · lrDecay)
 *   s = s + g²   (s starts at initialAccumulatorValue)
 *   p = p − η · g / (√s + eps)
 *
 * State: step, sum.
 */
export class Adagrad extends Optimizer<AdagradHyper> {
  constructor(params: ParamsInput<AdagradHyper>, options: Partial<AdagradHyper> = {}) {
    super('Adagrad', 'adagrad', params, { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false, ...options });
  }

  protected updateGroup(items: GroupItem[], g: ParamGroup<AdagradHyper>): void {
    adagradStepK(items.map(({ param, grad, state }) => {
      const step = this.nextStep(state);
      const sum = this.stateTensor(state, 'sum', param, g.initialAccumulatorValue);
      return { param, grad, states: [sum], step, firstStep: step === 1 };
    }), g);
  }
}

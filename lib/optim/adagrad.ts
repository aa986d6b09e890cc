/** Adagrad. */
import type { Tensor } from '../tensor.js';
import { adagradStepK } from '../kernels/optim.js';
import { Optimizer, check, type ParamGroup, type ParamState, type ParamsInput } from './optimizer.js';

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
    super('Adagrad', params, { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false, ...options });
  }

  protected checkHyper(h: AdagradHyper): void {
    check.nonNegative('Adagrad', 'lr', h.lr);
    check.nonNegative('Adagrad', 'lrDecay', h.lrDecay);
    check.nonNegative('Adagrad', 'weightDecay', h.weightDecay);
    check.nonNegative('Adagrad', 'initialAccumulatorValue', h.initialAccumulatorValue);
    check.nonNegative('Adagrad', 'eps', h.eps);
    check.boolean('Adagrad', 'maximize', h.maximize);
  }

  protected update(p: Tensor, grad: Tensor, state: ParamState, g: ParamGroup<AdagradHyper>): void {
    const step = this.nextStep(state);
    const sum = this.stateTensor(state, 'sum', p, g.initialAccumulatorValue);
    adagradStepK(p, grad, sum, step, g);
  }
}

/** RMSprop. */
import type { Tensor } from '../tensor.js';
import { rmspropStepK } from '../kernels/optim.js';
import { Optimizer, check, type ParamGroup, type ParamState, type ParamsInput } from './optimizer.js';

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
    super('RMSprop', params, { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false, ...options });
  }

  protected checkHyper(h: RMSpropHyper): void {
    check.nonNegative('RMSprop', 'lr', h.lr);
    check.nonNegative('RMSprop', 'alpha', h.alpha);
    if (h.alpha > 1) throw new RangeError(`RMSprop: alpha must be in [0, 1], got ${h.alpha}`);
    check.nonNegative('RMSprop', 'eps', h.eps);
    check.nonNegative('RMSprop', 'weightDecay', h.weightDecay);
    check.nonNegative('RMSprop', 'momentum', h.momentum);
    check.boolean('RMSprop', 'centered', h.centered);
    check.boolean('RMSprop', 'maximize', h.maximize);
  }

  protected update(p: Tensor, grad: Tensor, state: ParamState, g: ParamGroup<RMSpropHyper>): void {
    this.nextStep(state);
    const sq = this.stateTensor(state, 'square_avg', p);
    const buf = g.momentum > 0 ? this.stateTensor(state, 'momentum_buffer', p) : null;
    const avg = g.centered ? this.stateTensor(state, 'grad_avg', p) : null;
    rmspropStepK(p, grad, sq, avg, buf, g);
  }
}

/** Stochastic gradient descent. */
import type { Tensor } from '../tensor.js';
import { sgdStepK } from '../kernels/optim.js';
import { Optimizer, check, type ParamGroup, type ParamState, type ParamsInput } from './optimizer.js';

/** SGD hyperparameters (PyTorch's defaults). */
export type SGDHyper = {
  /** Default 1e-3. */
  lr: number;
  /** Default 0 (plain SGD). */
  momentum: number;
  /** Default 0. */
  dampening: number;
  /** L2 penalty added to the gradient; default 0. */
  weightDecay: number;
  /** Default false; needs momentum > 0 and dampening 0. */
  nesterov: boolean;
  /** Ascend instead of descend; default false. */
  maximize: boolean;
};

/**
 * SGD with optional momentum, Nesterov momentum and weight decay (torch.optim.SGD), per parameter:
 *
 *   g = ∇ (−∇ if maximize) + weightDecay · p
 *   if momentum ≠ 0:  b = g on the first step, else b = momentum · b + (1 − dampening) · g
 *                     g = nesterov ? g + momentum · b : b
 *   p = p − lr · g
 *
 * State: momentum_buffer (with momentum).
 */
export class SGD extends Optimizer<SGDHyper> {
  constructor(params: ParamsInput<SGDHyper>, options: Partial<SGDHyper> = {}) {
    super('SGD', params, { lr: 1e-3, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false, ...options });
  }

  protected checkHyper(h: SGDHyper): void {
    check.nonNegative('SGD', 'lr', h.lr);
    check.nonNegative('SGD', 'momentum', h.momentum);
    check.nonNegative('SGD', 'dampening', h.dampening);
    check.nonNegative('SGD', 'weightDecay', h.weightDecay);
    check.boolean('SGD', 'nesterov', h.nesterov);
    check.boolean('SGD', 'maximize', h.maximize);
    if (h.nesterov && (h.momentum <= 0 || h.dampening !== 0)) {
      throw new RangeError(`SGD: nesterov needs momentum > 0 and dampening 0, got momentum ${h.momentum} and dampening ${h.dampening}`);
    }
  }

  protected update(p: Tensor, grad: Tensor, state: ParamState, g: ParamGroup<SGDHyper>): void {
    const firstStep = state.momentum_buffer === undefined;
    const buf = g.momentum !== 0 ? this.stateTensor(state, 'momentum_buffer', p) : null;
    sgdStepK(p, grad, buf, g, firstStep);
  }
}

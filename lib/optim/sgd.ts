/** Stochastic gradient descent. */
import { sgdStepK } from '../kernels/optim.js';
import { Optimizer, type GroupItem, type ParamGroup, type ParamsInput } from './optimizer.js';

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
    super('SGD', 'sgd', params, { lr: 1e-3, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false, ...options });
  }

  protected updateGroup(items: GroupItem[], g: ParamGroup<SGDHyper>): void {
    sgdStepK(items.map(({ param, grad, state }) => {
      const firstStep = state.momentum_buffer === undefined;
      const buf = g.momentum !== 0 ? this.stateTensor(state, 'momentum_buffer', param) : null;
      return { param, grad, states: [buf], step: 1, firstStep };
    }), g);
  }
}

/** The `autograd` namespace: functional gradients and the gradient checker. */
export { grad } from './engine.js';
export { gradcheck } from './gradcheck.js';
export { detectAnomaly, noGrad, enableGrad } from './mode.js';

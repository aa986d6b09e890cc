/** Gradient clipping, in place on the gradients of parameters (those with grad null are skipped). */
import { Tensor } from '../tensor.js';
import { clampInPlaceK, scaleInPlaceK, sumOfSquaresK } from '../kernels/optim.js';
import { noGrad } from '../autograd/mode.js';

/** The gradients of `params`, each made contiguous (replacing .grad if needed) so it can be scaled in place. */
function gradients(params: Iterable<Tensor> | Tensor): Tensor[] {
  const list = params instanceof Tensor ? [params] : [...params];
  const grads: Tensor[] = [];
  for (const p of list) {
    if (p.grad === null) continue;
    if (!p.grad.isContiguous()) p.grad = noGrad(() => p.grad!.contiguous());
    grads.push(p.grad);
  }
  return grads;
}

/**
 * Scales the gradients together so that their combined `normType`-norm (as if all were concatenated
 * into one vector) is at most maxNorm: each is multiplied by maxNorm / (total + 1e-6) when that is
 * below 1. normType is a positive number or Infinity (largest absolute value). Returns the total norm
 * before clipping; a NaN or infinite norm throws when `errorIfNonfinite`.
 */
export function clipGradNorm(
  params: Iterable<Tensor> | Tensor, maxNorm: number, normType = 2, options: { errorIfNonfinite?: boolean } = {},
): number {
  if (!(maxNorm >= 0)) throw new RangeError(`clipGradNorm: maxNorm must be a non-negative number, got ${maxNorm}`);
  if (!(normType > 0)) throw new RangeError(`clipGradNorm: normType must be a positive number or Infinity, got ${normType}`);
  const grads = gradients(params);
  if (grads.length === 0) return 0;
  let total: number;
  if (normType === 2) {
    total = Math.sqrt(grads.reduce((s, g) => s + sumOfSquaresK(g), 0));
  } else if (normType === Infinity) {
    total = Math.max(...grads.map((g) => g.abs().max().item()));
  } else {
    total = grads.reduce((s, g) => s + g.abs().pow(normType).sum().item(), 0) ** (1 / normType);
  }
  if (options.errorIfNonfinite && !Number.isFinite(total)) {
    throw new Error(`clipGradNorm: the total norm of order ${normType} of the gradients is ${total}; cannot clip`);
  }
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1) {
    for (const g of grads) {
      scaleInPlaceK(g, coef);
    }
  }
  return total;
}

/** Clamps every gradient element to [−clipValue, clipValue]. */
export function clipGradValue(params: Iterable<Tensor> | Tensor, clipValue: number): void {
  if (!(clipValue >= 0)) throw new RangeError(`clipGradValue: clipValue must be a non-negative number, got ${clipValue}`);
  for (const g of gradients(params)) {
    clampInPlaceK(g, -clipValue, clipValue);
  }
}

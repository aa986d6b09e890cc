/** Gradient clipping, in place on the gradients of parameters (those with grad null are skipped). */
import { describe, itemsOf } from '../checks.js';
import { Tensor } from '../tensor.js';
import { clampInPlaceK, clipByNormK, gradNormK } from '../kernels/optim.js';
import { noGrad } from '../autograd/mode.js';
import { empty } from '../kernels/runtime.js';

/** The gradients of `params`, each made contiguous (replacing .grad if needed) so it can be scaled in place. */
function gradients(params: Iterable<Tensor> | Tensor, op: string): Tensor[] {
  const list = params instanceof Tensor ? [params] : itemsOf(op, params, 'params');
  list.forEach((p, i) => {
    if (!(p instanceof Tensor)) throw new TypeError(`${op}: parameter ${i} is not a Tensor, got ${describe(p)}`);
  });
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
 * below 1. normType is a positive number or Infinity (largest absolute value). Gradients must share one
 * device.
 *
 * Returns the total norm before clipping as a float64 0-d tensor on the gradients' device (as
 * torch.nn.utils.clip_grad_norm_; read it with `.item()`): the norm and the scaling stay on the device, so
 * on cuda nothing is copied to the host unless `errorIfNonfinite` is set, which reads the norm to throw
 * when it is NaN or infinite. With no gradients the norm is a cpu 0.
 */
export function clipGradNorm(
  params: Iterable<Tensor> | Tensor, maxNorm: number, normType = 2, options: { errorIfNonfinite?: boolean } = {},
): Tensor {
  if (typeof maxNorm !== 'number' || !(maxNorm >= 0)) throw new RangeError(`clipGradNorm: maxNorm must be a non-negative number, got ${describe(maxNorm)}`);
  if (typeof normType !== 'number' || !(normType > 0)) throw new RangeError(`clipGradNorm: normType must be a positive number or Infinity, got ${describe(normType)}`);
  const grads = gradients(params, 'clipGradNorm');
  if (grads.length === 0) return empty([], 'float64');
  return noGrad(() => {
    const total = gradNormK(grads, normType);
    if (options.errorIfNonfinite) {
      const value = total.item();
      if (!Number.isFinite(value)) {
        throw new Error(`clipGradNorm: the total norm of order ${normType} of the gradients is ${value}; cannot clip`);
      }
    }
    clipByNormK(grads, total, maxNorm);
    return total;
  });
}

/** Clamps every gradient element to [−clipValue, clipValue]. */
export function clipGradValue(params: Iterable<Tensor> | Tensor, clipValue: number): void {
  if (typeof clipValue !== 'number' || !(clipValue >= 0)) throw new RangeError(`clipGradValue: clipValue must be a non-negative number, got ${describe(clipValue)}`);
  for (const g of gradients(params, 'clipGradValue')) {
    clampInPlaceK(g, -clipValue, clipValue);
  }
}

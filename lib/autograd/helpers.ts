/** Small pieces the engine needs from the op set. */
import type { Tensor } from '../tensor.js';
import { sum } from '../ops/reduce.js';
import { deviceOf, uninitialized } from '../kernels/runtime.js';
import { fillK } from '../kernels/elementwise.js';
import { clone } from '../ops/shape.js';
import { computeInPlace, add, isFiniteAll } from '../ops/elementwise.js';

/**
 * Sums a gradient over the dims that broadcasting expanded, so it matches `shape`: leading dims the
 * input did not have, and dims where the input has size 1.
 */
export function sumToShape(grad: Tensor, shape: readonly number[], op: string): Tensor {
  if (grad.shape.length === shape.length && grad.shape.every((d, i) => d === shape[i])) return grad;
  const lead = grad.ndim - shape.length;
  if (lead < 0) {
    throw new Error(`backward of '${op}': gradient of shape [${grad.shape.join(', ')}] cannot reduce to [${shape.join(', ')}]`);
  }
  const dims: number[] = [];
  for (let i = 0; i < grad.ndim; i++) {
    if (i < lead || (shape[i - lead] === 1 && grad.shape[i] !== 1)) dims.push(i);
  }
  const reduced = dims.length ? sum(grad, dims, true) : grad;
  return reduced.reshape([...shape]);
}

export function hasNonFinite(t: Tensor): boolean {
  return !isFiniteAll(t);
}

/** Ones of t's shape, dtype and device: the implicit gradient of a one-element output. */
export function onesLike(t: Tensor): Tensor {
  const ones = uninitialized(t.shape, t.dtype, deviceOf(t));
  fillK(ones, 1);
  return ones;
}

/**
 * leaf.grad += g, owning its buffer: a gradient may be a view shared with other tensors, so it is copied,
 * unless `owned` says that g is the whole of a buffer nothing else uses (then it becomes .grad as it is).
 */
export function accumulateInto(leaf: Tensor, g: Tensor, createGraph: boolean, owned = false): void {
  if (leaf.grad === null) leaf.grad = createGraph ? g : owned ? g.detach() : clone(g.detach());
  else if (createGraph) leaf.grad = add(leaf.grad, g);
  else computeInPlace(leaf.grad, 'gradient accumulation', () => add(leaf.grad!, g));
}

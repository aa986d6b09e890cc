/**
 * The autograd tape's record: the Node an op attaches to its output (one lazy gradient function per
 * input and the tensors those functions read), and `attach`, which every differentiable op calls. Kept
 * apart from the engine (engine.ts), which needs ops to run backward, so that ops do not import it.
 */
import type { Tensor, GradHook } from '../tensor.js';
import { isGradEnabled } from './mode.js';
import { releaseStorage } from '../memory.js';

export type GradFn = (grad: Tensor) => Tensor;

export class Node {
  /** Inputs that require grad (null elsewhere), parallel to gradFns. */
  inputs: Array<Tensor | null>;
  gradFns: Array<GradFn | null> | null;
  saved: Array<[Tensor, number]>;
  /** Hooks registered on the output tensor, run on its gradient. */
  readonly hooks: GradHook[] = [];
  /**
   * The output tensor, only once it asked to keep its gradient (retainGrad). The node never holds its
   * output otherwise, so an unused activation is collectable as soon as the user drops it.
   */
  retained: Tensor | null = null;

  /** Tensors the op made only for its backward (a dropout mask, pooling indices): nothing else holds them. */
  #scratch: Tensor[];

  constructor(
    readonly name: string, inputs: Array<Tensor | null>, gradFns: Array<GradFn | null>, saved: Tensor[], scratch: Tensor[],
  ) {
    this.inputs = inputs;
    this.gradFns = gradFns;
    this.saved = saved.map((t) => [t, t.storage.version]);
    this.#scratch = scratch;
  }

  /** Drops what the backward needed, after a backward that does not retain the graph; scratch device memory returns now. */
  release(): void {
    this.gradFns = null;
    this.saved = [];
    // device memory only: on the CPU the garbage collector and releaseAfter reclaim it (see engine.ts)
    for (const t of this.#scratch) if (t.device !== 'cpu') releaseStorage(t.storage);
    this.#scratch = [];
  }
}

/**
 * Records `out` as produced by op `name` from `inputs` when grad mode is on and any input requires
 * grad. gradFns[i] maps the output's gradient to input i's (any broadcastable shape); `saved` lists the
 * tensors the gradient functions read, checked for in-place modification at backward. `scratch` lists
 * tensors the op made for its gradient functions alone and never hands out: their device memory is released
 * when a backward through the node ends (else with the step's releaseAfter, or by the garbage collector).
 */
export function attach(
  name: string,
  out: Tensor,
  inputs: ReadonlyArray<Tensor | null | undefined>,
  gradFns: ReadonlyArray<GradFn | null>,
  saved: Tensor[] = [],
  scratch: Tensor[] = [],
): Tensor {
  if (!isGradEnabled() || !inputs.some((t) => t != null && t.requiresGrad)) return out;
  const tracked = inputs.map((t) => (t != null && t.requiresGrad ? t : null));
  const node = new Node(name, tracked, tracked.map((t, i) => (t ? gradFns[i] ?? null : null)), saved, scratch);
  out.gradFn = node;
  out.requiresGrad = true;
  return out;
}

/**
 * The autograd engine. Each differentiable op attaches a Node (node.ts) to its output holding one lazy
 * gradient function per input, so a gradient nobody needs is never computed. backward() walks the nodes in
 * reverse topological order, reduces broadcast gradients to their input's shape in one place, checks
 * saved tensors for in-place modification, and releases what it used unless retainGraph is set.
 */
import { Tensor, nextStorageSerial, type Storage, type GradHook } from '../tensor.js';
import { describe } from '../checks.js';
import type { Node } from './node.js';
import { clone } from '../ops/shape.js';
import { enableGrad, isAnomalyEnabled, noGrad } from './mode.js';
import { sumToShape, hasNonFinite, onesLike, accumulateInto } from './helpers.js';
import { releaseAfter, releaseStorage } from '../memory.js';

interface RunOptions {
  retainGraph: boolean;
  createGraph: boolean;
  /** When set, gradients for these tensors are returned instead of accumulated into .grad. */
  capture?: Tensor[];
}

/** Whether g is a contiguous view of all of its buffer, which was created at or after serial `since`. */
function wholeBufferOf(g: Tensor, since: number): boolean {
  return g.storage.serial >= since && g.offset === 0 && g.numel === g.storage.length && g.isContiguous();
}

/**
 * The gradient buffers one backward makes, released as soon as nothing can read them, as PyTorch frees an
 * intermediate gradient when its last reference goes: a node's incoming gradient once its input gradients
 * are computed, partial sums once added up, the unreduced results of gradient functions. Counted by
 * storage, since a gradient handed on may be a view of the one it came from. A buffer escapes, and is never
 * released here, when it becomes a leaf's or a retained .grad, a result of autograd.grad, or is shown to a
 * user's hook; with createGraph nothing is released (the recorded graph reads the gradients).
 *
 * Only for a backward on a cuda device, where peak memory is the limit and nothing else returns it before
 * the step's releaseAfter. On the CPU the garbage collector and releaseAfter already reclaim host memory;
 * returning buffers early only reshuffled the free lists and cost ~5 MB more RSS over 10,000 steps of the
 * leak test (test/reliability/memory.test.ts) without a measurable speed gain.
 */
class GradientBuffers {
  /** Storages from this serial on were made by this backward. */
  readonly since = nextStorageSerial();
  readonly #pending = new Map<Storage, number>();
  readonly #escaped = new Set<Storage>();

  constructor(private readonly enabled: boolean) {}

  /** A pending gradient now holds t's storage. */
  hold(t: Tensor): void {
    if (!this.enabled) return;
    this.#pending.set(t.storage, (this.#pending.get(t.storage) ?? 0) + 1);
  }

  /** A pending gradient on t's storage was consumed. */
  drop(t: Tensor): void {
    if (!this.enabled) return;
    const n = this.#pending.get(t.storage)! - 1;
    if (n === 0) this.#pending.delete(t.storage);
    else this.#pending.set(t.storage, n);
  }

  escape(t: Tensor): void {
    if (this.enabled) this.#escaped.add(t.storage);
  }

  /** Releases t's storage if this backward made it and no pending or escaped gradient shares it. */
  releaseIfUnused(t: Tensor): void {
    const s = t.storage;
    if (this.enabled && s.serial >= this.since && !s.disposed && !this.#pending.has(s) && !this.#escaped.has(s)) {
      releaseStorage(s);
    }
  }
}

function topoOrder(roots: Tensor[]): Node[] {
  const order: Node[] = [];
  const seen = new Set<Node>();
  const stack: Array<[Node, number]> = [];
  for (const r of roots) {
    if (r.gradFn && !seen.has(r.gradFn)) {
      seen.add(r.gradFn);
      stack.push([r.gradFn, 0]);
    }
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const [node, i] = top;
      if (i < node.inputs.length) {
        top[1]++;
        const child = node.inputs[i]?.gradFn;
        if (child && !seen.has(child)) {
          seen.add(child);
          stack.push([child, 0]);
        }
      } else {
        order.push(node);
        stack.pop();
      }
    }
  }
  return order.reverse();
}

function runHooks(hooks: readonly GradHook[], grad: Tensor): Tensor {
  for (const hook of hooks) grad = hook(grad) ?? grad;
  return grad;
}

/** The gradient given for a root must match it as PyTorch requires: a tensor of its shape, dtype and device. */
function checkRootGrad(root: Tensor, g: Tensor): void {
  if (!(g instanceof Tensor)) throw new TypeError(`backward: grad must be a Tensor, got ${describe(g)}`);
  if (g.isDisposed) throw new Error(`backward: the grad given for ${root.describe()} was disposed`);
  if (g.dtype !== root.dtype) {
    throw new TypeError(`backward: grad has dtype ${g.dtype} but the output (${root.describe()}) is ${root.dtype}; convert it with .to('${root.dtype}')`);
  }
  if (g.device !== root.device || g.deviceIndex !== root.deviceIndex) {
    throw new Error(`backward: grad is on ${g.deviceName} but the output (${root.describe()}) is on ${root.deviceName}`);
  }
  if (g.ndim !== root.ndim || g.shape.some((d, i) => d !== root.shape[i])) {
    throw new RangeError(`backward: grad shape [${g.shape.join(', ')}] differs from output shape [${root.shape.join(', ')}]`);
  }
}

function run(roots: Tensor[], rootGrads: Tensor[] | undefined, opts: RunOptions): Map<Tensor, Tensor> {
  const pending = new Map<Node, Tensor>();
  const captured = new Map<Tensor, Tensor>();
  const captureSet = new Set(opts.capture ?? []);
  const captureByNode = new Map((opts.capture ?? []).filter((t) => t.gradFn).map((t) => [t.gradFn!, t]));
  // A leaf takes a gradient buffer as its .grad without a copy (PyTorch's AccumulateGrad steals an unshared
  // gradient too) when the buffer was made by this backward, the gradient spans all of it, and it has not
  // been handed anywhere else before (a pass-through gradient, as add's, reaches a node or a retained .grad
  // first). Should the same buffer be handed on again after a leaf took it, the next consumer gets a copy.
  const onDevice = roots.some((r) => r.device !== 'cpu');
  const buffers = new GradientBuffers(onDevice && !opts.createGraph);
  const scoped = onDevice && !opts.createGraph && !opts.retainGraph;
  const handedOn = new Set<Storage>(), takenByLeaf = new Set<Storage>();
  const hooked = (hooks: readonly GradHook[], g: Tensor): Tensor => {
    if (hooks.length === 0) return g;
    buffers.escape(g);
    const gg = runHooks(hooks, g);
    buffers.escape(gg);
    return gg;
  };
  const deliver = (t: Tensor, gIn: Tensor, consumer: string | null): void => {
    // A disposed tensor lost its gradFn with its storage: the gradient would stop here without a word.
    if (t.gradFn === null && t.isDisposed) {
      throw new Error(`backward: ${t.describe()}${consumer ? ` (an input of '${consumer}')` : ''} was disposed before backward`);
    }
    const g = takenByLeaf.has(gIn.storage) ? clone(gIn) : gIn;
    const fresh = !handedOn.has(g.storage);
    handedOn.add(g.storage);
    if (t.gradFn) {
      const prev = pending.get(t.gradFn);
      const sum = prev ? prev.add(g) : g;
      pending.set(t.gradFn, sum);
      buffers.hold(sum);
      if (prev) {
        buffers.drop(prev);
        buffers.releaseIfUnused(prev);
        buffers.releaseIfUnused(g);
      }
    } else if (opts.capture) {
      if (captureSet.has(t)) {
        const gg = hooked(t.hooks, g);
        const prev = captured.get(t);
        const sum = prev ? prev.add(gg) : gg;
        captured.set(t, sum);
        buffers.escape(sum);
        if (prev) buffers.releaseIfUnused(prev);
      } else buffers.releaseIfUnused(g);
    } else {
      const gg = hooked(t.hooks, g);
      const owned = gg === g && fresh && t.grad === null && wholeBufferOf(g, buffers.since);
      if (owned) {
        takenByLeaf.add(g.storage);
        buffers.escape(g);
      }
      accumulateInto(t, gg, opts.createGraph, owned);
      buffers.escape(t.grad!);
      buffers.releaseIfUnused(g);
    }
  };

  roots.forEach((root, i) => {
    if (root.isDisposed) throw new Error(`backward: ${root.describe()} was disposed before backward`);
    if (!root.requiresGrad) {
      throw new Error('backward: tensor does not require grad and has no gradFn (did you forget requiresGrad, or call it inside noGrad?)');
    }
    const given = rootGrads?.[i];
    if (given === undefined || given === null) {
      if (root.numel !== 1) {
        throw new Error(`backward: grad can be created implicitly only for one-element outputs, got shape [${root.shape.join(', ')}]`);
      }
      deliver(root, onesLike(root), null);
    } else {
      checkRootGrad(root, given);
      deliver(root, given, null);
    }
  });

  const body = (): void => {
    for (const node of topoOrder(roots)) {
      const incoming = pending.get(node);
      if (!incoming) continue;
      pending.delete(node);
      // still held (buffers.drop below) while the input gradients are made from it
      const g = hooked(node.hooks, incoming);
      const target = captureByNode.get(node);
      if (target) {
        captured.set(target, g);
        buffers.escape(g);
      }
      if (node.retained && !opts.capture) {
        node.retained.grad = g.detach();
        buffers.escape(g);
      }
      if (node.gradFns === null) {
        throw new Error(
          `backward: the graph through '${node.name}' was already freed; call backward with { retainGraph: true } the first time to backward twice`,
        );
      }
      for (const [t, version] of node.saved) {
        if (t.isDisposed) throw new Error(`backward: ${t.describe()} (saved by '${node.name}') was disposed before backward`);
        if (t.storage.version !== version) {
          throw new Error(
            `backward: a tensor saved by '${node.name}' was modified by an in-place operation ` +
              `(version ${t.storage.version}, expected ${version}); use an out-of-place op or clone() it first`,
          );
        }
      }
      const inputGrads = (): Array<Tensor | null> => node.inputs.map((input, i) => {
        const fn = node.gradFns![i];
        if (!input || !fn) return null;
        const gi = sumToShape(fn(g), input.shape, node.name);
        if (isAnomalyEnabled() && hasNonFinite(gi)) {
          throw new Error(`detectAnomaly: the backward of '${node.name}' produced NaN or Inf in the gradient of input ${i}`);
        }
        return gi;
      });
      // What the gradient functions allocate besides their results (temporaries, unreduced gradients) is
      // released once all of the node's input gradients exist: they may share one computation. Not when the
      // graph is kept, whose gradient functions may keep results for the next backward.
      let grads: Array<Tensor | null> = [];
      if (scoped) releaseAfter(() => (grads = inputGrads()), () => grads);
      else grads = inputGrads();
      grads.forEach((gi, i) => gi && deliver(node.inputs[i]!, gi, node.name));
      buffers.drop(incoming);
      buffers.releaseIfUnused(g);
      if (!opts.retainGraph) node.release();
    }
  };
  if (opts.createGraph) enableGrad(body);
  else noGrad(body);
  return captured;
}

/** Accumulates d(sum of roots·grads)/d(leaf) into every leaf's .grad. */
export function backward(roots: Tensor[], grads: Tensor[] | undefined, retainGraph: boolean): void {
  run(roots, grads, { retainGraph, createGraph: false });
}

/**
 * Gradients of outputs w.r.t. inputs, returned instead of accumulated (PyTorch's autograd.grad).
 * createGraph records the backward pass itself, for higher-order derivatives.
 */
export function grad(
  outputs: Tensor | Tensor[],
  inputs: Tensor | Tensor[],
  options: { gradOutputs?: Tensor[]; retainGraph?: boolean; createGraph?: boolean; allowUnused?: boolean } = {},
): Array<Tensor | null> {
  const outs = Array.isArray(outputs) ? outputs : [outputs];
  const ins = Array.isArray(inputs) ? inputs : [inputs];
  const createGraph = options.createGraph ?? false;
  const captured = run(outs, options.gradOutputs, {
    retainGraph: options.retainGraph ?? createGraph,
    createGraph,
    capture: ins,
  });
  return ins.map((t, i) => {
    const g = captured.get(t);
    if (!g && !options.allowUnused) {
      throw new Error(`autograd.grad: input ${i} was not used to compute the outputs (pass allowUnused: true to get null)`);
    }
    return g ?? null;
  });
}

/**
 * The fused optimizer updates and the gradient-clipping kernels as tensor functions. An update takes a
 * whole parameter group: each parameter with its gradient and state tensors (the parameter's shape, dtype
 * and device), updated in place. The group is split by device and dtype, and each part is one native call:
 * on cpu the per-parameter fused kernels run in turn, on cuda one multi-tensor launch updates every
 * parameter of the part (cuda/optim.cu). Nothing is copied between host and device.
 */
import { native } from '../native.js';
import type { AnyBuffer } from '../bindings/elementwise.js';
import type { Tensor } from '../tensor.js';
import { bufferOf, commonDevice, denseBuffer, empty, requireFloat } from './runtime.js';
import { kernelFamily } from './family.js';

/** This module's kernel family: its entry points and how each device runs them (see family.ts). */
export const optimFamily = kernelFamily('optim', ['sgdStep', 'adamStep', 'rmspropStep', 'adagradStep', 'gradNormAccumulate', 'clipByNorm', 'clampInPlace', 'validateOptimizer'], { cpu: 'native', cuda: 'native' });

/** One parameter of a group: its gradient (contiguous), its state tensors in the rule's order, its step. */
export interface ParamUpdate {
  param: Tensor;
  grad: Tensor;
  /** The rule's state tensors, null where the configuration does not use one. */
  states: ReadonlyArray<Tensor | null>;
  /** 1-based step count (Adam, Adagrad). */
  step: number;
  /** SGD: the momentum buffer was created for this step. */
  firstStep: boolean;
}

export type SgdHyperK = { lr: number; momentum: number; dampening: number; weightDecay: number; nesterov: boolean; maximize: boolean };
export type AdamHyperK = { lr: number; betas: [number, number]; eps: number; weightDecay: number; amsgrad: boolean; maximize: boolean };
export type RmspropHyperK = {
  lr: number; alpha: number; eps: number; weightDecay: number; momentum: number; centered: boolean; maximize: boolean;
};
export type AdagradHyperK = { lr: number; lrDecay: number; weightDecay: number; eps: number; initialAccumulatorValue: number; maximize: boolean };

/** The rules whose hyperparameters the native validator knows. */
export type OptimizerRule = 'sgd' | 'adam' | 'rmsprop' | 'adagrad';

/**
 * Throws (a RangeError or TypeError starting with `owner`, naming the argument and value) unless `hyper`
 * is valid for the rule. The native validator is the only implementation of these checks: the update
 * kernels run it too.
 */
export function validateOptimizerHyper(owner: string, rule: OptimizerRule, hyper: object): void {
  try {
    native.validateOptimizer(owner, rule, hyper);
  } catch (e) {
    // The message names the optimizer (`owner`), not the entry point.
    if (e instanceof Error) e.message = e.message.replace(/^validateOptimizer: /, '');
    throw e;
  }
}

/**
 * A tensor updated in place by a native call: its own buffer, which the entry points address as one
 * contiguous run (a cpu subarray; on cuda a handle, which has no offset, so the tensor must span its
 * storage from element 0, as parameters and optimizer state do). Anything else is refused: a copy would
 * take the update and drop it.
 */
function inPlaceBuffer(t: Tensor, op: string): AnyBuffer {
  if (!t.isContiguous() || (t.device !== 'cpu' && (t.offset !== 0 || t.numel !== t.storage.length))) {
    throw new Error(
      `${op}: a tensor updated in place must be contiguous${t.device === 'cpu' ? '' : ' and span its storage (offset 0)'}, ` +
        `got shape [${t.shape.join(', ')}] with strides [${t.strides.join(', ')}] at offset ${t.offset}; clone() it first`,
    );
  }
  return denseBuffer(t);
}

/** The group's items split by device and dtype, in their order: one native call per part. */
function partsOf<T extends { param: Tensor }>(items: readonly T[]): T[][] {
  // Usually one part: checked without building keys (this runs every step).
  const first = items[0]?.param;
  if (!first || items.every(({ param: p }) => p.device === first.device && p.deviceIndex === first.deviceIndex && p.dtype === first.dtype)) {
    return [items as T[]];
  }
  const parts = new Map<string, T[]>();
  for (const item of items) {
    const key = `${item.param.deviceName}/${item.param.dtype}`;
    let part = parts.get(key);
    if (!part) parts.set(key, (part = []));
    part.push(item);
  }
  return [...parts.values()];
}

/** Per parameter: the parameter, its gradient and `stateCount` states, as the native step's buffer run. */
function buffersOf(items: readonly ParamUpdate[], stateCount: number, op: string): Array<AnyBuffer | null> {
  const out: Array<AnyBuffer | null> = [];
  for (const u of items) {
    out.push(inPlaceBuffer(u.param, op), denseBuffer(u.grad));
    for (let k = 0; k < stateCount; k++) out.push(u.states[k] ? inPlaceBuffer(u.states[k]!, op) : null);
  }
  return out;
}

function bumpVersions(items: readonly ParamUpdate[]): void {
  for (const u of items) {
    u.param.storage.version++;
    for (const s of u.states) if (s) s.storage.version++;
  }
}

/** SGD over a group; states: [momentumBuffer] (null without momentum). See bindings/optim.ts for the rule. */
export function sgdStepK(items: readonly ParamUpdate[], h: SgdHyperK): void {
  for (const part of partsOf(items)) {
    native.sgdStep(h, part.length, part.map((u) => (u.firstStep ? 1 : 0)), ...buffersOf(part, 1, 'SGD'));
    bumpVersions(part);
  }
}

/** Adam / AdamW over a group; states: [expAvg, expAvgSq, maxExpAvgSq (amsgrad only)]. */
export function adamStepK(items: readonly ParamUpdate[], h: AdamHyperK, decoupled: boolean): void {
  for (const part of partsOf(items)) {
    native.adamStep(h, decoupled, part.length, part.map((u) => u.step), ...buffersOf(part, 3, 'Adam'));
    bumpVersions(part);
  }
}

/** RMSprop over a group; states: [squareAvg, gradAvg (centered only), momentumBuffer (momentum only)]. */
export function rmspropStepK(items: readonly ParamUpdate[], h: RmspropHyperK): void {
  for (const part of partsOf(items)) {
    native.rmspropStep(h, part.length, ...buffersOf(part, 3, 'RMSprop'));
    bumpVersions(part);
  }
}

/** Adagrad over a group; states: [sum]. */
export function adagradStepK(items: readonly ParamUpdate[], h: AdagradHyperK): void {
  for (const part of partsOf(items)) {
    native.adagradStep(h, part.length, part.map((u) => u.step), ...buffersOf(part, 1, 'Adagrad'));
    bumpVersions(part);
  }
}

/**
 * The `normType`-norm of all the gradients together (as if concatenated), as a float64 0-d tensor on their
 * device: sum |g|^p (or max |g| for Infinity) accumulated on the device, then the root. All on one device.
 */
export function gradNormK(grads: readonly Tensor[], normType: number): Tensor {
  const acc = empty([], 'float64', commonDevice('clipGradNorm', grads));
  for (const part of partsOf(grads.map((g) => ({ param: g })))) {
    for (const { param: g } of part) requireFloat('clipGradNorm', g, 'gradient');
    native.gradNormAccumulate(normType, bufferOf(acc), part.length, ...part.map((p) => denseBuffer(p.param)));
  }
  if (normType === Infinity || normType === 1) return acc;
  return normType === 2 ? acc.sqrt() : acc.pow(1 / normType);
}

/** g *= min(1, maxNorm / (totalNorm + 1e-6)) for every gradient, reading the float64 0-d totalNorm on the device. */
export function clipByNormK(grads: readonly Tensor[], totalNorm: Tensor, maxNorm: number): void {
  for (const part of partsOf(grads.map((g) => ({ param: g })))) {
    native.clipByNorm(denseBuffer(totalNorm), maxNorm, part.length, ...part.map((p) => inPlaceBuffer(p.param, 'clipGradNorm')));
    for (const { param: g } of part) g.storage.version++;
  }
}

/** t = clamp(t, lo, hi) in place (t contiguous). */
export function clampInPlaceK(t: Tensor, lo: number, hi: number): void {
  native.clampInPlace(inPlaceBuffer(t, 'clipGradValue'), lo, hi);
  t.storage.version++;
}

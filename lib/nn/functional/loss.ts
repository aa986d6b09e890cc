/**
 * Losses over the fused native kernels (PyTorch semantics and reductions). Each forward and backward is
 * one kernel call; the gradient flows to the input (to a float target as well for the losses of
 * input − target), never to integer targets, class weights or a distillation teacher.
 */
import type { Tensor } from '../../tensor.js';
import { attach } from '../../autograd/node.js';
import { defineOp } from '../../ops/registry.js';
import { broadcastShapes } from '../../kernels/runtime.js';
import { elementwiseFamily } from '../../kernels/elementwise.js';
import { reduceFamily } from '../../kernels/reduce.js';
import {
  type ClassLossArgs, type DifferenceLoss, type LossKernel, type LossReduction, bceWithLogitsK, crossEntropyK, crossEntropyProbK,
  differenceLossK, distillationK, lossFamily, multiMarginK, nllK,
} from '../../kernels/loss.js';
import { abs, add, mul, neg } from '../../ops/elementwise.js';
import { mean, sum } from '../../ops/reduce.js';
import { expand } from '../../ops/shape.js';
import {
  fmtShape, fusedBackward, product, requireFloatLike, requireInt32, requireRank, requireShape,
} from './common.js';

export type Reduction = LossReduction;

function checkReduction(op: string, reduction: Reduction): void {
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') {
    throw new RangeError(`${op}: reduction must be 'mean', 'sum' or 'none', got '${String(reduction)}'`);
  }
}

interface FusedLoss {
  name: string;
  input: Tensor;
  reduction: Reduction;
  /** Shape of the per-sample losses ('none'). */
  sampleShape: readonly number[];
  kernel: LossKernel;
  /** Tensors the backward reads, checked for in-place modification. */
  saved: Tensor[];
  /** A float target whose gradient is minus the input's (losses of input − target). */
  negatedTarget?: Tensor;
}

/** A 0-d loss ('mean', 'sum') or per-sample losses ('none') recorded with the fused backward. */
function fusedLoss(l: FusedLoss): Tensor {
  checkReduction(l.name, l.reduction);
  const out = l.kernel.forward(l.sampleShape);
  const grads = fusedBackward([l.input, l.negatedTarget], (g, needs) => {
    const gx = l.kernel.backward(g);
    return [gx, needs[1] ? neg(gx) : null];
  });
  return attach(l.name, out, [l.input, l.negatedTarget], grads, l.saved);
}

/** (N, C, L) of class scores [N, C, d1, ...], and the target shape [N, d1, ...]. */
function classDims(op: string, input: Tensor): { N: number; C: number; L: number; sampleShape: number[] } {
  if (input.ndim < 2) throw new RangeError(`${op}: input must be (N, C) or (N, C, d1, ...), got rank ${input.ndim} ${fmtShape(input.shape)}`);
  const sampleShape = [input.shape[0]!, ...input.shape.slice(2)];
  return { N: input.shape[0]!, C: input.shape[1]!, L: product(input.shape.slice(2)), sampleShape };
}

/** ignoreIndex is compared with int32 targets, so it is an int32 too. */
function checkIgnoreIndex(op: string, ignoreIndex: number): void {
  if (!Number.isInteger(ignoreIndex) || ignoreIndex < -(2 ** 31) || ignoreIndex >= 2 ** 31) {
    throw new RangeError(`${op}: ignoreIndex must be an integer in [-2147483648, 2147483647], got ${ignoreIndex}`);
  }
}

export interface CrossEntropyOptions {
  /** Per-class weights [C]. */
  weight?: Tensor | null;
  /** Class-index targets equal to it contribute nothing (and do not count in 'mean'). */
  ignoreIndex?: number;
  reduction?: Reduction;
  /** Mixes the target with the uniform distribution: (1 − ε)·target + ε / C. */
  labelSmoothing?: number;
}

/**
 * Cross-entropy from logits input [N, C] or [N, C, d1, ...] with int32 class indices [N, d1, ...] or class
 * probabilities of the input's shape. 'mean' divides by the summed weights of the kept targets (class
 * indices) or by N·d1·... (probabilities). Masked logits (−inf) are exact: a class with no target mass or
 * weight adds nothing (0·log 0 = 0), so the loss is finite unless the target's own logit is −inf (+∞), with
 * finite gradients; a row with +inf, or all −inf and not ignored, is NaN; an ignored row adds 0 and gets a
 * zero gradient. (PyTorch 1.13 returns NaN for a zero-probability or zero-weight class at −inf, and a NaN
 * gradient for an ignored all −inf row.)
 */
export const crossEntropy = defineOp('crossEntropy', [lossFamily], (input: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor => {
  const op = 'crossEntropy';
  const { weight = null, ignoreIndex = -100, reduction = 'mean', labelSmoothing = 0 } = options;
  requireFloatLike(op, input, { weight });
  const { N, C, L, sampleShape } = classDims(op, input);
  if (weight) requireShape(op, weight, 'weight', [C], ' (one per class)');
  if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) throw new RangeError(`${op}: labelSmoothing must be in [0, 1], got ${labelSmoothing}`);
  const saved = weight ? [input, target, weight] : [input, target];
  const args: ClassLossArgs = { N, C, L, ignoreIndex, reduction };
  if (target.dtype === 'int32') {
    requireShape(op, target, 'target', sampleShape, ' (class indices for input [N, C, d1, ...])');
    checkIgnoreIndex(op, ignoreIndex);
    const kernel = crossEntropyK(input, target, weight, labelSmoothing, args);
    return fusedLoss({ name: op, input, reduction, sampleShape, saved, kernel });
  }
  if (target.dtype !== input.dtype) {
    throw new TypeError(`${op}: target must be int32 class indices or probabilities of the input's dtype ${input.dtype}, got ${target.dtype}`);
  }
  requireShape(op, target, 'target', input.shape, ' (class probabilities, the input\'s shape)');
  const kernel = crossEntropyProbK(input, target, weight, labelSmoothing, args);
  return fusedLoss({ name: op, input, reduction, sampleShape, saved, kernel });
});

export interface NllLossOptions {
  weight?: Tensor | null;
  ignoreIndex?: number;
  reduction?: Reduction;
}

/** Negative log-likelihood of log-probabilities input [N, C, d1, ...] at int32 targets [N, d1, ...]. */
export const nllLoss = defineOp('nllLoss', [lossFamily], (input: Tensor, target: Tensor, options: NllLossOptions = {}): Tensor => {
  const op = 'nllLoss';
  const { weight = null, ignoreIndex = -100, reduction = 'mean' } = options;
  requireFloatLike(op, input, { weight });
  const { N, C, L, sampleShape } = classDims(op, input);
  requireInt32(op, target, 'target');
  requireShape(op, target, 'target', sampleShape, ' (class indices for input [N, C, d1, ...])');
  if (weight) requireShape(op, weight, 'weight', [C], ' (one per class)');
  checkIgnoreIndex(op, ignoreIndex);
  const kernel = nllK(input, target, weight, { N, C, L, ignoreIndex, reduction });
  return fusedLoss({ name: op, input, reduction, sampleShape, saved: [target], kernel });
});

export interface MultiMarginLossOptions {
  margin?: number;
  weight?: Tensor | null;
  reduction?: Reduction;
}

/** Multi-class hinge loss of scores [N, C] at int32 targets [N]: Σ_{c≠y} w[y]·max(0, margin − x[y] + x[c]) / C. */
export const multiMarginLoss = defineOp('multiMarginLoss', [lossFamily], (input: Tensor, target: Tensor, options: MultiMarginLossOptions = {}): Tensor => {
  const op = 'multiMarginLoss';
  const { margin = 1, weight = null, reduction = 'mean' } = options;
  requireFloatLike(op, input, { weight });
  requireRank(op, input, 'input', [2], '(N, C)');
  const [N, C] = input.shape as [number, number];
  requireInt32(op, target, 'target');
  requireShape(op, target, 'target', [N], ' (one class index per sample)');
  if (weight) requireShape(op, weight, 'weight', [C], ' (one per class)');
  if (!Number.isFinite(margin)) throw new RangeError(`${op}: margin must be finite, got ${margin}`);
  const kernel = multiMarginK(input, target, weight, margin, reduction);
  return fusedLoss({ name: op, input, reduction, sampleShape: [N], saved: [input, target], kernel });
});

/** Checks an elementwise loss's target: the input's shape and dtype. */
function pairwise(op: string, input: Tensor, target: Tensor): void {
  requireFloatLike(op, input, { target });
  requireShape(op, target, 'target', input.shape, ' (the input\'s shape)');
}

/** A loss of d = input − target elementwise; the target's gradient is minus the input's. */
function differenceLoss(op: DifferenceLoss, input: Tensor, target: Tensor, reduction: Reduction, param = 0): Tensor {
  pairwise(op, input, target);
  const kernel = differenceLossK(op, input, target, reduction, param);
  return fusedLoss({ name: op, input, reduction, sampleShape: input.shape, saved: [input, target], negatedTarget: target, kernel });
}

/** Mean squared error (input − target)², any shape. */
export const mseLoss = defineOp('mseLoss', [lossFamily, elementwiseFamily], (input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor =>
  differenceLoss('mseLoss', input, target, options.reduction ?? 'mean'));

/** Mean absolute error |input − target|; the gradient at input = target is 0. */
export const l1Loss = defineOp('l1Loss', [lossFamily, elementwiseFamily], (input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor =>
  differenceLoss('l1Loss', input, target, options.reduction ?? 'mean'));

/** Smooth L1: 0.5·d²/β where |d| < β, else |d| − 0.5·β (β >= 0; β = 0 is L1). */
export const smoothL1Loss = defineOp('smoothL1Loss', [lossFamily, elementwiseFamily], (input: Tensor, target: Tensor, options: { reduction?: Reduction; beta?: number } = {}): Tensor => {
  const { reduction = 'mean', beta = 1 } = options;
  if (!(beta >= 0) || !Number.isFinite(beta)) throw new RangeError(`smoothL1Loss: beta must be finite and >= 0, got ${beta}`);
  return differenceLoss('smoothL1Loss', input, target, reduction, beta);
});

/** Huber: 0.5·d² where |d| <= δ, else δ·(|d| − 0.5·δ) (δ > 0). */
export const huberLoss = defineOp('huberLoss', [lossFamily, elementwiseFamily], (input: Tensor, target: Tensor, options: { reduction?: Reduction; delta?: number } = {}): Tensor => {
  const { reduction = 'mean', delta = 1 } = options;
  if (!(delta > 0) || !Number.isFinite(delta)) throw new RangeError(`huberLoss: delta must be finite and > 0, got ${delta}`);
  return differenceLoss('huberLoss', input, target, reduction, delta);
});

export interface BceWithLogitsOptions {
  /** Rescales each element's loss; broadcastable to the input's shape. */
  weight?: Tensor | null;
  /** Weight of positive targets per class along the last dim ([lastDim] or [1]). */
  posWeight?: Tensor | null;
  reduction?: Reduction;
}

/**
 * Binary cross-entropy on logits, stable for any magnitude: pw·t·softplus(−x) + (1 − t)·softplus(x),
 * times weight when given; target has the input's shape and holds probabilities. At x = ±inf a term with
 * coefficient 0 adds 0, so the loss is 0 or +∞ (PyTorch 1.13: NaN at x = −inf, and at +inf with t = 1).
 */
export const binaryCrossEntropyWithLogits = defineOp('binaryCrossEntropyWithLogits', [lossFamily, elementwiseFamily, reduceFamily], (
  input: Tensor, target: Tensor, options: BceWithLogitsOptions = {},
): Tensor => {
  const op = 'binaryCrossEntropyWithLogits';
  const { weight = null, posWeight = null, reduction = 'mean' } = options;
  pairwise(op, input, target);
  requireFloatLike(op, input, { weight, posWeight });
  checkReduction(op, reduction);
  const lastDim = input.ndim ? input.shape[input.ndim - 1]! : 1;
  if (posWeight && (posWeight.ndim !== 1 || (posWeight.numel !== lastDim && posWeight.numel !== 1))) {
    throw new RangeError(`${op}: posWeight must be [${lastDim}] (the input's last dim) or [1], got ${fmtShape(posWeight.shape)}`);
  }
  if (weight && broadcastShapes(op, weight.shape, input.shape).join() !== input.shape.join()) {
    throw new RangeError(`${op}: weight ${fmtShape(weight.shape)} must broadcast to the input's shape ${fmtShape(input.shape)}`);
  }
  const pw = posWeight ? expand(posWeight.detach(), [lastDim]) : null;
  const r = weight ? 'none' : reduction;
  const kernel = bceWithLogitsK(input, target, pw, lastDim, r);
  const loss = fusedLoss({ name: op, input, reduction: r, sampleShape: input.shape, saved: [input, target], kernel });
  if (!weight) return loss;
  const weighted = mul(loss, weight);
  return reduction === 'none' ? weighted : reduction === 'sum' ? sum(weighted) : mean(weighted);
});

/**
 * Knowledge distillation: T²·KL(softmax(teacher/T) ‖ softmax(student/T)) averaged over the batch, for
 * logits [N, C]. Only the student receives a gradient. A class masked (−inf) in the teacher adds nothing.
 */
export const distillationLoss = defineOp('distillationLoss', [lossFamily], (
  studentLogits: Tensor, teacherLogits: Tensor, options: { temperature?: number } = {},
): Tensor => {
  const op = 'distillationLoss';
  const temperature = options.temperature ?? 1;
  requireFloatLike(op, studentLogits, { teacherLogits }, 'studentLogits');
  requireRank(op, studentLogits, 'studentLogits', [2], '(N, C)');
  requireShape(op, teacherLogits, 'teacherLogits', studentLogits.shape, ' (the student\'s shape)');
  if (!(temperature > 0) || !Number.isFinite(temperature)) throw new RangeError(`${op}: temperature must be finite and > 0, got ${temperature}`);
  const kernel = distillationK(studentLogits, teacherLogits, temperature);
  return fusedLoss({ name: op, input: studentLogits, reduction: 'mean', sampleShape: [studentLogits.shape[0]!], saved: [studentLogits, teacherLogits], kernel });
});

/** Σ over params of Σ|w| (a 0-d tensor), for L1 weight decay added to a loss. */
export const l1Penalty = defineOp('l1Penalty', [elementwiseFamily, reduceFamily], (params: readonly Tensor[]): Tensor => {
  if (params.length === 0) throw new RangeError('l1Penalty: params must be a non-empty list of tensors');
  params.forEach((p, i) => requireFloatLike('l1Penalty', p, {}, `params[${i}]`));
  return params.map((p) => sum(abs(p))).reduce((a, b) => add(a, b));
});

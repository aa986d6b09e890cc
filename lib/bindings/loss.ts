/**
 * Types of the fused loss entry points of the native addon (float32/float64, numerically stable).
 *
 * Layout: logits (N, C, L) hold class c of sample i = n * L + l at (n * C + c) * L + l (L = 1 for
 * (N, C)); class-index targets are Int32Array (N, L). Forwards return the reduced loss ('none': the
 * sum of the per-sample losses) and write per-sample losses to `losses` (required for 'none', may be
 * null otherwise). Backwards overwrite gradInput given gradOutput: 1 element for 'mean'/'sum' (the
 * upstream scalar), one per sample for 'none'. `null` marks an absent optional buffer. A class target
 * outside [0, C) that is not ignoreIndex is a RangeError naming the index and the value.
 */
import type { FloatArray } from './runtime.js';

export type LossReduction = 'none' | 'mean' | 'sum';

export interface LossBinding {
  /**
   * Cross-entropy from logits with class-index targets (PyTorch F.cross_entropy): for a kept sample
   * with target y, loss = (1 - e) * w[y] * -logp[y] + (e / C) * sum_c w[c] * -logp[c] with e =
   * labelSmoothing and w = weight (C, or null for all ones); samples with target = ignoreIndex lose 0;
   * 'mean' divides by the sum of w[y] over kept samples (NaN when none are kept).
   */
  crossEntropyForward(
    logits: FloatArray, target: Int32Array, N: number, C: number, L: number, weight: FloatArray | null,
    ignoreIndex: number, labelSmoothing: number, reduction: LossReduction, losses: FloatArray | null,
  ): number;
  crossEntropyBackward(
    logits: FloatArray, target: Int32Array, N: number, C: number, L: number, weight: FloatArray | null,
    ignoreIndex: number, labelSmoothing: number, reduction: LossReduction, gradOutput: FloatArray, gradInput: FloatArray,
  ): void;
  /**
   * Cross-entropy with probability targets (N, C, L): t' = (1 - e) t + e / C,
   * loss = -sum_c w[c] t'[c] logp[c]; 'mean' divides by N * L (PyTorch).
   */
  crossEntropyProbForward(
    logits: FloatArray, target: FloatArray, N: number, C: number, L: number, weight: FloatArray | null,
    labelSmoothing: number, reduction: LossReduction, losses: FloatArray | null,
  ): number;
  crossEntropyProbBackward(
    logits: FloatArray, target: FloatArray, N: number, C: number, L: number, weight: FloatArray | null,
    labelSmoothing: number, reduction: LossReduction, gradOutput: FloatArray, gradInput: FloatArray,
  ): void;
  /** NLL on log-probabilities (N, C, L): loss = -w[y] * logProbs[y]; 'mean' divides by the kept w[y] sum. */
  nllForward(
    logProbs: FloatArray, target: Int32Array, N: number, C: number, L: number, weight: FloatArray | null,
    ignoreIndex: number, reduction: LossReduction, losses: FloatArray | null,
  ): number;
  /** gradInput (N, C, L) = -w[y] * upstream at the target class, 0 elsewhere; dtype from gradOutput. */
  nllBackward(
    target: Int32Array, N: number, C: number, L: number, weight: FloatArray | null, ignoreIndex: number,
    reduction: LossReduction, gradOutput: FloatArray, gradInput: FloatArray,
  ): void;
  /**
   * Multi-class hinge (F.multi_margin_loss, p = 1) over input (N, C):
   * loss = sum_{c != y} w[y] * max(0, margin - x[y] + x[c]) / C; 'mean' divides by N.
   */
  multiMarginForward(
    input: FloatArray, target: Int32Array, N: number, C: number, weight: FloatArray | null, margin: number,
    reduction: LossReduction, losses: FloatArray | null,
  ): number;
  multiMarginBackward(
    input: FloatArray, target: Int32Array, N: number, C: number, weight: FloatArray | null, margin: number,
    reduction: LossReduction, gradOutput: FloatArray, gradInput: FloatArray,
  ): void;
  /** Mean squared error over n elements: (x - t)^2. */
  mseLossForward(input: FloatArray, target: FloatArray, n: number, reduction: LossReduction, losses: FloatArray | null): number;
  mseLossBackward(input: FloatArray, target: FloatArray, n: number, reduction: LossReduction, gradOutput: FloatArray, gradInput: FloatArray): void;
  /** |x - t|; the gradient at x = t is 0 (sign). */
  l1LossForward(input: FloatArray, target: FloatArray, n: number, reduction: LossReduction, losses: FloatArray | null): number;
  l1LossBackward(input: FloatArray, target: FloatArray, n: number, reduction: LossReduction, gradOutput: FloatArray, gradInput: FloatArray): void;
  /** Smooth L1: 0.5 d^2 / beta if |d| < beta else |d| - 0.5 beta (beta >= 0; 0 gives L1). */
  smoothL1LossForward(
    input: FloatArray, target: FloatArray, n: number, beta: number, reduction: LossReduction, losses: FloatArray | null,
  ): number;
  smoothL1LossBackward(
    input: FloatArray, target: FloatArray, n: number, beta: number, reduction: LossReduction,
    gradOutput: FloatArray, gradInput: FloatArray,
  ): void;
  /** Huber: 0.5 d^2 if |d| <= delta else delta (|d| - 0.5 delta) (delta > 0). */
  huberLossForward(
    input: FloatArray, target: FloatArray, n: number, delta: number, reduction: LossReduction, losses: FloatArray | null,
  ): number;
  huberLossBackward(
    input: FloatArray, target: FloatArray, n: number, delta: number, reduction: LossReduction,
    gradOutput: FloatArray, gradInput: FloatArray,
  ): void;
  /**
   * Binary cross-entropy with logits: loss = pw t softplus(-x) + (1 - t) softplus(x), pw =
   * posWeight[i % lastDim] (posWeight broadcasts along the last dim) or 1 when posWeight is null.
   */
  bceWithLogitsForward(
    logits: FloatArray, target: FloatArray, n: number, posWeight: FloatArray | null, lastDim: number,
    reduction: LossReduction, losses: FloatArray | null,
  ): number;
  bceWithLogitsBackward(
    logits: FloatArray, target: FloatArray, n: number, posWeight: FloatArray | null, lastDim: number,
    reduction: LossReduction, gradOutput: FloatArray, gradInput: FloatArray,
  ): void;
  /**
   * Knowledge-distillation KL over logits (N, C), temperature T > 0, batchmean:
   *   loss = T^2 / N * sum_n sum_c q[c] (log q[c] - log p[c]),  q = softmax(teacher / T), p = softmax(student / T),
   * i.e. T^2 * F.kl_div(F.log_softmax(student / T), F.softmax(teacher / T), reduction='batchmean').
   * losses (N, optional) receives T^2 * KL of each row (not divided by N).
   */
  klDivDistillForward(student: FloatArray, teacher: FloatArray, N: number, C: number, temperature: number, losses: FloatArray | null): number;
  /** gradStudent (N, C) = gradOutput[0] * T / N * (p - q); the teacher gets no gradient. */
  klDivDistillBackward(
    student: FloatArray, teacher: FloatArray, N: number, C: number, temperature: number,
    gradOutput: FloatArray, gradStudent: FloatArray,
  ): void;
}

/**
 * Types of the fused loss entry points of the native addon (float32/float64, numerically stable).
 *
 * Layout: logits (N, C, L) hold class c of sample i = n * L + l at (n * C + c) * L + l (L = 1 for
 * (N, C)); class-index targets are int32 (N, L). Forwards write the reduced loss to `loss` (one
 * element, optional; 'none': the sum of the per-sample losses) and per-sample losses to `losses`
 * (required for 'none', may be null otherwise); on cuda both stay on the device. Backwards overwrite gradInput given gradOutput: 1 element for 'mean'/'sum' (the
 * upstream scalar), one per sample for 'none'. `null` marks an absent optional buffer. On cpu a class
 * target outside [0, C) that is not ignoreIndex is a RangeError naming the index and the value; on cuda
 * (where checking would read the targets back to the host) it makes that sample's loss and gradient NaN.
 */
import type { AnyBuffer } from './elementwise.js';

/** A float32/float64 buffer: a typed array (cpu) or a device handle (cuda); all of one call on one device. */
type FloatBuf = AnyBuffer;
/** Int32 class targets: an Int32Array (cpu) or an int32 device handle (cuda). */
type Targets = AnyBuffer;

export type LossReduction = 'none' | 'mean' | 'sum';

export interface LossBinding {
  /**
   * Cross-entropy from logits with class-index targets (PyTorch F.cross_entropy): for a kept sample
   * with target y, loss = (1 - e) * w[y] * -logp[y] + (e / C) * sum_c w[c] * -logp[c] with e =
   * labelSmoothing and w = weight (C, or null for all ones); samples with target = ignoreIndex lose 0;
   * 'mean' divides by the sum of w[y] over kept samples (NaN when none are kept).
   */
  crossEntropyForward(
    logits: FloatBuf, target: Targets, N: number, C: number, L: number, weight: FloatBuf | null,
    ignoreIndex: number, labelSmoothing: number, reduction: LossReduction, losses: FloatBuf | null, loss?: FloatBuf | null,
  ): void;
  crossEntropyBackward(
    logits: FloatBuf, target: Targets, N: number, C: number, L: number, weight: FloatBuf | null,
    ignoreIndex: number, labelSmoothing: number, reduction: LossReduction, gradOutput: FloatBuf, gradInput: FloatBuf,
  ): void;
  /**
   * Cross-entropy with probability targets (N, C, L): t' = (1 - e) t + e / C,
   * loss = -sum_c w[c] t'[c] logp[c]; 'mean' divides by N * L (PyTorch).
   */
  crossEntropyProbForward(
    logits: FloatBuf, target: FloatBuf, N: number, C: number, L: number, weight: FloatBuf | null,
    labelSmoothing: number, reduction: LossReduction, losses: FloatBuf | null, loss?: FloatBuf | null,
  ): void;
  crossEntropyProbBackward(
    logits: FloatBuf, target: FloatBuf, N: number, C: number, L: number, weight: FloatBuf | null,
    labelSmoothing: number, reduction: LossReduction, gradOutput: FloatBuf, gradInput: FloatBuf,
  ): void;
  /** NLL on log-probabilities (N, C, L): loss = -w[y] * logProbs[y]; 'mean' divides by the kept w[y] sum. */
  nllForward(
    logProbs: FloatBuf, target: Targets, N: number, C: number, L: number, weight: FloatBuf | null,
    ignoreIndex: number, reduction: LossReduction, losses: FloatBuf | null, loss?: FloatBuf | null,
  ): void;
  /** gradInput (N, C, L) = -w[y] * upstream at the target class, 0 elsewhere; dtype from gradOutput. */
  nllBackward(
    target: Targets, N: number, C: number, L: number, weight: FloatBuf | null, ignoreIndex: number,
    reduction: LossReduction, gradOutput: FloatBuf, gradInput: FloatBuf,
  ): void;
  /**
   * Multi-class hinge (F.multi_margin_loss, p = 1) over input (N, C):
   * loss = sum_{c != y} w[y] * max(0, margin - x[y] + x[c]) / C; 'mean' divides by N.
   */
  multiMarginForward(
    input: FloatBuf, target: Targets, N: number, C: number, weight: FloatBuf | null, margin: number,
    reduction: LossReduction, losses: FloatBuf | null, loss?: FloatBuf | null,
  ): void;
  multiMarginBackward(
    input: FloatBuf, target: Targets, N: number, C: number, weight: FloatBuf | null, margin: number,
    reduction: LossReduction, gradOutput: FloatBuf, gradInput: FloatBuf,
  ): void;
  /** Mean squared error over n elements: (x - t)^2. */
  mseLossForward(input: FloatBuf, target: FloatBuf, n: number, reduction: LossReduction, losses: FloatBuf | null, loss?: FloatBuf | null): void;
  mseLossBackward(input: FloatBuf, target: FloatBuf, n: number, reduction: LossReduction, gradOutput: FloatBuf, gradInput: FloatBuf): void;
  /** |x - t|; the gradient at x = t is 0 (sign). */
  l1LossForward(input: FloatBuf, target: FloatBuf, n: number, reduction: LossReduction, losses: FloatBuf | null, loss?: FloatBuf | null): void;
  l1LossBackward(input: FloatBuf, target: FloatBuf, n: number, reduction: LossReduction, gradOutput: FloatBuf, gradInput: FloatBuf): void;
  /** Smooth L1: 0.5 d^2 / beta if |d| < beta else |d| - 0.5 beta (beta >= 0; 0 gives L1). */
  smoothL1LossForward(
    input: FloatBuf, target: FloatBuf, n: number, beta: number, reduction: LossReduction, losses: FloatBuf | null, loss?: FloatBuf | null,
  ): void;
  smoothL1LossBackward(
    input: FloatBuf, target: FloatBuf, n: number, beta: number, reduction: LossReduction,
    gradOutput: FloatBuf, gradInput: FloatBuf,
  ): void;
  /** Huber: 0.5 d^2 if |d| <= delta else delta (|d| - 0.5 delta) (delta > 0). */
  huberLossForward(
    input: FloatBuf, target: FloatBuf, n: number, delta: number, reduction: LossReduction, losses: FloatBuf | null, loss?: FloatBuf | null,
  ): void;
  huberLossBackward(
    input: FloatBuf, target: FloatBuf, n: number, delta: number, reduction: LossReduction,
    gradOutput: FloatBuf, gradInput: FloatBuf,
  ): void;
  /**
   * Binary cross-entropy with logits: loss = pw t softplus(-x) + (1 - t) softplus(x), pw =
   * posWeight[i % lastDim] (posWeight broadcasts along the last dim) or 1 when posWeight is null.
   */
  bceWithLogitsForward(
    logits: FloatBuf, target: FloatBuf, n: number, posWeight: FloatBuf | null, lastDim: number,
    reduction: LossReduction, losses: FloatBuf | null, loss?: FloatBuf | null,
  ): void;
  bceWithLogitsBackward(
    logits: FloatBuf, target: FloatBuf, n: number, posWeight: FloatBuf | null, lastDim: number,
    reduction: LossReduction, gradOutput: FloatBuf, gradInput: FloatBuf,
  ): void;
  /**
   * Knowledge-distillation KL over logits (N, C), temperature T > 0, batchmean:
   *   loss = T^2 / N * sum_n sum_c q[c] (log q[c] - log p[c]),  q = softmax(teacher / T), p = softmax(student / T),
   * i.e. T^2 * F.kl_div(F.log_softmax(student / T), F.softmax(teacher / T), reduction='batchmean').
   * losses (N, optional) receives T^2 * KL of each row (not divided by N).
   */
  klDivDistillForward(student: FloatBuf, teacher: FloatBuf, N: number, C: number, temperature: number, losses: FloatBuf | null, loss?: FloatBuf | null): void;
  /** gradStudent (N, C) = gradOutput[0] * T / N * (p - q); the teacher gets no gradient. */
  klDivDistillBackward(
    student: FloatBuf, teacher: FloatBuf, N: number, C: number, temperature: number,
    gradOutput: FloatBuf, gradStudent: FloatBuf,
  ): void;
}

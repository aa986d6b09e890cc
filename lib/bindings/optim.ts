/**
 * Types of the fused optimizer entry points of the native addon. Each *Step call updates one parameter
 * tensor and its state buffers in place, following the update rules published in the torch.optim docs.
 * n = param.length; grad and every state buffer share param's dtype and hold at least n elements.
 * `null` is allowed for a state buffer only where the configuration does not use it.
 */
import type { FloatArray } from './runtime.js';

export interface OptimBinding {
  /**
   * SGD: g = grad (negated if maximize) + weightDecay * p; with momentum != 0, buf = g when firstStep
   * (the buffer is created from the gradient) else momentum * buf + (1 - dampening) * g, then
   * g = nesterov ? g + momentum * buf : buf; p -= lr * g. nesterov needs momentum > 0 and dampening 0.
   */
  sgdStep(
    param: FloatArray, grad: FloatArray, momentumBuffer: FloatArray | null, lr: number, momentum: number,
    dampening: number, weightDecay: number, nesterov: boolean, maximize: boolean, firstStep: boolean,
  ): void;
  /**
   * Adam / AdamW at 1-based `step`: weight decay is decoupled (p *= 1 - lr * wd, AdamW) or added to g;
   * m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; amsgrad keeps maxExpAvgSq = max(maxExpAvgSq, v) and
   * uses it in place of v; p -= lr / (1 - b1^step) * m / (sqrt(v) / sqrt(1 - b2^step) + eps).
   * expAvg and expAvgSq (and maxExpAvgSq) start at zero, filled by the caller.
   */
  adamStep(
    param: FloatArray, grad: FloatArray, expAvg: FloatArray, expAvgSq: FloatArray, maxExpAvgSq: FloatArray | null,
    step: number, lr: number, beta1: number, beta2: number, eps: number, weightDecay: number,
    amsgrad: boolean, decoupledWeightDecay: boolean, maximize: boolean,
  ): void;
  /**
   * RMSprop: g = grad + wd * p; sq = alpha sq + (1 - alpha) g^2; centered: gradAvg = alpha gradAvg +
   * (1 - alpha) g, avg = sqrt(sq - gradAvg^2) + eps, else avg = sqrt(sq) + eps; momentum > 0:
   * buf = momentum buf + g / avg, p -= lr buf; else p -= lr g / avg. State starts at zero.
   */
  rmspropStep(
    param: FloatArray, grad: FloatArray, squareAvg: FloatArray, gradAvg: FloatArray | null,
    momentumBuffer: FloatArray | null, lr: number, alpha: number, eps: number, weightDecay: number,
    momentum: number, centered: boolean, maximize: boolean,
  ): void;
  /**
   * Adagrad at 1-based `step`: g = grad + wd * p; clr = lr / (1 + (step - 1) lrDecay); sum += g^2;
   * p -= clr g / (sqrt(sum) + eps). The caller fills `sum` with initial_accumulator_value.
   */
  adagradStep(
    param: FloatArray, grad: FloatArray, sum: FloatArray, step: number, lr: number, lrDecay: number,
    weightDecay: number, eps: number, maximize: boolean,
  ): void;
  /** sum of buf[i]^2 over the whole buffer, accumulated in float64 (thread-count independent); for clip-by-norm. */
  sumOfSquares(buf: FloatArray): number;
  /** buf[i] *= s over the whole buffer. */
  scaleInPlace(buf: FloatArray, s: number): void;
  /** buf[i] = min(max(buf[i], lo), hi) (hi wins when lo > hi, as torch.clamp); NaN elements stay NaN; NaN bounds are a RangeError. */
  clampInPlace(buf: FloatArray, lo: number, hi: number): void;
}

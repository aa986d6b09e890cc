/**
 * Types of the norm entry points of the native addon (batch, layer and group norm, float32/float64).
 * Buffers are contiguous from index 0 and share x's dtype; outputs are preallocated and overwritten.
 * `null` marks an absent optional buffer: no affine (gamma = 1, beta = 0), no running stats, or a
 * gradient that is not needed. Statistics are saved as mean and invstd = 1 / sqrt(biased var + eps).
 */
import type { FloatArray } from './runtime.js';

export interface NormBinding {
  /**
   * Batch norm, training: x (N, C, L) with L the product of spatial dims (1 for (N, C) input).
   * Normalizes each channel with its batch mean and biased variance; y (N, C, L); saveMean, saveInvstd (C).
   * runningMean/runningVar (C), when given, become (1 - momentum) r + momentum * stat, using the unbiased
   * variance. N*L = 1 is a RangeError (PyTorch); N*L = 0 leaves running stats unchanged. In the same pass,
   * residual (N, C, L; null for none) is added and then, with fuseRelu, max(y, 0) applied. residual must not
   * overlap y.
   */
  batchNormForward(
    x: FloatArray, N: number, C: number, L: number, gamma: FloatArray | null, beta: FloatArray | null,
    runningMean: FloatArray | null, runningVar: FloatArray | null, momentum: number, eps: number,
    y: FloatArray, saveMean: FloatArray, saveInvstd: FloatArray, fuseRelu: boolean, residual: FloatArray | null,
  ): void;
  /** Batch norm, inference with running stats (C each); residual and fuseRelu as in batchNormForward. */
  batchNormInference(
    x: FloatArray, N: number, C: number, L: number, gamma: FloatArray | null, beta: FloatArray | null,
    runningMean: FloatArray, runningVar: FloatArray, eps: number, fuseRelu: boolean, residual: FloatArray | null,
    y: FloatArray,
  ): void;
  /**
   * Batch-norm backward in one pass: gradX (N, C, L), gradGamma, gradBeta (C); any may be null.
   * training = true: saveMean/saveInvstd from batchNormForward. training = false (eval mode): pass the
   * running mean and 1 / sqrt(runningVar + eps); then gradX = gradY * gamma * invstd. reluOutput: the y of a
   * forward with fuseRelu, whose ReLU backward (gradY only where y > 0) is then applied in the same passes;
   * null for a plain batch norm. It must not overlap gradX.
   */
  batchNormBackward(
    x: FloatArray, gradY: FloatArray, N: number, C: number, L: number, gamma: FloatArray | null,
    saveMean: FloatArray, saveInvstd: FloatArray, training: boolean,
    gradX: FloatArray | null, gradGamma: FloatArray | null, gradBeta: FloatArray | null, reluOutput: FloatArray | null,
  ): void;
  /** Layer norm over the last D elements of M rows: x, y (M, D); gamma, beta (D); saveMean, saveInvstd (M). */
  layerNormForward(
    x: FloatArray, M: number, D: number, gamma: FloatArray | null, beta: FloatArray | null, eps: number,
    y: FloatArray, saveMean: FloatArray, saveInvstd: FloatArray,
  ): void;
  /** Layer-norm backward: gradX (M, D), gradGamma, gradBeta (D); any may be null. */
  layerNormBackward(
    x: FloatArray, gradY: FloatArray, M: number, D: number, gamma: FloatArray | null,
    saveMean: FloatArray, saveInvstd: FloatArray,
    gradX: FloatArray | null, gradGamma: FloatArray | null, gradBeta: FloatArray | null,
  ): void;
  /**
   * Group norm: x, y (N, C, L); G divides C; statistics per (n, group) over (C/G, L), saved as (N, G);
   * per-channel gamma, beta (C).
   */
  groupNormForward(
    x: FloatArray, N: number, C: number, L: number, G: number, gamma: FloatArray | null, beta: FloatArray | null,
    eps: number, y: FloatArray, saveMean: FloatArray, saveInvstd: FloatArray,
  ): void;
  /** Group-norm backward: gradX (N, C, L), gradGamma, gradBeta (C); any may be null. */
  groupNormBackward(
    x: FloatArray, gradY: FloatArray, N: number, C: number, L: number, G: number, gamma: FloatArray | null,
    saveMean: FloatArray, saveInvstd: FloatArray,
    gradX: FloatArray | null, gradGamma: FloatArray | null, gradBeta: FloatArray | null,
  ): void;
}

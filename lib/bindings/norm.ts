/**
 * Types of the norm entry points of the native addon (batch, layer and group norm, float32/float64).
 * Buffers (typed arrays, or device handles on one cuda device) are contiguous from index 0 and share x's dtype; outputs are preallocated and overwritten.
 * `null` marks an absent optional buffer: no affine (gamma = 1, beta = 0), no running stats, or a
 * gradient that is not needed. Statistics are saved as mean and invstd = 1 / sqrt(biased var + eps).
 */
import type { FloatBuffer } from './reduce.js';

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
    x: FloatBuffer, N: number, C: number, L: number, gamma: FloatBuffer | null, beta: FloatBuffer | null,
    runningMean: FloatBuffer | null, runningVar: FloatBuffer | null, momentum: number, eps: number,
    y: FloatBuffer, saveMean: FloatBuffer, saveInvstd: FloatBuffer, fuseRelu: boolean, residual: FloatBuffer | null,
  ): void;
  /** Batch norm, inference with running stats (C each); residual and fuseRelu as in batchNormForward. */
  batchNormInference(
    x: FloatBuffer, N: number, C: number, L: number, gamma: FloatBuffer | null, beta: FloatBuffer | null,
    runningMean: FloatBuffer, runningVar: FloatBuffer, eps: number, fuseRelu: boolean, residual: FloatBuffer | null,
    y: FloatBuffer,
  ): void;
  /**
   * Batch-norm backward in one pass: gradX (N, C, L), gradGamma, gradBeta (C); any may be null.
   * training = true: saveMean/saveInvstd from batchNormForward. training = false (eval mode): pass the
   * running mean and 1 / sqrt(runningVar + eps); then gradX = gradY * gamma * invstd. reluOutput: the y of a
   * forward with fuseRelu, whose ReLU backward (gradY only where y > 0) is then applied in the same passes;
   * null for a plain batch norm. It must not overlap gradX.
   */
  batchNormBackward(
    x: FloatBuffer, gradY: FloatBuffer, N: number, C: number, L: number, gamma: FloatBuffer | null,
    saveMean: FloatBuffer, saveInvstd: FloatBuffer, training: boolean,
    gradX: FloatBuffer | null, gradGamma: FloatBuffer | null, gradBeta: FloatBuffer | null, reluOutput: FloatBuffer | null,
  ): void;
  /** Layer norm over the last D elements of M rows: x, y (M, D); gamma, beta (D); saveMean, saveInvstd (M). */
  layerNormForward(
    x: FloatBuffer, M: number, D: number, gamma: FloatBuffer | null, beta: FloatBuffer | null, eps: number,
    y: FloatBuffer, saveMean: FloatBuffer, saveInvstd: FloatBuffer,
  ): void;
  /** Layer-norm backward: gradX (M, D), gradGamma, gradBeta (D); any may be null. */
  layerNormBackward(
    x: FloatBuffer, gradY: FloatBuffer, M: number, D: number, gamma: FloatBuffer | null,
    saveMean: FloatBuffer, saveInvstd: FloatBuffer,
    gradX: FloatBuffer | null, gradGamma: FloatBuffer | null, gradBeta: FloatBuffer | null,
  ): void;
  /**
   * Group norm: x, y (N, C, L); G divides C; statistics per (n, group) over (C/G, L), saved as (N, G);
   * per-channel gamma, beta (C).
   */
  groupNormForward(
    x: FloatBuffer, N: number, C: number, L: number, G: number, gamma: FloatBuffer | null, beta: FloatBuffer | null,
    eps: number, y: FloatBuffer, saveMean: FloatBuffer, saveInvstd: FloatBuffer,
  ): void;
  /** Group-norm backward: gradX (N, C, L), gradGamma, gradBeta (C); any may be null. */
  groupNormBackward(
    x: FloatBuffer, gradY: FloatBuffer, N: number, C: number, L: number, G: number, gamma: FloatBuffer | null,
    saveMean: FloatBuffer, saveInvstd: FloatBuffer,
    gradX: FloatBuffer | null, gradGamma: FloatBuffer | null, gradBeta: FloatBuffer | null,
  ): void;
}

/**
 * Types of the nn entry points of the native addon: dropout, PReLU, 2-D upsampling (float32/float64).
 * Buffers are contiguous from index 0; outputs are preallocated and overwritten; `null` marks an
 * optional output that is not needed. Every entry point takes typed arrays (cpu) or device handles (cuda),
 * all on one device.
 */
import type { BoolBuffer } from './elementwise.js';
import type { FloatBuffer } from './reduce.js';

export type UpsampleMode = 'nearest' | 'bilinear';

export interface NnBinding {
  /**
   * Inverted dropout over n elements: mask[i] = 1 when Philox(seed).uniform(offset, i) >= p, and
   * y[i] = x[i] * mask[i] / (1 - p) (all zero when p = 1). Element i uses Philox counter offset + floor(i / 4),
   * so the caller advances its offset by ceil(n / 4) per call; results do not depend on threading.
   * seed and offset are integers in [0, 2^53]. y may be x.
   */
  dropoutForward(x: FloatBuffer, n: number, p: number, seed: number, offset: number, y: FloatBuffer, mask: BoolBuffer): void;
  /** gradX[i] = gradY[i] * mask[i] / (1 - p) (0 when p = 1). */
  dropoutBackward(gradY: FloatBuffer, mask: BoolBuffer, n: number, p: number, gradX: FloatBuffer): void;
  /**
   * PReLU over x (N, C, L): y = x > 0 ? x : w * x with w = weight[c] (numWeights = C) or weight[0]
   * (numWeights = 1, one shared slope).
   */
  preluForward(x: FloatBuffer, N: number, C: number, L: number, weight: FloatBuffer, numWeights: number, y: FloatBuffer): void;
  /** gradX (N, C, L) and gradWeight (numWeights, reduced over every element it scales); either may be null. */
  preluBackward(
    x: FloatBuffer, gradY: FloatBuffer, N: number, C: number, L: number, weight: FloatBuffer, numWeights: number,
    gradX: FloatBuffer | null, gradWeight: FloatBuffer | null,
  ): void;
  /**
   * x (N, C, inH, inW) -> y (N, C, outH, outW) with PyTorch's source-index rules. scaleH/scaleW: the
   * scale factors the caller used to get outH = floor(inH * scaleH) (then sources map with 1 / scale,
   * as F.interpolate(scale_factor=...)), or 0 when the output size was given (sources map with in / out).
   * alignCorners only with 'bilinear'.
   */
  upsample2dForward(
    x: FloatBuffer, N: number, C: number, inH: number, inW: number, outH: number, outW: number,
    mode: UpsampleMode, alignCorners: boolean, scaleH: number, scaleW: number, y: FloatBuffer,
  ): void;
  /** Adjoint of upsample2dForward: gradY (N, C, outH, outW) -> gradX (N, C, inH, inW), overwritten. */
  upsample2dBackward(
    gradY: FloatBuffer, N: number, C: number, inH: number, inW: number, outH: number, outW: number,
    mode: UpsampleMode, alignCorners: boolean, scaleH: number, scaleW: number, gradX: FloatBuffer,
  ): void;
}

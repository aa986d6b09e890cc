/**
 * Types of the conv2d entry points of the native addon.
 *
 * Legend: N batch, C input channels, H W input size, K output channels, R S kernel size, P Q output size,
 * G groups. x is [N, C, H, W], w is [K, C/G, R, S], y is [N, K, P, Q], all contiguous from element 0
 * (pass subarrays) and of one float dtype, all typed arrays (cpu) or all device handles of one CUDA device. `stride`, `padding` (zero padding, symmetric) and `dilation`
 * are [height, width] pairs; 'same' padding is computed by the caller. P = floor((H + 2*padH - dilH*(R-1) - 1)
 * / strideH) + 1, likewise Q. Outputs are preallocated by the caller and overwritten, never accumulated into,
 * and must not overlap an input. Bad shapes, dtypes or lengths throw TypeError / RangeError naming the argument.
 *
 * conv_transpose2d(x_t [N, K, P, Q], w [K, C/G, R, S]) with output_padding op (< stride) is the adjoint of
 * this convolution over an input of size H = (P-1)*strideH - 2*padH + dilH*(R-1) + opH + 1 (likewise W):
 *   y_t     = conv2dBackwardData(x_t, w, wShape, y_t, [N, C, H, W], stride, padding, dilation, G)
 *   dx_t    = conv2dForward(dy_t, [N, C, H, W], w, wShape, null, dx_t, stride, padding, dilation, G)
 *   dw      = conv2dBackwardWeight(dy_t, [N, C, H, W], x_t, dw, wShape, null, stride, padding, dilation, G)
 * The transposed bias (per channel of y_t) is added and reduced by the caller.
 *
 * `allowTf32` (optional, default false): float32 on cuda may use TF32 tensor cores (lib/kernels/precision.ts);
 * ignored on cpu and for float64.
 */
import type { FloatBuffer } from './reduce.js';

export type Pair = [number, number];
export type Shape4 = [number, number, number, number];

export interface ConvBinding {
  /** out[N, K, P, Q] = conv2d(x, w) + bias[K] (bias may be null). */
  conv2dForward(
    x: FloatBuffer, xShape: Shape4, w: FloatBuffer, wShape: Shape4, bias: FloatBuffer | null, out: FloatBuffer,
    stride: Pair, padding: Pair, dilation: Pair, groups: number, allowTf32?: boolean,
  ): void;
  /**
   * gradIn[xShape] = gradient of sum(conv2d(x, w) * gradOut) with respect to x, for gradOut [N, K, P, Q].
   * The input shape is explicit (it is not recoverable from P, Q when stride > 1).
   */
  conv2dBackwardData(
    gradOut: FloatBuffer, w: FloatBuffer, wShape: Shape4, gradIn: FloatBuffer, xShape: Shape4,
    stride: Pair, padding: Pair, dilation: Pair, groups: number, allowTf32?: boolean,
  ): void;
  /**
   * gradW[wShape] = gradient of sum(conv2d(x, w) * gradOut) with respect to w; gradBias[K] (when not null) =
   * gradOut summed over N, P, Q.
   */
  conv2dBackwardWeight(
    x: FloatBuffer, xShape: Shape4, gradOut: FloatBuffer, gradW: FloatBuffer, wShape: Shape4,
    gradBias: FloatBuffer | null, stride: Pair, padding: Pair, dilation: Pair, groups: number, allowTf32?: boolean,
  ): void;
  /** [N, K, P, Q] for these arguments, validated as the kernels validate them. */
  conv2dOutputShape(xShape: Shape4, wShape: Shape4, stride: Pair, padding: Pair, dilation: Pair, groups: number): Shape4;
}

/**
 * Types of the 2-D pooling entry points of the native addon (PyTorch semantics).
 *
 * Legend: N batch, C channels, H W input size, P Q output size. x is [N, C, H, W] and out / gradOut
 * [N, C, P, Q], contiguous from element 0 (pass subarrays), of one float dtype, all typed arrays (cpu) or all
 * device handles on one cuda device. kernel, stride, padding,
 * dilation are [height, width] pairs (stride defaults are the caller's business); padding must be at most
 * kernel/2. P = floor or, with ceilMode, ceil of (H + 2*padH - dilH*(kH-1) - 1)/strideH + 1, where a ceil-mode
 * window must start inside the input or its left padding. Max-pooling indices (Int32Array, [N, C, P, Q]) are
 * positions h*W + w of each window's first maximum in its input plane (NaN propagates); a window lying wholly
 * in the padding (possible with dilation) gives -inf and index -1. Adaptive window i along an axis of In
 * elements covers [floor(i*In/Out), ceil((i+1)*In/Out)).
 *
 * Outputs are preallocated and overwritten (gradients too) and must not overlap inputs. Backward calls take
 * gradOutShape and throw a RangeError unless it equals the forward output shape; bad shapes, dtypes,
 * lengths or (on cpu) indices throw TypeError / RangeError naming the argument. On cuda the backward gathers
 * over the windows covering each input, so indices must come from the matching forward (an index outside its
 * window is never used as an address and contributes nothing).
 */
import type { FloatBuffer, IndexBuffer } from './reduce.js';
import type { Pair, Shape4 } from './conv.js';

export interface PoolBinding {
  /** out, indices = max over each (dilated) window. */
  maxPool2dForward(
    x: FloatBuffer, xShape: Shape4, out: FloatBuffer, indices: IndexBuffer,
    kernel: Pair, stride: Pair, padding: Pair, dilation: Pair, ceilMode: boolean,
  ): void;
  /** gradIn[xShape] = gradOut scattered to the saved argmax indices (summed where windows overlap). */
  maxPool2dBackward(
    gradOut: FloatBuffer, gradOutShape: Shape4, indices: IndexBuffer, gradIn: FloatBuffer, xShape: Shape4,
    kernel: Pair, stride: Pair, padding: Pair, dilation: Pair, ceilMode: boolean,
  ): void;
  /**
   * out = window sum / divisor; the divisor is the window clipped to the padded input when countIncludePad,
   * else the number of input elements in the window (as PyTorch, including ceil-mode edge windows).
   */
  avgPool2dForward(
    x: FloatBuffer, xShape: Shape4, out: FloatBuffer,
    kernel: Pair, stride: Pair, padding: Pair, ceilMode: boolean, countIncludePad: boolean,
  ): void;
  avgPool2dBackward(
    gradOut: FloatBuffer, gradOutShape: Shape4, gradIn: FloatBuffer, xShape: Shape4,
    kernel: Pair, stride: Pair, padding: Pair, ceilMode: boolean, countIncludePad: boolean,
  ): void;
  /** out [N, C, outputSize[0], outputSize[1]] = mean over each adaptive window. */
  adaptiveAvgPool2dForward(x: FloatBuffer, xShape: Shape4, out: FloatBuffer, outputSize: Pair): void;
  /** The output size is read from gradOutShape. */
  adaptiveAvgPool2dBackward(gradOut: FloatBuffer, gradOutShape: Shape4, gradIn: FloatBuffer, xShape: Shape4): void;
  adaptiveMaxPool2dForward(x: FloatBuffer, xShape: Shape4, out: FloatBuffer, indices: IndexBuffer, outputSize: Pair): void;
  adaptiveMaxPool2dBackward(
    gradOut: FloatBuffer, gradOutShape: Shape4, indices: IndexBuffer, gradIn: FloatBuffer, xShape: Shape4,
  ): void;
  /** [N, C, P, Q] of a max / avg pooling (dilation [1, 1] for avg), validated as the kernels validate it. */
  pool2dOutputShape(xShape: Shape4, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair, ceilMode: boolean): Shape4;
}

/**
 * Batch, layer and group norm kernels as tensor functions, native on cpu and cuda. Statistics are saved as
 * mean and invstd = 1 / sqrt(biased var + eps). A null gamma/beta means no affine transform; a false `needs`
 * entry skips that gradient.
 */
import { native } from '../native.js';
import type { Tensor } from '../tensor.js';
import type { FloatBuffer } from '../bindings/reduce.js';
import { bufferOf, checkWritable, commonDevice, copyAs, copyInto, denseBuffer, uninitialized } from './runtime.js';
import { kernelFamily } from './family.js';

/** This module's kernel family: its entry points and how each device runs them (see family.ts). */
export const normFamily = kernelFamily('norm', [
  'batchNormForward', 'batchNormInference', 'batchNormBackward', 'layerNormForward', 'layerNormBackward', 'groupNormForward',
  'groupNormBackward',
], { cpu: 'native', cuda: 'native' });

const floatsOf = (t: Tensor): FloatBuffer => denseBuffer(t) as FloatBuffer;
const floatsOrNull = (t: Tensor | null | undefined): FloatBuffer | null => (t ? floatsOf(t) : null);
const out = (t: Tensor): FloatBuffer => bufferOf(t) as FloatBuffer;
const outOrNull = (t: Tensor | null | undefined): FloatBuffer | null => (t ? out(t) : null);

/**
 * A buffer through which a kernel updates t in place: t's own memory where the entry point can address it
 * (contiguous on cpu; the whole storage on cuda, where a handle has no offset), else a contiguous copy that
 * `commit` writes back into t.
 */
function inPlace(t: Tensor | null): { buffer: FloatBuffer | null; commit: () => void } {
  if (!t) return { buffer: null, commit: () => {} };
  checkWritable('batchNorm: running statistics', t);
  const direct = t.isContiguous() && (t.device === 'cpu' || (t.offset === 0 && t.numel === t.storage.length));
  if (direct) return { buffer: denseBuffer(t) as FloatBuffer, commit: () => {} };
  const copy = copyAs(t, t.dtype);
  return { buffer: out(copy), commit: () => copyInto(t, copy, 'batchNorm') };
}

/** Sizes and options of a batch norm over x viewed as (N, C, L). */
export interface BatchNormArgs {
  N: number;
  C: number;
  L: number;
  eps: number;
  /** max(y, 0) in the same pass. */
  fuseRelu: boolean;
}

/** Normalized output and saved statistics. */
export interface NormResult {
  y: Tensor;
  mean: Tensor;
  invstd: Tensor;
}

/**
 * Batch norm with batch statistics; runningMean and runningVar (contiguous, or both null) are updated in
 * place with `momentum`; residual (x's shape, or null) is added before the fused ReLU.
 */
export function batchNormTrainK(
  x: Tensor, gamma: Tensor | null, beta: Tensor | null, runningMean: Tensor | null, runningVar: Tensor | null,
  residual: Tensor | null, momentum: number, a: BatchNormArgs,
): NormResult {
  const device = commonDevice('batchNorm', [x, gamma, beta, runningMean, runningVar, residual]);
  const y = uninitialized(x.shape, x.dtype, device);
  const mean = uninitialized([a.C], x.dtype, device), invstd = uninitialized([a.C], x.dtype, device);
  const rm = inPlace(runningMean), rv = inPlace(runningVar);
  native.batchNormForward(
    floatsOf(x), a.N, a.C, a.L, floatsOrNull(gamma), floatsOrNull(beta), rm.buffer, rv.buffer,
    momentum, a.eps, out(y), out(mean), out(invstd), a.fuseRelu, floatsOrNull(residual),
  );
  rm.commit();
  rv.commit();
  return { y, mean, invstd };
}

/** Batch norm with the running statistics (inference). */
export function batchNormInferenceK(
  x: Tensor, gamma: Tensor | null, beta: Tensor | null, runningMean: Tensor, runningVar: Tensor, residual: Tensor | null, a: BatchNormArgs,
): Tensor {
  const y = uninitialized(x.shape, x.dtype, commonDevice('batchNorm', [x, gamma, beta, runningMean, runningVar, residual]));
  native.batchNormInference(
    floatsOf(x), a.N, a.C, a.L, floatsOrNull(gamma), floatsOrNull(beta), floatsOf(runningMean), floatsOf(runningVar), a.eps, a.fuseRelu,
    floatsOrNull(residual), out(y),
  );
  return y;
}

/**
 * Gradients [x, gamma, beta] of a batch norm from gy (null where `needs` is false). training: mean and
 * invstd are the saved batch statistics, else the running mean and 1 / sqrt(runningVar + eps).
 * reluOutput: the y of a forward with fuseRelu whose ReLU backward is applied in the same pass, or null.
 */
export function batchNormBackwardK(
  x: Tensor, gy: Tensor, gamma: Tensor | null, mean: Tensor, invstd: Tensor, training: boolean, reluOutput: Tensor | null,
  needs: readonly boolean[], a: BatchNormArgs,
): Array<Tensor | null> {
  const device = commonDevice('batchNorm backward', [x, gy, gamma, mean, invstd, reluOutput]);
  const [gx, gw, gb] = [0, 1, 2].map((i) => (needs[i] ? uninitialized(i === 0 ? x.shape : [a.C], x.dtype, device) : null));
  native.batchNormBackward(
    floatsOf(x), floatsOf(gy), a.N, a.C, a.L, floatsOrNull(gamma), floatsOf(mean), floatsOf(invstd), training,
    outOrNull(gx), outOrNull(gw), outOrNull(gb), floatsOrNull(reluOutput),
  );
  return [gx!, gw!, gb!];
}

/**
 * Layer norm over rows: x (M, D) in any shape of M·D elements, gamma and beta of D elements; statistics
 * per row (M). groups > 0 makes it a group norm instead: x (N, C, L) with `groups` groups per sample,
 * gamma and beta per channel (C), statistics (N, groups).
 */
export interface RowNormArgs {
  eps: number;
  /** Layer norm: [M, D]. Group norm: [N, C, L, G]. */
  dims: [number, number] | [number, number, number, number];
}

/** Layer norm (dims [M, D]) or group norm (dims [N, C, L, G]) forward. */
export function rowNormForwardK(x: Tensor, gamma: Tensor | null, beta: Tensor | null, a: RowNormArgs): NormResult {
  const device = commonDevice(a.dims.length === 2 ? 'layerNorm' : 'groupNorm', [x, gamma, beta]);
  const stats = a.dims.length === 2 ? [a.dims[0]] : [a.dims[0], a.dims[3]];
  const y = uninitialized(x.shape, x.dtype, device);
  const mean = uninitialized(stats, x.dtype, device), invstd = uninitialized(stats, x.dtype, device);
  if (a.dims.length === 2) {
    native.layerNormForward(floatsOf(x), ...a.dims, floatsOrNull(gamma), floatsOrNull(beta), a.eps, out(y), out(mean), out(invstd));
  } else {
    native.groupNormForward(floatsOf(x), ...a.dims, floatsOrNull(gamma), floatsOrNull(beta), a.eps, out(y), out(mean), out(invstd));
  }
  return { y, mean, invstd };
}

/** Gradients [x, gamma, beta] of rowNormForwardK (null where `needs` is false); gamma's gradient has `paramShape`. */
export function rowNormBackwardK(
  x: Tensor, gy: Tensor, gamma: Tensor | null, mean: Tensor, invstd: Tensor, needs: readonly boolean[],
  paramShape: readonly number[], a: RowNormArgs,
): Array<Tensor | null> {
  const op = a.dims.length === 2 ? 'layerNorm backward' : 'groupNorm backward';
  const device = commonDevice(op, [x, gy, gamma, mean, invstd]);
  const [gx, gw, gb] = [0, 1, 2].map((i) => (needs[i] ? uninitialized(i === 0 ? x.shape : paramShape, x.dtype, device) : null));
  const tail = [floatsOrNull(gamma), floatsOf(mean), floatsOf(invstd), outOrNull(gx), outOrNull(gw), outOrNull(gb)] as const;
  if (a.dims.length === 2) native.layerNormBackward(floatsOf(x), floatsOf(gy), ...a.dims, ...tail);
  else native.groupNormBackward(floatsOf(x), floatsOf(gy), ...a.dims, ...tail);
  return [gx!, gw!, gb!];
}

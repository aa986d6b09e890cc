/**
 * Batch, layer and group norm kernels as tensor functions. Statistics are saved as mean and
 * invstd = 1 / sqrt(biased var + eps). No CUDA normalization yet: cuda tensors go through hostFallback.
 * A null gamma/beta means no affine transform; a false `needs` entry skips that gradient.
 */
import { native } from '../native.js';
import type { Tensor } from '../tensor.js';
import { floats, floatsOrNull, hostFallback, uninitialized } from './runtime.js';
import { kernelFamily } from './family.js';

/** This module's kernel family: its entry points and how each device runs them (see family.ts). */
export const normFamily = kernelFamily('norm', [
  'batchNormForward', 'batchNormInference', 'batchNormBackward', 'layerNormForward', 'layerNormBackward', 'groupNormForward',
  'groupNormBackward',
], { cpu: 'native', cuda: 'host' });

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
  return hostFallback('batchNorm', [x, gamma, beta, runningMean, runningVar, residual], ([x, gamma, beta, rm, rv, residual]) => {
    const y = uninitialized(x.shape, x.dtype), mean = uninitialized([a.C], x.dtype), invstd = uninitialized([a.C], x.dtype);
    native.batchNormForward(
      floats(x), a.N, a.C, a.L, floatsOrNull(gamma), floatsOrNull(beta), floatsOrNull(rm), floatsOrNull(rv),
      momentum, a.eps, floats(y), floats(mean), floats(invstd), a.fuseRelu, floatsOrNull(residual),
    );
    return { y, mean, invstd };
  }, [3, 4]);
}

/** Batch norm with the running statistics (inference). */
export function batchNormInferenceK(
  x: Tensor, gamma: Tensor | null, beta: Tensor | null, runningMean: Tensor, runningVar: Tensor, residual: Tensor | null, a: BatchNormArgs,
): Tensor {
  return hostFallback('batchNorm', [x, gamma, beta, runningMean, runningVar, residual], ([x, gamma, beta, rm, rv, residual]) => {
    const y = uninitialized(x.shape, x.dtype);
    native.batchNormInference(
      floats(x), a.N, a.C, a.L, floatsOrNull(gamma), floatsOrNull(beta), floats(rm!), floats(rv!), a.eps, a.fuseRelu, floatsOrNull(residual), floats(y),
    );
    return y;
  });
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
  return hostFallback('batchNorm backward', [x, gy, gamma, mean, invstd, reluOutput], ([x, gy, gamma, mean, invstd, relu]) => {
    const [gx, gw, gb] = [0, 1, 2].map((i) => (needs[i] ? uninitialized(i === 0 ? x.shape : [a.C], x.dtype) : null));
    native.batchNormBackward(
      floats(x), floats(gy), a.N, a.C, a.L, floatsOrNull(gamma), floats(mean), floats(invstd), training,
      floatsOrNull(gx), floatsOrNull(gw), floatsOrNull(gb), floatsOrNull(relu),
    );
    return [gx!, gw!, gb!];
  });
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
  const op = a.dims.length === 2 ? 'layerNorm' : 'groupNorm';
  return hostFallback(op, [x, gamma, beta], ([x, gamma, beta]) => {
    const stats = a.dims.length === 2 ? [a.dims[0]] : [a.dims[0], a.dims[3]];
    const y = uninitialized(x.shape, x.dtype), mean = uninitialized(stats, x.dtype), invstd = uninitialized(stats, x.dtype);
    if (a.dims.length === 2) {
      native.layerNormForward(floats(x), ...a.dims, floatsOrNull(gamma), floatsOrNull(beta), a.eps, floats(y), floats(mean), floats(invstd));
    } else {
      native.groupNormForward(floats(x), ...a.dims, floatsOrNull(gamma), floatsOrNull(beta), a.eps, floats(y), floats(mean), floats(invstd));
    }
    return { y, mean, invstd };
  });
}

/** Gradients [x, gamma, beta] of rowNormForwardK (null where `needs` is false); gamma's gradient has `paramShape`. */
export function rowNormBackwardK(
  x: Tensor, gy: Tensor, gamma: Tensor | null, mean: Tensor, invstd: Tensor, needs: readonly boolean[],
  paramShape: readonly number[], a: RowNormArgs,
): Array<Tensor | null> {
  const op = a.dims.length === 2 ? 'layerNorm backward' : 'groupNorm backward';
  return hostFallback(op, [x, gy, gamma, mean, invstd], ([x, gy, gamma, mean, invstd]) => {
    const [gx, gw, gb] = [0, 1, 2].map((i) => (needs[i] ? uninitialized(i === 0 ? x.shape : paramShape, x.dtype) : null));
    const tail = [floatsOrNull(gamma), floats(mean), floats(invstd), floatsOrNull(gx), floatsOrNull(gw), floatsOrNull(gb)] as const;
    if (a.dims.length === 2) native.layerNormBackward(floats(x), floats(gy), ...a.dims, ...tail);
    else native.groupNormBackward(floats(x), floats(gy), ...a.dims, ...tail);
    return [gx!, gw!, gb!];
  });
}

/**
 * Normalization as functions: batch norm (training with running-stat updates, inference, fused ReLU,
 * folding into a preceding conv or linear layer), layer norm and group norm. Statistics use the biased
 * variance; running variance is updated with the unbiased one (PyTorch).
 */
import { publicApi } from '../../checks.js';
import type { Tensor } from '../../tensor.js';
import { attach } from '../../autograd/node.js';
import { noGrad } from '../../autograd/mode.js';
import { defineOp } from '../../ops/registry.js';
import { binaryK, elementwiseFamily } from '../../kernels/elementwise.js';
import {
  type BatchNormArgs, batchNormBackwardK, batchNormInferenceK, batchNormTrainK, normFamily, rowNormBackwardK, rowNormForwardK,
  type RowNormArgs,
} from '../../kernels/norm.js';
import { add, mul, rsqrt, sub } from '../../ops/elementwise.js';
import { reshape } from '../../ops/shape.js';
import {
  fmtShape, fusedBackward, product, requireFloatLike, requireRank, requireShape,
} from './common.js';

export interface BatchNormOptions {
  /** Normalize with batch statistics and update the running ones (default false). */
  training?: boolean;
  /** running = (1 − momentum)·running + momentum·batch statistic. */
  momentum?: number;
  eps?: number;
  /**
   * Added to the normalized output in the same pass (a residual branch), before the ReLU when `relu` is set:
   * relu(batchNorm(x) + residual), as a ResNet block ends, without the add's and the ReLU's own passes over
   * memory. Shape and dtype of x.
   */
  residual?: Tensor | null;
  /**
   * Apply max(y, 0) in the same pass (default false): relu(batchNorm(x)) without the ReLU's own passes over
   * memory, forward and backward (its mask is read from the output).
   */
  relu?: boolean;
}

/** (N, C, L) of a batch-norm input [N, C, ...], checking that the per-channel tensors are [C]. */
function batchNormDims(op: string, x: Tensor, perChannel: Record<string, Tensor | null>): [number, number, number] {
  requireFloatLike(op, x, perChannel);
  if (x.ndim < 2) throw new RangeError(`${op}: input must be (N, C) or (N, C, ...), got rank ${x.ndim} ${fmtShape(x.shape)}`);
  const C = x.shape[1]!;
  for (const [arg, t] of Object.entries(perChannel)) if (t) requireShape(op, t, arg, [C], ` (the input's channels)`);
  return [x.shape[0]!, C, product(x.shape.slice(2))];
}

function checkEps(op: string, eps: number): void {
  if (!(eps >= 0)) throw new RangeError(`${op}: eps must be >= 0, got ${eps}`);
}

/** A running-stat buffer the kernel may update in place: contiguous, not requiring grad. */
function statBuffer(op: string, t: Tensor, arg: string): Tensor {
  if (!t.isContiguous()) throw new RangeError(`${op}: ${arg} must be contiguous to be updated in place`);
  if (t.requiresGrad) throw new Error(`${op}: ${arg} is a buffer and must not require grad`);
  return t;
}

/**
 * Batch normalization over channel dim 1 of x [N, C], [N, C, L] or [N, C, H, W]; runningMean, runningVar,
 * weight (γ), bias (β) are [C] or null. Uses batch statistics when training or when no running stats are
 * given; when training, updates the running stats in place (bumping their version). Otherwise uses them.
 */
export const batchNorm = defineOp('batchNorm', [normFamily, elementwiseFamily], (
  x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, weight: Tensor | null, bias: Tensor | null,
  options: BatchNormOptions = {},
): Tensor => {
  const op = 'batchNorm';
  const [N, C, L] = batchNormDims(op, x, { runningMean, runningVar, weight, bias });
  const { training = false, momentum = 0.1, eps = 1e-5, relu: fuseRelu = false, residual = null } = options;
  checkEps(op, eps);
  if (residual) {
    requireFloatLike(op, x, { residual });
    requireShape(op, residual, 'residual', x.shape, " (the input's)");
  }
  if ((runningMean === null) !== (runningVar === null)) {
    throw new TypeError(`${op}: runningMean and runningVar must both be given or both be null`);
  }
  const batchStats = training || runningMean === null;
  const args: BatchNormArgs = { N, C, L, eps, fuseRelu };
  let y: Tensor, mean: Tensor, invstd: Tensor;
  if (batchStats) {
    if (N * L === 1) {
      throw new RangeError(`${op}: expected more than 1 value per channel when using batch statistics, got input ${fmtShape(x.shape)}`);
    }
    if (!(momentum >= 0 && momentum <= 1)) throw new RangeError(`${op}: momentum must be in [0, 1], got ${momentum}`);
    const update = training && runningMean !== null;
    ({ y, mean, invstd } = batchNormTrainK(
      x, weight, bias, update ? statBuffer(op, runningMean!, 'runningMean') : null, update ? statBuffer(op, runningVar!, 'runningVar') : null,
      residual, momentum, args,
    ));
    if (update) {
      runningMean!.storage.version++;
      runningVar!.storage.version++;
    }
  } else {
    y = batchNormInferenceK(x, weight, bias, runningMean!, runningVar!, residual, args);
    mean = runningMean!;
    invstd = noGrad(() => rsqrt(add(runningVar!, eps)));
  }
  const grads = fusedBackward([x, weight, bias, residual], (g, needs) => {
    // With a residual the ReLU's gradient is also the residual's, so it is formed once; alone, the ReLU's
    // mask is applied inside the batch-norm backward.
    const gOut = fuseRelu && residual ? binaryK('reluBackward', g, y, 0, 0) : g;
    const [gx, gw, gb] = needs.slice(0, 3).some((n) => n)
      ? batchNormBackwardK(x, gOut, weight, mean, invstd, batchStats, fuseRelu && !residual ? y : null, needs, args)
      : [null, null, null];
    return [gx!, gw!, gb!, gOut];
  });
  const saved = [...(batchStats ? [x] : [x, runningMean!, runningVar!]), ...(fuseRelu ? [y] : [])];
  // batch statistics, or the inverse deviation formed from the running variance, are the backward's alone
  return attach(op, y, [x, weight, bias, residual], grads, weight ? [...saved, weight] : saved, batchStats ? [mean, invstd] : [invstd]);
});

/** relu(batchNorm(x)) in inference mode with running stats, in one fused pass (batchNorm with relu: true). */
export const batchNormRelu = publicApi('batchNormRelu', function batchNormRelu(
  x: Tensor, runningMean: Tensor, runningVar: Tensor, weight: Tensor | null, bias: Tensor | null, options: { eps?: number } = {},
): Tensor {
  return batchNorm(x, runningMean, runningVar, weight, bias, { eps: options.eps, relu: true });
});

export interface BatchNormState {
  runningMean: Tensor;
  runningVar: Tensor;
  weight: Tensor | null;
  bias: Tensor | null;
  eps: number;
}

/**
 * Folds an inference-mode batch norm into the conv (weight [K, ...]) or linear (weight [K, in]) layer
 * before it: with s = γ / √(var + ε), weight' = weight · s[k] and bias' = (bias − mean) · s + β. The
 * results are new tensors outside the graph.
 */
export const foldBatchNorm = publicApi('foldBatchNorm', function foldBatchNorm(convWeight: Tensor, convBias: Tensor | null, bn: BatchNormState): { weight: Tensor; bias: Tensor } {
  const op = 'foldBatchNorm';
  requireFloatLike(op, convWeight, { convBias, runningMean: bn.runningMean, runningVar: bn.runningVar, weight: bn.weight, bias: bn.bias }, 'convWeight');
  if (convWeight.ndim < 2) throw new RangeError(`${op}: convWeight must be (K, ...) with rank >= 2, got rank ${convWeight.ndim} ${fmtShape(convWeight.shape)}`);
  const K = convWeight.shape[0]!;
  const perChannel = { convBias, 'bn.runningMean': bn.runningMean, 'bn.runningVar': bn.runningVar, 'bn.weight': bn.weight, 'bn.bias': bn.bias };
  for (const [arg, t] of Object.entries(perChannel)) if (t) requireShape(op, t, arg, [K], ` (convWeight's out_channels)`);
  checkEps(op, bn.eps);
  return noGrad(() => {
    const invstd = rsqrt(add(bn.runningVar.detach(), bn.eps));
    const scale = bn.weight ? mul(invstd, bn.weight.detach()) : invstd;
    const weight = mul(convWeight.detach(), reshape(scale, [K, ...convWeight.shape.slice(1).map(() => 1)]));
    const centered = convBias ? sub(convBias.detach(), bn.runningMean.detach()) : mul(bn.runningMean.detach(), -1);
    const shifted = mul(centered, scale);
    return { weight, bias: bn.bias ? add(shifted, bn.bias.detach()) : shifted };
  });
});

/**
 * Layer normalization over the trailing dims `normalizedShape` of x [..., *normalizedShape]; weight and
 * bias (normalizedShape) are optional.
 */
export const layerNorm = defineOp('layerNorm', [normFamily], (
  x: Tensor, normalizedShape: readonly number[], weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5,
): Tensor => {
  const op = 'layerNorm';
  requireFloatLike(op, x, { weight, bias });
  const k = normalizedShape.length;
  if (k === 0 || k > x.ndim || normalizedShape.some((d, i) => d !== x.shape[x.ndim - k + i])) {
    throw new RangeError(`${op}: input ${fmtShape(x.shape)} must end with normalizedShape ${fmtShape(normalizedShape)}`);
  }
  if (weight) requireShape(op, weight, 'weight', normalizedShape, ' (normalizedShape)');
  if (bias) requireShape(op, bias, 'bias', normalizedShape, ' (normalizedShape)');
  checkEps(op, eps);
  const D = product(normalizedShape), M = D === 0 ? 0 : x.numel / D;
  return rowNorm(op, x, weight ?? null, bias ?? null, normalizedShape, { eps, dims: [M, D] });
});

/** Records layer or group norm (see rowNormForwardK) with its fused backward. */
function rowNorm(op: string, x: Tensor, weight: Tensor | null, bias: Tensor | null, paramShape: readonly number[], args: RowNormArgs): Tensor {
  const { y, mean, invstd } = rowNormForwardK(x, weight, bias, args);
  const grads = fusedBackward([x, weight, bias], (g, needs) => rowNormBackwardK(x, g, weight, mean, invstd, needs, paramShape, args));
  return attach(op, y, [x, weight, bias], grads, weight ? [x, weight] : [x]);
}

/**
 * Group normalization of x [N, C, ...]: statistics per sample over each of numGroups channel groups;
 * weight and bias [C] are optional.
 */
export const groupNorm = defineOp('groupNorm', [normFamily], (
  x: Tensor, numGroups: number, weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5,
): Tensor => {
  const op = 'groupNorm';
  requireFloatLike(op, x, { weight, bias });
  requireRank(op, x, 'input', [2, 3, 4, 5], '(N, C, ...)');
  const N = x.shape[0]!, C = x.shape[1]!, L = product(x.shape.slice(2));
  if (!Number.isInteger(numGroups) || numGroups < 1 || C % numGroups !== 0) {
    throw new RangeError(`${op}: numGroups must be a positive integer dividing the ${C} input channels, got ${numGroups}`);
  }
  if (weight) requireShape(op, weight, 'weight', [C], ' (the input\'s channels)');
  if (bias) requireShape(op, bias, 'bias', [C], ' (the input\'s channels)');
  checkEps(op, eps);
  return rowNorm(op, x, weight ?? null, bias ?? null, [C], { eps, dims: [N, C, L, numGroups] });
});

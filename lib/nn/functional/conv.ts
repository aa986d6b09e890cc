/**
 * Linear and convolution layers as functions: linear, conv2d, conv1d (a view over conv2d with H = 1) and
 * convTranspose2d (the adjoint of conv2d, built from the same three kernels with roles swapped).
 *
 * Legend: N batch, C input channels, H W input size, K output channels, R S kernel size, P Q output
 * size, G groups.
 */
import type { Tensor } from '../../tensor.js';
import { attach } from '../../autograd/node.js';
import { noGrad } from '../../autograd/mode.js';
import { defineOp } from '../../ops/registry.js';
import {
  type ConvGeometry, type Shape4, conv2dBackwardDataK, conv2dBackwardWeightK, conv2dForwardK, conv2dOutputShape, convFamily, shape4,
} from '../../kernels/conv.js';
import { elementwiseFamily } from '../../kernels/elementwise.js';
import { gemmFamily, matmulK } from '../../kernels/gemm.js';
import { reduceFamily } from '../../kernels/reduce.js';
import { pad, reshape, squeeze, transpose, unsqueeze } from '../../ops/shape.js';
import { add } from '../../ops/elementwise.js';
import { matmul } from '../../ops/linalg.js';
import {
  type ConvPadding, type Pair, type PairArg, convPadding, fmtShape, fusedBackward, pair,
  product, requireFloatLike, requireRank, requireShape,
} from './common.js';

/** y [..., out] = x [..., in] · weightᵀ + bias, weight [out, in], bias [out]; weightᵀ is a view, not a copy. */
export const linear = defineOp('linear', [gemmFamily, reduceFamily], (x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor => {
  requireFloatLike('linear', x, { weight, bias });
  requireRank('linear', weight, 'weight', [2], '(out, in)');
  if (x.ndim < 1) throw new RangeError(`linear: input must have at least 1 dim (..., in), got rank 0 ${fmtShape(x.shape)}`);
  const inFeatures = weight.shape[1]!;
  if (x.shape[x.ndim - 1] !== inFeatures) {
    throw new RangeError(
      `linear: input's last dim must equal weight's in_features ${inFeatures}, got input ${fmtShape(x.shape)} and weight ${fmtShape(weight.shape)}`,
    );
  }
  if (bias) requireShape('linear', bias, 'bias', [weight.shape[0]!], ' (out)');
  const outFeatures = weight.shape[0]!, rows = product(x.shape.slice(0, -1));
  const rowsOf = (t: Tensor, cols: number) => reshape(t, [rows, cols]);
  // One GEMM with the bias in its epilogue: x as rows times weightᵀ (a transposed view, no copy).
  const y = noGrad(() => reshape(matmulK(rowsOf(x, inFeatures), transpose(weight, 0, 1), bias ?? null), [...x.shape.slice(0, -1), outFeatures]));
  // The weight's gradient as gᵀ·x, [out, in] like the weight: differentiating through weightᵀ would give it
  // transposed, copied to the weight's layout on every step (44 µs for LeNet-5's 400 → 120 layer).
  return attach('linear', y, [x, weight, bias], [
    (g) => matmul(g, weight),
    (g) => matmul(transpose(rowsOf(g, outFeatures), 0, 1), rowsOf(x, inFeatures)),
    (g) => g,
  ], [x, weight]);
});

export interface Conv2dOptions {
  stride?: PairArg;
  /** Zero padding per side, or 'same' (stride 1; odd totals put the extra row/column bottom/right) or 'valid' (0). */
  padding?: ConvPadding;
  dilation?: PairArg;
  groups?: number;
}

export interface Conv1dOptions {
  stride?: number;
  padding?: number | 'same' | 'valid';
  dilation?: number;
  groups?: number;
}

export interface ConvTranspose2dOptions {
  stride?: PairArg;
  padding?: PairArg;
  /** Extra size added to one side of the output (< stride), to pick among the input sizes a strided conv maps alike. */
  outputPadding?: PairArg;
  dilation?: PairArg;
  groups?: number;
}

function checkGroups(op: string, groups: number): void {
  if (!Number.isInteger(groups) || groups < 1) throw new RangeError(`${op}: groups must be a positive integer, got ${groups}`);
}

/**
 * Rank and channel checks shared by conv1d and conv2d: x [N, C, ...spatial], weight [K, C/G, ...kernel],
 * bias [K]; `layout` names the dims of input and weight in messages.
 */
function checkConv(
  op: string, x: Tensor, weight: Tensor, bias: Tensor | null | undefined, groups: number, rank: number, layout: [string, string],
): void {
  requireFloatLike(op, x, { weight, bias });
  requireRank(op, x, 'input', [rank], layout[0]);
  requireRank(op, weight, 'weight', [rank], layout[1]);
  checkGroups(op, groups);
  const C = x.shape[1]!, K = weight.shape[0]!;
  if (C % groups !== 0) throw new RangeError(`${op}: input channels ${C} must be divisible by groups ${groups}`);
  if (K % groups !== 0) throw new RangeError(`${op}: weight out_channels ${K} must be divisible by groups ${groups}`);
  if (weight.shape[1] !== C / groups) {
    throw new RangeError(
      `${op}: weight ${fmtShape(weight.shape)} expects ${weight.shape[1]! * groups} input channels ` +
        `(dim 1 × groups ${groups}), got input ${fmtShape(x.shape)} with ${C}`,
    );
  }
  if (bias) requireShape(op, bias, 'bias', [K], ' (out_channels)');
}

/** The conv2d primitive on validated arguments with symmetric padding. */
function conv2dKernel(x: Tensor, w: Tensor, bias: Tensor | null, geometry: ConvGeometry): Tensor {
  const out = conv2dForwardK(x, w, bias, geometry);
  const grads = fusedBackward([x, w, bias], (g, needs) => {
    const gx = needs[0] ? conv2dBackwardDataK(g, w, shape4(x), geometry) : null;
    const { gw, gb } = needs[1] || needs[2] ? conv2dBackwardWeightK(x, g, shape4(w), needs[2]!, geometry) : { gw: null, gb: null };
    return [gx, gw, gb];
  });
  return attach('conv2d', out, [x, w, bias], grads, [x, w]);
}

/**
 * 2-D convolution (cross-correlation, as PyTorch): x [N, C, H, W], weight [K, C/G, R, S], bias [K] →
 * [N, K, P, Q] with P = ⌊(H + padTop + padBottom − dilation·(R − 1) − 1) / stride⌋ + 1, likewise Q.
 */
export const conv2d = defineOp('conv2d', [convFamily, elementwiseFamily], (x: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv2dOptions = {}): Tensor => {
  const groups = options.groups ?? 1;
  checkConv('conv2d', x, weight, bias, groups, 4, ['(N, C, H, W)', '(K, C/groups, R, S)']);
  const stride = pair(options.stride ?? 1, 'conv2d', 'stride', 1);
  const dilation = pair(options.dilation ?? 1, 'conv2d', 'dilation', 1);
  const kernel: Pair = [weight.shape[2]!, weight.shape[3]!];
  const [top, bottom, left, right] = convPadding(options.padding ?? 0, kernel, dilation, stride, 'conv2d');
  // Odd 'same' totals: the extra row/column goes bottom/right, the rest is symmetric.
  const input = bottom > top || right > left ? pad(x, [0, right - left, 0, bottom - top]) : x;
  const padding: Pair = [top, left];
  const geometry = { stride, padding, dilation, groups };
  conv2dOutputShape(shape4(input), shape4(weight), geometry, 'conv2d');  // the kernels' own rule: the window fits
  return conv2dKernel(input, weight, bias ?? null, geometry);
});

/** 1-D convolution: x [N, C, L], weight [K, C/G, R], bias [K] → [N, K, L_out]; conv2d over a height-1 view. */
export const conv1d = defineOp('conv1d', [convFamily, elementwiseFamily], (x: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv1dOptions = {}): Tensor => {
  const groups = options.groups ?? 1;
  checkConv('conv1d', x, weight, bias, groups, 3, ['(N, C, L)', '(K, C/groups, R)']);
  const padding = options.padding ?? 0;
  const one = (v: number | undefined, arg: string, min: number): Pair => [1, pair(v ?? 1, 'conv1d', arg, min)[1]];
  const y = conv2d(unsqueeze(x, 2), unsqueeze(weight, 2), bias, {
    stride: one(options.stride, 'stride', 1),
    dilation: one(options.dilation, 'dilation', 1),
    padding: typeof padding === 'string' ? padding : [0, pair(padding, 'conv1d', 'padding', 0)[1]],
    groups,
  });
  return squeeze(y, 2);
});

/**
 * Transposed 2-D convolution (the gradient of conv2d with respect to its input): x [N, C_in, H, W],
 * weight [C_in, C_out/G, R, S], bias [C_out] → [N, C_out, H_out, W_out] with
 * H_out = (H − 1)·stride − 2·padding + dilation·(R − 1) + outputPadding + 1, likewise W_out.
 */
export const convTranspose2d = defineOp('convTranspose2d', [convFamily, elementwiseFamily, reduceFamily], (
  x: Tensor, weight: Tensor, bias?: Tensor | null, options: ConvTranspose2dOptions = {},
): Tensor => {
  const op = 'convTranspose2d';
  requireFloatLike(op, x, { weight, bias });
  requireRank(op, x, 'input', [4], '(N, C_in, H, W)');
  requireRank(op, weight, 'weight', [4], '(C_in, C_out/groups, R, S)');
  const groups = options.groups ?? 1;
  checkGroups(op, groups);
  const Cin = x.shape[1]!;
  if (weight.shape[0] !== Cin) {
    throw new RangeError(`${op}: weight dim 0 must equal input channels ${Cin}, got weight ${fmtShape(weight.shape)} and input ${fmtShape(x.shape)}`);
  }
  if (Cin % groups !== 0) throw new RangeError(`${op}: input channels ${Cin} must be divisible by groups ${groups}`);
  const Cout = weight.shape[1]! * groups;
  if (bias) requireShape(op, bias, 'bias', [Cout], ' (C_out = weight dim 1 × groups)');
  const stride = pair(options.stride ?? 1, op, 'stride', 1);
  const padding = pair(options.padding ?? 0, op, 'padding', 0);
  const dilation = pair(options.dilation ?? 1, op, 'dilation', 1);
  const outputPadding = pair(options.outputPadding ?? 0, op, 'outputPadding', 0);
  if (outputPadding[0] >= stride[0] || outputPadding[1] >= stride[1]) {
    throw new RangeError(`${op}: outputPadding [${outputPadding.join(', ')}] must be smaller than stride [${stride.join(', ')}]`);
  }
  const size = (a: number): number =>
    (x.shape[2 + a]! - 1) * stride[a]! - 2 * padding[a]! + dilation[a]! * (weight.shape[2 + a]! - 1) + outputPadding[a]! + 1;
  const yShape: Shape4 = [x.shape[0]!, Cout, size(0), size(1)];
  if (yShape[2] < 1 || yShape[3] < 1) {
    throw new RangeError(`${op}: output size [${yShape[2]}, ${yShape[3]}] for input ${fmtShape(x.shape)} must be positive (padding too large)`);
  }
  const geometry: ConvGeometry = { stride, padding, dilation, groups };
  const y = conv2dBackwardDataK(x, weight, yShape, geometry);
  const grads = [
    (g: Tensor) => conv2dForwardK(g, weight, null, geometry),
    (g: Tensor) => conv2dBackwardWeightK(g, x, shape4(weight), false, geometry).gw,
  ];
  const out = attach(op, y, [x, weight], grads, [x, weight]);
  return bias ? add(out, reshape(bias, [1, Cout, 1, 1])) : out;
});


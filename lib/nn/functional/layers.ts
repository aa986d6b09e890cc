/**
 * Parameter-free and small layers as functions: dropout (Philox stream from the global generator),
 * channel dropout, PReLU, nearest/bilinear interpolation, embedding lookup.
 */
import { publicApi } from '../../checks.js';
import type { Tensor } from '../../tensor.js';
import { attach } from '../../autograd/node.js';
import { noGrad } from '../../autograd/mode.js';
import { defineOp } from '../../ops/registry.js';
import {
  type UpsampleArgs, type UpsampleMode, dropoutBackwardK, dropoutForwardK, preluBackwardK, preluForwardK, upsample2dBackwardK,
  upsample2dForwardK, dropoutFamily, preluFamily, upsampleFamily,
} from '../../kernels/nn.js';
import { elementwiseFamily } from '../../kernels/elementwise.js';
import { indexingFamily } from '../../kernels/indexing.js';
import { mul } from '../../ops/elementwise.js';
import { indexSelect } from '../../ops/indexing.js';
import { reshape } from '../../ops/shape.js';
import { ones } from '../../creation.js';
import { nextStream } from '../../random.js';
import {
  type Pair, type PairArg, fmtShape, fusedBackward, pair, product, requireFloatLike, requireRank,
} from './common.js';

function checkP(op: string, p: number): void {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`${op}: p must be in [0, 1], got ${p}`);
}

/** Inverted dropout over a fresh Philox stream: y = x·mask / (1 − p), mask ~ Bernoulli(1 − p); x itself when not training or p = 0. */
export const dropout = defineOp('dropout', [dropoutFamily, elementwiseFamily], (x: Tensor, p = 0.5, training = true): Tensor => {
  requireFloatLike('dropout', x);
  checkP('dropout', p);
  if (!training || p === 0) return x;
  const { seed, offset } = nextStream(x.numel);
  const { y, mask } = dropoutForwardK(x, p, seed, offset);
  return attach('dropout', y, [x], [(g) => dropoutBackwardK(g, mask, p)], [], [mask]);
});

/** Channel dropout of x [N, C, H, W]: each (sample, channel) plane is zeroed with probability p, the rest scaled by 1 / (1 − p). */
export const dropout2d = publicApi('dropout2d', function dropout2d(x: Tensor, p = 0.5, training = true): Tensor {
  requireFloatLike('dropout2d', x);
  requireRank('dropout2d', x, 'input', [4], '(N, C, H, W)');
  checkP('dropout2d', p);
  if (!training || p === 0) return x;
  const mask = noGrad(() => dropout(ones([x.shape[0]!, x.shape[1]!, 1, 1], { dtype: x.dtype, device: x.deviceName }), p));
  return mul(x, mask);
});

/** PReLU: y = x > 0 ? x : a·x with a = weight[c] along channel dim 1 (weight [C]) or one shared slope (weight [1]). */
export const prelu = defineOp('prelu', [preluFamily], (x: Tensor, weight: Tensor): Tensor => {
  const op = 'prelu';
  requireFloatLike(op, x, { weight });
  const numWeights = weight.numel;
  const channels = x.ndim >= 2 ? x.shape[1]! : 1;
  if (weight.ndim > 1 || (numWeights !== 1 && numWeights !== channels)) {
    throw new RangeError(
      `${op}: weight must be [1] or [C] with C = ${channels} channels of input ${fmtShape(x.shape)}, got ${fmtShape(weight.shape)}`,
    );
  }
  const [N, C, L] = x.ndim >= 2 ? [x.shape[0]!, channels, product(x.shape.slice(2))] : [1, 1, x.numel];
  const y = preluForwardK(x, weight, N, C, L);
  const grads = fusedBackward([x, weight], (g, needs) => preluBackwardK(x, g, weight, N, C, L, needs));
  return attach(op, y, [x, weight], grads, [x, weight]);
});

export interface InterpolateOptions {
  /** Output [height, width] (or one number for both); give exactly one of size and scaleFactor. */
  size?: PairArg;
  /** Output size = ⌊input size · scale⌋; sources map back with 1 / scale (PyTorch's default). */
  scaleFactor?: number | readonly [number, number];
  mode?: UpsampleMode;
  /** Bilinear only: corner pixels of input and output align (default false). */
  alignCorners?: boolean;
}

/** Resizes x [N, C, H, W] with nearest or bilinear sampling (PyTorch's source-index rules). */
export const interpolate = defineOp('interpolate', [upsampleFamily], (x: Tensor, options: InterpolateOptions): Tensor => {
  const op = 'interpolate';
  requireFloatLike(op, x);
  requireRank(op, x, 'input', [4], '(N, C, H, W)');
  const mode = options.mode ?? 'nearest';
  if (mode !== 'nearest' && mode !== 'bilinear') throw new RangeError(`${op}: mode must be 'nearest' or 'bilinear', got '${String(mode)}'`);
  if (options.alignCorners !== undefined && mode !== 'bilinear') {
    throw new RangeError(`${op}: alignCorners can only be set with mode 'bilinear', got mode '${mode}'`);
  }
  if ((options.size === undefined) === (options.scaleFactor === undefined)) {
    throw new TypeError(`${op}: give exactly one of size and scaleFactor`);
  }
  const [, , inH, inW] = x.shape as [number, number, number, number];
  let out: Pair, scale: Pair = [0, 0];
  if (options.size !== undefined) {
    out = pair(options.size, op, 'size', 1);
  } else {
    const s = options.scaleFactor!;
    scale = typeof s === 'number' ? [s, s] : [s[0], s[1]];
    if (!scale.every((v) => Number.isFinite(v) && v > 0)) throw new RangeError(`${op}: scaleFactor must be finite and > 0, got ${String(s)}`);
    out = [Math.floor(inH * scale[0]), Math.floor(inW * scale[1])];
    if (out[0] < 1 || out[1] < 1) {
      throw new RangeError(`${op}: scaleFactor ${String(s)} shrinks input ${fmtShape(x.shape)} to an empty output [${out.join(', ')}]`);
    }
  }
  const args: UpsampleArgs = { out, scale, mode, alignCorners: options.alignCorners ?? false };
  const y = upsample2dForwardK(x, args);
  return attach(op, y, [x], [(g) => upsample2dBackwardK(g, x.shape, args)]);
});

/** Rows of weight [num, dim] picked by int32 indices of any shape → [...indices.shape, dim]; the gradient adds into those rows. */
export const embedding = defineOp('embedding', [indexingFamily], (indices: Tensor, weight: Tensor): Tensor => {
  const op = 'embedding';
  if (indices.dtype !== 'int32') throw new TypeError(`${op}: indices must be int32, got ${indices.dtype}`);
  requireRank(op, weight, 'weight', [2], '(num_embeddings, embedding_dim)');
  const num = weight.shape[0]!;
  const flat = reshape(indices, [-1]);
  const data = flat.dataSync();
  for (let i = 0; i < data.length; i++) {
    if (!(data[i]! >= 0 && data[i]! < num)) throw new RangeError(`${op}: index ${data[i]} at position ${i} is outside [0, ${num})`);
  }
  return reshape(indexSelect(weight, 0, flat), [...indices.shape, weight.shape[1]!]);
});

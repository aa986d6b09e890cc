/**
 * Gradcheck and argument-error cases of the nn.functional ops, keyed by the name each op registers in
 * the op table (lib/ops/registry.ts). test/tensor/ops.test.ts runs them and requires every registered op
 * to have an entry; the forward-value references stay in test/nn/functional.test.ts.
 *
 * Inputs are built inside inputs(), fresh random each call (float64; the checked ones with requiresGrad).
 * Tensors a case needs but does not check (running stats, class weights, integer targets, a teacher) are
 * passed as extra inputs without requiresGrad, so gradcheck leaves them alone.
 */
import * as F from '../../lib/nn/functional.js';
import { Tensor } from '../../lib/tensor.js';
import { manualSeed } from '../../lib/random.js';
import { makeRng, randomArray } from '../util.js';

export interface NnGradcheckCase {
  label: string;
  fn: (...x: Tensor[]) => Tensor;
  inputs: () => Tensor[];
}

export interface NnErrorCase {
  label: string;
  call: () => unknown;
  error: ErrorConstructor;
  message: RegExp;
}

export interface NnOpCases {
  gradchecks: NnGradcheckCase[];
  errors: NnErrorCase[];
}

/** Seeded from TF_TEST_SEED when set, so a failing run can be replayed. */
const rng = makeRng();

const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
/** A fresh float64 tensor uniform in [lo, hi). */
const rand64 = (shape: number[], lo = -1, hi = 1): Tensor => Tensor.fromArray(randomArray(Float64Array, numel(shape), rng, lo, hi), shape);
const param = (shape: number[], lo = -1, hi = 1): Tensor => rand64(shape, lo, hi).requiresGrad_();
const ints = (values: number[], shape = [values.length]): Tensor => Tensor.fromArray(Int32Array.from(values), shape);
const f32 = (shape: number[]) => Tensor.fromArray(new Float32Array(numel(shape)), shape);

const reductions = ['mean', 'sum', 'none'] as const;

/**
 * loss(x, t) over 3 classes with a valid target, which is then overwritten with 7 in its storage, unseen by
 * autograd's in-place checks, before backward: the backward kernel's own range check is what reports it.
 */
function targetChangedBeforeBackward(loss: (x: Tensor, t: Tensor) => Tensor): void {
  const x = param([1, 3]), t = ints([0]);
  const out = loss(x, t);
  (t.dataSync() as Int32Array)[0] = 7;
  out.backward();
}

export const nnOpCases: Record<string, NnOpCases> = {
  linear: {
    gradchecks: [
      { label: 'batch dims with bias', fn: (x, w, b) => F.linear(x, w, b), inputs: () => [param([2, 3, 5]), param([4, 5]), param([4])] },
    ],
    errors: [
      { label: 'linear', call: () => F.linear(f32([2, 5]), f32([3, 4])), error: RangeError, message: /linear: input's last dim must equal weight's in_features 4, got input \[2, 5\]/ },
    ],
  },
  conv2d: {
    gradchecks: [
      { label: 'stride 2, padding 1, bias', fn: (x, w, b) => F.conv2d(x, w, b, { stride: 2, padding: 1 }), inputs: () => [param([2, 2, 7, 5]), param([3, 2, 3, 3]), param([3])] },
      { label: 'dilation 2, padding [2, 1], groups 2', fn: (x, w) => F.conv2d(x, w, null, { dilation: 2, padding: [2, 1], groups: 2 }), inputs: () => [param([1, 4, 7, 5]), param([4, 2, 3, 2])] },
      { label: "padding 'same', bias", fn: (x, w, b) => F.conv2d(x, w, b, { padding: 'same' }), inputs: () => [param([1, 2, 5, 4]), param([2, 2, 2, 3]), param([2])] },
    ],
    errors: [
      { label: 'conv2d rank', call: () => F.conv2d(f32([3, 32, 32]), f32([4, 3, 3, 3])), error: RangeError,
        message: /^conv2d: input must be rank 4 \(N, C, H, W\), got rank 3 \[3, 32, 32\]$/ },
      { label: 'conv2d weight rank', call: () => F.conv2d(f32([1, 3, 8, 8]), f32([4, 3, 3])), error: RangeError, message: /conv2d: weight must be rank 4 .*got rank 3 \[4, 3, 3\]/ },
      { label: 'conv2d channels', call: () => F.conv2d(f32([1, 3, 8, 8]), f32([4, 2, 3, 3])), error: RangeError, message: /conv2d: weight \[4, 2, 3, 3\] expects 2 input channels .*got input \[1, 3, 8, 8\] with 3/ },
      { label: 'conv2d groups', call: () => F.conv2d(f32([1, 4, 8, 8]), f32([3, 2, 3, 3]), null, { groups: 2 }), error: RangeError, message: /out_channels 3 must be divisible by groups 2/ },
      { label: 'conv2d bias', call: () => F.conv2d(f32([1, 3, 8, 8]), f32([4, 3, 3, 3]), f32([3])), error: RangeError, message: /conv2d: bias must have shape \[4\] \(out_channels\), got \[3\]/ },
      { label: 'conv2d dtype', call: () => F.conv2d(f32([1, 3, 8, 8]), f32([4, 3, 3, 3]).double()), error: TypeError, message: /conv2d: weight must have the input's dtype float32, got float64/ },
      { label: 'conv2d stride', call: () => F.conv2d(f32([1, 3, 8, 8]), f32([4, 3, 3, 3]), null, { stride: 0 }), error: RangeError, message: /conv2d: stride must be an integer >= 1 .*got 0/ },
      { label: 'conv2d same stride', call: () => F.conv2d(f32([1, 3, 8, 8]), f32([4, 3, 3, 3]), null, { stride: 2, padding: 'same' }), error: RangeError, message: /padding 'same' needs stride 1/ },
      { label: 'conv2d too small', call: () => F.conv2d(f32([1, 3, 2, 8]), f32([4, 3, 3, 3])), error: RangeError, message: /conv2d: kernel reach 3 exceeds padded input size 2 along height/ },
    ],
  },
  conv1d: {
    gradchecks: [
      { label: 'stride 2, padding 1, dilation 2, groups 2, bias', fn: (x, w, b) => F.conv1d(x, w, b, { stride: 2, padding: 1, dilation: 2, groups: 2 }), inputs: () => [param([2, 4, 9]), param([2, 2, 3]), param([2])] },
      { label: "padding 'same'", fn: (x, w) => F.conv1d(x, w, null, { padding: 'same' }), inputs: () => [param([1, 2, 7]), param([3, 2, 4])] },
    ],
    errors: [
      { label: 'conv1d rank', call: () => F.conv1d(f32([1, 3, 8, 8]), f32([4, 3, 3])), error: RangeError, message: /conv1d: input must be rank 3 \(N, C, L\), got rank 4/ },
    ],
  },
  convTranspose2d: {
    gradchecks: [
      { label: 'stride 2, padding 1, outputPadding [1, 0], dilation [1, 2], bias',
        fn: (x, w, b) => F.convTranspose2d(x, w, b, { stride: 2, padding: 1, outputPadding: [1, 0], dilation: [1, 2] }),
        inputs: () => [param([1, 2, 3, 3]), param([2, 3, 3, 2]), param([3])] },
      { label: 'stride [1, 2], groups 2, outputPadding [0, 1]', fn: (x, w) => F.convTranspose2d(x, w, null, { stride: [1, 2], groups: 2, outputPadding: [0, 1] }), inputs: () => [param([1, 4, 3, 2]), param([4, 1, 2, 3])] },
    ],
    errors: [
      { label: 'convTranspose2d weight', call: () => F.convTranspose2d(f32([1, 3, 4, 4]), f32([2, 3, 3, 3])), error: RangeError, message: /convTranspose2d: weight dim 0 must equal input channels 3/ },
      { label: 'convTranspose2d outputPadding', call: () => F.convTranspose2d(f32([1, 3, 4, 4]), f32([3, 3, 3, 3]), null, { stride: 2, outputPadding: 2 }), error: RangeError, message: /outputPadding \[2, 2\] must be smaller than stride \[2, 2\]/ },
    ],
  },
  maxPool2d: {
    gradchecks: [
      { label: 'kernel 3, stride 2, padding 1, ceilMode', fn: (x) => F.maxPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true }), inputs: () => [param([2, 2, 7, 6])] },
      { label: 'kernel [2, 3], dilation [2, 1]', fn: (x) => F.maxPool2d(x, [2, 3], { dilation: [2, 1] }), inputs: () => [param([1, 2, 7, 7])] },
    ],
    errors: [
      { label: 'maxPool2d rank', call: () => F.maxPool2d(f32([3, 8, 8]), 2), error: RangeError, message: /maxPool2d: input must be rank 4 \(N, C, H, W\), got rank 3 \[3, 8, 8\]/ },
      { label: 'maxPool2d padding', call: () => F.maxPool2d(f32([1, 1, 8, 8]), 2, { padding: 2 }), error: RangeError, message: /maxPool2d: padding \[2, 2\] must be at most half the kernel size \[2, 2\]/ },
      { label: 'maxPool2d too small', call: () => F.maxPool2d(f32([1, 1, 2, 8]), 3), error: RangeError, message: /maxPool2d: kernel reach 3 exceeds padded input size 2 along height/ },
    ],
  },
  avgPool2d: {
    gradchecks: [
      { label: 'kernel 3, stride 2, padding 1, ceilMode, countIncludePad false', fn: (x) => F.avgPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }), inputs: () => [param([2, 2, 6, 7])] },
      { label: 'kernel [2, 3], stride [1, 2]', fn: (x) => F.avgPool2d(x, [2, 3], { stride: [1, 2] }), inputs: () => [param([1, 2, 5, 7])] },
    ],
    errors: [
      { label: 'avgPool2d int', call: () => F.avgPool2d(ints([1, 2, 3, 4], [1, 1, 2, 2]), 2), error: TypeError, message: /avgPool2d: input must be float32 or float64, got int32/ },
    ],
  },
  adaptiveAvgPool2d: {
    gradchecks: [
      { label: 'to [3, 2]', fn: (x) => F.adaptiveAvgPool2d(x, [3, 2]), inputs: () => [param([2, 2, 7, 5])] },
      // globalAvgPool2d is not an op of its own (a mean over H, W); it equals adaptiveAvgPool2d(x, 1).
      { label: 'globalAvgPool2d', fn: (x) => F.globalAvgPool2d(x), inputs: () => [param([2, 3, 3, 5])] },
    ],
    errors: [
      { label: 'adaptiveAvgPool2d size', call: () => F.adaptiveAvgPool2d(f32([1, 1, 4, 4]), 0), error: RangeError, message: /adaptiveAvgPool2d: outputSize must be an integer >= 1/ },
    ],
  },
  adaptiveMaxPool2d: {
    gradchecks: [
      { label: 'to [2, 3]', fn: (x) => F.adaptiveMaxPool2d(x, [2, 3]), inputs: () => [param([2, 2, 5, 7])] },
    ],
    errors: [
      { label: 'adaptiveMaxPool2d rank', call: () => F.adaptiveMaxPool2d(f32([3, 8, 8]), 2), error: RangeError, message: /adaptiveMaxPool2d: input must be rank 4 \(N, C, H, W\), got rank 3 \[3, 8, 8\]/ },
    ],
  },
  batchNorm: {
    gradchecks: [
      { label: 'training with running stats', fn: (x, w, b, rm, rv) => F.batchNorm(x, rm, rv, w, b, { training: true }),
        inputs: () => [param([3, 3, 5]), param([3]), param([3]), rand64([3]), rand64([3], 0.5, 2)] },
      { label: 'eval without running stats, [N, C]', fn: (x, w, b) => F.batchNorm(x, null, null, w, b), inputs: () => [param([5, 3]), param([3]), param([3])] },
      { label: 'training without affine', fn: (x) => F.batchNorm(x, null, null, null, null, { training: true }), inputs: () => [param([2, 3, 3, 2])] },
      { label: 'eval with running stats, eps 1e-3', fn: (x, w, b, rm, rv) => F.batchNorm(x, rm, rv, w, b, { eps: 1e-3 }),
        inputs: () => [param([2, 3, 2, 3]), param([3]), param([3]), rand64([3]), rand64([3], 0.5, 2)] },
      { label: 'training with fused ReLU', fn: (x, w, b) => F.batchNorm(x, null, null, w, b, { training: true, relu: true }),
        inputs: () => [param([3, 3, 5]), param([3]), param([3])] },
      { label: 'eval with running stats and fused ReLU', fn: (x, w, b, rm, rv) => F.batchNorm(x, rm, rv, w, b, { relu: true }),
        inputs: () => [param([2, 3, 2, 3]), param([3]), param([3]), rand64([3]), rand64([3], 0.5, 2)] },
      { label: 'training with a residual and fused ReLU', fn: (x, w, b, r) => F.batchNorm(x, null, null, w, b, { training: true, relu: true, residual: r }),
        inputs: () => [param([3, 3, 4]), param([3]), param([3]), param([3, 3, 4])] },
      { label: 'eval with a residual, no ReLU', fn: (x, w, b, r, rm, rv) => F.batchNorm(x, rm, rv, w, b, { residual: r }),
        inputs: () => [param([2, 3, 2, 2]), param([3]), param([3]), param([2, 3, 2, 2]), rand64([3]), rand64([3], 0.5, 2)] },
    ],
    errors: [
      { label: 'batchNorm channels', call: () => F.batchNorm(f32([2, 3, 4]), f32([4]), f32([4]), null, null), error: RangeError, message: /batchNorm: runningMean must have shape \[3\] \(the input's channels\), got \[4\]/ },
      { label: 'batchNorm single value', call: () => F.batchNorm(f32([1, 3]), null, null, null, null, { training: true }), error: RangeError, message: /more than 1 value per channel/ },
      { label: 'batchNorm residual shape', call: () => F.batchNorm(f32([2, 3, 4]), null, null, null, null, { training: true, residual: f32([2, 3, 5]) }), error: RangeError, message: /batchNorm: residual must have shape \[2, 3, 4\] \(the input's\), got \[2, 3, 5\]/ },
    ],
  },
  layerNorm: {
    gradchecks: [
      { label: 'normalizedShape [3, 4] with affine', fn: (x, w, b) => F.layerNorm(x, [3, 4], w, b), inputs: () => [param([2, 3, 4]), param([3, 4]), param([3, 4])] },
      { label: 'normalizedShape [5]', fn: (x) => F.layerNorm(x, [5]), inputs: () => [param([3, 5])] },
    ],
    errors: [
      { label: 'layerNorm shape', call: () => F.layerNorm(f32([2, 3, 4]), [3]), error: RangeError, message: /layerNorm: input \[2, 3, 4\] must end with normalizedShape \[3\]/ },
    ],
  },
  groupNorm: {
    gradchecks: [
      { label: '3 groups with affine', fn: (x, w, b) => F.groupNorm(x, 3, w, b), inputs: () => [param([2, 6, 3, 2]), param([6]), param([6])] },
    ],
    errors: [
      { label: 'groupNorm groups', call: () => F.groupNorm(f32([2, 6, 3]), 4), error: RangeError, message: /groupNorm: numGroups must be a positive integer dividing the 6 input channels, got 4/ },
    ],
  },
  dropout: {
    gradchecks: [
      { label: 'p 0.4, fixed seed', fn: (x) => {
        manualSeed(1234);
        return F.dropout(x, 0.4);
      }, inputs: () => [param([5, 7])] },
      { label: 'dropout2d p 0.5, fixed seed', fn: (x) => {
        manualSeed(99);
        return F.dropout2d(x, 0.5);
      }, inputs: () => [param([3, 4, 2, 2])] },
    ],
    errors: [
      { label: 'dropout p', call: () => F.dropout(f32([3]), 1.5), error: RangeError, message: /dropout: p must be in \[0, 1\], got 1.5/ },
      { label: 'dropout2d rank', call: () => F.dropout2d(f32([3, 4]), 0.5), error: RangeError, message: /dropout2d: input must be rank 4 \(N, C, H, W\), got rank 2 \[3, 4\]/ },
    ],
  },
  prelu: {
    gradchecks: [
      { label: 'per-channel weight', fn: (x, w) => F.prelu(x, w), inputs: () => [param([2, 3, 5]), param([3])] },
      { label: 'single weight', fn: (x, w) => F.prelu(x, w), inputs: () => [param([2, 7]), param([1])] },
    ],
    errors: [
      { label: 'prelu weight', call: () => F.prelu(f32([2, 3, 4]), f32([4])), error: RangeError, message: /prelu: weight must be \[1\] or \[C\] with C = 3 .*got \[4\]/ },
    ],
  },
  interpolate: {
    gradchecks: [
      { label: 'nearest to size [5, 7]', fn: (x) => F.interpolate(x, { size: [5, 7], mode: 'nearest' }), inputs: () => [param([1, 2, 3, 4])] },
      { label: 'nearest scaleFactor 1.7', fn: (x) => F.interpolate(x, { scaleFactor: 1.7, mode: 'nearest' }), inputs: () => [param([1, 2, 3, 4])] },
      { label: 'bilinear scaleFactor [1.5, 2.3]', fn: (x) => F.interpolate(x, { scaleFactor: [1.5, 2.3], mode: 'bilinear' }), inputs: () => [param([1, 2, 3, 4])] },
      { label: 'bilinear alignCorners to size [5, 3]', fn: (x) => F.interpolate(x, { size: [5, 3], mode: 'bilinear', alignCorners: true }), inputs: () => [param([2, 1, 3, 4])] },
    ],
    errors: [
      { label: 'interpolate both', call: () => F.interpolate(f32([1, 1, 2, 2]), { size: 4, scaleFactor: 2 }), error: TypeError, message: /interpolate: give exactly one of size and scaleFactor/ },
      { label: 'interpolate alignCorners', call: () => F.interpolate(f32([1, 1, 2, 2]), { size: 4, alignCorners: true }), error: RangeError, message: /alignCorners can only be set with mode 'bilinear'/ },
    ],
  },
  embedding: {
    gradchecks: [
      { label: '[2, 2] indices with repeats', fn: (w, idx) => F.embedding(idx, w), inputs: () => [param([4, 3]), ints([3, 0, 3, 1], [2, 2])] },
    ],
    errors: [
      { label: 'embedding range', call: () => F.embedding(ints([0, 5]), f32([5, 2])), error: RangeError, message: /embedding: index 5 at position 1 is outside \[0, 5\)/ },
      { label: 'embedding dtype', call: () => F.embedding(f32([2]), f32([5, 2])), error: TypeError, message: /embedding: indices must be int32, got float32/ },
    ],
  },
  crossEntropy: {
    gradchecks: [
      ...reductions.map((reduction) => ({
        label: `reduction '${reduction}', weight, labelSmoothing 0.2, ignoreIndex -100`,
        fn: (x: Tensor, t: Tensor, weight: Tensor) => F.crossEntropy(x, t, { reduction, weight, labelSmoothing: 0.2 }),
        inputs: () => [param([5, 4]), ints([1, -100, 3, 0, 2]), rand64([4], 0.2, 2)],
      })),
      { label: 'spatial target, ignoreIndex 7', fn: (x, t) => F.crossEntropy(x, t, { ignoreIndex: 7 }), inputs: () => [param([2, 3, 3]), ints([0, 2, 7, 1, 7, 2], [2, 3])] },
      { label: 'probability targets, labelSmoothing 0.1, weight', fn: (x, probs, weight) => F.crossEntropy(x, probs, { labelSmoothing: 0.1, weight }),
        inputs: () => [param([3, 4, 2]), F.softmax(rand64([3, 4, 2]), 1), rand64([4], 0.2, 2)] },
    ],
    errors: [
      { label: 'crossEntropy target shape', call: () => F.crossEntropy(f32([4, 3]), ints([0, 1, 2])), error: RangeError, message: /crossEntropy: target must have shape \[4\] .*got \[3\]/ },
      { label: 'crossEntropy target dtype', call: () => F.crossEntropy(f32([4, 3]), f32([4, 3]).double()), error: TypeError, message: /crossEntropy: target must be int32 class indices or probabilities of the input's dtype float32, got float64/ },
      { label: 'crossEntropy class range', call: () => F.crossEntropy(f32([2, 3]), ints([0, 3])), error: RangeError, message: /^crossEntropy: target\[1\] = 3 is out of range \[0, 3\)$/ },
      { label: 'crossEntropy class changed behind autograd', call: () => targetChangedBeforeBackward((x, t) => F.crossEntropy(x, t)), error: RangeError, message: /^crossEntropy backward: target\[0\] = 7 is out of range \[0, 3\)$/ },
      { label: 'crossEntropy ignoreIndex beyond int32', call: () => F.crossEntropy(f32([2, 3]), ints([0, 1]), { ignoreIndex: 2 ** 40 }), error: RangeError, message: /^crossEntropy: ignoreIndex must be an integer in \[-2147483648, 2147483647\], got 1099511627776$/ },
      { label: 'crossEntropy reduction', call: () => F.crossEntropy(f32([2, 3]), ints([0, 1]), { reduction: 'avg' as 'mean' }), error: RangeError, message: /crossEntropy: reduction must be 'mean', 'sum' or 'none', got 'avg'/ },
    ],
  },
  nllLoss: {
    gradchecks: [
      { label: 'weight, ignoreIndex -100', fn: (x, t, weight) => F.nllLoss(x, t, { weight }), inputs: () => [param([5, 4]), ints([1, -100, 3, 0, 2]), rand64([4], 0.2, 2)] },
      { label: "spatial target, reduction 'none'", fn: (x, t) => F.nllLoss(x, t, { reduction: 'none' }), inputs: () => [param([2, 3, 2]), ints([0, 2, 1, 1], [2, 2])] },
    ],
    errors: [
      { label: 'nllLoss target dtype', call: () => F.nllLoss(f32([2, 3]), f32([2])), error: TypeError, message: /nllLoss: target must be int32 class indices, got float32/ },
      { label: 'nllLoss class range', call: () => F.nllLoss(f32([2, 3]), ints([0, -3])), error: RangeError, message: /^nllLoss: target\[1\] = -3 is out of range \[0, 3\)$/ },
      { label: 'nllLoss class changed behind autograd', call: () => targetChangedBeforeBackward((x, t) => F.nllLoss(x, t)), error: RangeError, message: /^nllLoss backward: target\[0\] = 7 is out of range \[0, 3\)$/ },
      { label: 'nllLoss ignoreIndex beyond int32', call: () => F.nllLoss(f32([2, 3]), ints([0, 1]), { ignoreIndex: -(2 ** 31) - 1 }), error: RangeError, message: /^nllLoss: ignoreIndex must be an integer in \[-2147483648, 2147483647\], got -2147483649$/ },
    ],
  },
  mseLoss: {
    gradchecks: reductions.map((reduction) => ({
      label: `reduction '${reduction}'`, fn: (x: Tensor, y: Tensor) => F.mseLoss(x, y, { reduction }), inputs: () => [param([3, 4]), param([3, 4])],
    })),
    errors: [
      { label: 'mseLoss shape', call: () => F.mseLoss(f32([2, 3]), f32([3, 2])), error: RangeError, message: /mseLoss: target must have shape \[2, 3\] \(the input's shape\), got \[3, 2\]/ },
    ],
  },
  l1Loss: {
    gradchecks: [
      { label: "reduction 'mean'", fn: (x, y) => F.l1Loss(x, y), inputs: () => [param([3, 4]), param([3, 4])] },
    ],
    errors: [
      { label: 'l1Loss shape', call: () => F.l1Loss(f32([2, 3]), f32([3, 2])), error: RangeError, message: /l1Loss: target must have shape \[2, 3\] \(the input's shape\), got \[3, 2\]/ },
    ],
  },
  smoothL1Loss: {
    gradchecks: [
      { label: 'beta 0.5', fn: (x, y) => F.smoothL1Loss(x, y, { beta: 0.5 }), inputs: () => [param([3, 5]), param([3, 5])] },
    ],
    errors: [
      { label: 'smoothL1Loss beta', call: () => F.smoothL1Loss(f32([2]), f32([2]), { beta: -1 }), error: RangeError, message: /smoothL1Loss: beta must be finite and >= 0, got -1/ },
    ],
  },
  huberLoss: {
    gradchecks: [
      { label: "delta 0.7, reduction 'sum'", fn: (x, y) => F.huberLoss(x, y, { delta: 0.7, reduction: 'sum' }), inputs: () => [param([3, 5]), param([3, 5])] },
    ],
    errors: [
      { label: 'huberLoss delta', call: () => F.huberLoss(f32([2]), f32([2]), { delta: 0 }), error: RangeError, message: /huberLoss: delta must be finite and > 0, got 0/ },
    ],
  },
  binaryCrossEntropyWithLogits: {
    gradchecks: [
      { label: 'posWeight', fn: (x, target, posWeight) => F.binaryCrossEntropyWithLogits(x, target, { posWeight }),
        inputs: () => [param([3, 4], -3, 3), rand64([3, 4], 0, 1), rand64([4], 0.5, 3)] },
      { label: "weight, reduction 'sum'", fn: (x, target, weight) => F.binaryCrossEntropyWithLogits(x, target, { weight, reduction: 'sum' }),
        inputs: () => [param([3, 4], -3, 3), rand64([3, 4], 0, 1), rand64([4], 0, 2)] },
    ],
    errors: [
      { label: 'bce posWeight', call: () => F.binaryCrossEntropyWithLogits(f32([2, 3]), f32([2, 3]), { posWeight: f32([2]) }), error: RangeError, message: /posWeight must be \[3\]/ },
    ],
  },
  multiMarginLoss: {
    gradchecks: [
      { label: 'margin 0.8, weight', fn: (x, t, weight) => F.multiMarginLoss(x, t, { margin: 0.8, weight }), inputs: () => [param([3, 4]), ints([2, 0, 3]), rand64([4], 0, 2)] },
      { label: "reduction 'none'", fn: (x, t) => F.multiMarginLoss(x, t, { reduction: 'none' }), inputs: () => [param([3, 4]), ints([1, 1, 0])] },
    ],
    errors: [
      { label: 'multiMarginLoss rank', call: () => F.multiMarginLoss(f32([2, 3, 4]), ints([0, 1])), error: RangeError, message: /multiMarginLoss: input must be rank 2 \(N, C\), got rank 3/ },
      { label: 'multiMarginLoss class range', call: () => F.multiMarginLoss(f32([2, 3]), ints([3, 0])), error: RangeError, message: /^multiMarginLoss: target\[0\] = 3 is out of range \[0, 3\)$/ },
    ],
  },
  distillationLoss: {
    gradchecks: [
      { label: 'temperature 2.5', fn: (s, teacher) => F.distillationLoss(s, teacher, { temperature: 2.5 }), inputs: () => [param([3, 5], -2, 2), rand64([3, 5], -2, 2)] },
    ],
    errors: [
      { label: 'distillation shape', call: () => F.distillationLoss(f32([2, 3]), f32([2, 4])), error: RangeError, message: /distillationLoss: teacherLogits must have shape \[2, 3\]/ },
      { label: 'distillation temperature', call: () => F.distillationLoss(f32([2, 3]), f32([2, 3]), { temperature: 0 }), error: RangeError, message: /temperature must be finite and > 0/ },
    ],
  },
  l1Penalty: {
    gradchecks: [
      { label: 'two params', fn: (a, b) => F.l1Penalty([a, b]), inputs: () => [param([2, 3]), param([4])] },
    ],
    errors: [
      { label: 'l1Penalty empty', call: () => F.l1Penalty([]), error: RangeError, message: /^l1Penalty: params must be a non-empty list of tensors$/ },
    ],
  },
};

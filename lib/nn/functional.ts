/**
 * tensorforge's `nn.functional` (PyTorch's torch.nn.functional, camelCase, options objects): layers,
 * pooling, normalization, dropout, resampling, losses and the activations, all autograd-aware over
 * the native kernels. Shapes follow PyTorch: N batch, C channels, H W height and width.
 */
export { linear, conv2d, conv1d, convTranspose2d } from './functional/conv.js';
export type { Conv2dOptions, Conv1dOptions, ConvTranspose2dOptions } from './functional/conv.js';
export { maxPool2d, maxPool2dWithIndices, avgPool2d, adaptiveAvgPool2d, adaptiveMaxPool2d, globalAvgPool2d } from './functional/pool.js';
export type { MaxPool2dOptions, AvgPool2dOptions } from './functional/pool.js';
export { batchNorm, batchNormRelu, foldBatchNorm, layerNorm, groupNorm } from './functional/norm.js';
export type { BatchNormOptions, BatchNormState } from './functional/norm.js';
export { dropout, dropout2d, prelu, interpolate, embedding } from './functional/layers.js';
export type { InterpolateOptions } from './functional/layers.js';
export {
  crossEntropy, nllLoss, mseLoss, l1Loss, smoothL1Loss, huberLoss, binaryCrossEntropyWithLogits, multiMarginLoss,
  distillationLoss, l1Penalty,
} from './functional/loss.js';
export type { Reduction, CrossEntropyOptions, NllLossOptions, MultiMarginLossOptions, BceWithLogitsOptions } from './functional/loss.js';
export type { PairArg, ConvPadding } from './functional/common.js';
export { relu, leakyRelu, elu, gelu, sigmoid, tanh, softplus } from '../ops/elementwise.js';
export { softmax, logSoftmax } from '../ops/reduce.js';

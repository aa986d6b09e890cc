/**
 * Neural-network building blocks: Module, layers, initializers, and the functional API as F.
 */
export { Module, Parameter } from './module.js';
export type { StateDict, LoadResult, ForwardHook, ForwardPreHook, HookHandle } from './module.js';
export * as init from './init.js';
export * as F from './functional.js';
export type { DTypeOptions, FloatDType } from './layers/common.js';
export { Linear, Bilinear } from './layers/linear.js';
export type { LinearOptions } from './layers/linear.js';
export { Conv1d, Conv2d, ConvTranspose2d } from './layers/conv.js';
export type { ConvOptions, ConvTransposeOptions } from './layers/conv.js';
export { MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d } from './layers/pool.js';
export type { MaxPool2dOptions, AvgPool2dOptions } from './layers/pool.js';
export { BatchNorm1d, BatchNorm2d, BatchNormReLU2d, LayerNorm, GroupNorm } from './layers/norm.js';
export type { BatchNormOptions, LayerNormOptions, GroupNormOptions } from './layers/norm.js';
export { Dropout } from './layers/dropout.js';
export { ReLU, LeakyReLU, PReLU, ELU, GELU, Sigmoid, Tanh, Softmax, LogSoftmax } from './layers/activation.js';
export type { PReLUOptions } from './layers/activation.js';
export { Identity, Flatten, Unflatten } from './layers/shape.js';
export { Upsample } from './layers/upsample.js';
export type { UpsampleOptions } from './layers/upsample.js';
export { Embedding } from './layers/embedding.js';
export type { EmbeddingOptions } from './layers/embedding.js';
export { Sequential, ModuleList, ModuleDict } from './layers/container.js';

import { publicApi } from '../checks.js';
import { Linear, Bilinear } from './layers/linear.js';
import { Conv1d, Conv2d, ConvTranspose2d } from './layers/conv.js';
import { MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d } from './layers/pool.js';
import { BatchNorm1d, BatchNorm2d, BatchNormReLU2d, LayerNorm, GroupNorm } from './layers/norm.js';
import { Dropout } from './layers/dropout.js';
import { ReLU, LeakyReLU, PReLU, ELU, GELU, Sigmoid, Tanh, Softmax, LogSoftmax } from './layers/activation.js';
import { Identity, Flatten, Unflatten } from './layers/shape.js';
import { Upsample } from './layers/upsample.js';
import { Embedding } from './layers/embedding.js';

// The built-in layers' forwards are public entry points (checks.ts publicApi). Not the containers', which
// run the user's modules, nor Module's, which a user's subclass overrides.
for (const Layer of [
  Linear, Bilinear, Conv1d, Conv2d, ConvTranspose2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d, BatchNorm1d,
  BatchNorm2d, BatchNormReLU2d, LayerNorm, GroupNorm, Dropout, ReLU, LeakyReLU, PReLU, ELU, GELU, Sigmoid, Tanh, Softmax,
  LogSoftmax, Identity, Flatten, Unflatten, Upsample, Embedding,
]) {
  Layer.prototype.forward = publicApi(`${Layer.name}.forward`, Layer.prototype.forward);
}

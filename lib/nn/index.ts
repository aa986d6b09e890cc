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

/** Optimizers, gradient clipping and learning-rate schedulers. */
export { Optimizer } from './optimizer.js';
export type { BaseHyper, GroupItem, ParamGroup, ParamGroupInput, ParamsInput, ParamState, OptimizerStateDict } from './optimizer.js';
export { SGD } from './sgd.js';
export type { SGDHyper } from './sgd.js';
export { Adam, AdamW } from './adam.js';
export type { AdamHyper } from './adam.js';
export { RMSprop } from './rmsprop.js';
export type { RMSpropHyper } from './rmsprop.js';
export { Adagrad } from './adagrad.js';
export type { AdagradHyper } from './adagrad.js';
export { clipGradNorm, clipGradValue } from './clip.js';
export * from './lr_scheduler.js';

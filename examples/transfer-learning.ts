/**
 * Transfer learning: a LeNet-5 feature extractor learned on digits 0–4 (or loaded from a checkpoint of
 * the main job with --checkpoint) is reused for a new task, digits 5–9 from few labelled images.
 *   1. pretrain LeNet-5 on 0–4 (skipped with --checkpoint)
 *   2. replace the 84 → 10 head by a fresh 84 → 5 one; freeze the body (requiresGrad(false)) and
 *      train the head alone
 *   3. unfreeze and fine-tune everything with two parameter groups: the body at a tenth of the head's lr
 *
 * --epochs is the pretraining's; --target-epochs (5) each target stage's, on --target-samples (1000) images.
 *
 *   npx tsx examples/transfer-learning.ts [--epochs 1] [--limit N] [--checkpoint runs/mnist-lenet5/best.safetensors]
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '../lib/index.js';
import { parseExampleArgs, firstN, mnistNormalize, pct } from './common.js';

const { nn, optim, data, io, train } = tf;

const { args, values, number } = parseExampleArgs(
  { usage: 'usage: npx tsx examples/transfer-learning.ts [flags]  (LeNet-5 body reused for digits 5-9)', epochs: 1, batchSize: 64, lr: 2e-3, out: 'runs/example-transfer' },
  ['checkpoint', 'target-samples', 'target-epochs'],
);
const targetSamples = number('target-samples', 1000, { integer: true, min: 1 });
const targetEpochs = number('target-epochs', 5, { integer: true, min: 1 });
const started = performance.now();

/** The images of `digits`, copied out, with labels renumbered 0.. in the order of `digits`. */
function digitsOnly(dataset: tf.data.ArrayDataset, digits: readonly number[], limit: number | undefined): tf.data.ArrayDataset {
  const rows = [...dataset.labels.keys()].filter((i) => digits.includes(dataset.labels[i]!)).slice(0, limit);
  const size = dataset.imageSize;
  const images = new Uint8Array(rows.length * size);
  rows.forEach((row, k) => images.set(dataset.images.subarray(row * size, (row + 1) * size), k * size));
  const labels = Int32Array.from(rows, (row) => digits.indexOf(dataset.labels[row]!));
  return new data.ArrayDataset(images, labels, [dataset.channels, dataset.height, dataset.width]);
}

const lossFn = (logits: tf.Tensor, targets: tf.Tensor) => nn.F.crossEntropy(logits, targets);
const loader = (set: tf.data.Dataset<tf.data.LabeledImage>, shuffle: boolean) =>
  new data.DataLoader(set, { batchSize: shuffle ? args.batchSize : 1000, shuffle, seed: args.seed, transforms: mnistNormalize });

/** Trains for `epochs` and prints one line per epoch with the test accuracy. */
async function fit(
  stage: string, epochs: number, model: tf.nn.Module, optimizer: tf.optim.Optimizer<tf.optim.BaseHyper>,
  trainSet: tf.data.ArrayDataset, testSet: tf.data.ArrayDataset,
) {
  const trainLoader = loader(trainSet, true);
  let result = { accuracy: NaN, imagesPerSecond: NaN };
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const bar = new train.ProgressBar({ total: trainLoader.length, epoch, epochs });
    const epochFit = await train.trainEpoch(model, trainLoader, optimizer, lossFn, { progress: bar, epoch });
    const test = await train.evaluate(model, loader(testSet, false), lossFn);
    bar.finish(`${stage}: test acc ${pct(test.accuracy)}`);
    result = { accuracy: test.accuracy, imagesPerSecond: epochFit.imagesPerSecond };
  }
  return result;
}

const dir = train.mnistDataDir();
const mnistTrain = data.loadMnist(dir, 'train'), mnistTest = data.loadMnist(dir, 'test');
const testLimit = args.limit === undefined ? undefined : Math.min(args.limit, 1000);

// 1. The pretrained network.
const pretrained = tf.models.lenet5();
if (values.checkpoint !== undefined) {
  await io.loadCheckpoint(values.checkpoint, { model: pretrained });
  console.log(`pretrained LeNet-5 loaded from ${values.checkpoint}`);
} else {
  const source = [0, 1, 2, 3, 4];
  const optimizer = new optim.Adam(pretrained.parameters(), { lr: args.lr });
  await fit('pretrain on digits 0-4', args.epochs, pretrained, optimizer, digitsOnly(mnistTrain, source, args.limit), digitsOnly(mnistTest, source, testLimit));
}

// 2. A new head for digits 5–9 on the frozen body.
const target = [5, 6, 7, 8, 9];
const targetTrain = digitsOnly(mnistTrain, target, Math.min(targetSamples, args.limit ?? Infinity));
const targetTest = digitsOnly(mnistTest, target, testLimit);
const body = new nn.Sequential(...Array.from({ length: pretrained.length - 1 }, (_, i) => pretrained.at(i)));
const head = new nn.Linear(84, target.length);
const model = new nn.Sequential(body, head);
console.log(`target task: digits 5-9 from ${targetTrain.length} labelled images (${targetTest.length} test)`);

body.requiresGrad(false);
console.log(`trainable parameters with the body frozen: ${model.countParameters(true)} of ${model.countParameters()}`);
const headOnly = await fit('frozen body, head only', targetEpochs, model, new optim.Adam(head.parameters(), { lr: args.lr }), targetTrain, targetTest);

// 3. Fine-tune everything, the body at a lower rate.
body.requiresGrad(true);
const fineTuner = new optim.Adam([{ params: body.parameters(), lr: args.lr / 10 }, { params: head.parameters(), lr: args.lr }]);
const tuned = await fit('fine-tune, body lr / 10', targetEpochs, model, fineTuner, targetTrain, targetTest);
mkdirSync(args.out, { recursive: true });
const weights = join(args.out, 'lenet5-digits5to9.safetensors');
await io.saveStateDict(weights, model.stateDict());
console.log(`fine-tuned weights: ${weights}`);

console.log(
  `digits 5-9 test accuracy: head only ${pct(headOnly.accuracy)}, fine-tuned ${pct(tuned.accuracy)} | ` +
    `${Math.round(tuned.imagesPerSecond)} images/s training | wall time ${train.formatDuration((performance.now() - started) / 1000)}`,
);

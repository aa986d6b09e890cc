/**
 * LeNet-5 on MNIST, the main job (`tensorforge train`) written out as a script: a seeded
 * train/validation split, Adam with a one-cycle learning rate stepped per batch, one trainEpoch and
 * one evaluate per epoch with a progress bar, early stopping on validation accuracy, the best weights
 * kept as a safetensors checkpoint, training curves as SVG, and the test accuracy of the best epoch.
 *
 *   npx tsx examples/mnist-lenet.ts [--epochs 3] [--limit N] [--patience 2] [--out runs/example-lenet]
 */
import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as tf from '../lib/index.js';
import { parseExampleArgs, loadMnistSplits, mnistNormalize, pct } from './common.js';

const { nn, optim, data, io, train } = tf;

const { args, number } = parseExampleArgs(
  { usage: 'usage: npx tsx examples/mnist-lenet.ts [flags]  (LeNet-5 on MNIST)', epochs: 3, batchSize: 64, lr: 3e-3, out: 'runs/example-lenet' },
  ['patience'],
);
const patience = number('patience', 2, { integer: true });
mkdirSync(args.out, { recursive: true });
const started = performance.now();

const { train: trainSet, val: valSet, test: testSet } = loadMnistSplits(args.seed, args.limit);
const trainLoader = new data.DataLoader(trainSet, { batchSize: args.batchSize, shuffle: true, seed: args.seed, transforms: mnistNormalize });
const evalLoader = (set: tf.data.Dataset<tf.data.LabeledImage>) => new data.DataLoader(set, { batchSize: 1000, transforms: mnistNormalize });

const model = tf.models.lenet5();
const optimizer = new optim.Adam(model.parameters(), { lr: args.lr });
const scheduler = new optim.OneCycleLR(optimizer, { maxLr: args.lr, totalSteps: args.epochs * trainLoader.length });
const lossFn = (logits: tf.Tensor, targets: tf.Tensor) => nn.F.crossEntropy(logits, targets);
const history = new train.History();
const stopper = new train.EarlyStopping({ patience, mode: 'max' });
const checkpoint = join(args.out, 'best.safetensors');
console.log(`LeNet-5, ${model.countParameters()} parameters: ${trainSet.length} train / ${valSet.length} val / ${testSet.length} test images`);

let trainSeconds = 0, trainSamples = 0;
for (let epoch = 1; epoch <= args.epochs; epoch++) {
  const bar = new train.ProgressBar({ total: trainLoader.length, epoch, epochs: args.epochs });
  const fit = await train.trainEpoch(model, trainLoader, optimizer, lossFn, { progress: bar, epoch, afterStep: () => scheduler.step() });
  const val = await train.evaluate(model, evalLoader(valSet), lossFn);
  trainSeconds += fit.seconds;
  trainSamples += fit.samples;
  history.push({ trainLoss: fit.loss, trainAcc: fit.accuracy, valLoss: val.loss, valAcc: val.accuracy, lr: optimizer.paramGroups[0]!.lr, time: fit.seconds });
  const stop = stopper.step(val.accuracy);
  const improved = stopper.bestEpoch === epoch;
  if (improved) await io.saveCheckpoint(checkpoint, { model, optimizer, epoch });
  bar.finish(`val loss ${val.loss.toFixed(4)} acc ${pct(val.accuracy)}${improved ? ' *' : ''}`);
  if (stop) {
    console.log(`early stopping: no improvement for ${patience} epochs`);
    break;
  }
}

await io.loadCheckpoint(checkpoint, { model });
const test = await train.evaluate(model, evalLoader(testSet), lossFn);
writeFileSync(join(args.out, 'curves.svg'), train.renderCurvesSvg(history, { title: 'LeNet-5 on MNIST' }));
console.log(`best epoch ${stopper.bestEpoch}: ${checkpoint}; curves ${join(args.out, 'curves.svg')}`);
console.log(
  `test accuracy ${pct(test.accuracy)} (loss ${test.loss.toFixed(4)}) | ${Math.round(trainSamples / trainSeconds)} images/s training | ` +
    `wall time ${train.formatDuration((performance.now() - started) / 1000)}`,
);

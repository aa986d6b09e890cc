/**
 * A multilayer perceptron on MNIST: 784 → 256 → 128 → 10 with ReLU and dropout, trained with Adam.
 * Shows a model built from nn.Sequential, train/eval mode (dropout only while training) and the
 * library's trainEpoch/evaluate loop; the trained weights are saved as safetensors.
 *
 *   npx tsx examples/mnist-mlp.ts [--epochs 3] [--limit N] [--dropout 0.2]
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '../lib/index.js';
import { parseExampleArgs, loadMnistSplits, mnistNormalize, pct } from './common.js';

const { nn, optim, data, io, train } = tf;

const { args, number } = parseExampleArgs(
  { usage: 'usage: npx tsx examples/mnist-mlp.ts [flags]  (MLP 784-256-128-10 on MNIST)', epochs: 3, batchSize: 128, lr: 1e-3, out: 'runs/example-mlp' },
  ['dropout'],
);
const dropout = number('dropout', 0.2);
const started = performance.now();

const { train: trainSet, val: valSet, test: testSet } = loadMnistSplits(args.seed, args.limit);
const trainLoader = new data.DataLoader(trainSet, { batchSize: args.batchSize, shuffle: true, seed: args.seed, transforms: mnistNormalize });
const evalLoader = (set: tf.data.Dataset<tf.data.LabeledImage>) => new data.DataLoader(set, { batchSize: 1000, transforms: mnistNormalize });

const model = new nn.Sequential(
  new nn.Flatten(),
  new nn.Linear(784, 256), new nn.ReLU(), new nn.Dropout(dropout),
  new nn.Linear(256, 128), new nn.ReLU(), new nn.Dropout(dropout),
  new nn.Linear(128, 10),
);
console.log(`MLP 784-256-128-10, ${model.countParameters()} parameters: ${trainSet.length} train / ${valSet.length} val / ${testSet.length} test images`);
const optimizer = new optim.Adam(model.parameters(), { lr: args.lr });
const lossFn = (logits: tf.Tensor, targets: tf.Tensor) => nn.F.crossEntropy(logits, targets);

let trainSeconds = 0, trainSamples = 0;
for (let epoch = 1; epoch <= args.epochs; epoch++) {
  const bar = new train.ProgressBar({ total: trainLoader.length, epoch, epochs: args.epochs });
  const fit = await train.trainEpoch(model, trainLoader, optimizer, lossFn, { progress: bar, epoch });
  const val = await train.evaluate(model, evalLoader(valSet), lossFn);
  trainSeconds += fit.seconds;
  trainSamples += fit.samples;
  bar.finish(`train acc ${pct(fit.accuracy)}  val loss ${val.loss.toFixed(4)} acc ${pct(val.accuracy)}`);
}

const test = await train.evaluate(model, evalLoader(testSet), lossFn);
mkdirSync(args.out, { recursive: true });
const weights = join(args.out, 'mlp.safetensors');
await io.saveStateDict(weights, model.stateDict());
console.log(`weights: ${weights}`);
console.log(
  `test accuracy ${pct(test.accuracy)} (loss ${test.loss.toFixed(4)}) | ${Math.round(trainSamples / trainSeconds)} images/s training | ` +
    `wall time ${train.formatDuration((performance.now() - started) / 1000)}`,
);

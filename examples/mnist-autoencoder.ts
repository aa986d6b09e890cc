/**
 * A denoising convolutional autoencoder on MNIST. The DataLoader adds Gaussian noise to the inputs
 * (the gaussianNoise transform); the targets are the clean images, looked up by the batch's dataset
 * indices. Encoder: two stride-2 convolutions (1×28×28 → 32×7×7); decoder: two stride-2 transposed
 * convolutions back to 1×28×28 and a sigmoid; loss: mean squared error against the clean image.
 * Writes `denoising.pgm` to the output folder: rows of noisy inputs, denoised outputs and clean digits.
 *
 *   npx tsx examples/mnist-autoencoder.ts [--epochs 2] [--limit N] [--noise 0.4] [--out runs/example-autoencoder]
 */
import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as tf from '../lib/index.js';
import { parseExampleArgs, firstN } from './common.js';

const { nn, optim, data, train } = tf;

const { args, number } = parseExampleArgs(
  { usage: 'usage: npx tsx examples/mnist-autoencoder.ts [flags]  (denoising autoencoder on MNIST)', epochs: 2, batchSize: 64, lr: 2e-3, out: 'runs/example-autoencoder' },
  ['noise'],
);
const noise = number('noise', 0.4);
mkdirSync(args.out, { recursive: true });
const started = performance.now();

const dir = train.mnistDataDir();
const trainSet = firstN(data.loadMnist(dir, 'train'), args.limit);
const testSet = firstN(data.loadMnist(dir, 'test'), Math.min(args.limit ?? 1000, 1000));
const noisy = [data.toFloat().spec, data.gaussianNoise(noise).spec];
const trainLoader = new data.DataLoader(trainSet, { batchSize: args.batchSize, shuffle: true, seed: args.seed, transforms: noisy });
const testLoader = new data.DataLoader(testSet, { batchSize: 250, seed: args.seed, transforms: noisy });

/** The clean images [B, 1, 28, 28] in [0, 1] of the samples a batch was drawn from. */
function cleanImages(dataset: tf.data.Dataset<tf.data.LabeledImage>, batch: tf.data.Batch): tf.Tensor {
  const size = 28 * 28;
  const out = new Float32Array(batch.indices.length * size);
  batch.indices.forEach((index, k) => {
    const pixels = dataset.get(index).image.data;
    for (let i = 0; i < size; i++) out[k * size + i] = pixels[i]! / 255;
  });
  return tf.Tensor.fromArray(out, [batch.indices.length, 1, 28, 28]);
}

const model = new nn.Sequential(
  new nn.Conv2d(1, 16, 3, { stride: 2, padding: 1 }), new nn.ReLU(),
  new nn.Conv2d(16, 32, 3, { stride: 2, padding: 1 }), new nn.ReLU(),
  new nn.ConvTranspose2d(32, 16, 3, { stride: 2, padding: 1, outputPadding: 1 }), new nn.ReLU(),
  new nn.ConvTranspose2d(16, 1, 3, { stride: 2, padding: 1, outputPadding: 1 }), new nn.Sigmoid(),
);
console.log(`denoising autoencoder, ${model.countParameters()} parameters, noise std ${noise}: ${trainSet.length} train / ${testSet.length} test images`);
const optimizer = new optim.Adam(model.parameters(), { lr: args.lr });

let trainSeconds = 0, trainSamples = 0;
for (let epoch = 1; epoch <= args.epochs; epoch++) {
  model.train();
  const bar = new train.ProgressBar({ total: trainLoader.length, epoch, epochs: args.epochs });
  const start = performance.now();
  let lossSum = 0, samples = 0;
  for await (const batch of trainLoader) {
    const { inputs } = train.batchTensors(batch);
    const loss = nn.F.mseLoss(model(inputs), cleanImages(trainSet, batch));
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
    const value = loss.item();
    lossSum += value * batch.indices.length;
    samples += batch.indices.length;
    bar.tick(batch.indices.length, value);
  }
  trainSeconds += (performance.now() - start) / 1000;
  trainSamples += samples;
  bar.finish();
  console.log(`epoch ${epoch} train loss ${(lossSum / samples).toFixed(5)}`);
}

// Test: how far the noisy inputs and the denoised outputs are from the clean digits.
model.eval();
let noisyError = 0, denoisedError = 0, count = 0;
let shown: { noisy: Float32Array; denoised: Float32Array; clean: Float32Array } | undefined;
for await (const batch of testLoader) {
  tf.noGrad(() => {
    const { inputs } = train.batchTensors(batch);
    const clean = cleanImages(testSet, batch);
    const denoised = model(inputs);
    const n = batch.indices.length;
    noisyError += nn.F.mseLoss(inputs, clean).item() * n;
    denoisedError += nn.F.mseLoss(denoised, clean).item() * n;
    count += n;
    shown ??= { noisy: inputs.dataSync() as Float32Array, denoised: denoised.dataSync() as Float32Array, clean: clean.dataSync() as Float32Array };
  });
}

/** A binary PGM of `rows` image rows, each `columns` 28×28 digits in [0, 1] (clamped), 2-pixel gaps. */
function pgmGrid(rows: Float32Array[], columns: number): Uint8Array {
  const cell = 30, width = columns * cell, height = rows.length * cell;
  const pixels = new Uint8Array(width * height);
  rows.forEach((images, r) => {
    for (let c = 0; c < columns; c++) {
      for (let y = 0; y < 28; y++) {
        for (let x = 0; x < 28; x++) {
          const v = images[c * 784 + y * 28 + x]!;
          pixels[(r * cell + y + 1) * width + c * cell + x + 1] = Math.round(255 * Math.min(1, Math.max(0, v)));
        }
      }
    }
  });
  const header = new TextEncoder().encode(`P5\n${width} ${height}\n255\n`);
  const file = new Uint8Array(header.length + pixels.length);
  file.set(header);
  file.set(pixels, header.length);
  return file;
}

const grid = join(args.out, 'denoising.pgm');
writeFileSync(grid, pgmGrid([shown!.noisy, shown!.denoised, shown!.clean], Math.min(8, testSet.length)));
console.log(`noisy / denoised / clean digits: ${grid}`);
console.log(
  `test MSE to the clean digits: noisy input ${(noisyError / count).toFixed(5)}, denoised ${(denoisedError / count).toFixed(5)} | ` +
    `${Math.round(trainSamples / trainSeconds)} images/s training | wall time ${train.formatDuration((performance.now() - started) / 1000)}`,
);

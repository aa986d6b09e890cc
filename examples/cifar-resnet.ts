/**
 * A CIFAR ResNet (He et al. 2016: 3×3 convolutions, batch norm, residual blocks at 16/32/64 channels)
 * on CIFAR-10-format binary data, with the standard augmentation (random 32×32 crops of the image
 * padded by 4, horizontal flips), per-channel normalization, and SGD with momentum and weight decay
 * under a cosine learning-rate schedule stepped per batch. The trained weights are saved as safetensors.
 *
 * --data DIR reads DIR/data_batch_*.bin and DIR/test_batch.bin (the "CIFAR-10 binary version").
 * Without it the script writes a small synthetic data set in the same format to a temporary folder
 * (ten classes of colored stripe, checker and ring patterns plus noise), so it runs anywhere; the
 * accuracy it reaches then says nothing about real CIFAR-10. The folder is removed at the end.
 *
 *   npx tsx examples/cifar-resnet.ts [--data DIR] [--depth 8|14|20] [--epochs 2] [--limit N]
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '../lib/index.js';
import { parseExampleArgs, firstN, pct } from './common.js';

const { nn, optim, data, io, train } = tf;

const { args, values, number } = parseExampleArgs(
  { usage: 'usage: npx tsx examples/cifar-resnet.ts [flags]  (CIFAR ResNet; --data DIR for real CIFAR-10)', epochs: 2, batchSize: 64, lr: 0.1, out: 'runs/example-cifar' },
  ['data', 'depth', 'synthetic-train', 'synthetic-test'],
);
const depth = number('depth', 8, { integer: true, min: 8 });
if ((depth - 2) % 6 !== 0) {
  console.error(`--depth must be 6n + 2 (8, 14, 20, 32, ...), got ${depth}`);
  process.exit(1);
}
const started = performance.now();

const CIFAR_RECORD = 1 + 3 * 32 * 32;

/**
 * Writes `count` CIFAR-10 records to `path`: class c draws pattern c % 5 (horizontal, vertical or
 * diagonal stripes, a checkerboard, rings) with a random phase in color pair c < 5 ? warm : cool,
 * plus Gaussian pixel noise.
 */
function writeSyntheticCifar(path: string, count: number, seed: number): void {
  const rng = new data.Random(seed);
  const colors = [[[230, 60, 40], [250, 210, 60]], [[30, 90, 220], [40, 200, 170]]];
  const bytes = new Uint8Array(count * CIFAR_RECORD);
  for (let n = 0; n < count; n++) {
    const label = n % 10;
    const [a, b] = colors[label < 5 ? 0 : 1]!;
    const phase = rng.uniform(0, 2 * Math.PI), period = rng.uniform(5, 8);
    const record = n * CIFAR_RECORD;
    bytes[record] = label;
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        const t = [y, x, x + y, 0, Math.hypot(x - 15.5, y - 15.5)][label % 5]!;
        const on = label % 5 === 3 ? (Math.floor(x / 4) + Math.floor(y / 4)) % 2 === 1 : Math.sin((2 * Math.PI * t) / period + phase) > 0;
        for (let c = 0; c < 3; c++) {
          const value = (on ? a! : b!)[c]! + rng.normal(0, 40);
          bytes[record + 1 + c * 1024 + y * 32 + x] = Math.min(255, Math.max(0, Math.round(value)));
        }
      }
    }
  }
  writeFileSync(path, bytes);
}

let dir = values.data;
if (dir === undefined) {
  dir = mkdtempSync(join(tmpdir(), 'tensorforge-cifar-'));
  const trainCount = number('synthetic-train', 2000, { integer: true, min: 10 }), testCount = number('synthetic-test', 500, { integer: true, min: 10 });
  writeSyntheticCifar(join(dir, 'data_batch_1.bin'), trainCount, args.seed);
  writeSyntheticCifar(join(dir, 'test_batch.bin'), testCount, args.seed + 1);
  console.log(`no --data given: wrote a SYNTHETIC CIFAR-10-format data set (${trainCount} train / ${testCount} test images of colored patterns) to ${dir}`);
}
const batchFiles = readdirSync(dir).filter((name) => /^data_batch_\d+\.bin(\.gz)?$/.test(name)).sort().map((name) => join(dir, name));
if (batchFiles.length === 0) {
  console.error(`${dir}: no data_batch_*.bin files (expected the CIFAR-10 binary version)`);
  process.exit(1);
}
const testFile = readdirSync(dir).find((name) => /^test_batch\.bin(\.gz)?$/.test(name));
if (testFile === undefined) {
  console.error(`${dir}: no test_batch.bin`);
  process.exit(1);
}
const trainSet = firstN(data.readCifar10(batchFiles), args.limit);
const testSet = firstN(data.readCifar10([join(dir, testFile)]), args.limit);

const { mean, std } = data.computeMeanStd(trainSet, data.toFloat());
const augment = [data.toFloat().spec, data.randomCrop(32, 4).spec, data.randomHorizontalFlip().spec, data.normalize(mean, std).spec];
const plain = [data.toFloat().spec, data.normalize(mean, std).spec];
const trainLoader = new data.DataLoader(trainSet, { batchSize: args.batchSize, shuffle: true, seed: args.seed, transforms: augment });
const testLoader = new data.DataLoader(testSet, { batchSize: 500, transforms: plain });

const model = new tf.models.CifarResNet((depth - 2) / 6);
const optimizer = new optim.SGD(model.parameters(), { lr: args.lr, momentum: 0.9, weightDecay: 5e-4 });
const scheduler = new optim.CosineAnnealingLR(optimizer, args.epochs * trainLoader.length);
const lossFn = (logits: tf.Tensor, targets: tf.Tensor) => nn.F.crossEntropy(logits, targets);
console.log(`ResNet-${depth}, ${model.countParameters()} parameters: ${trainSet.length} train / ${testSet.length} test images from ${dir}`);

let trainSeconds = 0, trainSamples = 0;
let test = { accuracy: NaN, loss: NaN };
for (let epoch = 1; epoch <= args.epochs; epoch++) {
  const bar = new train.ProgressBar({ total: trainLoader.length, epoch, epochs: args.epochs });
  const fit = await train.trainEpoch(model, trainLoader, optimizer, lossFn, { progress: bar, epoch, afterStep: () => scheduler.step() });
  test = await train.evaluate(model, testLoader, lossFn);
  trainSeconds += fit.seconds;
  trainSamples += fit.samples;
  bar.finish(`train acc ${pct(fit.accuracy)}  test loss ${test.loss.toFixed(4)} acc ${pct(test.accuracy)}`);
}
if (values.data === undefined) rmSync(dir, { recursive: true });
mkdirSync(args.out, { recursive: true });
const weights = join(args.out, `resnet${depth}.safetensors`);
await io.saveStateDict(weights, model.stateDict());
console.log(`weights: ${weights}`);
console.log(
  `test accuracy ${pct(test.accuracy)} (loss ${test.loss.toFixed(4)}) | ${Math.round(trainSamples / trainSeconds)} images/s training | ` +
    `wall time ${train.formatDuration((performance.now() - started) / 1000)}`,
);

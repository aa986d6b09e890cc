/**
 * Training on the 'cuda' device end to end (on the emulated device in CI, on a GPU in gpu-check): LeNet-5 and
 * a small ResNet follow the CPU's loss trajectory, device memory stays flat over 1,000 steps of a loop that
 * never calls dispose() (train.trainStep hands each step's tensors back to the allocator), a training step
 * of the families with CUDA kernels copies nothing between host and device but what the script reads
 * (tf.cuda.transferStats), and the MNIST job trains on the device it is given.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '../../lib/index.js';
import { runMnistJob } from '../../lib/train/mnist.js';
import { testDevices } from '../devices.js';

const { nn, optim } = tf;
type Device = 'cpu' | 'cuda';

function smallCnn(): tf.nn.Sequential {
  tf.manualSeed(7);
  return new nn.Sequential(
    new nn.Conv2d(1, 4, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(4, 6, 3), new nn.ReLU(), new nn.Flatten(), new nn.Linear(6 * 2 * 2, 5),
  );
}

/** A seeded batch of `shape` inputs and targets in [0, classes) on `device`. */
function batch(device: Device, shape: number[], classes: number): { inputs: tf.Tensor; targets: tf.Tensor } {
  tf.manualSeed(11);
  return { inputs: tf.randn(shape).to(device), targets: tf.randint(0, classes, [shape[0]!]).to(device) };
}

/** The loss of each of `steps` training steps of a fresh seeded model on one fixed batch. */
function losses(
  device: Device, steps: number, makeModel: () => tf.nn.Module<[tf.Tensor], tf.Tensor>, shape: number[], classes: number,
  onStep?: (step: number) => void,
): number[] {
  const model = makeModel().to(device);
  const opt = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  const { inputs, targets } = batch(device, shape, classes);
  const out: number[] = [];
  for (let step = 1; step <= steps; step++) {
    out.push(tf.train.trainStep(model, opt, nn.F.crossEntropy, inputs, targets).loss);
    onStep?.(step);
  }
  return out;
}

function expectSameTrajectory(makeModel: () => tf.nn.Module<[tf.Tensor], tf.Tensor>, shape: number[], classes: number): void {
  const precision = tf.getFloat32MatmulPrecision();
  tf.setFloat32MatmulPrecision('highest');  // no TF32 on a GPU: float32 products as the cpu computes them
  try {
    const cpu = losses('cpu', 20, makeModel, shape, classes), cuda = losses('cuda', 20, makeModel, shape, classes);
    cuda.forEach((l, i) => expect(Math.abs(l - cpu[i]!), `step ${i + 1}: cuda ${l}, cpu ${cpu[i]}`).toBeLessThan(1e-4));
    expect(cuda[19]!).toBeLessThan(cuda[0]!);
  } finally {
    tf.setFloat32MatmulPrecision(precision);
  }
}

/** Host<->device copies made by fn on cuda:0. */
function transfersDuring(fn: () => void): tf.cuda.DeviceTransferStats {
  const before = tf.cuda.transferStats();
  fn();
  const after = tf.cuda.transferStats();
  return {
    uploads: after.uploads - before.uploads, uploadBytes: after.uploadBytes - before.uploadBytes,
    downloads: after.downloads - before.downloads, downloadBytes: after.downloadBytes - before.downloadBytes,
  };
}

describe.runIf(testDevices.includes('cuda'))('training on cuda', () => {
  it('LeNet-5 follows the cpu loss trajectory for 20 steps (float32, batch 4, within 1e-4)', () => {
    expectSameTrajectory(() => {
      tf.manualSeed(7);
      return tf.models.lenet5();
    }, [4, 1, 28, 28], 10);
  }, 300_000);

  it('a small ResNet (conv, batch norm, residual blocks, ReLU, pooling) follows the cpu loss trajectory for 20 steps', () => {
    expectSameTrajectory(() => {
      tf.manualSeed(7);
      return new tf.models.CifarResNet(1, 5);
    }, [4, 3, 16, 16], 5);
  }, 300_000);

  it('device memory after step 1,000 equals memory after step 10, with no dispose() in the loop', () => {
    let at10 = -1, at1000 = -1;
    losses('cuda', 1000, smallCnn, [6, 1, 8, 8], 5, (step) => {
      if (step === 10) at10 = tf.cuda.memoryAllocated();
      if (step === 1000) at1000 = tf.cuda.memoryAllocated();
    });
    expect(at10).toBeGreaterThan(0);
    expect(at1000).toBe(at10);
  }, 300_000);
});

/**
 * A model whose forward and backward use only the families with CUDA kernels on this branch (elementwise,
 * reductions, the fused losses): per-feature scale and shift of the inputs as logits. With the optimizer's
 * multi-tensor update and clipGradNorm on the device, a step needs no host copy at all.
 */
class ScaleShift extends nn.Module<[tf.Tensor], tf.Tensor> {
  readonly scale: tf.nn.Parameter;
  readonly shift: tf.nn.Parameter;
  constructor(features: number) {
    super();
    this.scale = new nn.Parameter(tf.randn([features]));
    this.shift = new nn.Parameter(tf.randn([features]));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return x.mul(this.scale).add(this.shift);
  }
}

describe.runIf(testDevices.includes('cuda'))('a training step on cuda copies nothing the script does not read', () => {
  const optimizers: Array<[string, (params: tf.Tensor[]) => tf.optim.Optimizer<{ lr: number }>]> = [
    ['SGD nesterov', (p) => new optim.SGD(p, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-3 })],
    ['Adam amsgrad', (p) => new optim.Adam(p, { lr: 0.01, amsgrad: true })],
    ['AdamW', (p) => new optim.AdamW(p, { lr: 0.01 })],
    ['RMSprop centered', (p) => new optim.RMSprop(p, { lr: 0.01, centered: true, momentum: 0.5 })],
    ['Adagrad', (p) => new optim.Adagrad(p, { lr: 0.1 })],
  ];
  const lossFns: Array<[string, (y: tf.Tensor, t: tf.Tensor, onehot: tf.Tensor) => tf.Tensor]> = [
    ['cross-entropy (label smoothing, ignore_index)', (y, t) => nn.F.crossEntropy(y, t, { labelSmoothing: 0.1, ignoreIndex: 2 })],
    ['MSE', (y, _t, onehot) => nn.F.mseLoss(y, onehot)],
    ['BCE with logits', (y, _t, onehot) => nn.F.binaryCrossEntropyWithLogits(y, onehot)],
  ];
  for (const [optName, makeOpt] of optimizers) {
    for (const [lossName, lossFn] of lossFns) {
      it(`${optName}, ${lossName}, clipGradNorm: no transfer until the script reads the loss`, () => {
        tf.manualSeed(3);
        const model = new ScaleShift(7).to('cuda');
        const opt = makeOpt(model.parameters());
        const x = tf.randn([9, 7]).to('cuda'), t = tf.randint(0, 7, [9]).to('cuda');
        const onehot = tf.oneHot(t, 7, 'float32');
        const step = (): tf.Tensor => {
          const loss = lossFn(model.call(x), t, onehot);
          opt.zeroGrad();
          loss.backward();
          optim.clipGradNorm(model.parameters(), 0.5);
          opt.step();
          return loss;
        };
        step();  // the first step creates the optimizer state
        let loss: tf.Tensor | undefined;
        const during = transfersDuring(() => {
          loss = step();
        });
        expect(during).toEqual({ uploads: 0, uploadBytes: 0, downloads: 0, downloadBytes: 0 });
        expect(loss!.device).toBe('cuda');
        const read = transfersDuring(() => expect(Number.isFinite(loss!.item())).toBe(true));
        expect(read).toEqual({ uploads: 0, uploadBytes: 0, downloads: 1, downloadBytes: 4 });
      });
    }
  }

  it('a LeNet-5 step (conv, pool, linear, cross-entropy, Adam) copies only the loss the script reads', () => {
    tf.manualSeed(5);
    const model = tf.models.lenet5().to('cuda');
    const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
    const { inputs, targets } = batch('cuda', [4, 1, 28, 28], 10);
    const step = () => {
      const loss = nn.F.crossEntropy(model.call(inputs), targets);
      opt.zeroGrad();
      loss.backward();
      opt.step();
      return loss.item();
    };
    step();
    expect(transfersDuring(step)).toEqual({ uploads: 0, uploadBytes: 0, downloads: 1, downloadBytes: 4 });
  }, 300_000);
});

describe.runIf(testDevices.includes('cuda'))('the MNIST job on cuda', () => {
  const root = mkdtempSync(join(tmpdir(), 'tf-mnist-cuda-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /** An IDX file of random uint8 data (magic 0x00000800 | rank, big-endian dims, bytes). */
  function writeIdx(path: string, shape: number[], max: number): void {
    const count = shape.reduce((a, b) => a * b, 1);
    const out = new Uint8Array(4 + 4 * shape.length + count);
    const view = new DataView(out.buffer);
    view.setUint32(0, 0x00000800 | shape.length);
    shape.forEach((d, i) => view.setUint32(4 + 4 * i, d));
    for (let i = 0; i < count; i++) out[4 + 4 * shape.length + i] = Math.floor(Math.random() * (max + 1));
    writeFileSync(path, out);
  }

  it('trains on the device: model and batches on cuda, batches uploaded, only numbers read back', async () => {
    const dataDir = mkdtempSync(join(root, 'data-'));
    for (const [prefix, count] of [['train', 48], ['t10k', 16]] as const) {
      writeIdx(join(dataDir, `${prefix}-images-idx3-ubyte`), [count, 28, 28], 255);
      writeIdx(join(dataDir, `${prefix}-labels-idx1-ubyte`), [count], 9);
    }
    const log: string[] = [];
    let allocatedWhileTraining = 0;
    const before = tf.cuda.transferStats();
    const result = await runMnistJob({
      dataDir, outDir: join(root, 'run'), device: 'cuda', epochs: 1, batchSize: 16, validation: 16, schedule: 'none',
      log: (line) => log.push(line),
      progress: { write: () => { allocatedWhileTraining = Math.max(allocatedWhileTraining, tf.cuda.memoryAllocated()); return true; } },
    });
    const after = tf.cuda.transferStats();
    expect(log[0]).toContain('on cuda:0');
    expect(allocatedWhileTraining).toBeGreaterThan(0);
    // Two train batches, one validation and one test batch: inputs and targets of each uploaded.
    expect(after.uploads - before.uploads).toBeGreaterThanOrEqual(2 * 4);
    expect(after.uploadBytes - before.uploadBytes).toBeGreaterThanOrEqual(64 * 28 * 28 * 4);
    expect(Number.isFinite(result.testLoss)).toBe(true);
  }, 300_000);
});

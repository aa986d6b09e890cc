/**
 * Numerical guards of the training loop: a NaN loss stops trainEpoch before the optimizer step, and the
 * MNIST job with a diverging learning rate stops with a clear message without writing non-finite
 * weights over a best checkpoint. (Anomaly mode naming the op: test/tensor/autograd.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SGD } from '../../lib/optim/index.js';
import { F } from '../../lib/nn/index.js';
import { manualSeed } from '../../lib/random.js';
import { trainEpoch, NonFiniteLossError } from '../../lib/train/loop.js';
import { runMnistJob } from '../../lib/train/mnist.js';
import { loadStateDict } from '../../lib/io/checkpoint.js';
import type { Batch } from '../../lib/data/collate.js';
import type { Tensor } from '../../lib/tensor.js';
import { makeRng, type Rng } from '../util.js';
import { tinyCnn } from './fixtures/models.js';

const B = 6;

function batch(rng: Rng): Batch {
  const inputs = new Float32Array(B * 64).map(() => rng.uniform());
  return {
    inputs, inputShape: [B, 1, 8, 8],
    targets: Int32Array.from({ length: B }, () => rng.int(0, 3)),
    indices: Int32Array.from({ length: B }, (_, i) => i),
  };
}

/** A loader over fixed batches, in the shape trainEpoch takes. */
function loaderOf(batches: Batch[]): AsyncIterable<Batch> & { length: number } {
  return { length: batches.length, async *[Symbol.asyncIterator]() { yield* batches; } };
}

/**
 * Cross-entropy that turns NaN at the given (0-based) calls. The poison goes into the loss, not the
 * inputs: relu maps NaN to 0 (x > 0 ? x : 0), so a NaN pixel need not reach the loss.
 */
function lossNaNAt(...calls: number[]): (y: Tensor, t: Tensor) => Tensor {
  let call = 0;
  return (y, t) => {
    const loss = F.crossEntropy(y, t);
    return calls.includes(call++) ? loss.add(NaN) : loss;
  };
}

const snapshot = (params: { dataSync(): ArrayLike<number> }[]) => params.map((p) => Float32Array.from(p.dataSync()));

describe('trainEpoch non-finite loss', () => {
  it('throws NonFiniteLossError at the NaN batch, after the good steps and before the bad one', async () => {
    const rng = makeRng();
    manualSeed(rng.seed);
    const model = tinyCnn();
    const optimizer = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    let afterFirst: Float32Array[] = [];
    let steps = 0;
    const run = trainEpoch(model, loaderOf([batch(rng), batch(rng), batch(rng)]), optimizer, lossNaNAt(1), { epoch: 4, afterStep: () => { steps++; afterFirst = snapshot(model.parameters()); } });
    await expect(run).rejects.toThrow(NonFiniteLossError);
    await expect(run).rejects.toThrow(/training loss became NaN at epoch 4 after 6 samples/);
    expect(steps).toBe(1);
    const now = snapshot(model.parameters());
    now.forEach((p, i) => expect(p).toEqual(afterFirst[i]));
    for (const p of now) expect(p.every(Number.isFinite)).toBe(true);
  });

  it('a NaN first batch leaves the initial weights untouched', async () => {
    const rng = makeRng();
    const model = tinyCnn();
    const before = snapshot(model.parameters());
    const run = trainEpoch(model, loaderOf([batch(rng)]), new SGD(model.parameters(), { lr: 0.1 }), lossNaNAt(0));
    await expect(run).rejects.toThrow(NonFiniteLossError);
    snapshot(model.parameters()).forEach((p, i) => expect(p).toEqual(before[i]));
  });
});

/** Writes the four MNIST IDX files (28x28 random images, random labels) into dir. */
async function writeTinyMnist(dir: string, rng: Rng, train: number, test: number): Promise<void> {
  const idx = (magic: number, dims: number[], data: Uint8Array): Uint8Array => {
    const header = new DataView(new ArrayBuffer(4 + 4 * dims.length));
    header.setUint32(0, magic);
    dims.forEach((d, i) => header.setUint32(4 + 4 * i, d));
    const out = new Uint8Array(header.byteLength + data.length);
    out.set(new Uint8Array(header.buffer));
    out.set(data, header.byteLength);
    return out;
  };
  for (const [prefix, n] of [['train', train], ['t10k', test]] as const) {
    const images = new Uint8Array(n * 784).map(() => rng.int(0, 255));
    const labels = new Uint8Array(n).map(() => rng.int(0, 9));
    await writeFile(join(dir, `${prefix}-images-idx3-ubyte`), idx(0x00000803, [n, 28, 28], images));
    await writeFile(join(dir, `${prefix}-labels-idx1-ubyte`), idx(0x00000801, [n], labels));
  }
}

describe('runMnistJob with a diverging learning rate', () => {
  const job = { epochs: 3, optimizer: 'adam', lr: 1e8, schedule: 'none', validation: 20, seed: 3, patience: 5 } as const;

  it('stops with a clear message and leaves an existing best checkpoint as it was', async () => {
    const rng = makeRng();
    const dir = await mkdtemp(join(tmpdir(), 'tf-nan-job-'));
    try {
      await writeTinyMnist(dir, rng, 100, 20);
      const previous = new TextEncoder().encode('previous best checkpoint');
      await writeFile(join(dir, 'best.safetensors'), previous);
      const lines: string[] = [];
      const run = runMnistJob({ ...job, batchSize: 20, dataDir: dir, outDir: dir, log: (l) => lines.push(l) });
      await expect(run).rejects.toThrow(/no epoch finished with a finite loss/);
      expect(lines.join('\n')).toMatch(/training loss became (NaN|-?Infinity) at epoch 1 .*try a lower --lr/);
      expect(await readFile(join(dir, 'best.safetensors'))).toEqual(Buffer.from(previous));
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it('when divergence comes after a finished epoch, the saved best checkpoint holds finite weights', async () => {
    const rng = makeRng();
    const dir = await mkdtemp(join(tmpdir(), 'tf-nan-job-'));
    try {
      await writeTinyMnist(dir, rng, 60, 20);
      const lines: string[] = [];
      // One batch per epoch: epoch 1 ends after a single (finite) step; epoch 2 diverges.
      const result = await runMnistJob({ ...job, batchSize: 40, dataDir: dir, outDir: dir, log: (l) => lines.push(l) });
      expect(lines.join('\n')).toMatch(/training loss became (NaN|-?Infinity) at epoch 2 .*best checkpoint so far \(epoch 1\) is kept/);
      expect(result.epochsRun).toBe(1);
      const state = await loadStateDict(join(dir, 'best.safetensors'));
      for (const [key, t] of Object.entries(state)) {
        expect(Array.from(t.dataSync()).every(Number.isFinite), `${key} has non-finite values`).toBe(true);
      }
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});

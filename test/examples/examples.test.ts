/**
 * Every example runs end to end as a user runs it (a child Node process through tsx) on a handful of
 * samples (--limit), exits 0, ends with its summary line and writes its files.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = mkdtempSync(join(tmpdir(), 'tf-examples-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  /** The last line of stdout. */
  last: string;
}

/** Runs examples/<name>.ts with `args` and --out <a fresh folder>; resolves with its status and output. */
function example(name: string, ...args: string[]): Promise<Run> {
  return new Promise((done) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', join(root, 'examples', `${name}.ts`), '--out', join(out, name), ...args],
      { cwd: root, timeout: 90_000 },
      (_, stdout, stderr) => done({ status: child.exitCode, stdout, stderr, last: stdout.trimEnd().split('\n').at(-1) ?? '' }),
    );
  });
}

const SUMMARY = /^test accuracy \d+\.\d\d% \(loss \d+\.\d{4}\) \| \d+ images\/s training \| wall time \d+:\d\d$/;

describe('examples', () => {
  it('mnist-lenet trains, keeps the best checkpoint and the curves, and reports test accuracy', async () => {
    const run = await example('mnist-lenet', '--epochs', '1', '--limit', '300');
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('LeNet-5, 61706 parameters: 270 train / 30 val / 300 test images');
    expect(run.last).toMatch(SUMMARY);
    expect(existsSync(join(out, 'mnist-lenet', 'best.safetensors'))).toBe(true);
    expect(readFileSync(join(out, 'mnist-lenet', 'curves.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>$/);
  });

  it('mnist-mlp trains the 784-256-128-10 MLP and reports test accuracy', async () => {
    const run = await example('mnist-mlp', '--epochs', '1', '--limit', '300');
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain(`MLP 784-256-128-10, ${784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10} parameters: 270 train / 30 val / 300 test images`);
    expect(run.last).toMatch(SUMMARY);
    expect(existsSync(join(out, 'mnist-mlp', 'mlp.safetensors'))).toBe(true);
  });

  it('mnist-autoencoder lowers its loss and writes the noisy/denoised/clean grid', async () => {
    const run = await example('mnist-autoencoder', '--epochs', '2', '--limit', '256');
    expect(run.status, run.stderr).toBe(0);
    const losses = [...run.stdout.matchAll(/^epoch \d+ train loss (\d+\.\d+)$/gm)].map((m) => Number(m[1]));
    expect(losses).toHaveLength(2);
    expect(losses[1]).toBeLessThan(losses[0]!);
    expect(run.last).toMatch(/^test MSE to the clean digits: noisy input \d+\.\d+, denoised \d+\.\d+ \| \d+ images\/s training \| wall time \d+:\d\d$/);
    const pgm = readFileSync(join(out, 'mnist-autoencoder', 'denoising.pgm'));
    const header = 'P5\n240 90\n255\n';
    expect(pgm.subarray(0, header.length).toString('latin1')).toBe(header);
    expect(pgm.length).toBe(header.length + 240 * 90);
  });

  it('cifar-resnet trains a ResNet on synthetic CIFAR-format data when no --data is given, and says so', async () => {
    const run = await example('cifar-resnet', '--epochs', '1', '--limit', '48', '--synthetic-train', '48', '--synthetic-test', '24', '--batch-size', '16');
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^no --data given: wrote a SYNTHETIC CIFAR-10-format data set \(48 train \/ 24 test images/);
    expect(run.stdout).toContain('ResNet-8, ');
    expect(run.last).toMatch(SUMMARY);
    expect(existsSync(join(out, 'cifar-resnet', 'resnet8.safetensors'))).toBe(true);
  });

  it('transfer-learning freezes the body, trains a new head, then fine-tunes with two parameter groups', async () => {
    const run = await example('transfer-learning', '--limit', '300', '--target-samples', '100', '--target-epochs', '1');
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain(`trainable parameters with the body frozen: ${84 * 5 + 5} of `);
    expect(run.last).toMatch(/^digits 5-9 test accuracy: head only \d+\.\d\d%, fine-tuned \d+\.\d\d% \| \d+ images\/s training \| wall time \d+:\d\d$/);
    expect(existsSync(join(out, 'transfer-learning', 'lenet5-digits5to9.safetensors'))).toBe(true);
  });

  it('a bad flag prints the error and the usage and exits 1', async () => {
    const run = await example('mnist-mlp', '--epochs', '0');
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^--epochs must be an integer >= 1, got '0'\nusage: npx tsx examples\/mnist-mlp\.ts/);
  });
});

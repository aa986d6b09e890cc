/**
 * The tensorforge command line, run as a child process the way a user runs it (through tsx, so no
 * build is needed): usage, backend info, and flag errors that fail fast with exit status 1.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Runs the CLI with `args`; resolves with its exit status and output. */
function cli(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = execFile(process.execPath, ['--import', 'tsx', join(root, 'lib', 'cli.ts'), ...args], { cwd: root, timeout: 30_000 }, (_, stdout, stderr) =>
      done({ status: child.exitCode, stdout, stderr }));
  });
}

// Each case is a separate Node process whose start dominates; they run side by side.
describe.concurrent('tensorforge CLI', () => {
  it('prints the usage with the commands and train options, with or without --help', async () => {
    const argLists = [[], ['--help'], ['train', '--help']];
    const runs = await Promise.all(argLists.map((args) => cli(...args)));
    for (const [k, run] of runs.entries()) {
      expect(run.status, `${argLists[k]!.join(' ')}: ${run.stderr}`).toBe(0);
      expect(run.stdout).toMatch(/^usage: tensorforge <command> \[options\]/);
      expect(run.stdout).toContain('train   train LeNet-5 on MNIST');
      expect(run.stdout).toContain('info    print the backend');
      for (const flag of ['--epochs', '--batch-size', '--optimizer', '--lr', '--schedule', '--seed', '--out', '--threads', '--augment', '--patience', '--logdir']) {
        expect(run.stdout).toContain(flag);
      }
    }
  });

  it('info prints backendInfo as JSON', async () => {
    const run = await cli('info');
    expect(run.status, run.stderr).toBe(0);
    const info = JSON.parse(run.stdout);
    expect(info.packageVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(typeof info.gemm.backend).toBe('string');
    expect(info.gemm.threads).toBeGreaterThanOrEqual(1);
    expect(Array.isArray(info.cuda.devices)).toBe(true);
    if (info.cuda.devices.length === 0) expect(info.cuda.reason).toMatch(/\S/);
  });

  it("--version and -v print package.json's version", async () => {
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    for (const run of await Promise.all([cli('--version'), cli('-v')])) {
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toBe(`${version}\n`);
    }
  });

  it.each([
    [['train', '--epochs', '-1'], /--epochs/],
    [['train', '--epochs=-1'], /^tensorforge: --epochs must be a decimal integer >= 1, got '-1'$/m],
    [['train', '--epochs', '0'], /^tensorforge: --epochs must be a decimal integer >= 1, got '0'$/m],
    [['train', '--threads', '0'], /^tensorforge: --threads must be a decimal integer >= 1, got '0'$/m],
    [['train', '--lr', '0'], /^tensorforge: --lr must be a decimal number > 0, got '0'$/m],
    [['train', '--optimizer', 'foo'], /^tensorforge: --optimizer must be one of adam, adamw, sgd, rmsprop, got 'foo'$/m],
    [['train', '--lr', 'fast'], /^tensorforge: --lr must be a decimal number > 0, got 'fast'$/m],
    [['train', '--bogus'], /^tensorforge train: Unknown option '--bogus'/m],
    [['fly'], /^tensorforge: unknown command 'fly'$/m],
    [['train', '--validation', '60000', '--out', join(tmpdir(), 'tf-cli-validation')], /^tensorforge train: validation 60000 must be smaller than the 60000 training images$/m],
    // numbers are decimal: Number() would take hex, octal, binary, Infinity and surrounding spaces
    [['train', '--epochs=0x10'], /^tensorforge: --epochs must be a decimal integer >= 1, got '0x10'$/m],
    [['train', '--epochs', '0b11'], /^tensorforge: --epochs must be a decimal integer >= 1, got '0b11'$/m],
    [['train', '--batch-size', '1e3'], /^tensorforge: --batch-size must be a decimal integer >= 1, got '1e3'$/m],
    [['train', '--seed', ' 7 '], /^tensorforge: --seed must be a decimal integer >= 0, got ' 7 '$/m],
    [['train', '--seed', '99999999999999999999'], /^tensorforge: --seed must be a decimal integer >= 0, got '99999999999999999999'$/m],
    [['train', '--lr', 'Infinity'], /^tensorforge: --lr must be a decimal number > 0, got 'Infinity'$/m],
    [['train', '--lr', 'NaN'], /^tensorforge: --lr must be a decimal number > 0, got 'NaN'$/m],
    [['train', '--lr', '0x1'], /^tensorforge: --lr must be a decimal number > 0, got '0x1'$/m],
    [['train', '--lr', '0.1abc'], /^tensorforge: --lr must be a decimal number > 0, got '0.1abc'$/m],
    [['train', '--weight-decay', '1e-4x'], /^tensorforge: --weight-decay must be a decimal number >= 0, got '1e-4x'$/m],
    [['train', '--out', ''], /^tensorforge train: the output folder \(--out\) must be a non-empty path, got ""$/m],
    [['train', '--out', '/proc/123456789/run'], /^tensorforge train: output folder \/proc\/123456789\/run cannot be written \(ENOENT/m],
    [['train', '--batch-size', '100000000', '--out', join(tmpdir(), 'tf-cli-batch')],
      /^tensorforge train: batch size 100000000 exceeds the 55000 training images \(60000 less 5000 for validation\)$/m],
  ])('%j fails with a clear message and exit status 1', async (args, message) => {
    const run = await cli(...args);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
  });
});

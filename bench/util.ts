/**
 * Shared benchmark helpers: timing discipline, inputs, the C programs the bench compiles (direct OpenBLAS and
 * plain-loop baselines, the machine's limits), peer processes that answer JSON lines, the conv case list, tables.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Pair, Shape4 } from '../lib/bindings/conv.js';

export const benchDir = dirname(fileURLToPath(import.meta.url));
export const outDir = join(benchDir, 'out');

/** Best wall time in seconds of `fn` over `reps` runs after one warm-up run. */
export function bestSeconds(fn: () => void, reps: number): number {
  return measure(fn, reps).best;
}

/** Seconds per run: median, best, and spread = (slowest − fastest) / median. */
export interface Timing {
  median: number;
  best: number;
  spread: number;
  runs: number;
}

/** Times `reps` runs of `fn` after `warmup` untimed ones. */
export function measure(fn: () => void, reps: number, warmup = 1): Timing {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return summarize(times);
}

/** Median, best and spread of a list of run times. */
export function summarize(times: number[]): Timing {
  const sorted = [...times].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, best: sorted[0]!, spread: (sorted.at(-1)! - sorted[0]!) / median, runs: sorted.length };
}

/** The better (lower median) of two timings of the same work, e.g. from alternating rounds. */
export function better(a: Timing | undefined, b: Timing): Timing {
  return a && a.median <= b.median ? a : b;
}

export type Workload = 'mlp' | 'lenet5' | 'resnet20' | 'block';
/** train: a full step with the optimizer; grad: forward and backward only; infer: an eval-mode forward. */
export type E2eMode = 'train' | 'grad' | 'infer';

/** An end-to-end request, the same for every runner (bench/e2e.ts describes the workloads). */
export interface E2eRequest {
  workload: Workload;
  mode: E2eMode;
  batch: number;
  threads: number;
  /** Target seconds per timed group of steps. */
  seconds: number;
  reps: number;
  /** Where the model and the batch live (default cpu). */
  device?: 'cpu' | 'cuda';
  /** float32 matmuls and convolutions on TF32 tensor cores (ours: setFloat32MatmulPrecision('high')); default off. */
  tf32?: boolean;
  /** Untimed steps before the first one (default 0): on a GPU the first calls load kernels and pick algorithms. */
  warmup?: number;
}

export interface E2eResult {
  imagesPerSecond: number;
  best: number;
  spread: number;
}

/** How timeGroups times: target seconds per group, groups, untimed calls first, what runs before each clock read. */
export interface GroupTiming {
  seconds: number;
  reps: number;
  warmup?: number;
  sync?: () => void;
}

/**
 * Seconds per call of `step`: `warmup` untimed calls, a call timed only to size the groups to about
 * `seconds` each (at least one call), then `reps` timed groups (one when a single call exceeds all of them,
 * reps × seconds: a TF.js ResNet step takes minutes).
 * `sync` runs before every clock read, so that work queued on a GPU is counted in the group that queued it.
 */
export function timeGroups(step: () => void, { seconds, reps, warmup = 0, sync = () => {} }: GroupTiming): Timing & { calls: number } {
  for (let i = 0; i < warmup; i++) step();
  const group = (calls: number): number => {
    sync();
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) step();
    sync();
    return (performance.now() - t0) / 1000;
  };
  const first = group(1);
  const calls = Math.max(1, Math.round(seconds / first));
  const t = summarize(Array.from({ length: first > reps * seconds ? 1 : reps }, () => group(calls) / calls));
  return { ...t, calls };
}

/** Images per second of `step` on a batch, timed by timeGroups with the request's seconds, reps and warm-up. */
export function timeSteps(step: () => void, req: E2eRequest, sync?: () => void): E2eResult {
  const t = timeGroups(step, { ...req, sync });
  return { imagesPerSecond: req.batch / t.median, best: req.batch / t.best, spread: t.spread };
}

/** Uniform values in [-1, 1): never all zeros, so no kernel gets a shortcut. */
export function randomFloats(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() * 2 - 1;
  return a;
}

/** Bytes of the last-level cache of cpu0 (sysfs), or 32 MiB when unknown. */
export function lastLevelCacheBytes(): number {
  const base = '/sys/devices/system/cpu/cpu0/cache';
  let bytes = 0;
  for (let i = 0; existsSync(`${base}/index${i}`); i++) {
    const m = /^(\d+)([KMG]?)/.exec(readFileSync(`${base}/index${i}/size`, 'utf8').trim());
    if (m) bytes = Math.max(bytes, Number(m[1]) * ({ '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 } as Record<string, number>)[m[2]!]!);
  }
  return bytes || 32 << 20;
}

/**
 * Input sets to cycle through so that consecutive calls do not find their operands in cache: enough sets
 * of `bytesEach` to cover twice the last-level cache (at most 16), or one set when a set alone exceeds it.
 * Returns a function giving the next set.
 */
export function rotating<T>(bytesEach: number, make: () => T): () => T {
  const count = Math.min(16, Math.max(1, Math.ceil((2 * lastLevelCacheBytes()) / bytesEach)));
  const sets = Array.from({ length: count }, make);
  let i = 0;
  return () => sets[i++ % count]!;
}

/** Compiles bench/native/<name>.c into bench/out/ when the source is newer than the binary; returns the binary's path. */
function compileNative(name: string, flags: string[]): string {
  const src = join(benchDir, 'native', `${name}.c`), exe = join(outDir, name);
  if (!existsSync(exe) || statSync(exe).mtimeMs < statSync(src).mtimeMs) {
    mkdirSync(outDir, { recursive: true });
    execFileSync('gcc', ['-O3', '-o', exe, src, ...flags, '-lpthread', '-lm']);
  }
  return exe;
}

/**
 * Compiles bench/native/direct.c (same -O3 as the addon, static OpenBLAS, OpenMP for the threaded plain
 * loops) and returns a runner, or null when OpenBLAS is not installed.
 */
export function directBaseline(): ((...args: Array<string | number>) => string) | null {
  const lib = ['/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.a'].find(existsSync);
  const include = ['/usr/include/x86_64-linux-gnu/openblas-pthread', '/usr/include/openblas'].find(existsSync);
  if (!lib || !include) return null;
  const exe = compileNative('direct', ['-fopenmp', `-I${include}`, lib]);
  return (...args) => execFileSync(exe, args.map(String), { encoding: 'utf8', env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' } }).trim();
}

/** The machine's measured limits (bench/native/limits.c): fp32 FMA peak in GFLOP/s, copy bandwidth in GB/s. */
export interface CpuLimits {
  isa: string;
  cores: number;
  peakPerCore: number;
  peakAllCores: number;
  copyOneThread: number;
  copyAllThreads: number;
}

export function measureCpuLimits(reps: number): CpuLimits {
  return JSON.parse(execFileSync(compileNative('limits', []), ['limits', String(reps)], { encoding: 'utf8' })) as CpuLimits;
}

/** A child process answering one JSON line per JSON-line request. */
export interface LineServer {
  request<T>(req: object): Promise<T>;
  close(): void;
}

/**
 * Starts `command args` as a JSON-lines server. Resolves to null when it cannot answer `probe` (not
 * installed, import error): the caller reports that peer as absent, with `reason`.
 */
export async function startLineServer(
  command: string, args: string[], probe: object, env: Record<string, string> = {},
): Promise<{ server: LineServer | null; reason: string }> {
  if (command.startsWith('/') && !existsSync(command)) return { server: null, reason: `${command} not found` };
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  child.on('error', (e) => (stderr += e.message));
  child.stdin.on('error', () => {});
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const close = (): void => void child.kill();
  process.on('exit', close);
  const server: LineServer = {
    async request<T>(req: object): Promise<T> {
      child.stdin.write(JSON.stringify(req) + '\n');
      const next = await lines.next();
      if (next.done) throw new Error(`${command} exited: ${stderr.trim().split('\n').at(-1) ?? ''}`);
      const answer = JSON.parse(next.value) as T & { error?: string };
      if (answer.error) throw new Error(answer.error);
      return answer;
    },
    close,
  };
  try {
    await server.request(probe);
    return { server, reason: '' };
  } catch (e) {
    close();
    return { server: null, reason: (e as Error).message };
  }
}

/** A conv2d workload: input x [N, C, H, W], weight w [K, C, R, S]. */
export interface ConvCase {
  name: string;
  x: Shape4;
  w: Shape4;
  stride: Pair;
  padding: Pair;
}

/** The standard conv shapes (CIFAR ResNet stem and stages, a ResNet-50 stage, LeNet, a 1×1 bottleneck). */
export const convCases: ConvCase[] = [
  { name: '[64,64,32,32]x[64,64,3,3] p1', x: [64, 64, 32, 32], w: [64, 64, 3, 3], stride: [1, 1], padding: [1, 1] },
  { name: '[64,3,32,32]x[16,3,3,3] p1', x: [64, 3, 32, 32], w: [16, 3, 3, 3], stride: [1, 1], padding: [1, 1] },
  { name: '[32,256,14,14]x[256,256,3,3] p1', x: [32, 256, 14, 14], w: [256, 256, 3, 3], stride: [1, 1], padding: [1, 1] },
  { name: 'LeNet [64,1,28,28]x[6,1,5,5]', x: [64, 1, 28, 28], w: [6, 1, 5, 5], stride: [1, 1], padding: [0, 0] },
  { name: '1x1 [64,256,14,14]x[64,256,1,1]', x: [64, 256, 14, 14], w: [64, 256, 1, 1], stride: [1, 1], padding: [0, 0] },
];

/** Prints rows as an aligned table. */
export function printTable(header: string[], rows: Array<Array<string | number>>): void {
  const cells = [header, ...rows.map((r) => r.map(formatCell))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => String(r[i]).length)));
  for (const r of cells) console.log(r.map((c, i) => String(c).padStart(widths[i]!)).join('  '));
}

/** Integers as they are, other numbers with 3 significant digits (at least 0 decimals). */
export function formatCell(c: string | number): string {
  if (typeof c !== 'number') return c;
  if (Number.isInteger(c) || !Number.isFinite(c)) return String(c);
  return c.toFixed(Math.max(0, 2 - Math.floor(Math.log10(Math.abs(c) || 1))));
}

export function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

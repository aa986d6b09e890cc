/**
 * conv2d throughput: GFLOP/s (2*N*K*(C/g)*R*S*P*Q per pass) of forward, backward-data and backward-weight,
 * next to sgemm at the same M = K, N = N*P*Q, K = C*R*S and, when /usr/bin/python3 has torch, PyTorch on the
 * same shapes (bench/conv_ref.py), measured alternately. Best of several runs after a warm-up.
 *
 *   npx tsx bench/conv.ts [--threads 1|2] [--quick]
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { native } from '../lib/native.js';
import type { Pair, Shape4 } from '../lib/bindings/conv.js';

interface Case {
  name: string;
  x: Shape4;
  w: Shape4;
  stride: Pair;
  padding: Pair;
}
type Pass = 'forward' | 'backwardData' | 'backwardWeight';
const passes: Pass[] = ['forward', 'backwardData', 'backwardWeight'];

const cases: Case[] = [
  { name: '[64,64,32,32]x[64,64,3,3] p1', x: [64, 64, 32, 32], w: [64, 64, 3, 3], stride: [1, 1], padding: [1, 1] },
  { name: '[64,3,32,32]x[16,3,3,3] p1', x: [64, 3, 32, 32], w: [16, 3, 3, 3], stride: [1, 1], padding: [1, 1] },
  { name: '[32,256,14,14]x[256,256,3,3] p1', x: [32, 256, 14, 14], w: [256, 256, 3, 3], stride: [1, 1], padding: [1, 1] },
  { name: 'LeNet [64,1,28,28]x[6,1,5,5]', x: [64, 1, 28, 28], w: [6, 1, 5, 5], stride: [1, 1], padding: [0, 0] },
  { name: '1x1 [64,256,14,14]x[64,256,1,1]', x: [64, 256, 14, 14], w: [64, 256, 1, 1], stride: [1, 1], padding: [0, 0] },
];

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const threadArg = args.indexOf('--threads');
const threadCounts = threadArg >= 0 ? [Number(args[threadArg + 1])] : [1, 2];
const rounds = quick ? 2 : 4;
const reps = quick ? 2 : 4;

function bestSeconds(fn: () => void, n: number): number {
  fn();
  let best = Infinity;
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return best;
}

function random(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() * 2 - 1;
  return a;
}

/** The tensorforge runs of one case, closures over preallocated buffers. */
function prepare(c: Case): { flops: number; run: Record<Pass | 'sgemm', () => void> } {
  const dil: Pair = [1, 1];
  const yShape = native.conv2dOutputShape(c.x, c.w, c.stride, c.padding, dil, 1);
  const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const x = random(numel(c.x)), w = random(numel(c.w)), dy = random(numel(yShape));
  const y = new Float32Array(numel(yShape)), dx = new Float32Array(x.length), dw = new Float32Array(w.length);
  const [N, K, P, Q] = yShape;
  const M = K, Ng = N * P * Q, Kg = c.w[1] * c.w[2] * c.w[3];
  const A = random(M * Kg), B = random(Kg * Ng), C = new Float32Array(M * Ng);
  return {
    flops: 2 * M * Ng * Kg,
    run: {
      forward: () => native.conv2dForward(x, c.x, w, c.w, null, y, c.stride, c.padding, dil, 1),
      backwardData: () => native.conv2dBackwardData(dy, w, c.w, dx, c.x, c.stride, c.padding, dil, 1),
      backwardWeight: () => native.conv2dBackwardWeight(x, c.x, dy, dw, c.w, null, c.stride, c.padding, dil, 1),
      sgemm: () => native.gemm(1, false, false, M, Ng, Kg, 1, A, 0, Kg, 0, B, 0, Ng, 0, 0, C, 0, Ng, 0),
    },
  };
}

/** A persistent python3 running bench/conv_ref.py, or null when torch is missing. */
function startTorch(): ((req: object) => Promise<number>) | null {
  const script = fileURLToPath(new URL('./conv_ref.py', import.meta.url));
  if (!existsSync('/usr/bin/python3')) return null;
  const child = spawn('/usr/bin/python3', [script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  child.stdin.on('error', () => {});
  process.on('exit', () => child.kill());
  return async (req) => {
    child.stdin.write(JSON.stringify(req) + '\n');
    const next = await lines.next();
    if (next.done) throw new Error('conv_ref.py exited (is torch installed for /usr/bin/python3?)');
    return (JSON.parse(next.value) as { seconds: number }).seconds;
  };
}

async function main(): Promise<void> {
  let torch = startTorch();
  if (torch) {
    try {
      await torch({ x: [1, 1, 4, 4], w: [1, 1, 3, 3], stride: [1, 1], padding: [0, 0], groups: 1, pass: 'forward', threads: 1, reps: 1 });
    } catch {
      torch = null;
    }
  }
  const info = native.backendInfo();
  console.log(`gemm: ${info.gemm.backend} (${info.gemm.detail}); ${rounds} rounds x best of ${reps}${torch ? ', vs PyTorch' : ', no PyTorch'}`);
  const gf = (flops: number, s: number) => (flops / s / 1e9).toFixed(1).padStart(6);
  for (const threads of threadCounts) {
    native.setNumThreads(threads);
    console.log(`\n--- ${threads} thread(s): GFLOP/s (ours / PyTorch = ratio), sgemm at the same M,N,K`);
    console.log(`${'case'.padEnd(34)} ${'sgemm'.padStart(6)}  ${passes.map((p) => p.padEnd(24)).join(' ')}`);
    for (const c of cases) {
      const { flops, run } = prepare(c);
      const ours: Record<string, number> = {}, theirs: Record<string, number> = {};
      for (let r = 0; r < rounds; r++) {
        for (const pass of [...passes, 'sgemm'] as const) {
          ours[pass] = Math.min(ours[pass] ?? Infinity, bestSeconds(run[pass], reps));
          if (torch && pass !== 'sgemm') {
            const t = await torch({ x: c.x, w: c.w, stride: c.stride, padding: c.padding, groups: 1, pass, threads, reps });
            theirs[pass] = Math.min(theirs[pass] ?? Infinity, t);
          }
        }
      }
      const cells = passes.map((p) => {
        const mine = gf(flops, ours[p]!);
        return torch ? `${mine} /${gf(flops, theirs[p]!)} =${(theirs[p]! / ours[p]!).toFixed(2).padStart(5)}` : mine;
      });
      console.log(`${c.name.padEnd(34)} ${gf(flops, ours.sgemm!)}  ${cells.map((s) => s.padEnd(24)).join(' ')}`);
    }
  }
  process.exit(0);
}

await main();

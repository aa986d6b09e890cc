/**
 * Operator benchmarks. Matmul, elementwise, reductions and the tiny-op overhead go through the public Tensor
 * API (what a user pays, allocation of the result included); conv2d, pooling and batch norm call the kernels
 * through the binding on preallocated buffers, forward and backward separately. Each row carries its work
 * (flops or minimal bytes moved) so that it can be put against the machine's limit.
 */
import * as tf from '../lib/index.js';
import { native } from '../lib/native.js';
import type { Pair, Shape4 } from '../lib/bindings/conv.js';
import { convCases, measure, randomFloats, rotating, type ConvCase, type Timing } from './util.js';

export type ConvPass = 'forward' | 'backwardData' | 'backwardWeight';
export const convPasses: ConvPass[] = ['forward', 'backwardData', 'backwardWeight'];

const numel = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** The kernel runs of one conv case over preallocated buffers, and sgemm at the conv's M = K, N = N·P·Q, K = C·R·S. */
export function prepareConv(c: ConvCase): { flops: number; run: Record<ConvPass | 'sgemm', () => void> } {
  const dil: Pair = [1, 1];
  const yShape = native.conv2dOutputShape(c.x, c.w, c.stride, c.padding, dil, 1);
  const x = randomFloats(numel(c.x)), w = randomFloats(numel(c.w)), dy = randomFloats(numel(yShape));
  const y = new Float32Array(numel(yShape)), dx = new Float32Array(x.length), dw = new Float32Array(w.length);
  const [N, K, P, Q] = yShape;
  const M = K, Ng = N * P * Q, Kg = c.w[1] * c.w[2] * c.w[3];
  const A = randomFloats(M * Kg), B = randomFloats(Kg * Ng), C = new Float32Array(M * Ng);
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

/** What an op bench is measured against: compute (GFLOP/s vs fp32 peak), memory (GB/s vs copy bandwidth), or latency. */
export type Bound = 'compute' | 'memory' | 'latency';

export interface OpCase {
  group: string;
  name: string;
  bound: Bound;
  /** flops (compute) or bytes (memory) per run; 1 for latency. */
  work: number;
  run: () => void;
  /** A directly-compiled C baseline of the same work: its rate in the same unit, and what it is. */
  baseline?: { label: string; rate: () => number };
}

/** A plain closure for the Tensor API: each call computes and drops the result. */
const discard = (f: () => tf.Tensor): (() => void) => () => void f();

export interface OpOptions {
  quick: boolean;
  threads: number;
  /** The direct C baselines, or null without OpenBLAS. */
  direct: ((...args: Array<string | number>) => string) | null;
}

/** The op cases at the current thread count; inputs are built lazily by each case's first run. */
export function opCases({ quick, threads, direct }: OpOptions): OpCase[] {
  const cases: OpCase[] = [];
  const directRate = (...args: Array<string | number>) => () => Number(direct!(...args).split(' ')[0]);

  const gemmShapes: Array<[number, number, number, string]> = [
    ...(quick ? [256, 1024] : [256, 512, 1024, 2048]).map((n): [number, number, number, string] => [n, n, n, `${n}³`]),
    [16384, 64, 256, 'tall 16384x256·256x64'],
    [64, 4096, 1024, 'wide 64x1024·1024x4096'],
    // the bench MLP's layers at batch 64 (784-256-10, and the deeper MLP's 256-256)
    [64, 256, 784, 'MLP 64x784·784x256'],
    [64, 256, 256, 'MLP 64x256·256x256'],
  ];
  for (const [M, N, K, name] of gemmShapes) {
    const next = rotating(4 * (M * K + K * N), () => ({ a: tf.randn([M, K]), b: tf.randn([K, N]) }));
    cases.push({
      group: 'matmul', name, bound: 'compute', work: 2 * M * N * K,
      run: discard(() => { const { a, b } = next(); return tf.matmul(a, b); }),
      baseline: direct ? { label: 'cblas_sgemm', rate: directRate('gemm', M, N, K, threads, quick ? 3 : 6) } : undefined,
    });
  }

  for (const c of quick ? [convCases[1]!, convCases[3]!] : convCases) {
    let prepared: ReturnType<typeof prepareConv> | undefined;
    for (const pass of convPasses) {
      cases.push({
        group: 'conv2d', name: `${c.name} ${pass}`, bound: 'compute',
        get work() { return (prepared ??= prepareConv(c)).flops; },
        run: () => (prepared ??= prepareConv(c)).run[pass](),
      });
    }
  }

  const act: Shape4 = [64, 64, 32, 32];
  const actBytes = 4 * numel(act);
  {
    const k: Pair = [2, 2], zero: Pair = [0, 0], one: Pair = [1, 1];
    const outShape: Shape4 = [64, 64, 16, 16];
    const x = randomFloats(numel(act)), out = new Float32Array(numel(outShape)), idx = new Int32Array(out.length);
    const dy = randomFloats(out.length), dx = new Float32Array(x.length);
    cases.push(
      { group: 'pool', name: 'maxPool2d 2x2 [64,64,32,32] forward', bound: 'memory', work: actBytes * 1.5,
        run: () => native.maxPool2dForward(x, act, out, idx, k, k, zero, one, false) },
      { group: 'pool', name: 'maxPool2d 2x2 [64,64,32,32] backward', bound: 'memory', work: actBytes * 1.5,
        run: () => native.maxPool2dBackward(dy, outShape, idx, dx, act, k, k, zero, one, false) },
    );
  }
  {
    const [N, C, H, W] = act, L = H * W;
    const x = randomFloats(numel(act)), y = new Float32Array(x.length), dy = randomFloats(x.length), dx = new Float32Array(x.length);
    const gamma = randomFloats(C), beta = randomFloats(C), rm = new Float32Array(C), rv = new Float32Array(C).fill(1);
    const mean = new Float32Array(C), invstd = new Float32Array(C), dg = new Float32Array(C), db = new Float32Array(C);
    cases.push(
      { group: 'batchnorm', name: 'batchNorm train [64,64,32,32] forward', bound: 'memory', work: actBytes * 2,
        run: () => native.batchNormForward(x, N, C, L, gamma, beta, rm, rv, 0.1, 1e-5, y, mean, invstd, false, null) },
      { group: 'batchnorm', name: 'batchNorm train [64,64,32,32] backward', bound: 'memory', work: actBytes * 3,
        run: () => native.batchNormBackward(x, dy, N, C, L, gamma, mean, invstd, true, dx, dg, db, null) },
    );
  }

  const n = 16 * 1024 * 1024;
  const a = tf.rand([n], { low: -1, high: 1 }), b = tf.rand([n], { low: -1, high: 1 });
  const ewReps = quick ? 3 : 8;
  const elementwise: Array<[string, () => tf.Tensor, number]> = [
    ['add', () => tf.add(a, b), 3], ['relu', () => tf.relu(a), 2], ['exp', () => tf.exp(a), 2],
  ];
  // Inside releaseAfter, as a training step runs (trainStep): the result's buffer is recycled, like the C
  // loop's preallocated output. The row after shows what dropping each 64 MB result on the garbage collector
  // costs instead (page faults on fresh memory, collections forced by external-memory pressure).
  for (const [op, f, arrays] of elementwise) {
    cases.push({
      group: 'elementwise', name: `${op} 16M`, bound: 'memory', work: 4 * n * arrays,
      run: () => tf.releaseAfter(() => void f()),
      baseline: direct ? { label: 'plain C loop', rate: directRate('ew', op, n, ewReps, threads) } : undefined,
    });
  }
  cases.push({ group: 'elementwise', name: 'add 16M (result left to the GC)', bound: 'memory', work: 12 * n, run: discard(elementwise[0]![1]) });
  {
    // The same add into a preallocated output through the binding: the kernel without the result's allocation.
    const out = tf.empty([n]), ids = native.binaryOps.indexOf('add');
    cases.push({
      group: 'elementwise', name: 'add 16M (binding, preallocated out)', bound: 'memory', work: 12 * n,
      run: () => native.binary(ids, [n], out.dataSync() as Float32Array, 0, [1], a.dataSync() as Float32Array, 0, [1], b.dataSync() as Float32Array, 0, [1], 1, 0),
    });
  }
  const m = tf.rand([4096, 4096], { low: -1, high: 1 });
  cases.push(
    { group: 'reduce', name: 'sum 16M → scalar', bound: 'memory', work: 4 * n, run: discard(() => tf.sum(a)) },
    { group: 'reduce', name: 'sum [4096,4096] dim 1', bound: 'memory', work: 4 * n, run: discard(() => tf.sum(m, 1)) },
    { group: 'reduce', name: 'sum [4096,4096] dim 0', bound: 'memory', work: 4 * n, run: discard(() => tf.sum(m, 0)) },
    { group: 'reduce', name: 'max [4096,4096] dim 1', bound: 'memory', work: 4 * n, run: discard(() => tf.max(m, 1).values) },
  );

  const s = tf.tensor([1.5]), t = tf.tensor([2.5]);
  cases.push({ group: 'overhead', name: 'add of two 1-element tensors', bound: 'latency', work: 1, run: discard(() => tf.add(s, t)) });
  return cases;
}

/** Runs per measurement: enough for ~0.2 s (quick ~0.08 s), between 3 and 200. */
export function timeCase(c: OpCase, quick: boolean): Timing {
  const t0 = process.hrtime.bigint();
  c.run();
  const first = Number(process.hrtime.bigint() - t0) / 1e9;
  const reps = Math.max(3, Math.min(c.bound === 'latency' ? 20000 : 200, Math.round((quick ? 0.08 : 0.2) / Math.max(first, 1e-7))));
  if (c.bound !== 'latency') return measure(c.run, reps);
  // A tiny op is timed in batches of 100 calls, per call.
  const batch = 100;
  const t = measure(() => { for (let i = 0; i < batch; i++) c.run(); }, Math.max(3, Math.round(reps / batch)));
  return { ...t, median: t.median / batch, best: t.best / batch };
}

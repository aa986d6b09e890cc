/**
 * conv2d throughput: GFLOP/s (2*N*K*(C/g)*R*S*P*Q per pass) of forward, backward-data and backward-weight,
 * next to sgemm at the same M = K, N = N*P*Q, K = C*R*S and, when /usr/bin/python3 has torch, PyTorch on the
 * same shapes (bench/conv_ref.py), measured alternately. Best of several runs after a warm-up.
 *
 *   npx tsx bench/conv.ts [--threads 1|2] [--quick]
 */
import { fileURLToPath } from 'node:url';
import { native } from '../lib/native.js';
import { bestSeconds, convCases, startLineServer } from './util.js';
import { convPasses as passes, prepareConv as prepare } from './ops.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const threadArg = args.indexOf('--threads');
const threadCounts = threadArg >= 0 ? [Number(args[threadArg + 1])] : [1, 2];
const rounds = quick ? 2 : 4;

/**
 * Lets PyTorch's OpenMP workers go idle before we time anything: with the default wait policy they keep
 * spinning for a while after each op, and on 2 cores that took half of our 2-thread speed on small kernels
 * (LeNet conv1 forward: 41 GFLOP/s timed right after a PyTorch run, 77 without one).
 */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 50));
const reps = quick ? 2 : 4;

async function main(): Promise<void> {
  const { server } = await startLineServer('/usr/bin/python3', [fileURLToPath(new URL('./conv_ref.py', import.meta.url))], {
    x: [1, 1, 4, 4], w: [1, 1, 3, 3], stride: [1, 1], padding: [0, 0], groups: 1, pass: 'forward', threads: 1, reps: 1,
  });
  const torch = server && (async (req: object) => (await server.request<{ seconds: number }>(req)).seconds);
  const info = native.backendInfo();
  console.log(`gemm: ${info.gemm.backend} (${info.gemm.detail}); ${rounds} rounds x best of ${reps}${torch ? ', vs PyTorch' : ', no PyTorch'}`);
  const gf = (flops: number, s: number) => (flops / s / 1e9).toFixed(1).padStart(6);
  for (const threads of threadCounts) {
    native.setNumThreads(threads);
    console.log(`\n--- ${threads} thread(s): GFLOP/s (ours / PyTorch = ratio), sgemm at the same M,N,K`);
    console.log(`${'case'.padEnd(34)} ${'sgemm'.padStart(6)}  ${passes.map((p) => p.padEnd(24)).join(' ')}`);
    for (const c of convCases) {
      const { flops, run } = prepare(c);
      const ours: Record<string, number> = {}, theirs: Record<string, number> = {};
      for (let r = 0; r < rounds; r++) {
        for (const pass of [...passes, 'sgemm'] as const) {
          ours[pass] = Math.min(ours[pass] ?? Infinity, bestSeconds(run[pass], reps));
          if (torch && pass !== 'sgemm') {
            const t = await torch({ x: c.x, w: c.w, stride: c.stride, padding: c.padding, groups: 1, pass, threads, reps });
            theirs[pass] = Math.min(theirs[pass] ?? Infinity, t);
            await settle();
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

/**
 * GEMM through the binding vs OpenBLAS called directly from C, square sizes, 1 and 2 threads.
 *   npx tsx bench/gemm.ts [--quick]
 */
import { native } from '../lib/native.js';
import { bestSeconds, directBaseline, printTable, randomFloats } from './util.js';

const quick = process.argv.includes('--quick');
const sizes = quick ? [256, 1024] : [256, 512, 1024, 2048];
const direct = directBaseline();
const rows: Array<Array<string | number>> = [];
for (const threads of [1, 2]) {
  native.setNumThreads(threads);
  for (const n of sizes) {
    const A = randomFloats(n * n), B = randomFloats(n * n), C = new Float32Array(n * n);
    const reps = n >= 2048 ? 3 : n >= 1024 ? 5 : 20;
    const ours = (2 * n ** 3) / bestSeconds(() => native.gemm(1, false, false, n, n, n, 1, A, 0, n, 0, B, 0, n, 0, 0, C, 0, n, 0), reps) / 1e9;
    const base = direct ? Number(direct('gemm', n, n, n, threads, reps)) : NaN;
    rows.push([threads, n, ours, base, direct ? `${((ours / base) * 100).toFixed(0)}%` : 'absent']);
  }
}
console.log(`GEMM backend: ${native.backendInfo().gemm.backend}`);
printTable(['threads', 'M=N=K', 'binding GFLOP/s', 'direct C GFLOP/s', 'binding/direct'], rows);

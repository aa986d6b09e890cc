/**
 * Concurrency: the addon driven from several worker_threads at once (each training its own seeded small CNN
 * at its own setNumThreads count, beside a neighbour thread that keeps the pool and the GEMM busy and keeps
 * setting its own count) gives bit-identical weights to the same work run sequentially at the same counts,
 * and setNumThreads is per JS thread. Runs in a child process (fixtures/threads_main.ts) so its threads stay
 * apart from the other test files'.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { native } from '../../lib/native.js';

const fixture = fileURLToPath(new URL('./fixtures/threads_main.ts', import.meta.url));

interface ThreadsReport { mainThreads: number; workerThreads: number[]; mismatches: string[] }

function runThreads(main: number, counts: number[]): ThreadsReport {
  const out = execFileSync(process.execPath, ['--import', 'tsx', fixture, String(main), counts.join(','), '5', '32'], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out.trim().split('\n').pop()!) as ThreadsReport;
}

describe('worker_threads', () => {
  for (const k of [1, 2, 3, 4]) {
    it(`3 workers on ${k} thread(s) each match sequential training bit for bit`, () => {
      const r = runThreads(k, [k, k, k]);
      expect(r.mismatches).toEqual([]);
      expect(r.workerThreads).toEqual([k, k, k]);
      expect(r.mainThreads).toBe(k);
    }, 60_000);
  }

  it('workers on 1, 2, 3 and 4 threads at once each match sequential training at their count; the main thread keeps its own', () => {
    const r = runThreads(5, [1, 2, 3, 4]);
    expect(r.mismatches).toEqual([]);
    expect(r.workerThreads).toEqual([1, 2, 3, 4]);
    expect(r.mainThreads).toBe(5);
  }, 60_000);

  it("a worker's setNumThreads leaves the caller's count alone, and a new worker starts at the default, not the caller's count", async () => {
    // The worker reports its count on arrival, sets another and reports what it and backendInfo() then see.
    const code = `const { parentPort } = require('node:worker_threads');
      import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
        .then(({ register }) => { register(); return import(${JSON.stringify(new URL('../../lib/native.ts', import.meta.url).href)}); })
        .then(({ native }) => {
          const initial = native.getNumThreads();
          native.setNumThreads(initial + 2);
          parentPort.postMessage({ initial, set: native.getNumThreads(), info: native.backendInfo().threads });
        });`;
    const probe = () => new Promise<{ initial: number; set: number; info: number }>((resolve, reject) => {
      const w = new Worker(code, { eval: true });
      w.once('message', resolve);
      w.once('error', reject);
    });
    const mine = native.getNumThreads();
    try {
      const first = await probe();
      expect(first.set).toBe(first.initial + 2);
      expect(first.info).toBe(first.set);
      expect(native.getNumThreads()).toBe(mine);
      native.setNumThreads(first.initial + 1);
      const second = await probe();
      expect(second.initial).toBe(first.initial);
      expect(native.getNumThreads()).toBe(first.initial + 1);
    } finally {
      native.setNumThreads(mine);
    }
  });

  it('setNumThreads rejects bad counts with a RangeError/TypeError and keeps the setting', () => {
    const before = native.getNumThreads();
    for (const bad of [0, -1, 1.5, NaN, 257, 2 ** 53]) expect(() => native.setNumThreads(bad)).toThrow(RangeError);
    for (const bad of ['2', null, undefined]) expect(() => native.setNumThreads(bad as never)).toThrow(TypeError);
    expect(native.getNumThreads()).toBe(before);
  });
});

/**
 * Concurrency: the addon driven from several worker_threads at once (each training its own seeded tiny
 * CNN) gives bit-identical weights to the same work run sequentially, and every thread sees the
 * process-wide setNumThreads setting. Runs in a child process (fixtures/threads_main.ts) so the thread
 * setting does not leak into other test files.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { native } from '../../lib/native.js';

const fixture = fileURLToPath(new URL('./fixtures/threads_main.ts', import.meta.url));

interface ThreadsReport { threads: number; workerThreads: number[]; identical: boolean; mismatches: string[] }

function runThreads(numThreads: number, workers: number, steps: number): ThreadsReport {
  const out = execFileSync(process.execPath, ['--import', 'tsx', fixture, String(numThreads), String(workers), String(steps)], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out.trim().split('\n').pop()!) as ThreadsReport;
}

describe('worker_threads', () => {
  for (const numThreads of [1, 3]) {
    it(`4 workers training at once match sequential training bit for bit (setNumThreads(${numThreads}))`, () => {
      const r = runThreads(numThreads, 4, 20);
      expect(r.mismatches).toEqual([]);
      expect(r.identical).toBe(true);
      expect(r.threads).toBe(numThreads);
      expect(r.workerThreads).toEqual([numThreads, numThreads, numThreads, numThreads]);
    }, 120_000);
  }

  it('setNumThreads rejects bad counts with a RangeError/TypeError and keeps the setting', () => {
    const before = native.getNumThreads();
    for (const bad of [0, -1, 1.5, NaN, 257, 2 ** 53]) expect(() => native.setNumThreads(bad)).toThrow(RangeError);
    for (const bad of ['2', null, undefined]) expect(() => native.setNumThreads(bad as never)).toThrow(TypeError);
    expect(native.getNumThreads()).toBe(before);
  });
});

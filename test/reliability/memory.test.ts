/**
 * Memory: long training loops must not grow RSS, the native per-thread scratch must stop growing once it
 * has held the largest size, and disposed tensors fail loudly wherever they reach the native layer.
 * The loops run in a child (`node --expose-gc`) so RSS is theirs alone; see fixtures/rss_loop.ts.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Adam, SGD } from '../../lib/optim/index.js';
import { F } from '../../lib/nn/index.js';
import { randn, randint } from '../../lib/creation.js';
import { tinyCnn } from './fixtures/models.js';

const fixture = fileURLToPath(new URL('./fixtures/rss_loop.ts', import.meta.url));
const LIMIT_MB = 5;

interface RssReport { mode: string; loop: string; steps: number; baseMb: number; midMb: number; endMb: number; growthMb: number }

// glibc gives each of V8's background threads its own malloc arena, and memory freed in one arena is not
// reused by another, so RSS drifts with thread scheduling (up to 13 MB seen on a loaded 2-core host);
// two arenas keep the measurement about the library, not about the scheduler.
function rssLoop(mode: 'train' | 'scratch', steps: number, loop: 'async' | 'sync'): RssReport {
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', fixture, mode, String(steps), loop], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, MALLOC_ARENA_MAX: '2' },
  });
  return JSON.parse(out.trim().split('\n').pop()!) as RssReport;
}

describe('memory', () => {
  it(`10,000 training steps (tiny CNN, Adam) grow RSS by < ${LIMIT_MB} MB`, () => {
    const r = rssLoop('train', 10_000, 'async');
    expect(r.growthMb, JSON.stringify(r)).toBeLessThan(LIMIT_MB);
  }, 120_000);

  it(`conv2d over varying sizes: the per-thread scratch stays bounded (RSS growth < ${LIMIT_MB} MB)`, () => {
    const r = rssLoop('scratch', 5_000, 'async');
    expect(r.growthMb, JSON.stringify(r)).toBeLessThan(LIMIT_MB);
  }, 120_000);

  // A loop that never awaits: nothing may keep a step's graph alive until the loop returns (a WeakRef
  // would: its target lives until the current JS job ends).
  it(`a synchronous loop of 2,000 steps also grows RSS by < ${LIMIT_MB} MB`, () => {
    const r = rssLoop('train', 2_000, 'sync');
    expect(r.growthMb, JSON.stringify(r)).toBeLessThan(LIMIT_MB);
  }, 120_000);
});

describe('dispose across modules and optimizers', () => {
  it('a disposed parameter makes forward and the optimizer step throw a clear error; dispose twice is harmless', () => {
    const model = tinyCnn();
    const x = randn([2, 1, 8, 8]), t = randint(0, 4, [2]);
    const optimizer = new Adam(model.parameters());
    F.crossEntropy(model.call(x), t).backward();
    const weight = model.parameters()[0]!;
    weight.dispose();
    weight.dispose();
    expect(weight.isDisposed).toBe(true);
    expect(() => model.call(x)).toThrow(/tensor used after dispose\(\)/);
    // dispose() drops the gradient too: a step that skipped the parameter would stop training it silently (issue 18)
    expect(weight.grad).toBeNull();
    expect(() => optimizer.step()).toThrow(/^Adam: parameter 0 of shape \[.*\] was disposed; remove it from the optimizer$/);
  });

  it('a disposed gradient or input is caught before the native call', () => {
    const model = tinyCnn();
    const x = randn([2, 1, 8, 8]), t = randint(0, 4, [2]);
    const optimizer = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    F.crossEntropy(model.call(x), t).backward();
    model.parameters()[1]!.grad!.dispose();
    expect(() => optimizer.step()).toThrow(/tensor used after dispose\(\)/);
    x.dispose();
    expect(() => model.call(x)).toThrow(/tensor used after dispose\(\)/);
  });
});

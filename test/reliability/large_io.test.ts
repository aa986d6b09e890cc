/**
 * Sizes past the 2 GiB and 4 GiB marks of Node's single calls: a checkpoint over 2 GiB saves and loads,
 * and a 4 GiB tensor allocates. They need ~4 GiB of memory and 3 GiB of disk each, too heavy for every
 * run of the suite: set TF_TEST_LARGE_IO=1 to run them. The chunking that makes them work is covered on
 * every run with tiny chunks (test/io/safetensors.test.ts), and the element limit below costs nothing.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zeros } from '../../lib/creation.js';

const large = process.env.TF_TEST_LARGE_IO === '1';

describe('large tensors and files', () => {
  it('a cpu tensor past the typed-array limit is a RangeError naming the size and the limit', () => {
    expect(() => zeros([2 ** 32 + 1], { dtype: 'bool' })).toThrow(
      new RangeError('zeros: cannot allocate a bool tensor of 4294967297 elements on the cpu: the limit is 4294967296 elements (a JavaScript typed array\'s)'));
  });

  it.runIf(large)('a 4 GiB float32 tensor (2^30 elements) allocates and computes', () => {
    const t = zeros([2 ** 30]);
    const data = t.dataSync() as Float32Array;
    data[2 ** 30 - 1] = 3;
    expect(t.sum().item()).toBe(3);
  }, 600_000);

  it.runIf(large)('a 3 GiB state dict saves and loads (one tensor of 2.5 GiB)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-large-'));
    try {
      const fixture = fileURLToPath(new URL('./fixtures/large_io.ts', import.meta.url));
      const out = execFileSync(process.execPath, ['--import', 'tsx', fixture, join(dir, 'big.safetensors'), '3'], {
        encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'],
      });
      const report = JSON.parse(out.trim().split('\n').pop()!) as { fileBytes: number; mismatches: number };
      console.log(`large_io: ${out.trim()}`);
      expect(report.fileBytes).toBeGreaterThan(3 * 2 ** 30);
      expect(report.mismatches).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});

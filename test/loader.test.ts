import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { backendInfo, getNumThreads, setNumThreads } from '../lib/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('loader and backendInfo', () => {
  it('reports versions, the GEMM in use with its threads, and CUDA devices or the reason there are none', () => {
    const info = backendInfo();
    expect(info.packageVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(info.addonVersion).toBe(info.packageVersion);
    expect(['openblas-static', 'openblas-shared', 'portable']).toContain(info.gemm.backend);
    expect(info.gemm.threads).toBeGreaterThanOrEqual(1);
    expect(info.napiVersion).toBe(8);
    expect(typeof info.cuda.compiled).toBe('boolean');
    if (info.cuda.devices.length === 0) expect(info.cuda.reason).toMatch(/\w+/);
    for (const d of info.cuda.devices) expect(d.computeCapability).toMatch(/^\d+\.\d+$/);
  });

  it('setNumThreads sets the calling thread\'s count, GEMMs included; bad counts are rejected', () => {
    const before = getNumThreads();
    setNumThreads(1);
    expect(getNumThreads()).toBe(1);
    expect(backendInfo().threads).toBe(1);
    if (backendInfo().gemm.backend !== 'portable') expect(backendInfo().gemm.threads).toBe(1);
    setNumThreads(before);
    expect(() => setNumThreads(0)).toThrow(/setNumThreads: n must be in \[1, 256\], got 0/);
    expect(() => setNumThreads(1.5)).toThrow(/setNumThreads: n must be an integer, got 1.5/);
  });

  it('a missing binary gives an error that says what to run', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', "import('./lib/native.ts')"], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, TENSORFORGE_ADDON: '/nonexistent/tensorforge.node' },
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/tensorforge: could not load the native addon for linux-x64/);
    expect(r.stderr).toMatch(/npm run build:native/);
  });
});

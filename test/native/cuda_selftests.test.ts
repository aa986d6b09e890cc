/**
 * The emulated-CUDA build's two C++ test programs, one vitest case per case they print:
 * tf_emu_selftest (the emulator itself: barriers and divergence, warp collectives, atomics, streams, red zones,
 * out of memory) and tf_cuda_kernels_test (every launcher of native/cuda/*.cu against tf::cpu, every dtype the
 * bindings dispatch). scripts/test.mjs builds both into build-emu/ beside the emulated addon; they run in the
 * 'cuda-emulated' project, in checked mode.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backendInfo } from '../../lib/index.js';

const buildDir = join(import.meta.dirname, '..', '..', 'build-emu');
const emulated = backendInfo().cuda.emulated === true;

for (const program of ['tf_emu_selftest', 'tf_cuda_kernels_test']) {
  describe.runIf(emulated)(program, () => {
    const path = join(buildDir, program);
    if (!existsSync(path)) {
      it('is built', () => expect.fail(`${path} is missing: npm test builds it (cmake --build build-emu --target ${program})`));
      return;
    }
    // The programs test the emulator's defaults (one device, 8 GiB), in checked mode.
    const { TENSORFORGE_EMU_DEVICES: _devices, TENSORFORGE_EMU_MEMORY: _memory, ...env } = process.env;
    const run = spawnSync(path, [], { encoding: 'utf8', env: { ...env, TENSORFORGE_EMU_CHECKED: '1' }, timeout: 120_000 });
    const output = `${run.stdout}${run.stderr}`;
    const cases = [...output.matchAll(/^(ok|FAIL|skip)\s+(\S.*)$/gm)];
    // A case's detail lines follow it, indented, up to the next case line.
    const detail = (index: number): string => {
      const start = cases[index]!.index! + cases[index]![0].length;
      const end = index + 1 < cases.length ? cases[index + 1]!.index! : output.length;
      return output.slice(start, end).trim();
    };
    cases.forEach(([, status, name], i) => {
      it.skipIf(status === 'skip')(name!, () => {
        if (status === 'FAIL') expect.fail(detail(i));
      });
    });
    it('exits 0 after printing its cases', () => {
      expect(cases.length, output).toBeGreaterThan(0);
      expect(run.status, output).toBe(0);
    });
  });
}

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

/** The emulated-CUDA addon (`npm run build:emu`; `npm test` builds it when it is missing or stale). */
const emulatedAddon = resolve('build-emu/Release/tensorforge.node');

/** Suites with a device axis: they run again in the 'cuda-emulated' project, on its 'cuda' column only. */
const deviceSuites = [
  'test/tensor/ops.test.ts',
  'test/tensor/device.test.ts',
  'test/tensor/safety.test.ts',
  'test/native/device.test.ts',
  'test/native/cuda_*.test.ts',
  'test/nn/infinite_logits.test.ts',
  'test/train/device.test.ts',
  'test/fuzz/device.fuzz.test.ts',
];

const env = { OPENBLAS_NUM_THREADS: '1' };

export default defineConfig({
  test: {
    pool: 'threads',
    testTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'cpu', include: ['test/**/*.test.ts'], env } },
      ...(existsSync(emulatedAddon)
        ? [{
            extends: true,
            test: {
              name: 'cuda-emulated',
              // Child processes: the emulator reads TENSORFORGE_EMU_* with getenv(), which a worker thread's
              // process.env does not reach.
              pool: 'forks' as const,
              include: deviceSuites,
              env: { ...env, TENSORFORGE_ADDON: emulatedAddon, TENSORFORGE_EMU_CHECKED: '1', TENSORFORGE_EMU_DEVICES: '2', TF_TEST_DEVICES: 'cuda' },
            },
          }]
        : []),
    ],
  },
});

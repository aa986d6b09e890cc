// Runs the vitest suite and ends with one summary line: "N passed, N failed, N skipped".
// First it builds the emulated-CUDA addon (build-emu/, TF_CUDA=EMULATE, incrementally): vitest's 'cuda-emulated'
// project runs the device suites on it, so every CUDA kernel is tested on machines without a GPU.
// TF_TEST_NO_EMULATED=1 skips that build (and so the project, when build-emu/ does not exist).
// Extra arguments go to vitest (e.g. a file filter).
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Builds (incrementally) the emulated-CUDA addon and the two C++ test programs of the emulated build
 * (test/native/cuda_selftests.test.ts runs them). Returns whether all three built.
 */
function buildEmulated() {
  console.log('building the emulated-CUDA addon and its test programs into build-emu/ (TF_CUDA=EMULATE)');
  const cmakeJs = join(root, 'node_modules', 'cmake-js', 'bin', 'cmake-js');
  const addon = spawnSync(process.execPath, [cmakeJs, 'build', '-O', 'build-emu', '--CDTF_CUDA=EMULATE'], { cwd: root, stdio: 'inherit' });
  if (addon.status !== 0) return false;
  const programs = spawnSync('cmake', ['--build', 'build-emu', '--target', 'tf_emu_selftest', 'tf_cuda_kernels_test'], { cwd: root, stdio: 'inherit' });
  return programs.status === 0;
}

const emulated = process.env.TF_TEST_NO_EMULATED === '1' || buildEmulated();
const report = join(root, '.vitest.json');
rmSync(report, { force: true });
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const run = spawnSync(
  process.execPath,
  [vitest, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NO_COLOR: process.env.NO_COLOR ?? '1' } },
);
let summary;
try {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  const failed = r.numFailedTests + (emulated ? 0 : 1);
  summary = `${r.numPassedTests} passed, ${failed} failed, ${r.numPendingTests + r.numTodoTests} skipped`;
  if (!emulated) console.log('the emulated-CUDA build failed: its device suites did not run (counted as 1 failure)');
} catch {
  summary = `0 passed, 1 failed, 0 skipped (vitest wrote no report; exit ${run.status ?? run.signal})`;
}
console.log(summary);
process.exit(emulated ? (run.status ?? 1) : 1);

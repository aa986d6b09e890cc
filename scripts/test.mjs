// Runs the vitest suite and ends with one summary line: "N passed, N failed, N skipped".
// First it builds the emulated-CUDA addon (build-emu/, TF_CUDA=EMULATE) when it is missing or older than the
// native sources: vitest's 'cuda-emulated' project runs the device suites on it, so every CUDA kernel is
// tested on machines without a GPU. TF_TEST_NO_EMULATED=1 skips that build (and so the project).
// Extra arguments go to vitest (e.g. a file filter).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Newest modification time of the files under `path` (a file or a folder). */
function newest(path) {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

function buildEmulatedAddon() {
  const addon = join(root, 'build-emu', 'Release', 'tensorforge.node');
  const sources = Math.max(newest(join(root, 'native')), newest(join(root, 'CMakeLists.txt')));
  if (existsSync(addon) && statSync(addon).mtimeMs >= sources) return true;
  console.log('building the emulated-CUDA addon into build-emu/ (TF_CUDA=EMULATE) for the device suites');
  const cmakeJs = join(root, 'node_modules', 'cmake-js', 'bin', 'cmake-js');
  const build = spawnSync(process.execPath, [cmakeJs, 'build', '-O', 'build-emu', '--CDTF_CUDA=EMULATE'], { cwd: root, stdio: 'inherit' });
  return build.status === 0;
}

const emulated = process.env.TF_TEST_NO_EMULATED === '1' || buildEmulatedAddon();
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
  if (!emulated) console.log('the emulated-CUDA addon failed to build: its device suites did not run (counted as 1 failure)');
} catch {
  summary = `0 passed, 1 failed, 0 skipped (vitest wrote no report; exit ${run.status ?? run.signal})`;
}
console.log(summary);
process.exit(emulated ? (run.status ?? 1) : 1);

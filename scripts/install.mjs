// npm install hook: use a binary that already loads (local build or shipped prebuild); otherwise build
// from source with cmake-js (the full build: OpenBLAS, CUDA when nvcc is present), or, where cmake-js is
// not installed (a consumer without prebuilds), with node-gyp and binding.gyp (CPU only).
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

function loads() {
  try {
    require('node-gyp-build')(root);
    return true;
  } catch {
    return false;
  }
}

function run(cmd, args) {
  console.log(`tensorforge: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`tensorforge: native build failed (${cmd} exited with ${r.status ?? r.signal}).`);
    process.exit(r.status ?? 1);
  }
}

if (process.env.TENSORFORGE_FORCE_BUILD !== '1' && loads()) process.exit(0);

const cmakeJs = join(root, 'node_modules', 'cmake-js', 'bin', 'cmake-js');
if (existsSync(cmakeJs)) {
  run(process.execPath, [cmakeJs, 'rebuild']);
} else {
  const nodeGyp = process.env.npm_config_node_gyp;
  const headers = join(dirname(dirname(process.execPath)), 'include', 'node');
  const nodedir = existsSync(join(headers, 'node_api.h')) ? [`--nodedir=${dirname(dirname(headers))}`] : [];
  if (nodeGyp) run(process.execPath, [nodeGyp, 'rebuild', ...nodedir]);
  else run('node-gyp', ['rebuild', ...nodedir]);
}

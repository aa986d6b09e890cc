/**
 * The only module that loads the native addon. It prefers a local build (build/Release), then the
 * prebuilt binary shipped in prebuilds/<platform>-<arch>/, through node-gyp-build.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync, readFileSync } from 'node:fs';
import type { RuntimeBinding, GemmBinding } from './bindings/runtime.js';
import type { ElementwiseBinding } from './bindings/elementwise.js';
import type { ReduceBinding } from './bindings/reduce.js';
import type { ConvBinding } from './bindings/conv.js';
import type { PoolBinding } from './bindings/pool.js';
import type { NormBinding } from './bindings/norm.js';
import type { NnBinding } from './bindings/nn.js';
import type { LossBinding } from './bindings/loss.js';
import type { OptimBinding } from './bindings/optim.js';
import type { DeviceBinding } from './bindings/device.js';

export type NativeAddon = RuntimeBinding &
  GemmBinding &
  ElementwiseBinding &
  ReduceBinding &
  ConvBinding &
  PoolBinding &
  NormBinding &
  NnBinding &
  LossBinding &
  OptimBinding &
  // absent from addons built before the device API (lib/kernels/device.ts treats that as no device)
  Partial<DeviceBinding>;

/** The package root: the folder above lib/ (sources) or dist/ (compiled). */
export const packageRoot: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('tensorforge: cannot find package.json above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
})();

export const packageVersion: string = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')).version;

function load(): NativeAddon {
  const require = createRequire(import.meta.url);
  // TENSORFORGE_ADDON names a specific .node file (a sanitizer or debug build, say).
  const explicit = process.env.TENSORFORGE_ADDON;
  try {
    if (explicit) return require(explicit) as NativeAddon;
    const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;
    return nodeGypBuild(packageRoot) as NativeAddon;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(
      `tensorforge: could not load the native addon for ${process.platform}-${process.arch} ` +
        `(Node ${process.versions.node}, N-API ${process.versions.napi}).\n` +
        `  ${reason}\n` +
        `  No prebuilt binary matched and no local build was found. Build it from source with\n` +
        `  'npm run build:native' (needs cmake and a C++17 compiler; apt-get install libopenblas-dev for fast GEMM).`,
      { cause: err },
    );
  }
}

/** The loaded addon. Raw functions validate their arguments but have no autograd or conveniences. */
export const native: NativeAddon = load();

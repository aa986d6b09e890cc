/** Shared benchmark helpers: timing discipline, inputs, the directly-compiled baselines, tables. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const benchDir = dirname(fileURLToPath(import.meta.url));

/** Best wall time in seconds of `fn` over `reps` runs after one warm-up run. */
export function bestSeconds(fn: () => void, reps: number): number {
  fn();
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return best;
}

/** Uniform values in [-1, 1): never all zeros, so no kernel gets a shortcut. */
export function randomFloats(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() * 2 - 1;
  return a;
}

/**
 * Compiles bench/native/direct.c once (same -O3 as the addon, static OpenBLAS) and returns a runner,
 * or null when OpenBLAS is not installed.
 */
export function directBaseline(): ((...args: Array<string | number>) => string) | null {
  const lib = ['/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.a'].find(existsSync);
  const include = ['/usr/include/x86_64-linux-gnu/openblas-pthread', '/usr/include/openblas'].find(existsSync);
  if (!lib || !include) return null;
  const exe = join(benchDir, 'out', 'direct');
  if (!existsSync(exe)) {
    mkdirSync(dirname(exe), { recursive: true });
    execFileSync('gcc', ['-O3', '-o', exe, join(benchDir, 'native', 'direct.c'), `-I${include}`, lib, '-lpthread', '-lm']);
  }
  return (...args) => execFileSync(exe, args.map(String), { encoding: 'utf8' }).trim();
}

/** Prints rows as an aligned table. */
export function printTable(header: string[], rows: Array<Array<string | number>>): void {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === 'number' && !Number.isInteger(c) ? c.toFixed(c >= 100 ? 0 : 1) : c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => String(r[i]).length)));
  for (const r of cells) console.log(r.map((c, i) => String(c).padStart(widths[i]!)).join('  '));
}

export function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

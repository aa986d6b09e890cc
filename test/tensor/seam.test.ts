/**
 * The device seam: lib/kernels/<family>.ts are the only modules that call the addon (and lib/native.ts,
 * which loads it). Everything above them (tensor, ops, autograd, nn, optim, io, train) reaches a device
 * only through the kernel layer, so that a device is added without touching them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const libDir = join(import.meta.dirname, '..', '..', 'lib');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []);
}

/** Module specifiers of a file's imports and re-exports: `from '...'`, side-effect and dynamic imports. */
function imports(source: string): string[] {
  const pattern = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]|(?:^|\n)\s*import\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  return [...source.matchAll(pattern)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

describe('the device seam', () => {
  it('only lib/kernels/* and lib/native.ts import the addon (native.js)', () => {
    const offenders = sources(libDir)
      .map((file) => relative(libDir, file).split('\\').join('/'))
      .filter((file) => !file.startsWith('kernels/') && file !== 'native.ts')
      .filter((file) => imports(readFileSync(join(libDir, file), 'utf8')).some((spec) => /(^|\/)native\.js$/.test(spec)));
    expect(offenders).toEqual([]);
  });

  it('tensor.ts and storage.ts import no op, autograd or nn module at run time', () => {
    for (const file of ['tensor.ts', 'storage.ts']) {
      const source = readFileSync(join(libDir, file), 'utf8');
      const runtimeImports = imports(source.replace(/(?:^|\n)\s*(?:import|export) type [^;]*;/g, ''));
      expect(runtimeImports.filter((spec) => /\/(ops|autograd|nn|optim)\//.test(spec)), file).toEqual([]);
    }
  });
});

describe('memoizedShapeRule', () => {
  it('answers a repeated question from its cache, by value, and asks the rule again for a new one', async () => {
    const { memoizedShapeRule } = await import('../../lib/kernels/runtime.js');
    const asked: string[] = [];
    const rule = memoizedShapeRule((a: readonly number[], b: readonly number[], flag: boolean) => {
      asked.push(`${a}|${b}|${flag}`);
      return [a[0]! + b[0]!, flag ? 1 : 0];
    }, 3);
    const first = rule([1, 2], [3], true);
    expect(first).toEqual([4, 1]);
    expect(Object.isFrozen(first)).toBe(true);
    expect(rule([1, 2], [3], true)).toBe(first);  // fresh arrays with equal values: a hit
    expect(rule([1, 2], [3], false)).toEqual([4, 0]);
    // the same values split differently between the arguments are another question
    expect(rule([1], [2, 3], true)).toEqual([3, 1]);
    expect(asked).toEqual(['1,2|3|true', '1,2|3|false', '1|2,3|true']);
    rule([9], [9], true);  // a fourth question evicts the oldest of three
    rule([1, 2], [3], true);
    expect(asked.length).toBe(5);
  });

  it('does not cache errors', async () => {
    const { memoizedShapeRule } = await import('../../lib/kernels/runtime.js');
    let calls = 0;
    const rule = memoizedShapeRule((n: number) => {
      calls++;
      if (n < 0) throw new RangeError('negative');
      return [n];
    });
    expect(() => rule(-1)).toThrow('negative');
    expect(() => rule(-1)).toThrow('negative');
    expect(calls).toBe(2);
  });
});

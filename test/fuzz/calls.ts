/**
 * What the native fuzzers share: rendering an argument list for the trace, the checked call, and the
 * mutation of a baseline argument list.
 */
import { writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { native } from '../../lib/native.js';
import { anyValue, mutationOf } from './hostile.js';

/** The addon's entry points by name. */
export const addon = native as unknown as Record<string, (...args: unknown[]) => unknown>;

/** FUZZ_TRACE=file: each call is written there before it is made, so the last line names a crashing input. */
const TRACE = process.env.FUZZ_TRACE;

/** A one-line rendering of an argument list: typed arrays by kind, length and byte offset. */
export function render(args: unknown[]): string {
  return args
    .map((a) => {
      if (ArrayBuffer.isView(a)) {
        const n = 'length' in a ? (a as { length: number }).length : a.byteLength;
        return `${a.constructor.name}(${n}${a.byteOffset ? ` @${a.byteOffset}` : ''})`;
      }
      if (typeof a === 'string') return JSON.stringify(a.length > 20 ? `${a.slice(0, 20)}...` : a);
      if (typeof a === 'bigint') return `${a}n`;
      if (typeof a === 'symbol' || typeof a === 'function') return typeof a;
      if (Array.isArray(a)) return `[${render(a)}]`;
      return Object.is(a, -0) ? '-0' : String(a);
    })
    .join(', ');
}

/** Writes `name(args)` to FUZZ_TRACE, when set. */
export function trace(name: string, args: unknown[]): void {
  if (TRACE) writeFileSync(TRACE, `${name}(${render(args)})\n`, { flag: 'a' });
}

/**
 * Calls the entry point; passes when it returns, or throws a TypeError/RangeError naming it. Returns the
 * error it threw, if any, for callers with further requirements on it.
 */
export function callChecked(name: string, args: unknown[]): Error | undefined {
  const fn = addon[name]!;
  try {
    fn(...args);
    return undefined;
  } catch (err) {
    if (!(err instanceof TypeError || err instanceof RangeError)) {
      throw new Error(`${name} threw a non-Type/RangeError: ${String(err)}`);
    }
    if (!err.message.startsWith(`${name}:`)) throw new Error(`${name} threw an error not naming it: ${err.message}`);
    return err;
  }
}

/** The baseline with 1–3 arguments replaced, truncated, extended or aliased, drawn through `g`. */
export function mutatedArgs(g: fc.GeneratorValue, base: unknown[]): unknown[] {
  const args = base.slice();
  const mode = g(() => fc.constantFrom('replace', 'replace', 'replace', 'truncate', 'extend', 'alias'));
  if (mode === 'truncate') return args.slice(0, g(() => fc.nat({ max: Math.max(0, args.length - 1) })));
  if (mode === 'extend') return [...args, ...g(() => fc.array(anyValue, { minLength: 1, maxLength: 3 }))];
  if (args.length === 0) return g(() => fc.array(anyValue, { maxLength: 4 }));
  const count = g(() => fc.integer({ min: 1, max: Math.min(3, args.length) }));
  for (let k = 0; k < count; k++) {
    const i = g(() => fc.nat({ max: args.length - 1 }));
    args[i] = mode === 'alias' ? args[g(() => fc.nat({ max: args.length - 1 }))] : g(() => mutationOf(base[i]));
  }
  return args;
}

/**
 * Argument rules shared by every boundary where a tensor is made or described (creation functions,
 * Tensor.fromArray, reshape/view/expand, kernel allocation): a shape, a dtype, and how a bad value is
 * shown in the message. Each check is O(ndim) and allocates nothing unless it throws.
 */
import { type DType, arrayConstructors } from './dtype.js';

/** Tensors have at most this many dims (the native kernels' limit). */
export const MAX_DIMS = 16;

/** A value as an error message shows it: strings quoted, arrays bracketed, objects by kind. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 40 ? `${value.slice(0, 40)}...` : value}'`;
  if (Array.isArray(value)) return value.length > 20 ? `an array of ${value.length} items` : `[${value.map(describe).join(', ')}]`;
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || typeof value !== 'object') return String(value);
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  const t = value as { shape?: unknown; dtype?: unknown; deviceName?: unknown; isDisposed?: unknown };
  if (Array.isArray(t.shape) && typeof t.dtype === 'string') {
    return `${t.isDisposed === true ? 'a disposed' : 'a'} ${t.dtype} tensor [${t.shape.join(', ')}] on ${String(t.deviceName)}`;
  }
  return value.constructor?.name ? `a ${value.constructor.name}` : 'an object';
}

/**
 * Validates a shape (an array of at most 16 non-negative integers whose product is at most 2^53)
 * and returns its element count; `op` is the public op the user called.
 */
export function checkShape(shape: readonly number[], op: string, what = 'shape'): number {
  if (!Array.isArray(shape)) {
    throw new TypeError(`${op}: ${what} must be an array of non-negative integers, got ${describe(shape)}`);
  }
  if (shape.length > MAX_DIMS) throw new RangeError(`${op}: at most ${MAX_DIMS} dims are supported, got ${shape.length}`);
  let n = 1;
  for (const d of shape) {
    // any integer dim, as the native check: a huge one is caught by the element count unless another is 0
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      throw new RangeError(`${op}: ${what} must contain non-negative integers, got ${describe(shape)}`);
    }
    n *= d;
  }
  if (n > 2 ** 53) throw new RangeError(`${op}: ${what} [${shape.join(', ')}] has more than 2^53 elements`);
  return n;
}

/** Throws a TypeError naming the allowed dtypes unless `dtype` is one of ours. */
export function checkDType(dtype: unknown, op: string): asserts dtype is DType {
  if (typeof dtype !== 'string' || !Object.hasOwn(arrayConstructors, dtype)) {
    throw new TypeError(`${op}: dtype must be one of ${Object.keys(arrayConstructors).join(', ')}, got ${describe(dtype)}`);
  }
}

/**
 * V8's and Node's own messages, which must never reach a user as
 * ours even when a caller prefixed them (the hostile API walk, test/reliability/hostile_api.test.ts, uses
 * the same rule).
 */
export const NODE_MESSAGES =
  /is not a function|Cannot read propert|Cannot set propert|Cannot convert|is not iterable|Maximum call stack|Invalid array length|Cannot perform|reading '|Cannot mix BigInt|is not a constructor|Invalid typed array length|Array buffer allocation failed|Cannot create property|is not defined|Do not know how to serialize|Cannot destructure|Invalid time value|The "[\w.]+" argument|radix argument|Cannot use 'in' operator/;

/** How our messages start: the public op, function, class or method, then ': ' ("zeros: ...", "Adam.loadStateDict: ..."). */
export const OUR_PREFIX = /^[A-Za-z_$][\w$]*(\.[\w$]+)*(\([^)]*\))?(\[[^\]]*\])?: \S/;

/** Whether e is an error of ours: an Error, TypeError or RangeError with our prefix and none of Node's messages. */
export function isOurError(e: unknown): boolean {
  if (!(e instanceof Error) || (e.constructor !== Error && e.constructor !== TypeError && e.constructor !== RangeError)) return false;
  if ('syscall' in e) return false; // Node's system errors ("ENOENT: no such file or directory, open ...")
  return OUR_PREFIX.test(e.message) && !NODE_MESSAGES.test(e.message);
}

/** The parameter names of fn as its source declares them (for messages; best effort). */
function parameterNames(fn: Function): string {
  const m = /^[^(=]*\(([^)]*)\)/.exec(fn.toString()) ?? /^\s*(?:async\s+)?([\w$]+)\s*=>/.exec(fn.toString());
  if (!m) return '...';
  return m[1]!.split(',').map((p) => p.split('=')[0]!.trim()).filter(Boolean).join(', ');
}

/** Nesting of public calls: only the outermost translates an error, so that it names the op the user called. */
let publicDepth = 0;

/**
 * fn as a public entry point `name`: an error that is not ours (a TypeError from V8 reading a property of a
 * wrong-typed argument, say) becomes a TypeError naming `name`, the arguments it got and the parameters it
 * takes, with the original as its `cause`. Checks inside the ops name the argument, the expected and the
 * actual value where they exist; this is the net under them for arguments of a kind nothing checks (a
 * string where a tensor belongs). Not for functions that run user callbacks (their errors are the user's).
 * Costs a call and a try per op, no allocation (arguments passes through apply without being built).
 */
export function publicApi<F extends (...args: never[]) => unknown>(name: string, fn: F): F {
  const wrapped = function (this: unknown): unknown {
    publicDepth++;
    try {
      return fn.apply(this, arguments as unknown as Parameters<F>);
    } catch (e) {
      if (publicDepth === 1 && !isOurError(e)) throw argumentError(name, fn, arguments, e);
      throw e;
    } finally {
      publicDepth--;
    }
  };
  Object.defineProperty(wrapped, 'name', { value: fn.name || name });
  return wrapped as unknown as F;
}

function argumentError(name: string, fn: Function, args: ArrayLike<unknown>, cause: unknown): TypeError {
  const got = Array.from(args, describe).join(', ');
  return new TypeError(`${name}: unsupported arguments (${got}); it takes (${parameterNames(fn)})`, { cause });
}

/** Throws a TypeError unless value is a function (a callback argument `arg` of `op`). */
export function requireFunction(op: string, value: unknown, arg: string): void {
  if (typeof value !== 'function') throw new TypeError(`${op}: ${arg} must be a function, got ${describe(value)}`);
}

/** The items of an iterable argument `arg` of `op` (a string is refused: its characters are never what is meant). */
export function itemsOf<T>(op: string, value: Iterable<T>, arg: string): T[] {
  if (value === null || typeof value !== 'object' || typeof (value as Iterable<T>)[Symbol.iterator] !== 'function') {
    throw new TypeError(`${op}: ${arg} must be an array or other iterable, got ${describe(value)}`);
  }
  try {
    return [...value];
  } catch {
    throw new TypeError(`${op}: ${arg} could not be iterated (a detached typed array?), got ${describe(value)}`);
  }
}

/**
 * Runs a rule or op on behalf of op `op`: an error it raises names `op` (the call the user made) instead of
 * `entry` (a native entry point, or the op that `op` is built on), so one check serves both ops' messages.
 */
export function asOp<R>(op: string, entry: string, run: () => R): R {
  try {
    return run();
  } catch (e) {
    if (e instanceof Error && e.message.startsWith(`${entry}: `)) e.message = op + e.message.slice(entry.length);
    throw e;
  }
}

/**
 * A hostile walk over the API users call (issue 18): every tf.* function, every Tensor method, every
 * nn.F function, the nn layer constructors and forwards, the optimizers (constructors, step, loadStateDict)
 * and the LR schedulers, each called with hostile arguments (wrong types, NaN, ±Infinity, negative, huge and
 * fractional numbers, null/undefined, strings, symbols, bigints, detached arrays, 0-d, empty, int32, bool
 * and disposed tensors) in each argument position. The fuzz specs (test/fuzz) cover the raw addon; this
 * covers the layer above it.
 *
 * A call may succeed or throw, but a thrown error must be one of ours:
 * - an Error, TypeError or RangeError (not a SyntaxError, a ReferenceError or something that is no Error);
 * - whose message starts with the name of the public op, function, class or method that raised it, then
 *   ': ' ("zeros: shape must be ...", "Adam.loadStateDict: ...", "to('cuda:1'): ..."), as every message
 *   of ours does;
 * - and which is none of V8's or Node's own messages (NODE_MESSAGES in lib/checks.ts: "x is not a
 *   function", "Cannot read properties of", ...), which a prefix like "tensor: Cannot read..." would
 *   otherwise pass off.
 * The rule is lib/checks.ts isOurError, which the public entry points (publicApi) also apply.
 * A crash kills the worker and a hang trips the test timeout; a call slower than SLOW_MS fails too.
 * The io functions' messages are slice C's (lib/io): they are collected and printed, not failed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as tf from '../../lib/index.js';
import { io, nn, optim } from '../../lib/index.js';
import { isOurError } from '../../lib/checks.js';

const SLOW_MS = 2000;
const isOurs = isOurError;

const small = () => tf.randn([2, 3]);
const image = () => tf.randn([2, 3, 4, 4]);

/** Hostile values, made fresh for each call (a call may modify or dispose its argument). */
function hostileValues(): Array<[string, unknown]> {
  const disposed = tf.ones([2, 3]);
  disposed.dispose();
  const buffer = new ArrayBuffer(16);
  const detached = new Float32Array(buffer);
  structuredClone(buffer, { transfer: [buffer] });
  const values: Array<[string, unknown]> = [
    ...[0, -1, 1.5, NaN, Infinity, -Infinity, -0, 2 ** 53, 2 ** 62, -(2 ** 31), Number.MAX_VALUE, Number.MIN_VALUE].map(
      (n): [string, unknown] => [String(n), n],
    ),
    ['undefined', undefined], ['null', null], ["''", ''], ["'abc'", 'abc'], ['true', true], ['{}', {}], ['[]', []],
    ['3n', 3n], ['Symbol', Symbol('s')], ['()=>0', () => 0], ['ArrayBuffer', new ArrayBuffer(8)],
    ['[1,,3]', [1, , 3]], ["['2','3']", ['2', '3']], ['[-1,2]', [-1, 2]], ['[NaN]', [NaN]], ['[2**53,2]', [2 ** 53, 2]],
    ['detached Float32Array', detached], ['Int16Array', new Int16Array(6)], ['BigInt64Array', new BigInt64Array(2)],
    ['0-d tensor', tf.tensor(2)], ['empty tensor [0,3]', tf.zeros([0, 3])], ['float64 tensor', tf.randn([2, 3], { dtype: 'float64' })],
    ['int32 tensor', tf.tensor([[0, 1, 2], [2, 1, 0]], { dtype: 'int32' })], ['bool tensor', tf.ones([2, 3], { dtype: 'bool' })],
    ['disposed tensor', disposed], ['expanded tensor', tf.randn([1, 3]).expand(2, 3)],
  ];
  if (tf.cuda.isAvailable()) values.push(['cuda tensor', tf.randn([2, 3], { device: 'cuda' })]);
  return values;
}

/** Calls fn(h) for every hostile h; returns what was not ours ("label(h): Kind: message"). */
function walk(label: string, fn: (h: unknown) => unknown, found: string[], pending: Array<Promise<void>>): void {
  for (const [name, h] of hostileValues()) {
    const where = `${label} with ${name}`;
    const start = performance.now();
    const reject = (e: unknown) => {
      if (!isOurs(e)) found.push(`${where}: ${(e as Error)?.constructor?.name ?? typeof e}: ${(e as Error)?.message ?? String(e)}`);
    };
    try {
      const result = fn(h);
      if (result instanceof Promise) pending.push(result.then(() => {}, reject));
    } catch (e) {
      reject(e);
    }
    const ms = performance.now() - start;
    if (ms > SLOW_MS) found.push(`${where}: took ${ms.toFixed(0)} ms`);
  }
}

type AnyFn = (...args: unknown[]) => unknown;
const functionsOf = (module: object): Array<[string, AnyFn]> =>
  Object.entries(module).filter((e): e is [string, AnyFn] => typeof e[1] === 'function' && !/^[A-Z]/.test(e[0]));

/** Argument lists for a function of the tensor API, with the hostile value in each position. */
function argumentLists(h: unknown, x: () => tf.Tensor): unknown[][] {
  return [[h], [x(), h], [h, x()], [x(), 0, h], [x(), h, 0], [[2, 3], h], [x(), x(), h]];
}

/** tf.* functions the walk leaves out: process-wide settings other slices own or that the walk must not change. */
const NOT_WALKED = new Set(['setNumThreads', 'getNumThreads', 'setGradEnabled', 'setRngState', 'manualSeed', 'setFloat32MatmulPrecision']);

describe('the public API under hostile arguments', () => {
  it('tf.* functions and Tensor methods throw only errors of ours', async () => {
    const found: string[] = [], pending: Array<Promise<void>> = [];
    for (const [name, fn] of functionsOf(tf)) {
      if (NOT_WALKED.has(name)) continue;
      for (let k = 0; k < 7; k++) walk(`tf.${name} (argument list ${k})`, (h) => fn(...argumentLists(h, small)[k]!), found, pending);
    }
    const methods = Object.getOwnPropertyNames(tf.Tensor.prototype).filter((m) => {
      const d = Object.getOwnPropertyDescriptor(tf.Tensor.prototype, m)!;
      return m !== 'constructor' && typeof d.value === 'function';
    });
    for (const m of methods) {
      for (let k = 0; k < 5; k++) {
        walk(`Tensor.${m} (argument list ${k})`, (h) => {
          const args = argumentLists(h, small)[k]!;
          return (small() as unknown as Record<string, AnyFn>)[m]!(...args);
        }, found, pending);
      }
      // hostile tensors as `this`, with ordinary arguments
      walk(`Tensor.${m} on a hostile tensor`, (h) => (h instanceof tf.Tensor ? (h as unknown as Record<string, AnyFn>)[m]!(0) : undefined), found, pending);
    }
    await Promise.all(pending);
    expect(found).toEqual([]);
  });

  it('nn.F functions, layer constructors and forwards throw only errors of ours', async () => {
    const found: string[] = [], pending: Array<Promise<void>> = [];
    for (const [name, fn] of functionsOf(nn.F)) {
      for (const x of [small, image]) {
        for (let k = 0; k < 7; k++) walk(`nn.F.${name} (argument list ${k}, ${x().ndim}-d input)`, (h) => fn(...argumentLists(h, x)[k]!), found, pending);
      }
    }
    for (const [name, Layer] of Object.entries(nn)) {
      if (typeof Layer !== 'function' || !/^[A-Z]/.test(name) || name === 'Module' || name === 'Parameter') continue;
      const Ctor = Layer as unknown as new (...args: unknown[]) => nn.Module;
      for (const args of [(h: unknown) => [h], (h: unknown) => [3, h], (h: unknown) => [h, 3], (h: unknown) => [3, 4, h]]) {
        walk(`new nn.${name}(${args('h').join(', ')})`, (h) => new Ctor(...args(h)), found, pending);
      }
      let layer: nn.Module | null = null;
      for (const args of [[3, 3, 3], [3, 3], [3], []]) {
        try {
          layer = new Ctor(...args);
          break;
        } catch { /* the next argument list */ }
      }
      if (layer) walk(`nn.${name}.forward`, (h) => (layer as unknown as { forward: AnyFn }).forward(h), found, pending);
    }
    await Promise.all(pending);
    expect(found).toEqual([]);
  });

  it('optimizers and schedulers throw only errors of ours', async () => {
    const found: string[] = [], pending: Array<Promise<void>> = [];
    const param = () => tf.randn([2, 3]).requiresGrad_();
    const optimizers: Array<[string, new (...args: unknown[]) => optim.Optimizer<{ lr: number }>]> = [
      ['SGD', optim.SGD], ['Adam', optim.Adam], ['AdamW', optim.AdamW], ['RMSprop', optim.RMSprop], ['Adagrad', optim.Adagrad],
    ] as never;
    for (const [name, Opt] of optimizers) {
      walk(`new optim.${name}(h)`, (h) => new Opt(h), found, pending);
      walk(`new optim.${name}([p], h)`, (h) => new Opt([param()], h), found, pending);
      for (const key of ['lr', 'momentum', 'weightDecay', 'eps', 'betas', 'alpha', 'nesterov', 'amsgrad', 'dampening', 'lrDecay']) {
        walk(`new optim.${name}([p], { ${key}: h })`, (h) => new Opt([param()], { lr: 0.1, [key]: h }), found, pending);
      }
      walk(`optim.${name}.step with grad h`, (h) => {
        const p = param();
        const opt = new Opt([p], { lr: 0.1 });
        p.grad = h as tf.Tensor;
        return opt.step();
      }, found, pending);
      walk(`optim.${name}.loadStateDict(h)`, (h) => new Opt([param()], { lr: 0.1 }).loadStateDict(h as never), found, pending);
      walk(`optim.${name}.loadStateDict({ state: { 0: h } })`, (h) => {
        const opt = new Opt([param()], { lr: 0.1 });
        return opt.loadStateDict({ ...opt.stateDict(), state: { 0: h as never } });
      }, found, pending);
      walk(`optim.${name}.loadStateDict({ state: { 0: { step: h } } })`, (h) => {
        const opt = new Opt([param()], { lr: 0.1 });
        return opt.loadStateDict({ ...opt.stateDict(), state: { 0: { step: h as never, exp_avg: h as never, momentum_buffer: h as never } } });
      }, found, pending);
      walk(`optim.${name}.loadStateDict({ param_groups: [h] })`, (h) => {
        const opt = new Opt([param()], { lr: 0.1 });
        return opt.loadStateDict({ state: {}, param_groups: [h as never] });
      }, found, pending);
    }
    walk('optim.clipGradNorm(h)', (h) => optim.clipGradNorm(h as never, 1), found, pending);
    walk('optim.clipGradNorm([p], h)', (h) => {
      const p = param();
      p.grad = tf.ones([2, 3]);
      return optim.clipGradNorm([p], h as never);
    }, found, pending);
    walk('optim.clipGradValue([p], h)', (h) => {
      const p = param();
      p.grad = tf.ones([2, 3]);
      return optim.clipGradValue([p], h as never);
    }, found, pending);
    for (const [name, Scheduler] of Object.entries(optim)) {
      if (!/LR|Restarts/.test(name) || name === 'LRScheduler' || typeof Scheduler !== 'function') continue;
      const Ctor = Scheduler as unknown as new (...args: unknown[]) => { step: AnyFn };
      const opt = () => new optim.SGD([param()], { lr: 0.1 });
      walk(`new optim.${name}(h)`, (h) => new Ctor(h), found, pending);
      walk(`new optim.${name}(opt, h)`, (h) => new Ctor(opt(), h), found, pending);
      walk(`new optim.${name}(opt, 3, h)`, (h) => new Ctor(opt(), 3, h), found, pending);
      walk(`new optim.${name}(opt, { h })`, (h) => new Ctor(opt(), { stepSize: h, gamma: h, tMax: h, maxLr: h, totalSteps: h, milestones: h, factor: h }), found, pending);
    }
    await Promise.all(pending);
    expect(found).toEqual([]);
  });

  it('io functions with bad paths and values (reported for lib/io, not failed here)', async () => {
    const found: string[] = [], pending: Array<Promise<void>> = [];
    const dir = mkdtempSync(join(tmpdir(), 'tf-hostile-'));
    // a hostile string path stays inside dir: the walk must not write files where it runs
    const paths = (h: unknown) => [typeof h === 'string' ? join(dir, h) : h, dir, join(dir, 'missing', 'x.safetensors'), '/nonexistent/x.safetensors'];
    for (const [name, fn] of functionsOf(io)) {
      for (let k = 0; k < 4; k++) {
        walk(`io.${name} (path ${k})`, (h) => fn(paths(h)[k], { w: tf.ones([2]) }), found, pending);
        walk(`io.${name} (value, path ${k})`, (h) => fn(join(dir, `v${k}.safetensors`), h), found, pending);
      }
    }
    await Promise.all(pending);
    rmSync(dir, { recursive: true, force: true });
    const kinds = new Set(found.map((f) => f.replace(/ \(.*?\) with [^:]*:/, ':').replace(/Received .*|\(reading .*|, open .*|, rename .*/, '...')));
    if (kinds.size > 0) console.log(`io errors that are not ours (${found.length} calls), for lib/io:\n${[...kinds].join('\n')}`);
  });
});

/**
 * The op table's tests (lib/ops/registry.ts): every registered op has samples (forward vs an independent
 * float64 reference, in float32 and float64, plus gradcheck) and error cases. The nn.functional ops have their
 * gradcheck and error cases in test/nn/functional_cases.ts (nnOpCases), run here as well. An op registered
 * without an entry in either, or an entry no op registers, fails the suite.
 *
 * Every sample runs on every test device (test/devices.ts): forward against the float64 reference, and
 * backward on a non-cpu device against the cpu gradients, which gradcheck verifies. On every device each
 * row's cases also run with their native calls recorded, which checks the row's kernel families and device
 * column (see 'the kernel families each op reaches' below).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as tf from '../../lib/index.js';
import { Tensor } from '../../lib/index.js';
import { opTable } from '../../lib/ops/registry.js';
import { makeRng, expectClose } from '../util.js';
import {
  type NativeCall, type TestDevice, testDevices, runsCpu, forwardBackwardOn, moveTo, nativeCallsOf, nativeOpLists,
} from '../devices.js';
import { nnOpCases } from '../nn/functional_cases.js';
import { referencePath, renderOpsReference } from '../../scripts/docs.js';
import { type Ref, mapRef, reduceRef, matmulRef, permuteRef, numelOf, erf } from './reference.js';

const rng = makeRng();

/** Where sample values are drawn from; 'coarse' is small integers, so that comparisons meet ties. */
type Domain = 'any' | 'positive' | 'awayFromZero' | 'unit' | 'coarse';

function sample(n: number, domain: Domain): number[] {
  return Array.from({ length: n }, () => {
    const v = rng.uniform(-1.5, 1.5);
    if (domain === 'positive') return 0.2 + Math.abs(v);
    if (domain === 'awayFromZero') return (v < 0 ? -1 : 1) * (0.2 + Math.abs(v));
    if (domain === 'unit') return rng.uniform(-0.9, 0.9);
    if (domain === 'coarse') return rng.int(-2, 2);
    return v;
  });
}

function refOf(shape: number[], domain: Domain = 'any'): Ref {
  return { shape, data: sample(numelOf(shape), domain) };
}

/**
 * Builds a tensor holding `ref`, optionally as a non-contiguous view (stored transposed, then
 * permuted back), in the given dtype.
 */
function build(ref: Ref, dtype: 'float32' | 'float64', layout: 'contiguous' | 'strided', device: TestDevice = 'cpu'): Tensor {
  if (layout === 'contiguous' || ref.shape.length < 2) return tf.tensor(Float64Array.from(ref.data), { shape: ref.shape }).to(dtype).to(device);
  const n = ref.shape.length;
  const order = [n - 1, ...ref.shape.slice(0, -1).map((_, i) => i)];
  const stored = permuteRef(ref, order);
  const inverse = order.map((_, i) => order.indexOf(i));
  return tf.tensor(Float64Array.from(stored.data), { shape: stored.shape }).to(dtype).to(device).permute(inverse);
}

/** A fresh upstream gradient for an output of `shape`. */
function upstreamFor(shape: readonly number[]): Float64Array {
  return Float64Array.from(sample(numelOf([...shape]), 'any'));
}

/**
 * Backward on `device` against cpu, in float64 and through strided inputs: the cpu gradients are the
 * ones gradcheck verifies, so agreement to float64 rounding (scaled by the reduction length k) carries the
 * check over to the device.
 */
function expectDeviceMatchesCpu(device: TestDevice, label: string, fn: (...x: Tensor[]) => Tensor, inputs: Tensor[], k = 1): void {
  const upstream = upstreamFor(tf.noGrad(() => fn(...inputs)).shape);
  const cpu = forwardBackwardOn('cpu', fn, inputs, upstream);
  const dev = forwardBackwardOn(device, fn, inputs, upstream);
  expect(dev.outDevice, `${label}: output device`).toBe(device);
  const tol = { atol: 1e-12 * k, rtol: 1e-10 * k, label: `${label} on ${device}`, seed: rng.seed };
  expectClose(dev.out, cpu.out, { ...tol, label: `${tol.label}: output` });
  cpu.grads.forEach((g, i) => {
    if (g === null) return expect(dev.grads[i], `${label}: input ${i} gets no gradient on cpu`).toBeNull();
    expect(dev.grads[i], `${label}: input ${i} has no gradient on ${device}`).not.toBeNull();
    expectClose(dev.grads[i]!, g, { ...tol, label: `${tol.label}: gradient of input ${i}` });
  });
}

interface Sample {
  label: string;
  inputs: () => Ref[];
  fn: (...x: Tensor[]) => Tensor;
  ref: (...x: Ref[]) => Ref;
  /** reduction length for the tolerance (1 for elementwise) */
  k?: number;
  /** skip gradcheck (non-differentiable outputs) */
  noGrad?: boolean;
}

interface ErrorCase {
  label: string;
  call: () => unknown;
  error: ErrorConstructor;
  message: RegExp;
}

interface OpEntry {
  samples: Sample[];
  errors: ErrorCase[];
}

const t32 = (shape: number[]) => tf.randn(shape);
const shapesUnary: number[][] = [[7], [3, 5], [2, 3, 4], [0, 3], []];

function unaryEntry(op: (x: Tensor) => Tensor, f: (v: number) => number, domain: Domain = 'any'): OpEntry {
  return {
    samples: shapesUnary.map((shape) => ({
      label: `[${shape.join(',')}]`,
      inputs: () => [refOf(shape, domain)],
      fn: (x) => op(x),
      ref: (x) => mapRef([x], f),
    })),
    errors: [{ label: 'int32 input', call: () => op(tf.tensor([1, 2], { dtype: 'int32' })), error: TypeError, message: /must be float32 or float64, got int32/ }],
  };
}

const broadcastPairs: Array<[number[], number[]]> = [[[3, 4], [3, 4]], [[2, 3, 4], [4]], [[3, 1], [1, 5]], [[0, 4], [1, 4]], [[5], []]];

function binaryEntry(op: (a: Tensor, b: Tensor) => Tensor, f: (a: number, b: number) => number, domainB: Domain = 'any', domainA: Domain = 'any'): OpEntry {
  return {
    samples: broadcastPairs.map(([sa, sb]) => ({
      label: `[${sa.join(',')}] with [${sb.join(',')}]`,
      inputs: () => [refOf(sa, domainA), refOf(sb, domainB)],
      fn: (a, b) => op(a, b),
      ref: (a, b) => mapRef([a, b], f),
    })),
    errors: [
      { label: 'not broadcastable', call: () => op(t32([2, 3]), t32([4, 3])), error: RangeError, message: /shapes \[2, 3\] and \[4, 3\] are not broadcastable \(dim 0: 2 vs 4\)/ },
      { label: 'mixed dtypes', call: () => op(t32([2]), tf.randn([2], { dtype: 'float64' })), error: TypeError, message: /dtypes must match, got float32 and float64/ },
    ],
  };
}

function scalarEntry(op: (x: Tensor, s: number) => Tensor, s: number, f: (v: number) => number, domain: Domain = 'any'): OpEntry {
  return {
    samples: [[4, 3], [5], []].map((shape) => ({ label: `[${shape.join(',')}]`, inputs: () => [refOf(shape, domain)], fn: (x) => op(x, s), ref: (x) => mapRef([x], f) })),
    errors: [{ label: 'disposed input', call: () => { const x = t32([2]); x.dispose(); return op(x, s); }, error: Error, message: /used after dispose/ }],
  };
}

function comparisonEntry(op: (a: Tensor, b: Tensor) => Tensor, f: (a: number, b: number) => boolean, errors: ErrorCase[]): OpEntry {
  return {
    samples: broadcastPairs.map(([sa, sb]) => ({
      label: `[${sa.join(',')}] with [${sb.join(',')}]`,
      inputs: () => [refOf(sa, 'coarse'), refOf(sb, 'coarse')],
      fn: (a, b) => op(a, b),
      ref: (a, b) => mapRef([a, b], (x, y) => Number(f(x, y))),
    })),
    errors,
  };
}

/** argmax/argmin along one dim or (dim undefined) over the flattened input. */
function argEntry(op: typeof tf.argmax, pick: (v: number[]) => number, errors: ErrorCase[]): OpEntry {
  const cases: Array<[number[], number | undefined, boolean]> = [[[4, 5], 1, false], [[3, 4, 5], 0, true], [[6, 7], undefined, false]];
  return {
    samples: cases.map(([shape, dim, keepdim]) => ({
      label: `[${shape.join(',')}] dim ${dim ?? 'all'} keepdim ${keepdim}`,
      inputs: () => [refOf(shape)],
      fn: (x) => op(x, dim, keepdim),
      ref: (x) => reduceRef(x, dim === undefined ? shape.map((_, i) => i) : [dim], keepdim, (v) => v.indexOf(pick(v))),
    })),
    errors,
  };
}

const sigmoidRef = (v: number) => 1 / (1 + Math.exp(-v));
const softplusRef = (v: number) => Math.log1p(Math.exp(v));

function reduceEntry(op: (x: Tensor, dims: number[] | undefined, keepdim: boolean) => Tensor, combine: (v: number[]) => number, domain: Domain = 'any'): OpEntry {
  // The last three are too large for gradcheck. [4,3,5,260] keeps rows of 260 contiguous elements (runs of 256
  // and 4 in the CPU's column sums), 3 of them, and reduces over dims that do not merge; [3,1500] has blocks
  // longer than a warp covers 32 a lane (a block of threads an output on cuda); [5,2100] over dim 0 is a column
  // reduction wide enough for a thread an output.
  const cases: Array<[number[], number[] | undefined, boolean, boolean?]> = [
    [[4, 5], [1], false], [[3, 4, 5], [0, 2], true], [[6], undefined, false], [[2, 3, 4], [1], true], [[3, 4], [0], false],
    [[4, 3, 5, 260], [0, 2], false, true], [[3, 1500], [1], false, true], [[5, 2100], [0], true, true],
  ];
  return {
    samples: cases.map(([shape, dims, keepdim, large = false]) => ({
      label: `[${shape.join(',')}] dims ${dims ? dims.join(',') : 'all'} keepdim ${keepdim}`,
      inputs: () => [refOf(shape, domain)],
      fn: (x) => op(x, dims, keepdim),
      ref: (x) => reduceRef(x, dims ?? x.shape.map((_, i) => i), keepdim, combine),
      k: dims ? dims.reduce((a, d) => a * shape[d]!, 1) : numelOf(shape),
      noGrad: large,
    })),
    errors: [
      { label: 'dim out of range', call: () => op(t32([2, 3]), [2], false), error: RangeError, message: /dim must be an integer in \[-2, 1\], got 2/ },
      { label: 'repeated dim', call: () => op(t32([2, 3]), [1, -1], false), error: RangeError, message: /dims must be distinct/ },
    ],
  };
}

const sumOf = (v: number[]) => v.reduce((a, b) => a + b, 0);
const meanOf = (v: number[]) => sumOf(v) / v.length;
const varOf = (v: number[]) => { const m = meanOf(v); return v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1); };

function softmaxRef(x: Ref, dim: number, log: boolean): Ref {
  const lse = reduceRef(x, [dim], true, (v) => { const m = Math.max(...v); return m + Math.log(v.reduce((a, b) => a + Math.exp(b - m), 0)); });
  return mapRef([x, lse], (v, l) => (log ? v - l : Math.exp(v - l)));
}

const table: Record<string, OpEntry> = {
  neg: unaryEntry(tf.neg, (v) => -v),
  abs: unaryEntry(tf.abs, Math.abs, 'awayFromZero'),
  sign: unaryEntry(tf.sign, Math.sign, 'awayFromZero'),
  exp: unaryEntry(tf.exp, Math.exp),
  log: unaryEntry(tf.log, Math.log, 'positive'),
  log1p: unaryEntry(tf.log1p, Math.log1p, 'positive'),
  sqrt: unaryEntry(tf.sqrt, Math.sqrt, 'positive'),
  rsqrt: unaryEntry(tf.rsqrt, (v) => 1 / Math.sqrt(v), 'positive'),
  square: unaryEntry(tf.square, (v) => v * v),
  reciprocal: unaryEntry(tf.reciprocal, (v) => 1 / v, 'awayFromZero'),
  sin: unaryEntry(tf.sin, Math.sin),
  cos: unaryEntry(tf.cos, Math.cos),
  tanh: unaryEntry(tf.tanh, Math.tanh),
  sigmoid: unaryEntry(tf.sigmoid, sigmoidRef),
  relu: unaryEntry(tf.relu, (v) => Math.max(v, 0), 'awayFromZero'),
  leakyRelu: unaryEntry((x) => tf.leakyRelu(x, 0.1), (v) => (v > 0 ? v : 0.1 * v), 'awayFromZero'),
  elu: unaryEntry((x) => tf.elu(x, 0.7), (v) => (v > 0 ? v : 0.7 * (Math.exp(v) - 1)), 'awayFromZero'),
  gelu: {
    samples: [
      ...unaryEntry(tf.gelu, (v) => 0.5 * v * (1 + erf(v / Math.SQRT2))).samples,
      ...unaryEntry((x) => tf.gelu(x, 'tanh'), (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)))).samples,
    ],
    errors: [{ label: 'bad approximate', call: () => tf.gelu(t32([2]), 'fast' as 'tanh'), error: RangeError, message: /gelu: approximate must be 'none' or 'tanh', got 'fast'/ }],
  },
  softplus: unaryEntry(tf.softplus, softplusRef),
  clamp: {
    samples: unaryEntry((x) => tf.clamp(x, -0.5, 0.7), (v) => Math.min(Math.max(v, -0.5), 0.7), 'awayFromZero').samples,
    errors: [
      { label: 'no bounds', call: () => tf.clamp(t32([2])), error: TypeError, message: /clamp: at least one of min and max/ },
      { label: 'min > max', call: () => tf.clamp(t32([2]), 1, 0), error: RangeError, message: /clamp: min 1 must be <= max 0/ },
    ],
  },
  addScalar: scalarEntry(tf.add, 2.5, (v) => v + 2.5),
  mulScalar: scalarEntry(tf.mul, -1.75, (v) => v * -1.75),
  rsubScalar: scalarEntry((x, s) => tf.sub(s, x), 3, (v) => 3 - v),
  rdivScalar: scalarEntry((x, s) => tf.div(s, x), 2, (v) => 2 / v, 'awayFromZero'),
  powScalar: scalarEntry(tf.pow, 3, (v) => v ** 3),
  rpowScalar: scalarEntry((x, s) => tf.pow(s, x), 1.5, (v) => 1.5 ** v),
  add: binaryEntry((a, b) => tf.add(a, b, 0.5), (a, b) => a + 0.5 * b),
  sub: binaryEntry(tf.sub, (a, b) => a - b),
  mul: binaryEntry(tf.mul, (a, b) => a * b),
  div: binaryEntry(tf.div, (a, b) => a / b, 'awayFromZero'),
  pow: binaryEntry(tf.pow, (a, b) => a ** b, 'any', 'positive'),
  maximum: binaryEntry(tf.maximum, Math.max),
  minimum: binaryEntry(tf.minimum, Math.min),
  eq: comparisonEntry(tf.eq, (a, b) => a === b, [{ label: 'shapes', call: () => tf.eq(t32([2]), t32([3])), error: RangeError, message: /eq: shapes \[2\] and \[3\]/ }]),
  ne: comparisonEntry(tf.ne, (a, b) => a !== b, [{ label: 'dtypes', call: () => tf.ne(t32([2]), tf.tensor([1, 2], { dtype: 'int32' })), error: TypeError, message: /ne: dtypes must match/ }]),
  lt: comparisonEntry(tf.lt, (a, b) => a < b, [{ label: 'shapes', call: () => tf.lt(t32([2, 2]), t32([3])), error: RangeError, message: /not broadcastable/ }]),
  le: comparisonEntry(tf.le, (a, b) => a <= b, [{ label: 'shapes', call: () => tf.le(t32([2]), t32([3])), error: RangeError, message: /not broadcastable/ }]),
  gt: comparisonEntry(tf.gt, (a, b) => a > b, [{ label: 'shapes', call: () => tf.gt(t32([2]), t32([3])), error: RangeError, message: /not broadcastable/ }]),
  ge: comparisonEntry(tf.ge, (a, b) => a >= b, [{ label: 'shapes', call: () => tf.ge(t32([2]), t32([3])), error: RangeError, message: /not broadcastable/ }]),
  where: {
    samples: [{
      label: 'broadcast condition',
      inputs: () => [refOf([3, 4]), refOf([1, 4]), refOf([3, 1])],
      fn: (c, a, b) => tf.where(c.gt(0), a, b),
      ref: (c, a, b) => mapRef([c, a, b], (cv, av, bv) => (cv > 0 ? av : bv)),
    }],
    errors: [{ label: 'non-bool condition', call: () => tf.where(t32([2]), t32([2]), t32([2])), error: TypeError, message: /where: condition must be bool, got float32/ }],
  },
  maskedFill: {
    samples: [{
      label: '[4,5] masked where x > 0.3', inputs: () => [refOf([4, 5])], fn: (x) => tf.maskedFill(x, x.detach().gt(0.3), -2),
      ref: (x) => mapRef([x], (v) => (v > 0.3 ? -2 : v)),
    }],
    errors: [{ label: 'non-bool mask', call: () => tf.maskedFill(t32([2]), t32([2]), 0), error: TypeError, message: /maskedFill: mask must be bool/ }] },
  sum: reduceEntry((x, d, k) => tf.sum(x, d, k), sumOf),
  mean: reduceEntry((x, d, k) => tf.mean(x, d, k), meanOf),
  prod: reduceEntry((x, d, k) => tf.prod(x, d, k), (v) => v.reduce((a, b) => a * b, 1), 'awayFromZero'),
  var: reduceEntry((x, d, k) => tf.var(x, d, { keepdim: k }), varOf),
  logsumexp: reduceEntry((x, d, k) => tf.logsumexp(x, d ?? x.shape.map((_, i) => i), k), (v) => { const m = Math.max(...v); return m + Math.log(sumOf(v.map((e) => Math.exp(e - m)))); }),
  norm: {
    samples: [
      ...reduceEntry((x, d, k) => tf.norm(x, 2, d, k), (v) => Math.sqrt(sumOf(v.map((e) => e * e)))).samples,
      ...reduceEntry((x, d, k) => tf.norm(x, 1, d, k), (v) => sumOf(v.map(Math.abs)), 'awayFromZero').samples,
      ...reduceEntry((x, d, k) => tf.norm(x, 3, d, k), (v) => sumOf(v.map((e) => Math.abs(e) ** 3)) ** (1 / 3), 'awayFromZero').samples,
    ],
    errors: [{ label: 'p <= 0', call: () => tf.norm(t32([3]), 0), error: RangeError, message: /norm: p must be > 0, got 0/ }],
  },
  max: {
    samples: [[4, 5], [3, 4, 2], [2, 300], [3, 1500]].map((shape) => ({
      label: `[${shape.join(',')}] dim 1`, inputs: () => [refOf(shape)], fn: (x: Tensor) => tf.max(x, 1).values,
      ref: (x: Ref) => reduceRef(x, [1], false, (v) => Math.max(...v)), noGrad: numelOf(shape) > 100,
    })),
    errors: [{ label: 'empty dim', call: () => tf.max(t32([2, 0]), 1), error: RangeError, message: /cannot take max\/min\/argmax\/argmin over an empty dim/ }],
  },
  min: {
    samples: [{ label: '[5,3] dim 0', inputs: () => [refOf([5, 3])], fn: (x) => tf.min(x, 0, true).values, ref: (x) => reduceRef(x, [0], true, (v) => Math.min(...v)) }],
    errors: [{ label: 'bad dim', call: () => tf.min(t32([2]), 3), error: RangeError, message: /min: dim must be an integer in \[-1, 0\], got 3/ }],
  },
  argmax: argEntry(tf.argmax, (v) => Math.max(...v), [{ label: 'bad dim', call: () => tf.argmax(t32([2]), 1), error: RangeError, message: /argmax: dim/ }]),
  argmin: argEntry(tf.argmin, (v) => Math.min(...v), [{ label: 'bad dim', call: () => tf.argmin(t32([2]), -2), error: RangeError, message: /argmin: dim/ }]),
  // Rows of 300 and 1100 take a warp and a block of threads a row on cuda (too large for gradcheck).
  softmax: {
    samples: [[[4, 7], 1], [[3, 4, 5], 1], [[6], 0], [[2, 300], 1], [[3, 1100], 1]].map(([shape, dim]) => ({
      label: `[${(shape as number[]).join(',')}] dim ${dim}`, inputs: () => [refOf(shape as number[])],
      fn: (x: Tensor) => tf.softmax(x, dim as number), ref: (x: Ref) => softmaxRef(x, dim as number, false),
      noGrad: numelOf(shape as number[]) > 100,
    })),
    errors: [{ label: 'int input', call: () => tf.softmax(tf.tensor([1, 2], { dtype: 'int32' }), 0), error: TypeError, message: /softmax: input must be float32 or float64, got int32/ }],
  },
  logSoftmax: {
    samples: [[[4, 7], 1], [[3, 4, 5], 0], [[2, 1100], 1]].map(([shape, dim]) => ({
      label: `[${(shape as number[]).join(',')}] dim ${dim}`, inputs: () => [refOf(shape as number[])],
      fn: (x: Tensor) => tf.logSoftmax(x, dim as number), ref: (x: Ref) => softmaxRef(x, dim as number, true),
      noGrad: numelOf(shape as number[]) > 100,
    })),
    errors: [{ label: 'bad dim', call: () => tf.logSoftmax(t32([2, 3]), 2), error: RangeError, message: /logSoftmax: dim/ }],
  },
  matmul: {
    samples: ([[[5, 7], [7, 3]], [[2, 4, 6], [6, 5]], [[3, 1, 4, 5], [2, 5, 3]], [[0, 4], [4, 3]], [[4, 0], [0, 3]]] as Array<[number[], number[]]>).map(([sa, sb]) => ({
      label: `[${sa.join(',')}] @ [${sb.join(',')}]`, inputs: () => [refOf(sa), refOf(sb)],
      fn: (a: Tensor, b: Tensor) => tf.matmul(a, b), ref: (a: Ref, b: Ref) => matmulRef(a, b), k: sa[sa.length - 1]!,
    })),
    errors: [
      { label: 'inner mismatch', call: () => tf.matmul(t32([2, 3]), t32([4, 5])), error: RangeError, message: /matmul: shapes \[2, 3\] and \[4, 5\] cannot be multiplied \(3 vs 4\)/ },
      { label: 'batch mismatch', call: () => tf.matmul(t32([2, 2, 3]), t32([3, 3, 4])), error: RangeError, message: /matmul: shapes \[2\] and \[3\] are not broadcastable/ },
      { label: 'scalar operand', call: () => tf.matmul(t32([]), t32([3])), error: RangeError, message: /matmul: both operands need at least 1 dim/ },
    ],
  },
  view: {
    samples: [{ label: '[3,4] -> [2,-1,3]', inputs: () => [refOf([3, 4])], fn: (x) => x.contiguous().view(2, -1, 3), ref: (x) => ({ shape: [2, 2, 3], data: x.data }) }],
    errors: [
      { label: 'two -1', call: () => t32([4]).view(-1, -1), error: RangeError, message: /view: only one dimension can be -1/ },
      { label: 'element count', call: () => t32([2, 3]).view(4, 2), error: RangeError, message: /view: shape \[4, 2\] has 8 elements, input \[2, 3\] has 6/ },
      { label: 'incompatible strides', call: () => t32([2, 3]).t().view(6), error: Error, message: /view: shape \[6\] is incompatible with the input's strides \[1, 3\]; use reshape\(\)/ },
    ],
  },
  permute: {
    samples: [{ label: '[2,3,4] -> (2,0,1)', inputs: () => [refOf([2, 3, 4])], fn: (x) => x.permute(2, 0, 1), ref: (x) => permuteRef(x, [2, 0, 1]) }],
    errors: [
      { label: 'wrong count', call: () => t32([2, 3]).permute(0), error: RangeError, message: /permute: expected 2 dims for input of shape \[2, 3\], got \[0\]/ },
      { label: 'repeat', call: () => t32([2, 3]).permute(0, 0), error: RangeError, message: /permute: dims must be distinct/ },
    ],
  },
  expand: {
    samples: [{ label: '[3,1] -> [2,3,4]', inputs: () => [refOf([3, 1])], fn: (x) => x.expand(2, 3, 4), ref: (x) => mapRef([x, { shape: [2, 3, 4], data: new Array(24).fill(0) }], (v) => v) }],
    errors: [{ label: 'non-1 dim', call: () => t32([3]).expand(2, 4), error: RangeError, message: /expand: input \[3\] cannot expand to \[2, 4\] \(dim 1: 3 vs 4\)/ }],
  },
  slice: {
    samples: [{
      label: '[5,6] dim 1 from 1 to 6 step 2', inputs: () => [refOf([5, 6])], fn: (x) => x.slice(1, 1, 6, 2),
      ref: (x) => ({ shape: [5, 3], data: x.data.filter((_, k) => k % 6 >= 1 && (k % 6) % 2 === 1) }),
    }],
    errors: [{ label: 'step 0', call: () => t32([4]).slice(0, 0, 4, 0), error: RangeError, message: /slice: step must be a positive integer, got 0/ }],
  },
  cat: {
    samples: [{
      label: '[2,3] + [4,3] on dim 0', inputs: () => [refOf([2, 3]), refOf([4, 3])], fn: (a, b) => tf.cat([a, b], 0),
      ref: (a, b) => ({ shape: [6, 3], data: [...a.data, ...b.data] }),
    }],
    errors: [
      { label: 'empty list', call: () => tf.cat([]), error: RangeError, message: /cat: expects a non-empty list/ },
      { label: 'shape mismatch', call: () => tf.cat([t32([2, 3]), t32([2, 4])], 0), error: RangeError, message: /cat: tensor 1 has shape \[2, 4\], incompatible with \[2, 3\] along dim 0/ },
    ],
  },
  pad: {
    samples: [{
      label: '[2,3] padded (1,2) and (0,1)', inputs: () => [refOf([2, 3])], fn: (x) => tf.pad(x, [1, 2, 0, 1], 0.5),
      ref: (x) => {
        const data: number[] = [];
        for (let i = 0; i < 3; i++) for (let j = 0; j < 6; j++) data.push(i < 2 && j >= 1 && j < 4 ? x.data[i * 3 + j - 1]! : 0.5);
        return { shape: [3, 6], data };
      },
    }],
    errors: [{ label: 'negative', call: () => tf.pad(t32([2, 3]), [-1, 0]), error: RangeError, message: /pad: padding amounts must be non-negative integers, got \[-1, 0\]/ }],
  },
  clone: {
    samples: [{ label: '[3,4]', inputs: () => [refOf([3, 4])], fn: (x) => x.clone(), ref: (x) => x }],
    errors: [{ label: 'disposed', call: () => { const x = t32([2]); x.dispose(); return x.clone(); }, error: Error, message: /used after dispose/ }],
  },
  to: {
    samples: [{ label: 'to float64', inputs: () => [refOf([3, 4])], fn: (x) => x.to('float64'), ref: (x) => x }],
    errors: [
      { label: 'unknown dtype', call: () => t32([2]).to('float16' as 'float32'), error: TypeError, message: /to: unknown dtype or device 'float16'/ },
      ...(tf.cuda.isAvailable() ? [] : [{ label: 'cuda without a usable device', call: () => t32([2]).to('cuda'), error: Error, message: /to\('cuda'\): CUDA is not available: / }]),
    ],
  },
  indexSelect: {
    samples: [{
      label: '[4,3] dim 0 rows [3,0,3]', inputs: () => [refOf([4, 3])], fn: (x) => tf.indexSelect(x, 0, tf.tensor([3, 0, 3], { dtype: 'int32', device: x.device })),
      ref: (x) => ({ shape: [3, 3], data: [3, 0, 3].flatMap((r) => x.data.slice(r * 3, r * 3 + 3)) }),
    }],
    errors: [
      { label: 'out of range', call: () => tf.indexSelect(t32([4, 3]), 0, tf.tensor([4], { dtype: 'int32' })), error: RangeError, message: /indexSelect: index 4 at position 0 is out of range for a dim of size 4/ },
      { label: 'float index', call: () => tf.indexSelect(t32([4, 3]), 0, t32([1])), error: TypeError, message: /indexSelect: index must be int32, got float32/ },
    ],
  },
  gather: {
    samples: [{
      label: '[3,4] dim 1', inputs: () => [refOf([3, 4])], fn: (x) => tf.gather(x, 1, tf.tensor([[0, 3], [2, 2], [1, 0]], { dtype: 'int32', device: x.device })),
      ref: (x) => ({ shape: [3, 2], data: [x.data[0]!, x.data[3]!, x.data[6]!, x.data[6]!, x.data[9]!, x.data[8]!] }),
    }],
    errors: [{ label: 'shape mismatch', call: () => tf.gather(t32([3, 4]), 1, tf.tensor([[0]], { dtype: 'int32' })), error: RangeError, message: /gather: index shape \[1, 1\] must match \[3, 4\] in every dim but 1/ }],
  },
  scatterAdd: {
    samples: [{
      label: '[2,3] dim 1', inputs: () => [refOf([2, 3]), refOf([2, 2])],
      fn: (x, s) => tf.scatterAdd(x, 1, tf.tensor([[2, 2], [0, 1]], { dtype: 'int32', device: x.device }), s),
      ref: (x, s) => { const d = [...x.data]; d[2]! += s.data[0]! + s.data[1]!; d[3]! += s.data[2]!; d[4]! += s.data[3]!; return { shape: [2, 3], data: d }; },
    }],
    errors: [{ label: 'index/src mismatch', call: () => tf.scatterAdd(t32([2, 3]), 1, tf.tensor([[0]], { dtype: 'int32' }), t32([2, 2])), error: RangeError, message: /scatterAdd: index shape \[1, 1\] must equal src shape \[2, 2\]/ }],
  },
};

/** One case of a row, runnable on any device: a table sample or an nnOpCases gradcheck case. */
interface Case {
  fn: (...x: Tensor[]) => Tensor;
  /** Fresh float64 inputs on `device`; with requiresGrad where the case checks gradients. */
  inputs: (device: TestDevice) => Tensor[];
  backward: boolean;
}

function casesOf(name: string): Case[] {
  const entry = table[name];
  if (!entry) {
    // an op without an entry in either table has no cases; the coverage test above names it
    return (nnOpCases[name]?.gradchecks ?? []).map((g) => ({ fn: g.fn, inputs: (device) => g.inputs().map((t) => moveTo(device, t)), backward: true }));
  }
  return entry.samples.map((s) => {
    const backward = !s.noGrad && opTable.get(name)!.differentiable;
    const input = (r: Ref, device: TestDevice) => build(r, 'float64', 'strided', device);
    return { fn: s.fn, inputs: (device) => s.inputs().map((r) => (backward ? input(r, device).requiresGrad_() : input(r, device))), backward };
  });
}

const recorded = new Map<string, NativeCall[]>();

/** The native calls of all of a row's cases on `device` (recorded once per process). */
function callsOf(name: string, device: TestDevice): NativeCall[] {
  const key = `${name} on ${device}`;
  if (!recorded.has(key)) recorded.set(key, casesOf(name).flatMap((c) => nativeCallsOf(c.fn, c.inputs(device), c.backward)));
  return recorded.get(key)!;
}

const familyNames = (families: Iterable<{ name: string }>): string[] => [...families].map((f) => f.name).sort();

/**
 * What a row's recorded calls must show on `device`: the families it lists and no other, each called with
 * its buffers where the device columns say. A family that is 'host' on the device gets host arrays (device
 * handles mean it runs natively now: flip its column); an op whose column is 'native' there passes device
 * handles to every kernel. A native family may see host arrays inside another family's host fallback.
 */
function columnViolations(name: string, device: TestDevice, calls: readonly NativeCall[]): string[] {
  const op = opTable.get(name)!;
  const reached = new Set(calls.map((c) => c.family));
  const problems = [
    ...familyNames([...reached].filter((f) => !op.kernels.includes(f))).map((f) => `reaches family '${f}', which its row does not list`),
    ...familyNames(op.kernels.filter((f) => !reached.has(f))).map((f) => `lists family '${f}', which its cases never reach`),
  ];
  for (const c of calls) {
    if (c.entry in nativeOpLists && c.listed === undefined) problems.push(`calls native.${c.entry} with an op id outside native.${c.entry}Ops`);
    if (device === 'cpu' || c.memory === null) continue;
    if (c.family.devices[device] === 'host' && c.memory === 'device') {
      problems.push(`native.${c.entry} ran on device handles, but family '${c.family.name}' is declared ${device}: 'host'`);
    } else if (op.devices[device] === 'native' && c.memory === 'host') {
      problems.push(`native.${c.entry} ran on host arrays, but the op's ${device} column is 'native'`);
    }
  }
  return [...new Set(problems)];
}

describe('op table', () => {
  it.runIf(runsCpu)('every registered op has an entry with samples and error cases, and every entry an op', () => {
    const missing = [...opTable.keys()].filter((name) => !(name in table) && !(name in nnOpCases));
    expect(missing, 'ops registered without samples/error cases').toEqual([]);
    const both = Object.keys(nnOpCases).filter((name) => name in table);
    expect(both, 'ops with an entry in both tables').toEqual([]);
    const unregistered = [...Object.keys(table), ...Object.keys(nnOpCases)].filter((name) => !opTable.has(name));
    expect(unregistered, 'entries for names no op registers').toEqual([]);
    for (const [name, entry] of Object.entries(table)) {
      expect(entry.errors.length, `${name} has no error cases`).toBeGreaterThan(0);
      expect(entry.samples.length, `${name} has no samples`).toBeGreaterThan(0);
    }
    for (const [name, entry] of Object.entries(nnOpCases)) {
      expect(entry.errors.length, `${name} has no error cases`).toBeGreaterThan(0);
      expect(entry.gradchecks.length, `${name} has no gradcheck cases`).toBeGreaterThan(0);
    }
  });

  it.runIf(runsCpu)('docs/ops.md is the reference generated from the op table (npm run docs)', () => {
    expect(readFileSync(referencePath, 'utf8'), 'docs/ops.md is stale: run npm run docs').toBe(renderOpsReference());
  });

  describe('the kernel families each op reaches', () => {
    for (const [name, op] of opTable) {
      for (const device of testDevices) {
        it(`${name} on ${device}: [${familyNames(op.kernels).join(', ')}], ${op.devices[device]}`, () => {
          expect(columnViolations(name, device, callsOf(name, device)), `${name} on ${device}`).toEqual([]);
        });
      }
    }

    // An op added to native/include/ops.h without a row reaching it (or a row using a name the addon lacks) fails.
    it('every op of the native op lists is reached by some row', () => {
      const device = testDevices[0]!;
      const reached = new Set([...opTable.keys()].flatMap((name) => callsOf(name, device)).map((c) => `${c.entry}:${c.listed}`));
      const unreached = Object.entries(nativeOpLists).flatMap(([entry, names]) => names.filter((n) => !reached.has(`${entry}:${n}`)).map((n) => `${entry}Ops: ${n}`));
      expect(unreached, 'native ops no row of the op table reaches').toEqual([]);
    });
  });

  // Rows with nothing to run in this process (no samples, and the cpu-only error cases not run) are left out.
  for (const [name, entry] of Object.entries(table).filter(([, e]) => runsCpu || e.samples.length > 0)) {
    describe(name, () => {
      for (const s of entry.samples) {
        for (const device of testDevices) for (const layout of ['contiguous', 'strided'] as const) {
          it(`${s.label} forward on ${device} (${layout}) matches the float64 reference in float32 and float64`, () => {
            const refs = s.inputs();
            const expected = s.ref(...refs);
            for (const dtype of ['float32', 'float64'] as const) {
              const out = s.fn(...refs.map((r) => build(r, dtype, layout, device)));
              expect(out.shape).toEqual(expected.shape);
              expect(out.device).toBe(device);
              const got = out.dataSync();
              const eps = dtype === 'float32' ? 1.1920929e-7 : 2.220446e-16;
              const k = s.k ?? 1;
              for (let i = 0; i < expected.data.length; i++) {
                const e = expected.data[i]!;
                const tol = dtype === 'float32' ? (k > 1 ? 1e-4 + Math.abs(e) * eps * k : 1e-5 + 1e-5 * Math.abs(e)) : 1e-12 + 1e-12 * Math.abs(e) * k;
                if (!(Math.abs(got[i]! - e) <= tol)) expect.fail(`${name} ${s.label} ${dtype}[${i}]: got ${got[i]}, expected ${e} (TF_TEST_SEED=${rng.seed})`);
              }
            }
          });
        }
        if (!s.noGrad && opTable.get(name)?.differentiable !== false) {
          if (runsCpu) {
            it(`${s.label} passes gradcheck`, () => {
              const inputs = s.inputs().map((r) => build(r, 'float64', 'strided').requiresGrad_());
              expect(tf.gradcheck(s.fn, inputs, { eps: 1e-6, atol: 1e-5, rtol: 1e-3 })).toBe(true);
            });
          }
          for (const device of testDevices.filter((d) => d !== 'cpu')) {
            it(`${s.label} backward on ${device} matches cpu`, () => {
              const inputs = s.inputs().map((r) => build(r, 'float64', 'strided').requiresGrad_());
              expectDeviceMatchesCpu(device, `${name} ${s.label}`, s.fn, inputs, s.k);
            });
          }
        }
      }
      if (runsCpu) for (const e of entry.errors) {
        it(`rejects ${e.label}`, () => {
          expect(e.call).toThrow(e.error);
          expect(e.call).toThrow(e.message);
        });
      }
    });
  }

  for (const [name, entry] of Object.entries(nnOpCases)) {
    describe(`${name} (nn.functional)`, () => {
      for (const g of entry.gradchecks) {
        if (runsCpu) {
          it(`${g.label} passes gradcheck`, () => {
            expect(tf.gradcheck(g.fn, g.inputs(), { eps: 1e-6, atol: 1e-5, rtol: 1e-3 })).toBe(true);
          });
        }
        for (const device of testDevices.filter((d) => d !== 'cpu')) {
          it(`${g.label} forward and backward on ${device} match cpu`, () => {
            expectDeviceMatchesCpu(device, `${name} ${g.label}`, g.fn, g.inputs(), 64);
          });
        }
      }
      if (runsCpu) for (const e of entry.errors) {
        it(`rejects ${e.label}`, () => {
          expect(e.call).toThrow(e.error);
          expect(e.call).toThrow(e.message);
        });
      }
    });
  }
});

describe('max, min, argmax and argmin along rows', () => {
  // float32 rows of at least 16 take a vector kernel on AVX-512 CPUs: rows of a vector, several vectors with a
  // tail, and shorter than one; values from a small set (ties) and two NaNs in row 1, 16 apart where the row is
  // long enough (the same lane of the kernel), else the second one last
  for (const [rows, n] of [[2, 16], [3, 37], [2, 200], [3, 5]] as const) {
    it(`[${rows},${n}]: the first extreme wins ties, the first NaN wins`, () => {
      const data = Array.from({ length: rows * n }, () => rng.int(-3, 3));
      const first = rng.int(0, Math.min(15, n - 1));
      data[n + first] = NaN;
      data[n + (first + 16 < n ? first + 16 : n - 1)] = NaN;
      for (const dtype of ['float32', 'float64'] as const) {
        const x = tf.tensor(Float64Array.from(data), { shape: [rows, n] }).to(dtype);
        for (const want of ['max', 'min'] as const) {
          const { values, indices } = tf[want](x, 1);
          const arg = (want === 'max' ? tf.argmax : tf.argmin)(x, 1);
          for (let r = 0; r < rows; r++) {
            const row = data.slice(r * n, (r + 1) * n);
            const finite = row.filter((v) => !Number.isNaN(v));
            const nanAt = row.findIndex(Number.isNaN);
            const at = nanAt >= 0 ? nanAt : row.indexOf(want === 'max' ? Math.max(...finite) : Math.min(...finite));
            const label = `${dtype} ${want} row ${r} (TF_TEST_SEED=${rng.seed})`;
            expect(indices.dataSync()[r], label).toBe(at);
            expect(arg.dataSync()[r], label).toBe(at);
            expect(Object.is(values.dataSync()[r], row[at]), label).toBe(true);
          }
        }
      }
    });
  }
});

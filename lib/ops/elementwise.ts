/**
 * Elementwise ops: unary maps, binary arithmetic with NumPy broadcasting and scalar operands,
 * comparisons, where/maskedFill, and the in-place helpers. Each op's gradient sits next to it.
 */
import { Tensor, type TensorLike } from '../tensor.js';
import { attach, type GradFn } from '../autograd/node.js';
import { isGradEnabled, noGrad } from '../autograd/mode.js';
import { defineOp } from './registry.js';
import { binaryK, compareK, elementwiseFamily, fillK, unaryK, whereK, writeInto } from '../kernels/elementwise.js';
import { reduceFamily } from '../kernels/reduce.js';
import { checkWritable, copyAs, copyInto, deviceOf, requireFloat, toDevice, uninitialized } from '../kernels/runtime.js';
import { isFloatDType } from '../dtype.js';

// --- unary -------------------------------------------------------------------------------------------

type UnaryGrad = (g: Tensor, x: Tensor, y: Tensor) => Tensor;

/** Runs unary kernel `kernel` and records `grad` (which reads x and/or y, as `saves` declares). */
function unary(name: string, x: Tensor, grad: UnaryGrad | null, saves: 'x' | 'y' | 'xy', a = 0, b = 0, kernel = name): Tensor {
  if (grad) requireFloat(name, x);
  const y = unaryK(kernel, x, a, b);
  if (!grad) return y;
  const saved = saves === 'x' ? [x] : saves === 'y' ? [y] : [x, y];
  return attach(name, y, [x], [(g) => grad(g, x, y)], saved);
}

/** A fused backward kernel (not itself differentiable): out = kernel(g, saved; alpha, beta). */
function fusedGrad(kernel: string, g: Tensor, saved: Tensor, alpha = 0, beta = 0): Tensor {
  return binaryK(kernel, g, saved, alpha, beta);
}

/** −x, elementwise. */
export const neg = defineOp('neg', [elementwiseFamily], (x: Tensor): Tensor => unary('neg', x, (g) => neg(g), 'x'));
/** |x|, elementwise; the gradient at 0 is 0. */
export const abs = defineOp('abs', [elementwiseFamily], (x: Tensor): Tensor => unary('abs', x, (g, xx) => mul(g, sign(xx)), 'x'));
/** The sign of x (−1, 0 or 1), elementwise; its gradient is 0. */
export const sign = defineOp('sign', [elementwiseFamily], (x: Tensor): Tensor => unary('sign', x, (g) => mulScalar(g, 0), 'x'));
/** e^x, elementwise. */
export const exp = defineOp('exp', [elementwiseFamily], (x: Tensor): Tensor => unary('exp', x, (g, _x, y) => mul(g, y), 'y'));
/** The natural logarithm of x, elementwise. */
export const log = defineOp('log', [elementwiseFamily], (x: Tensor): Tensor => unary('log', x, (g, xx) => div(g, xx), 'x'));
/** log(1 + x), elementwise, accurate near 0. */
export const log1p = defineOp('log1p', [elementwiseFamily], (x: Tensor): Tensor => unary('log1p', x, (g, xx) => div(g, addScalar(xx, 1)), 'x'));
/** √x, elementwise. */
export const sqrt = defineOp('sqrt', [elementwiseFamily], (x: Tensor): Tensor => unary('sqrt', x, (g, _x, y) => div(g, mulScalar(y, 2)), 'y'));
/** 1 / √x, elementwise. */
export const rsqrt = defineOp('rsqrt', [elementwiseFamily], (x: Tensor): Tensor =>
  unary('rsqrt', x, (g, _x, y) => mulScalar(mul(g, powScalar(y, 3)), -0.5), 'y'));
/** x², elementwise. */
export const square = defineOp('square', [elementwiseFamily], (x: Tensor): Tensor => unary('square', x, (g, xx) => mul(g, mulScalar(xx, 2)), 'x'));
/** 1 / x, elementwise. */
export const reciprocal = defineOp('reciprocal', [elementwiseFamily], (x: Tensor): Tensor =>
  unary('reciprocal', x, (g, _x, y) => neg(mul(g, square(y))), 'y'));
/** sin x, elementwise. */
export const sin = defineOp('sin', [elementwiseFamily], (x: Tensor): Tensor => unary('sin', x, (g, xx) => mul(g, cos(xx)), 'x'));
/** cos x, elementwise. */
export const cos = defineOp('cos', [elementwiseFamily], (x: Tensor): Tensor => unary('cos', x, (g, xx) => neg(mul(g, sin(xx))), 'x'));
/** tanh x, elementwise. */
export const tanh = defineOp('tanh', [elementwiseFamily], (x: Tensor): Tensor => unary('tanh', x, (g, _x, y) => fusedGrad('tanhBackwardY', g, y), 'y'));
/** The logistic function 1 / (1 + e^−x), elementwise. */
export const sigmoid = defineOp('sigmoid', [elementwiseFamily], (x: Tensor): Tensor =>
  unary('sigmoid', x, (g, _x, y) => fusedGrad('sigmoidBackwardY', g, y), 'y'));
/** max(x, 0), elementwise; the gradient at 0 is 0. */
export const relu = defineOp('relu', [elementwiseFamily], (x: Tensor): Tensor => unary('relu', x, (g, xx) => fusedGrad('reluBackward', g, xx), 'x'));
/** x where x > 0, else negativeSlope·x, elementwise. */
export const leakyRelu = defineOp('leakyRelu', [elementwiseFamily], (x: Tensor, negativeSlope = 0.01): Tensor =>
  unary('leakyRelu', x, (g, xx) => fusedGrad('leakyReluBackward', g, xx, negativeSlope), 'x', negativeSlope));
/** x where x > 0, else alpha·(e^x − 1), elementwise. */
export const elu = defineOp('elu', [elementwiseFamily], (x: Tensor, alpha = 1): Tensor =>
  unary('elu', x, (g, xx) => fusedGrad('eluBackward', g, xx, alpha), 'x', alpha));
/** GELU, exact (erf) or with the tanh approximation. */
export const gelu = defineOp('gelu', [elementwiseFamily], (x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor => {
  if (approximate !== 'none' && approximate !== 'tanh') {
    throw new RangeError(`gelu: approximate must be 'none' or 'tanh', got '${String(approximate)}'`);
  }
  const kernel = approximate === 'tanh' ? 'geluTanh' : 'gelu';
  return unary('gelu', x, (g, xx) => fusedGrad(`${kernel}Backward`, g, xx), 'x', 0, 0, kernel);
});
/** softplus(x) = log(1 + exp(beta·x)) / beta, linear where beta·x > threshold. */
export const softplus = defineOp('softplus', [elementwiseFamily], (x: Tensor, beta = 1, threshold = 20): Tensor =>
  unary('softplus', x, (g, xx) => fusedGrad('softplusBackward', g, xx, beta, threshold), 'x', beta, threshold));
/** Clamps to [min, max]; either bound may be omitted. */
export const clamp = defineOp('clamp', [elementwiseFamily], (x: Tensor, min?: number, max?: number): Tensor => {
  if (min === undefined && max === undefined) throw new TypeError('clamp: at least one of min and max must be given');
  const lo = min ?? -Infinity, hi = max ?? Infinity;
  if (lo > hi) throw new RangeError(`clamp: min ${lo} must be <= max ${hi}`);
  const grad: UnaryGrad | null = isFloatDType(x.dtype) ? (g, xx) => fusedGrad('clampBackward', g, xx, lo, hi) : null;
  return unary('clamp', x, grad, 'x', lo, hi);
});

// --- scalar arithmetic (one pass, no broadcast) -------------------------------------------------------

/** int32 tensors meet fractional scalars as float32, like PyTorch's type promotion. */
function promoteForScalar(x: Tensor, s: number): Tensor {
  return !isFloatDType(x.dtype) && !Number.isInteger(s) ? copyAs(x, 'float32') : x;
}

function scalarOp(name: string, kernel: string, x: Tensor, s: number, grad: UnaryGrad | null, saves: 'x' | 'y' = 'x'): Tensor {
  const xx = promoteForScalar(x, s);
  const y = unaryK(kernel, xx, s, 0);
  if (!grad || !isFloatDType(xx.dtype)) return y;
  return attach(name, y, [xx], [(g) => grad(g, xx, y)], saves === 'x' ? [xx] : [y]);
}

/** x + s, one pass over x. */
export const addScalar = defineOp('addScalar', [elementwiseFamily], (x: Tensor, s: number): Tensor => scalarOp('addScalar', 'addScalar', x, s, (g) => g));
/** x · s, one pass over x. */
export const mulScalar = defineOp('mulScalar', [elementwiseFamily], (x: Tensor, s: number): Tensor =>
  scalarOp('mulScalar', 'mulScalar', x, s, (g) => mulScalar(g, s)));
/** s - x */
export const rsubScalar = defineOp('rsubScalar', [elementwiseFamily], (x: Tensor, s: number): Tensor => scalarOp('rsubScalar', 'rsubScalar', x, s, (g) => neg(g)));
/** s / x */
export const rdivScalar = defineOp('rdivScalar', [elementwiseFamily], (x: Tensor, s: number): Tensor =>
  scalarOp('rdivScalar', 'rdivScalar', x, s, (g, xx) => neg(div(mulScalar(g, s), square(xx)))));
/** x ** p */
export const powScalar = defineOp('powScalar', [elementwiseFamily], (x: Tensor, p: number): Tensor =>
  scalarOp('powScalar', 'powScalar', x, p, (g, xx) => (p === 1 ? g : mul(g, mulScalar(powScalar(xx, p - 1), p)))));
/** s ** x */
export const rpowScalar = defineOp('rpowScalar', [elementwiseFamily], (x: Tensor, s: number): Tensor =>
  scalarOp('rpowScalar', 'rpowScalar', x, s, (g, _x, y) => mulScalar(mul(g, y), Math.log(s)), 'y'));

// --- binary -----------------------------------------------------------------------------------------

function binary(name: string, a: Tensor, b: Tensor, grads: [GradFn, GradFn], saved: Tensor[], alpha = 1): Tensor {
  const out = binaryK(name, a, b, alpha, 0);
  if (!isFloatDType(out.dtype)) return out;
  return attach(name, out, [a, b], grads, saved);
}

/** The number s as a 0-d tensor of ref's dtype on ref's device. */
function asTensorOf(ref: Tensor, s: number): Tensor {
  const t = uninitialized([], ref.dtype, deviceOf(ref));
  fillK(t, s);
  return t;
}

/** a + alpha·b, either side a tensor or a number. */
export const add = defineOp('add', [elementwiseFamily, reduceFamily], (a: TensorLike, b: TensorLike, alpha = 1): Tensor => {
  if (typeof b === 'number') return addScalar(a as Tensor, alpha * b);
  if (typeof a === 'number') return addScalar(alpha === 1 ? b : mulScalar(b, alpha), a);
  return binary('add', a, b, [(g) => g, (g) => (alpha === 1 ? g : mulScalar(g, alpha))], [], alpha);
});

/** a - alpha·b. */
export const sub = defineOp('sub', [elementwiseFamily, reduceFamily], (a: TensorLike, b: TensorLike, alpha = 1): Tensor => {
  if (typeof b === 'number') return addScalar(a as Tensor, -alpha * b);
  if (typeof a === 'number') return rsubScalar(alpha === 1 ? b : mulScalar(b, alpha), a);
  return binary('sub', a, b, [(g) => g, (g) => mulScalar(g, -alpha)], [], alpha);
});

/** a · b elementwise, broadcasting; either side may be a number. */
export const mul = defineOp('mul', [elementwiseFamily, reduceFamily], (a: TensorLike, b: TensorLike): Tensor => {
  if (typeof b === 'number') return mulScalar(a as Tensor, b);
  if (typeof a === 'number') return mulScalar(b, a);
  return binary('mul', a, b, [(g) => mul(g, b), (g) => mul(g, a)], [a, b]);
});

/** a / b elementwise (true division), broadcasting; either side may be a number. */
export const div = defineOp('div', [elementwiseFamily, reduceFamily], (a: TensorLike, b: TensorLike): Tensor => {
  // true division: an int32 tensor divided by a number is float32, as in PyTorch
  if (typeof b === 'number') return mulScalar(isFloatDType((a as Tensor).dtype) ? (a as Tensor) : copyAs(a as Tensor, 'float32'), 1 / b);
  if (typeof a === 'number') return rdivScalar(b, a);
  return binary('div', a, b, [(g) => div(g, b), (g) => neg(div(mul(g, a), square(b)))], [a, b]);
});

/** a ** b elementwise, broadcasting; either side may be a number. */
export const pow = defineOp('pow', [elementwiseFamily, reduceFamily], (a: TensorLike, b: TensorLike): Tensor => {
  if (typeof b === 'number') return powScalar(a as Tensor, b);
  if (typeof a === 'number') return rpowScalar(b, a);
  return binary(
    'pow', a, b,
    [(g) => mul(g, mul(b, pow(a, addScalar(b, -1)))), (g) => mul(g, mul(pow(a, b), log(a)))],
    [a, b],
  );
});

function extremum(name: 'maximum' | 'minimum', a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb] = typeof a === 'number' ? [asTensorOf(b as Tensor, a), b as Tensor] : typeof b === 'number' ? [a, asTensorOf(a, b)] : [a, b];
  const pickA = () => (name === 'maximum' ? ge(ta, tb) : le(ta, tb));
  return binary(name, ta, tb, [(g) => where(pickA(), g, mulScalar(g, 0)), (g) => where(pickA(), mulScalar(g, 0), g)], [ta, tb]);
}
/** Elementwise max; gradient goes to a on ties. */
export const maximum = defineOp('maximum', [elementwiseFamily, reduceFamily], (a: TensorLike, b: TensorLike): Tensor => extremum('maximum', a, b));
/** Elementwise min; gradient goes to a on ties. */
export const minimum = defineOp('minimum', [elementwiseFamily, reduceFamily], (a: TensorLike, b: TensorLike): Tensor => extremum('minimum', a, b));

// --- comparisons and selection ------------------------------------------------------------------------

/** A bool tensor: a <op> b, broadcasting; a number on either side compares against every element. */
function compare(name: string, a: TensorLike, b: TensorLike): Tensor {
  const ta = typeof a === 'number' ? asTensorOf(b as Tensor, a) : a;
  const tb = typeof b === 'number' ? asTensorOf(ta, b) : b;
  return compareK(name, ta, tb);
}
const comparison = { differentiable: false };
/** a == b, elementwise (bool). */
export const eq = defineOp('eq', [elementwiseFamily], (a: TensorLike, b: TensorLike): Tensor => compare('eq', a, b), comparison);
/** a != b, elementwise (bool). */
export const ne = defineOp('ne', [elementwiseFamily], (a: TensorLike, b: TensorLike): Tensor => compare('ne', a, b), comparison);
/** a < b, elementwise (bool). */
export const lt = defineOp('lt', [elementwiseFamily], (a: TensorLike, b: TensorLike): Tensor => compare('lt', a, b), comparison);
/** a <= b, elementwise (bool). */
export const le = defineOp('le', [elementwiseFamily], (a: TensorLike, b: TensorLike): Tensor => compare('le', a, b), comparison);
/** a > b, elementwise (bool). */
export const gt = defineOp('gt', [elementwiseFamily], (a: TensorLike, b: TensorLike): Tensor => compare('gt', a, b), comparison);
/** a >= b, elementwise (bool). */
export const ge = defineOp('ge', [elementwiseFamily], (a: TensorLike, b: TensorLike): Tensor => compare('ge', a, b), comparison);

/** cond ? a : b, broadcasting all three. */
export const where = defineOp('where', [elementwiseFamily, reduceFamily], (cond: Tensor, a: TensorLike, b: TensorLike): Tensor => {
  const ta = typeof a === 'number' ? asTensorOf(b as Tensor, a) : a;
  const tb = typeof b === 'number' ? asTensorOf(ta, b) : b;
  const out = whereK(cond, ta, tb);
  if (!isFloatDType(out.dtype)) return out;
  return attach('where', out, [ta, tb], [(g) => where(cond, g, 0), (g) => where(cond, 0, g)], [cond]);
});

/** x with `value` where mask is true. */
export const maskedFill = defineOp('maskedFill', [elementwiseFamily], (x: Tensor, mask: Tensor, value: number): Tensor => {
  if (mask.dtype !== 'bool') throw new TypeError(`maskedFill: mask must be bool, got ${mask.dtype}`);
  return where(mask, asTensorOf(x, value), x);
});

/** True when every element is finite (no NaN, no ±Inf). */
export function isFiniteAll(x: Tensor): boolean {
  if (!isFloatDType(x.dtype)) return true;
  const probe = unaryK('mulScalar', x, 0, 0);
  const data = probe.dataSync();
  for (let i = 0; i < data.length; i++) if (data[i] !== 0) return false;
  return true;
}

// --- in place -----------------------------------------------------------------------------------------

/** Throws unless `op` may write target in place: not an expanded view, not a tensor autograd tracks. */
function guardInPlace(target: Tensor, op: string): void {
  checkWritable(op, target);
  if (!isGradEnabled() || !target.requiresGrad) return;
  throw new Error(
    target.isLeaf
      ? `${op}: a leaf tensor that requires grad cannot be modified in place outside noGrad()`
      : `${op}: in-place modification of a tensor that is part of the autograd graph is not supported; use the out-of-place op`,
  );
}

/** Writes `result` (same shape, any broadcastable) into target's view and bumps its version. */
export function inPlace<T extends Tensor>(target: T, result: Tensor, op = 'in-place op'): T {
  guardInPlace(target, op);
  copyInto(target, result, op);
  return target;
}

/**
 * target = compute(), with the kernel writing straight into target when it can (no temporary, no
 * copy); otherwise the result is copied in. Not recorded by autograd; bumps target's version.
 */
export function computeInPlace<T extends Tensor>(target: T, op: string, compute: () => Tensor): T {
  guardInPlace(target, op);
  const result = noGrad(() => writeInto(target, compute));
  if (result === target) target.storage.version++;
  else copyInto(target, result, op);
  return target;
}

export function fill_<T extends Tensor>(target: T, value: number): T {
  guardInPlace(target, 'fill_');
  fillK(target, value);
  return target;
}

/** Copies src (broadcast, converting dtype, from any device) into target's view. */
export function copy_<T extends Tensor>(target: T, src: Tensor): T {
  return inPlace(target, toDevice(src, deviceOf(target)), 'copy_');
}

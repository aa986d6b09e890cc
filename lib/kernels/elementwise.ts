/**
 * The strided elementwise kernels (unary, binary, compare, where, fill) on tensors of one device; they
 * run natively on cpu and cuda. Outputs are allocated on the inputs' device.
 */
import { native } from '../native.js';
import type { DType } from '../dtype.js';
import type { Tensor } from '../tensor.js';
import type { BoolBuffer } from '../bindings/elementwise.js';
import {
  bufferOf, broadcastShapes, broadcastStrides, commonDevice, requireSameDType, uninitialized,
} from './runtime.js';
import { kernelFamily } from './family.js';

/** This module's kernel family: its entry points and how each device runs them (see family.ts). */
export const elementwiseFamily = kernelFamily('elementwise', ['unary', 'binary', 'compare', 'where', 'copy'], { cpu: 'native', cuda: 'native' });

const opIds = (names: readonly string[]): Record<string, number> =>
  Object.fromEntries(names.map((n, i) => [n, i]));
const unaryIds = opIds(native.unaryOps);
const binaryIds = opIds(native.binaryOps);
const compareIds = opIds(native.compareOps);

/** A tensor an in-place op offers as the output of its kernel (see writeInto), or null. */
let destination: Tensor | null = null;

function sameLayout(a: Tensor, b: Tensor): boolean {
  return a.offset === b.offset && a.strides.every((s, i) => s === b.strides[i]) && a.shape.every((d, i) => d === b.shape[i]);
}

/**
 * Runs fn offering `target` as the output of the first kernel whose result has target's shape, dtype and
 * device and whose inputs do not overlap target in another layout (an input that is target itself is
 * fine: every element is read before it is written). Returns what fn returns: target itself when used.
 */
export function writeInto(target: Tensor, fn: () => Tensor): Tensor {
  const previous = destination;
  destination = target;
  try {
    return fn();
  } finally {
    destination = previous;
  }
}

/** The output of an elementwise kernel: the offered destination when it fits, else a new tensor. */
function output(op: string, shape: readonly number[], dtype: DType, inputs: readonly Tensor[]): Tensor {
  const device = commonDevice(op, inputs);
  const d = destination;
  const fits = d !== null && d.dtype === dtype && d.device === device.type && d.deviceIndex === device.index &&
    d.ndim === shape.length && d.shape.every((s, i) => s === shape[i]) &&
    inputs.every((t) => t.storage !== d.storage || sameLayout(t, d));
  if (!fits) return uninitialized(shape, dtype, device);
  destination = null;
  return d;
}

/** out = op(x; a, b) with x's shape and dtype. */
export function unaryK(op: string, x: Tensor, a = 0, b = 0): Tensor {
  const out = output(op, x.shape, x.dtype, [x]);
  native.unary(unaryIds[op]!, x.shape, bufferOf(out), out.offset, out.strides, bufferOf(x), x.offset, x.strides, a, b);
  return out;
}

/** out = op(x, y; alpha, beta), broadcasting; `name` is the op the user called, for messages. */
export function binaryK(op: string, x: Tensor, y: Tensor, alpha = 1, beta = 0, name = op): Tensor {
  requireSameDType(name, x, y);
  const shape = broadcastShapes(name, x.shape, y.shape);
  const out = output(name, shape, x.dtype, [x, y]);
  native.binary(
    binaryIds[op]!, shape, bufferOf(out), out.offset, out.strides,
    bufferOf(x), x.offset, broadcastStrides(x, shape), bufferOf(y), y.offset, broadcastStrides(y, shape), alpha, beta,
  );
  return out;
}

/** A bool tensor: x <op> y, broadcasting. */
export function compareK(op: string, x: Tensor, y: Tensor): Tensor {
  const device = commonDevice(op, [x, y]);
  requireSameDType(op, x, y);
  const shape = broadcastShapes(op, x.shape, y.shape);
  const out = uninitialized(shape, 'bool', device);
  native.compare(
    compareIds[op]!, shape, bufferOf(out) as BoolBuffer, 0, out.strides,
    bufferOf(x), x.offset, broadcastStrides(x, shape), bufferOf(y), y.offset, broadcastStrides(y, shape),
  );
  return out;
}

/** cond ? x : y, broadcasting all three. */
export function whereK(cond: Tensor, x: Tensor, y: Tensor): Tensor {
  requireSameDType('where', x, y);
  if (cond.dtype !== 'bool') throw new TypeError(`where: condition must be bool, got ${cond.dtype}`);
  const shape = broadcastShapes('where', broadcastShapes('where', cond.shape, x.shape), y.shape);
  const out = output('where', shape, x.dtype, [cond, x, y]);
  native.where(
    shape, bufferOf(out), out.offset, out.strides, bufferOf(cond) as BoolBuffer, cond.offset, broadcastStrides(cond, shape),
    bufferOf(x), x.offset, broadcastStrides(x, shape), bufferOf(y), y.offset, broadcastStrides(y, shape),
  );
  return out;
}

/** Sets every element of the view to `value`; bumps its version. */
export function fillK(target: Tensor, value: number): void {
  const buf = bufferOf(target);
  native.unary(unaryIds.fill!, target.shape, buf, target.offset, target.strides, buf, target.offset, target.strides, value, 0);
  target.storage.version++;
}

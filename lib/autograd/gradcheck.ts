/**
 * Numerical gradient check (PyTorch's gradcheck): compares the analytical Jacobian-vector products from
 * backward with central differences, in float64.
 */
import { Tensor } from '../tensor.js';
import { describe, requireFunction } from '../checks.js';
import { grad } from './engine.js';
import { noGrad } from './mode.js';
import { randn } from '../creation.js';

export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
}

/**
 * fn maps float64 inputs (those with requiresGrad are checked) to one tensor. For a random upstream
 * gradient v, checks d(sum(fn(x)·v))/dx_i against (f(x + eps·e_i) − f(x − eps·e_i))·v / 2eps for every
 * element of every checked input. Throws an Error naming the input, element and both values on a
 * mismatch; returns true otherwise.
 */
export function gradcheck(fn: (...inputs: Tensor[]) => Tensor, inputs: Tensor[], options: GradcheckOptions = {}): boolean {
  requireFunction('gradcheck', fn, 'fn');
  if (!Array.isArray(inputs)) throw new TypeError(`gradcheck: inputs must be an array of tensors, got ${describe(inputs)}`);
  if (options === null || typeof options !== 'object') throw new TypeError(`gradcheck: options must be an object, got ${describe(options)}`);
  const { eps = 1e-6, atol = 1e-5, rtol = 1e-3 } = options;
  inputs.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw new TypeError(`gradcheck: input ${i} must be a Tensor, got ${describe(t)}`);
    if (t.requiresGrad && t.dtype !== 'float64') throw new TypeError(`gradcheck: input ${i} must be float64, got ${t.dtype}`);
  });
  const checked = inputs.filter((t) => t.requiresGrad);
  const out = fn(...inputs);
  const v = randn(out.shape, { dtype: 'float64' });
  const analytical = checked.length ? grad(out, checked, { gradOutputs: [v], allowUnused: true }) : [];
  const project = (): number => {
    const y = noGrad(() => fn(...inputs)).contiguous().dataSync();
    const vd = v.dataSync();
    let s = 0;
    for (let k = 0; k < y.length; k++) s += y[k]! * vd[k]!;
    return s;
  };
  checked.forEach((t, ti) => {
    const g = analytical[ti] ? analytical[ti]!.contiguous().dataSync() : null;
    const data = t.buffer;
    const positions = t.contiguous().numel;
    const flatIndex = contiguousOffsets(t);
    for (let k = 0; k < positions; k++) {
      const at = flatIndex[k]!;
      const orig = data[at]!;
      data[at] = orig + eps;
      const plus = project();
      data[at] = orig - eps;
      const minus = project();
      data[at] = orig;
      const numerical = (plus - minus) / (2 * eps);
      const a = g ? g[k]! : 0;
      if (!(Math.abs(a - numerical) <= atol + rtol * Math.abs(numerical))) {
        throw new Error(
          `gradcheck: input ${inputs.indexOf(t)} element ${k}: analytical ${a} vs numerical ${numerical} ` +
            `(eps ${eps}, atol ${atol}, rtol ${rtol})`,
        );
      }
    }
  });
  return true;
}

/** Storage offsets of t's elements in row-major order. */
function contiguousOffsets(t: Tensor): number[] {
  const out: number[] = [];
  const walk = (dim: number, base: number): void => {
    if (dim === t.ndim) {
      out.push(base);
      return;
    }
    for (let i = 0; i < t.shape[dim]!; i++) walk(dim + 1, base + i * t.strides[dim]!);
  };
  if (t.numel > 0) walk(0, t.offset);
  return out;
}

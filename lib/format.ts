/** PyTorch-style printing: fixed or scientific notation chosen per tensor, elided beyond 1000 elements. */
import type { Tensor } from './tensor.js';

const EDGE = 3;
const THRESHOLD = 1000;

function formatter(values: number[], isFloat: boolean): (v: number) => string {
  if (!isFloat) return (v) => String(v);
  const finite = values.filter(Number.isFinite).map(Math.abs);
  const maxAbs = finite.length ? Math.max(...finite) : 0;
  const minAbs = finite.filter((v) => v > 0).reduce((a, b) => Math.min(a, b), Infinity);
  const allInts = values.every((v) => !Number.isFinite(v) || Number.isInteger(v));
  if (allInts && maxAbs < 1e8) return (v) => (Number.isFinite(v) ? `${v}.` : String(v));
  const sci = maxAbs >= 1e8 || (minAbs < 1e-4 && minAbs !== Infinity);
  return (v) => (!Number.isFinite(v) ? String(v) : sci ? v.toExponential(4) : v.toFixed(4));
}

export function formatTensor(t: Tensor): string {
  if (t.isDisposed) return 'tensor(<disposed>)';
  const contiguousData = t.dataSync();
  const elide = t.numel > THRESHOLD;
  const shown: number[] = [];
  const strides = t.shape.map((_, i) => t.shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const indicesOf = (dim: number): number[] => {
    const n = t.shape[dim]!;
    if (!elide || n <= 2 * EDGE) return Array.from({ length: n }, (_, i) => i);
    return [...Array.from({ length: EDGE }, (_, i) => i), -1, ...Array.from({ length: EDGE }, (_, i) => n - EDGE + i)];
  };
  const collect = (dim: number, base: number): void => {
    if (dim === t.ndim) {
      shown.push(contiguousData[base]!);
      return;
    }
    for (const i of indicesOf(dim)) if (i >= 0) collect(dim + 1, base + i * strides[dim]!);
  };
  collect(0, 0);
  const fmt = formatter(shown, t.dtype === 'float32' || t.dtype === 'float64');
  const width = Math.max(1, ...shown.map((v) => fmt(v).length));
  const render = (dim: number, base: number, indent: string): string => {
    if (dim === t.ndim) return fmt(contiguousData[base]!).padStart(width);
    const parts = indicesOf(dim).map((i) => (i < 0 ? '...' : render(dim + 1, base + i * strides[dim]!, indent + ' ')));
    const sep = dim === t.ndim - 1 ? ', ' : ',' + '\n'.repeat(t.ndim - 1 - dim) + indent + ' ';
    return '[' + parts.join(sep) + ']';
  };
  const body = render(0, 0, '       ');
  const extras: string[] = [];
  if (t.numel === 0) extras.push(`size=[${t.shape.join(', ')}]`);
  if (t.dtype !== 'float32') extras.push(`dtype=${t.dtype}`);
  if (t.gradFn) extras.push(`gradFn=<${t.gradFn.name}>`);
  else if (t.requiresGrad) extras.push('requiresGrad=true');
  return `tensor(${body}${extras.length ? ', ' + extras.join(', ') : ''})`;
}

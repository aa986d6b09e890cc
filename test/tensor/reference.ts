/**
 * Independent float64 references for the op table: plain loops over flat row-major arrays, written
 * without any tensorforge code.
 */
export interface Ref {
  shape: number[];
  data: number[];
}

export function numelOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function broadcastShape(...shapes: number[][]): number[] {
  const n = Math.max(...shapes.map((s) => s.length));
  return Array.from({ length: n }, (_, i) => shapes.map((s) => s[s.length - n + i] ?? 1).find((d) => d !== 1) ?? 1);
}

/** Flat index into `shape` (broadcast-aware) of the multi-index `idx` of a larger shape. */
function broadcastIndex(idx: number[], shape: number[]): number {
  const lead = idx.length - shape.length;
  let flat = 0;
  for (let i = 0; i < shape.length; i++) flat = flat * shape[i]! + (shape[i] === 1 ? 0 : idx[lead + i]!);
  return flat;
}

function unravel(k: number, shape: number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    idx[i] = k % shape[i]!;
    k = Math.floor(k / shape[i]!);
  }
  return idx;
}

/** out[i] = f(a[i'], b[i'], ...) with NumPy broadcasting. */
export function mapRef(inputs: Ref[], f: (...v: number[]) => number): Ref {
  const shape = broadcastShape(...inputs.map((r) => r.shape));
  const data = Array.from({ length: numelOf(shape) }, (_, k) => {
    const idx = unravel(k, shape);
    return f(...inputs.map((r) => r.data[broadcastIndex(idx, r.shape)]!));
  });
  return { shape, data };
}

/** Reduces dims with `combine` over the values of each block (values in row-major order). */
export function reduceRef(x: Ref, dims: number[], keepdim: boolean, combine: (values: number[]) => number): Ref {
  const kept = x.shape.map((d, i) => (dims.includes(i) ? 1 : d));
  const groups = new Map<number, number[]>();
  for (let k = 0; k < x.data.length; k++) {
    const key = broadcastIndex(unravel(k, x.shape), kept);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(x.data[k]!);
  }
  const n = numelOf(kept);
  const data = Array.from({ length: n }, (_, key) => combine(groups.get(key) ?? []));
  return { shape: keepdim ? kept : x.shape.filter((_, i) => !dims.includes(i)), data };
}

export function matmulRef(a: Ref, b: Ref): Ref {
  const [M, K] = a.shape.slice(-2) as [number, number];
  const N = b.shape[b.shape.length - 1]!;
  const batch = broadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const data: number[] = [];
  for (let bi = 0; bi < numelOf(batch); bi++) {
    const idx = unravel(bi, batch);
    const ao = broadcastIndex(idx, a.shape.slice(0, -2)) * M * K, bo = broadcastIndex(idx, b.shape.slice(0, -2)) * K * N;
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a.data[ao + i * K + k]! * b.data[bo + k * N + j]!;
        data.push(s);
      }
  }
  return { shape: [...batch, M, N], data };
}

/** Permutes dims of a reference. */
export function permuteRef(x: Ref, order: number[]): Ref {
  const shape = order.map((d) => x.shape[d]!);
  const data = Array.from({ length: x.data.length }, (_, k) => {
    const idx = unravel(k, shape);
    const src = new Array<number>(order.length);
    order.forEach((d, i) => (src[d] = idx[i]!));
    return x.data[broadcastIndex(src, x.shape)]!;
  });
  return { shape, data };
}

export function erf(x: number): number {
  // Abramowitz-Stegun 7.1.26 is too coarse for 1e-5; integrate the series instead.
  let sum = 0, term = x;
  for (let n = 0; n < 200; n++) {
    sum += term / (2 * n + 1);
    term *= (-x * x) / (n + 1);
    if (Math.abs(term) < 1e-17) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

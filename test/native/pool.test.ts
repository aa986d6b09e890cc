import { describe, expect, it } from 'vitest';
import { native } from '../../lib/native.js';
import type { Pair, Shape4 } from '../../lib/bindings/conv.js';
import { expectClose, makeRng, randomArray, type Rng } from '../util.js';

interface Window {
  x: Shape4;
  kernel: Pair;
  stride: Pair;
  padding: Pair;
  dilation: Pair;
  ceilMode: boolean;
  countIncludePad: boolean;
}

const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

function outSize(i: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  const avail = i + 2 * p - d * (k - 1) - 1;
  let o = (ceil ? Math.ceil(avail / s) : Math.floor(avail / s)) + 1;
  if (ceil && (o - 1) * s >= i + p) o--;
  return o;
}
const outShape = (c: Window): Shape4 => [c.x[0], c.x[1],
  outSize(c.x[2], c.kernel[0], c.stride[0], c.padding[0], c.dilation[0], c.ceilMode),
  outSize(c.x[3], c.kernel[1], c.stride[1], c.padding[1], c.dilation[1], c.ceilMode)];

/**
 * Naive float64 pooling over windows given per output position as lists of input rows / columns
 * (out-of-range positions dropped) with an average divisor.
 */
function refPool(
  x: ArrayLike<number>, [N, C, H, W]: Shape4, P: number, Q: number,
  rows: (o: number) => number[], cols: (o: number) => number[], divisor: (oh: number, ow: number) => number,
) {
  const max = new Float64Array(N * C * P * Q), argmax = new Int32Array(max.length), avg = new Float64Array(max.length);
  for (let plane = 0; plane < N * C; plane++)
    for (let oh = 0; oh < P; oh++)
      for (let ow = 0; ow < Q; ow++) {
        const o = (plane * P + oh) * Q + ow;
        let best = -Infinity, at = -1, sum = 0;
        for (const h of rows(oh).filter((h) => h >= 0 && h < H))
          for (const w of cols(ow).filter((w) => w >= 0 && w < W)) {
            const v = x[plane * H * W + h * W + w]!;
            if (at < 0) at = h * W + w;
            if (v > best || Number.isNaN(v)) (best = v), (at = h * W + w);
            sum += v;
          }
        max[o] = best;
        argmax[o] = at;
        avg[o] = sum / divisor(oh, ow);
      }
  return { max, argmax, avg };
}

function refWindowPool(c: Window, x: ArrayLike<number>, dilation: Pair) {
  const [, , P, Q] = outShape({ ...c, dilation });
  const [, , H, W] = c.x;
  const taps = (o: number, a: 0 | 1) =>
    Array.from({ length: c.kernel[a] }, (_, j) => o * c.stride[a] - c.padding[a] + j * dilation[a]);
  const divisor = (oh: number, ow: number) => {
    const h0 = oh * c.stride[0] - c.padding[0], w0 = ow * c.stride[1] - c.padding[1];
    const h1 = Math.min(h0 + c.kernel[0], H + c.padding[0]), w1 = Math.min(w0 + c.kernel[1], W + c.padding[1]);
    if (c.countIncludePad) return (h1 - h0) * (w1 - w0);
    return (Math.min(h1, H) - Math.max(h0, 0)) * (Math.min(w1, W) - Math.max(w0, 0));
  };
  return refPool(x, c.x, P, Q, (o) => taps(o, 0), (o) => taps(o, 1), divisor);
}

function refAdaptive(x: ArrayLike<number>, xs: Shape4, out: Pair) {
  const range = (o: number, In: number, Out: number) => {
    const b = Math.floor((o * In) / Out), e = Math.ceil(((o + 1) * In) / Out);
    return Array.from({ length: e - b }, (_, i) => b + i);
  };
  const rows = (o: number) => range(o, xs[2], out[0]), cols = (o: number) => range(o, xs[3], out[1]);
  return refPool(x, xs, out[0], out[1], rows, cols, (oh, ow) => rows(oh).length * cols(ow).length);
}

/** Adjoint of a pooling forward: scatter dy through windows, the same ones the reference uses. */
function scatterMax(dy: ArrayLike<number>, idx: Int32Array, xs: Shape4, PQ: number): Float64Array {
  const HW = xs[2] * xs[3], dx = new Float64Array(numel(xs));
  for (let i = 0; i < idx.length; i++) if (idx[i]! >= 0) dx[Math.floor(i / PQ) * HW + idx[i]!] += dy[i]!;
  return dx;
}

function randomWindow(rng: Rng, o: Partial<Window> = {}): Window {
  const kernel = o.kernel ?? [rng.int(1, 4), rng.int(1, 4)];
  const stride = o.stride ?? [rng.int(1, 3), rng.int(1, 3)];
  const padding = o.padding ?? [rng.int(0, kernel[0] >> 1), rng.int(0, kernel[1] >> 1)];
  const dilation = o.dilation ?? [rng.int(1, 2), rng.int(1, 2)];
  const [N, C, H0, W0] = o.x ?? [rng.int(1, 3), rng.int(1, 3), rng.int(1, 13), rng.int(1, 13)];
  const H = Math.max(H0, dilation[0] * (kernel[0] - 1) + 1 - 2 * padding[0], 1);
  const W = Math.max(W0, dilation[1] * (kernel[1] - 1) + 1 - 2 * padding[1], 1);
  return { x: [N, C, H, W], kernel, stride, padding, dilation, ceilMode: o.ceilMode ?? rng.next() < 0.5, countIncludePad: o.countIncludePad ?? rng.next() < 0.5 };
}

const label = (c: Window) => `x${JSON.stringify(c.x)} k${c.kernel} s${c.stride} p${c.padding} d${c.dilation}${c.ceilMode ? ' ceil' : ''}${c.countIncludePad ? ' include-pad' : ''}`;

describe('native pooling', () => {
  const rng = makeRng();
  const windows: Window[] = [
    randomWindow(rng),
    randomWindow(rng),
    randomWindow(rng, { ceilMode: true, stride: [2, 3], x: [2, 2, 2 * rng.int(2, 6) + 1, 2 * rng.int(2, 6) + 1] }),
    randomWindow(rng, { kernel: [3, 3], stride: [2, 2], padding: [1, 1], ceilMode: true, countIncludePad: false }),
    randomWindow(rng, { kernel: [2, 2], stride: [2, 2], padding: [0, 0], dilation: [1, 1], x: [4, 3, 12, 13] }),
    // rows of 18 and 32 windows: several vectors of 16 in the AVX-512 kernel, the last one partial or full
    randomWindow(rng, { kernel: [2, 2], stride: [2, 2], padding: [0, 0], dilation: [1, 1], x: [2, 3, 9, 37] }),
    randomWindow(rng, { kernel: [2, 2], stride: [2, 2], padding: [0, 0], dilation: [1, 1], x: [1, 2, 4, 64] }),
    randomWindow(rng, { kernel: [7, 7], stride: [3, 2], padding: [3, 2], dilation: [1, 1], x: [1, 2, 9, 11] }),
    randomWindow(rng, { dilation: [2, 2], kernel: [3, 2], padding: [1, 1] }),
  ];

  for (const c of windows)
    for (const Ctor of [Float32Array, Float64Array]) {
      const tol = Ctor === Float32Array ? { atol: 1e-6, rtol: 1e-6 } : { atol: 1e-14, rtol: 1e-14 };
      it(`${Ctor.name} max pool (dilated) forward/backward vs naive: ${label(c)}`, () => {
        const yShape = outShape(c);
        expect(native.pool2dOutputShape(c.x, c.kernel, c.stride, c.padding, c.dilation, c.ceilMode)).toEqual(yShape);
        const x = randomArray(Ctor, numel(c.x), rng), dy = randomArray(Ctor, numel(yShape), rng);
        const y = randomArray(Ctor, dy.length, rng), idx = new Int32Array(dy.length).fill(7), dx = randomArray(Ctor, x.length, rng);
        native.maxPool2dForward(x, c.x, y, idx, c.kernel, c.stride, c.padding, c.dilation, c.ceilMode);
        native.maxPool2dBackward(dy, yShape, idx, dx, c.x, c.kernel, c.stride, c.padding, c.dilation, c.ceilMode);
        const ref = refWindowPool(c, x, c.dilation);
        expectClose(y, ref.max, { ...tol, seed: rng.seed, label: 'max' });
        expect(Array.from(idx)).toEqual(Array.from(ref.argmax));
        expectClose(dx, scatterMax(dy, ref.argmax, c.x, yShape[2] * yShape[3]), { ...tol, seed: rng.seed, label: 'max grad' });
      });
      it(`${Ctor.name} avg pool forward/backward vs naive: ${label(c)}`, () => {
        const yShape = outShape({ ...c, dilation: [1, 1] });
        const x = randomArray(Ctor, numel(c.x), rng), dy = randomArray(Ctor, numel(yShape), rng);
        const y = randomArray(Ctor, dy.length, rng), dx = randomArray(Ctor, x.length, rng);
        native.avgPool2dForward(x, c.x, y, c.kernel, c.stride, c.padding, c.ceilMode, c.countIncludePad);
        native.avgPool2dBackward(dy, yShape, dx, c.x, c.kernel, c.stride, c.padding, c.ceilMode, c.countIncludePad);
        expectClose(y, refWindowPool(c, x, [1, 1]).avg, { ...tol, seed: rng.seed, label: 'avg' });
        // the backward is the adjoint of the forward: <avg(e_i), dy> for every input basis vector e_i
        const e = new Float64Array(x.length), expected = new Float64Array(x.length);
        for (let i = 0; i < x.length; i++) {
          e[i] = 1;
          const r = refWindowPool(c, e, [1, 1]).avg;
          e[i] = 0;
          for (let j = 0; j < r.length; j++) expected[i] += r[j]! * dy[j]!;
        }
        expectClose(dx, expected, { ...tol, seed: rng.seed, label: 'avg grad' });
      });
    }

  for (const Ctor of [Float32Array, Float64Array])
    for (const [xs, out] of [[[2, 3, 7, 9], [3, 4]], [[1, 2, 5, 4], [7, 6]], [[3, 1, 13, 1], [1, 1]], [[2, 2, 6, 6], [6, 6]]] as Array<[Shape4, Pair]>)
      it(`${Ctor.name} adaptive avg/max ${JSON.stringify(xs)} -> ${out} vs naive`, () => {
        const tol = Ctor === Float32Array ? { atol: 1e-6, rtol: 1e-6 } : { atol: 1e-14, rtol: 1e-14 };
        const yShape: Shape4 = [xs[0], xs[1], out[0], out[1]];
        const x = randomArray(Ctor, numel(xs), rng), dy = randomArray(Ctor, numel(yShape), rng);
        const ref = refAdaptive(x, xs, out);
        const avg = new Ctor(dy.length), max = new Ctor(dy.length), idx = new Int32Array(dy.length);
        native.adaptiveAvgPool2dForward(x, xs, avg, out);
        native.adaptiveMaxPool2dForward(x, xs, max, idx, out);
        expectClose(avg, ref.avg, { ...tol, seed: rng.seed, label: 'adaptive avg' });
        expectClose(max, ref.max, { ...tol, seed: rng.seed, label: 'adaptive max' });
        expect(Array.from(idx)).toEqual(Array.from(ref.argmax));
        const dxMax = randomArray(Ctor, x.length, rng), dxAvg = randomArray(Ctor, x.length, rng);
        native.adaptiveMaxPool2dBackward(dy, yShape, idx, dxMax, xs);
        native.adaptiveAvgPool2dBackward(dy, yShape, dxAvg, xs);
        expectClose(dxMax, scatterMax(dy, ref.argmax, xs, out[0] * out[1]), { ...tol, seed: rng.seed, label: 'adaptive max grad' });
        const expected = new Float64Array(x.length), e = new Float64Array(x.length);
        for (let i = 0; i < x.length; i++) {
          e[i] = 1;
          const r = refAdaptive(e, xs, out).avg;
          e[i] = 0;
          for (let j = 0; j < r.length; j++) expected[i] += r[j]! * dy[j]!;
        }
        expectClose(dxAvg, expected, { ...tol, seed: rng.seed, label: 'adaptive avg grad' });
      });

  it('backward kernels match central differences of the forward bindings (float64)', () => {
    const c = randomWindow(rng, { x: [2, 2, 7, 8], kernel: [3, 2], stride: [2, 1], padding: [1, 1], dilation: [1, 2], ceilMode: true, countIncludePad: false });
    const x = randomArray(Float64Array, numel(c.x), rng);
    const check = (forward: (y: Float64Array) => void, outLen: number, backward: (g: Float64Array, dx: Float64Array) => void, name: string) => {
      const g = randomArray(Float64Array, outLen, rng), y = new Float64Array(outLen), eps = 1e-6;
      const loss = () => {
        forward(y);
        return y.reduce((s, v, i) => s + v * g[i]!, 0);
      };
      const numeric = Float64Array.from(x, (v, i) => {
        x[i] = v + eps;
        const up = loss();
        x[i] = v - eps;
        const down = loss();
        x[i] = v;
        return (up - down) / (2 * eps);
      });
      const dx = new Float64Array(x.length);
      backward(g, dx);
      expectClose(dx, numeric, { atol: 1e-5, rtol: 1e-3, seed: rng.seed, label: name });
    };
    const ys = outShape(c), ya = outShape({ ...c, dilation: [1, 1] }), out: Pair = [3, 5];
    const idx = new Int32Array(numel(ys)), aidx = new Int32Array(numel(out) * 4);
    check((y) => native.maxPool2dForward(x, c.x, y, idx, c.kernel, c.stride, c.padding, c.dilation, c.ceilMode), numel(ys),
      (g, dx) => native.maxPool2dBackward(g, ys, idx, dx, c.x, c.kernel, c.stride, c.padding, c.dilation, c.ceilMode), 'max');
    check((y) => native.avgPool2dForward(x, c.x, y, c.kernel, c.stride, c.padding, c.ceilMode, c.countIncludePad), numel(ya),
      (g, dx) => native.avgPool2dBackward(g, ya, dx, c.x, c.kernel, c.stride, c.padding, c.ceilMode, c.countIncludePad), 'avg');
    check((y) => native.adaptiveAvgPool2dForward(x, c.x, y, out), aidx.length,
      (g, dx) => native.adaptiveAvgPool2dBackward(g, [2, 2, 3, 5], dx, c.x), 'adaptive avg');
    check((y) => native.adaptiveMaxPool2dForward(x, c.x, y, aidx, out), aidx.length,
      (g, dx) => native.adaptiveMaxPool2dBackward(g, [2, 2, 3, 5], aidx, dx, c.x), 'adaptive max');
  });

  it('NaN propagates through max pooling, ties keep the first maximum; an all-padding dilated window gives -inf and index -1', () => {
    const x = Float64Array.of(1, NaN, 3, 2);
    const y = new Float64Array(1), idx = new Int32Array(1);
    native.maxPool2dForward(x, [1, 1, 2, 2], y, idx, [2, 2], [2, 2], [0, 0], [1, 1], false);
    expect(Number.isNaN(y[0])).toBe(true);
    expect(idx[0]).toBe(1);
    // ties keep the first maximum, as PyTorch
    native.maxPool2dForward(Float64Array.of(5, 5, 5, 5), [1, 1, 2, 2], y, idx, [2, 2], [2, 2], [0, 0], [1, 1], false);
    expect(idx[0]).toBe(0);
    // kernel 2, padding 1, dilation 3 over 2 rows: the only window reads rows -1 and 2
    const y2 = new Float64Array(2), idx2 = new Int32Array(2);
    native.maxPool2dForward(Float64Array.of(1, 2, 3, 4), [1, 1, 2, 2], y2, idx2, [2, 1], [1, 1], [1, 0], [3, 1], false);
    expect(Array.from(y2)).toEqual([-Infinity, -Infinity]);
    expect(Array.from(idx2)).toEqual([-1, -1]);
    const dx = Float64Array.of(9, 9, 9, 9);
    native.maxPool2dBackward(Float64Array.of(1, 1), [1, 1, 1, 2], idx2, dx, [1, 1, 2, 2], [2, 1], [1, 1], [1, 0], [3, 1], false);
    expect(Array.from(dx)).toEqual([0, 0, 0, 0]);
  });

  it('2x2 pooling over long float32 rows: ties keep the first maximum, a NaN wins its window', () => {
    for (const xs of [[2, 3, 9, 37], [1, 2, 4, 64], [3, 1, 5, 21]] as Shape4[]) {
      const ys: Shape4 = [xs[0], xs[1], Math.floor(xs[2] / 2), Math.floor(xs[3] / 2)];
      const x = Float32Array.from({ length: numel(xs) }, () => rng.int(-1, 2));
      for (let i = rng.int(0, 40); i < x.length; i += 97) x[i] = NaN;
      const y = new Float32Array(numel(ys)), idx = new Int32Array(y.length);
      native.maxPool2dForward(x, xs, y, idx, [2, 2], [2, 2], [0, 0], [1, 1], false);
      const ref = refWindowPool({ x: xs, kernel: [2, 2], stride: [2, 2], padding: [0, 0], dilation: [1, 1], ceilMode: false, countIncludePad: false }, x, [1, 1]);
      expect(Array.from(idx)).toEqual(Array.from(ref.argmax));
      expect(Array.from(y)).toEqual(Array.from(ref.max));
      expect(y.some(Number.isNaN)).toBe(true);
    }
  });

  it('a zero-size batch gives empty results', () => {
    const xs: Shape4 = [0, 3, 5, 5], e = new Float32Array(0), i = new Int32Array(0);
    expect(native.pool2dOutputShape(xs, [2, 2], [2, 2], [0, 0], [1, 1], false)).toEqual([0, 3, 2, 2]);
    native.maxPool2dForward(e, xs, e, i, [2, 2], [2, 2], [0, 0], [1, 1], false);
    native.maxPool2dBackward(e, [0, 3, 2, 2], i, e, xs, [2, 2], [2, 2], [0, 0], [1, 1], false);
    native.avgPool2dForward(e, xs, e, [3, 3], [1, 1], [1, 1], true, false);
    native.adaptiveAvgPool2dForward(e, xs, e, [1, 1]);
    native.adaptiveMaxPool2dBackward(e, [0, 3, 4, 4], i, e, xs);
  });

  describe('rejects bad arguments with TypeError/RangeError naming them', () => {
    const f = (n: number) => new Float32Array(n);
    type Max = Parameters<typeof native.maxPool2dForward>;
    // x [2, 3, 6, 6], kernel 2, stride 2 -> [2, 3, 3, 3]
    const good = (): Max => [f(216), [2, 3, 6, 6], f(54), new Int32Array(54), [2, 2], [2, 2], [0, 0], [1, 1], false];
    const cases: Array<[string, (a: Max) => void, ErrorConstructor, RegExp]> = [
      ['padding above half the kernel', (a) => { a[6] = [2, 0]; }, RangeError, /maxPool2dForward: padding along height must be between 0 and half the kernel size 2, got 2/],
      ['negative padding', (a) => { a[6] = [0, -1]; }, RangeError, /maxPool2dForward: padding must be in \[0, .*got -1/],
      ['stride 0', (a) => { a[5] = [0, 2]; }, RangeError, /maxPool2dForward: stride must be in \[1, .*got 0/],
      ['kernel 0', (a) => { a[4] = [2, 0]; }, RangeError, /maxPool2dForward: kernel must be in \[1, .*got 0/],
      ['dilation 0', (a) => { a[7] = [0, 1]; }, RangeError, /maxPool2dForward: dilation must be in \[1, /],
      ['kernel larger than the input', (a) => { a[4] = [7, 2]; }, RangeError, /maxPool2dForward: kernel reach 7 exceeds padded input size 6 along height/],
      ['zero-height input', (a) => { a[1] = [2, 3, 0, 6]; }, RangeError, /maxPool2dForward: input channels, height and width must be >= 1, got \[2, 3, 0, 6\]/],
      ['rank-3 input', (a) => { a[1] = [3, 6, 6] as unknown as Shape4; }, RangeError, /maxPool2dForward: input must be rank 4/],
      ['short x', (a) => { a[0] = f(215); }, RangeError, /maxPool2dForward: x needs at least 216 elements, got 215/],
      ['short out', (a) => { a[2] = f(53); }, RangeError, /maxPool2dForward: out needs at least 54 elements, got 53/],
      ['short indices', (a) => { a[3] = new Int32Array(53); }, RangeError, /maxPool2dForward: indices needs at least 54 elements, got 53/],
      ['float indices', (a) => { a[3] = new Float32Array(54) as unknown as Int32Array; }, TypeError, /maxPool2dForward: indices must be int32, got float32/],
      ['mixed dtypes', (a) => { a[2] = new Float64Array(54); }, TypeError, /maxPool2dForward: x and out must have the same dtype/],
      ['out overlaps x', (a) => { const b = f(300); a[0] = b.subarray(0, 216); a[2] = b.subarray(200, 254); }, RangeError, /maxPool2dForward: out overlaps x/],
      ['string ceilMode', (a) => { (a as unknown[])[8] = 'yes'; }, TypeError, /maxPool2dForward: ceilMode must be a boolean/],
      ['element count overflows', (a) => { a[1] = [2 ** 40, 3, 2 ** 10, 6]; }, RangeError, /maxPool2dForward: input element count overflows/],
    ];
    for (const [name, mutate, Err, message] of cases) {
      it(name, () => {
        const args = good();
        native.maxPool2dForward(...args);
        mutate(args);
        expect(() => native.maxPool2dForward(...args)).toThrow(Err);
        expect(() => native.maxPool2dForward(...args)).toThrow(message);
      });
    }
    it('gradient shape differing from the forward output', () => {
      const geometry: [Pair, Pair, Pair, Pair, boolean] = [[2, 2], [2, 2], [0, 0], [1, 1], false];
      expect(() => native.maxPool2dBackward(f(54), [2, 3, 3, 2], new Int32Array(54), f(216), [2, 3, 6, 6], ...geometry)).toThrow(RangeError);
      expect(() => native.maxPool2dBackward(f(54), [2, 3, 3, 2], new Int32Array(54), f(216), [2, 3, 6, 6], ...geometry)).toThrow(/maxPool2dBackward: gradOut shape must equal the forward output shape \[2, 3, 3, 3\], got \[2, 3, 3, 2\]/);
      expect(() => native.avgPool2dBackward(f(54), [2, 4, 3, 3], f(216), [2, 3, 6, 6], [2, 2], [2, 2], [0, 0], false, true)).toThrow(/avgPool2dBackward: gradOut shape must equal the forward output shape/);
      expect(() => native.adaptiveAvgPool2dBackward(f(54), [1, 3, 3, 3], f(216), [2, 3, 6, 6])).toThrow(/adaptiveAvgPool2dBackward: gradOut shape must equal/);
      expect(() => native.adaptiveMaxPool2dBackward(f(54), [2, 3, 3] as unknown as Shape4, new Int32Array(54), f(216), [2, 3, 6, 6])).toThrow(/adaptiveMaxPool2dBackward: gradOutShape must be rank 4/);
    });
    it('indices outside the input plane', () => {
      const idx = new Int32Array(54);
      idx[17] = 36;
      expect(() => native.maxPool2dBackward(f(54), [2, 3, 3, 3], idx, f(216), [2, 3, 6, 6], [2, 2], [2, 2], [0, 0], [1, 1], false)).toThrow(/maxPool2dBackward: indices\[17\] = 36 is outside the input plane of 36 elements/);
      idx[17] = -2;
      expect(() => native.adaptiveMaxPool2dBackward(f(54), [2, 3, 3, 3], idx, f(216), [2, 3, 6, 6])).toThrow(RangeError);
    });
    it('adaptive output size 0 and short gradIn', () => {
      expect(() => native.adaptiveAvgPool2dForward(f(216), [2, 3, 6, 6], f(54), [0, 3])).toThrow(/adaptiveAvgPool2dForward: outputSize must be >= 1, got \[0, 3\]/);
      expect(() => native.avgPool2dBackward(f(54), [2, 3, 3, 3], f(200), [2, 3, 6, 6], [2, 2], [2, 2], [0, 0], false, true)).toThrow(/avgPool2dBackward: gradIn needs at least 216 elements, got 200/);
    });
    it('too few arguments', () => {
      expect(() => (native.avgPool2dForward as unknown as () => void)()).toThrow(/avgPool2dForward: expected 8 arguments, got 0/);
    });
  });
});

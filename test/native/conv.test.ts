import { describe, expect, it } from 'vitest';
import { native } from '../../lib/native.js';
import type { Pair, Shape4 } from '../../lib/bindings/conv.js';
import { expectClose, makeRng, randomArray, type Rng } from '../util.js';

interface Conv {
  label: string;
  x: Shape4;
  w: Shape4;
  stride: Pair;
  padding: Pair;
  dilation: Pair;
  groups: number;
}

const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const FLT_EPSILON = 2 ** -23;

function outShape(c: Conv): Shape4 {
  const size = (i: number, k: number, s: number, p: number, d: number) => Math.floor((i + 2 * p - d * (k - 1) - 1) / s) + 1;
  return [c.x[0], c.w[0], size(c.x[2], c.w[2], c.stride[0], c.padding[0], c.dilation[0]),
    size(c.x[3], c.w[3], c.stride[1], c.padding[1], c.dilation[1])];
}

/**
 * Naive float64 conv2d: y = conv(x, w) + bias and, for a given dy, dx, dw and dbias, by visiting every
 * (output element, kernel tap) pair once.
 */
function refConv(c: Conv, x: ArrayLike<number>, w: ArrayLike<number>, bias: ArrayLike<number> | null, dy: ArrayLike<number>) {
  const [N, C, H, W] = c.x, [K, Cg, R, S] = c.w, [, , P, Q] = outShape(c);
  const Kg = K / c.groups;
  const y = new Float64Array(N * K * P * Q), dx = new Float64Array(x.length), dw = new Float64Array(w.length);
  const dbias = new Float64Array(K);
  for (let n = 0; n < N; n++)
    for (let k = 0; k < K; k++) {
      const g = Math.floor(k / Kg);
      for (let p = 0; p < P; p++)
        for (let q = 0; q < Q; q++) {
          const yi = ((n * K + k) * P + p) * Q + q;
          let acc = bias ? bias[k]! : 0;
          dbias[k] += dy[yi]!;
          for (let ci = 0; ci < Cg; ci++)
            for (let r = 0; r < R; r++) {
              const h = p * c.stride[0] - c.padding[0] + r * c.dilation[0];
              if (h < 0 || h >= H) continue;
              for (let s = 0; s < S; s++) {
                const v = q * c.stride[1] - c.padding[1] + s * c.dilation[1];
                if (v < 0 || v >= W) continue;
                const xi = ((n * C + g * Cg + ci) * H + h) * W + v, wi = ((k * Cg + ci) * R + r) * S + s;
                acc += x[xi]! * w[wi]!;
                dx[xi] += w[wi]! * dy[yi]!;
                dw[wi] += x[xi]! * dy[yi]!;
              }
            }
          y[yi] = acc;
        }
    }
  return { y, dx, dw, dbias };
}

/** A random legal convolution; `overrides` pins some of its parameters. */
function randomConv(rng: Rng, label: string, o: Partial<{ N: number; groups: number; Cg: number; Kg: number; H: number; W: number; R: number; S: number; stride: Pair; padding: Pair; dilation: Pair }> = {}): Conv {
  const groups = o.groups ?? rng.int(1, 3), Cg = o.Cg ?? rng.int(1, 3), Kg = o.Kg ?? rng.int(1, 3);
  const R = o.R ?? rng.int(1, 4), S = o.S ?? rng.int(1, 4);
  const stride = o.stride ?? [rng.int(1, 3), rng.int(1, 3)];
  const dilation = o.dilation ?? [rng.int(1, 2), rng.int(1, 2)];
  const padding = o.padding ?? [rng.int(0, 2), rng.int(0, 2)];
  // at least one window fits: H + 2*pad >= dilation*(R-1) + 1
  const H = Math.max(o.H ?? rng.int(1, 13), dilation[0] * (R - 1) + 1 - 2 * padding[0], 1);
  const W = Math.max(o.W ?? rng.int(1, 13), dilation[1] * (S - 1) + 1 - 2 * padding[1], 1);
  return { label, x: [o.N ?? rng.int(1, 3), groups * Cg, H, W], w: [groups * Kg, Cg, R, S], stride, padding, dilation, groups };
}

/** Convolutions the Winograd kernels serve: 3x3, stride 1, undilated, ungrouped, at least 8 channels in and out. */
function winogradConfigs(rng: Rng): Conv[] {
  const winograd = (label: string, o: Parameters<typeof randomConv>[2]) =>
    randomConv(rng, `Winograd ${label}`, { groups: 1, R: 3, S: 3, stride: [1, 1], dilation: [1, 1], ...o });
  return [
    winograd('pad 1, odd sizes', { N: 3, Cg: rng.int(8, 20), Kg: rng.int(8, 20), padding: [1, 1], H: 2 * rng.int(2, 8) + 1, W: 2 * rng.int(2, 8) + 1 }),
    winograd('pad 0, batch 1', { N: 1, Cg: 8, Kg: rng.int(9, 17), padding: [0, 0], H: rng.int(3, 12), W: rng.int(3, 12) }),
    winograd('pad [2, 0], 3x3 output', { N: 2, Cg: rng.int(8, 12), Kg: 8, padding: [2, 0], H: 1, W: 5 }),
    winograd('pad [0, 2], many tile rows', { N: 4, Cg: 9, Kg: 11, padding: [0, 2], H: rng.int(20, 40), W: rng.int(3, 9) }),
    // one tile per row: every other lane of the AVX-512 input run is not a tile
    winograd('pad 0, 1 or 2 columns (one tile per row)', { N: 3, Cg: 8, Kg: 8, padding: [0, 0], H: rng.int(3, 12), W: rng.int(3, 4) }),
    // rows over 32 columns (several 16-lane blocks per row in the split and merge; an image's extra sub-plane row
    // spans whole vectors) and, at 34-36 tiles a row and 32 channels, chunks of 14-15 tile rows (on 1 or 2
    // threads), which with 9-11 tile rows an image start inside one
    winograd('pad 1, wide rows, chunks inside images', { N: 3, Cg: 16, Kg: 16, padding: [1, 1], H: 2 * rng.int(8, 10) + 1, W: 2 * rng.int(33, 35) + 1 }),
    // float32 on AVX-512, our GEMM kernels: filters in blocks of 6 and a part block, tile counts off the 16-lane
    // vectors, channels off them in the weight gradient (32+ filters), and 3+ chunks, so that a thread adds a later
    // chunk to its sums. The forward's and backward-data's own kernel wants 10^6 multiply-adds per chunk and position.
    winograd('40 filters from 36 channels, 3+ chunks', { N: 8, Cg: 36, Kg: 40, padding: [1, 1], H: rng.int(21, 26), W: 2 * rng.int(4, 6) + 1 }),
    winograd('33 filters from 48 channels, odd sizes', { N: 3, Cg: 48, Kg: 33, padding: [1, 1], H: 2 * rng.int(2, 6) + 1, W: 2 * rng.int(3, 9) + 1 }),
    winograd('70 filters from 66 channels, 250+ tiles a chunk', { N: 3, Cg: 66, Kg: 70, padding: [1, 1], H: 21, W: 29 }),
  ];
}

function describeConv(c: Conv): string {
  return `${c.label} x${JSON.stringify(c.x)} w${JSON.stringify(c.w)} s${c.stride} p${c.padding} d${c.dilation} g${c.groups}`;
}

/**
 * Convolutions the direct kernels serve (float32, AVX-512): ungrouped, undilated, filters larger than 1x1 and at
 * most 7 wide, not Winograd's, and either a vector of output channels (at least 16, at least 32 taps, a row
 * stride of 1 or 2) or, at stride 1, output rows that fill at least 3/4 of their 16-column vectors.
 */
function directConfigs(rng: Rng): Conv[] {
  const direct = (label: string, o: Parameters<typeof randomConv>[2]) =>
    randomConv(rng, `direct ${label}`, { groups: 1, dilation: [1, 1], ...o });
  return [
    direct('5x5 (LeNet conv2), odd size', { N: 3, Cg: 6, Kg: 16, R: 5, S: 5, stride: [1, 1], padding: [0, 0], H: 2 * rng.int(4, 7) + 1, W: 2 * rng.int(4, 7) + 1 }),
    direct('3x3 stride 2 pad 1, a partial vector of channels', { N: 2, Cg: rng.int(4, 9), Kg: rng.int(17, 31), R: 3, S: 3, stride: [2, 2], padding: [1, 1], H: 2 * rng.int(4, 9) + 1, W: 2 * rng.int(4, 9) + 1 }),
    direct('2x4 stride [3, 1], rows of several column blocks', { N: 2, Cg: 4, Kg: 16, R: 2, S: 4, stride: [3, 1], padding: [1, 2], H: rng.int(6, 11), W: rng.int(30, 45) }),
    direct('7x7 stride 2 pad 3', { N: 2, Cg: 3, Kg: 16, R: 7, S: 7, stride: [2, 2], padding: [3, 3], H: rng.int(9, 17), W: rng.int(9, 17) }),
    direct('1x3 stride 2', { N: 2, Cg: rng.int(11, 20), Kg: 32, R: 1, S: 3, stride: [2, 2], padding: [0, 1], H: rng.int(5, 12), W: rng.int(5, 12) }),
    direct('batch 1, stride [1, 2]', { N: 1, Cg: 4, Kg: 48, R: 3, S: 3, stride: [1, 2], padding: [0, 1], H: rng.int(5, 12), W: rng.int(5, 12) }),
    direct('along rows: 1 channel to 6 (LeNet conv1), pad 2, two vectors', { N: 3, Cg: 1, Kg: 6, R: 5, S: 5, stride: [1, 1], padding: [2, 2], H: rng.int(5, 12), W: rng.int(24, 32) }),
    direct('along rows: uneven filter blocks, a row of 12-16', { N: 2, Cg: 3, Kg: rng.int(7, 20), R: 3, S: 3, stride: [1, 1], padding: [1, 1], H: rng.int(3, 9), W: rng.int(12, 16) }),
    direct('along rows: stride [2, 1], 3x5', { N: 2, Cg: 2, Kg: 5, R: 3, S: 5, stride: [2, 1], padding: [1, 2], H: rng.int(6, 13), W: 16 }),
    direct('backward-data through the adjoint: same-padded 5x5, 6 channels to 16', { N: 2, Cg: 6, Kg: 16, R: 5, S: 5, stride: [1, 1], padding: [2, 2], H: rng.int(5, 9), W: rng.int(12, 16) }),
    direct('along rows: rows of several vector pairs', { N: 2, Cg: 2, Kg: rng.int(1, 4), R: 3, S: 3, stride: [1, 1], padding: [0, 0], H: rng.int(3, 7), W: rng.int(50, 66) }),
    // 16 samples along the vector (backward-data with fewer than 16 input channels, and the weight gradient):
    // batches filling at least 3/4 of a vector, at least 20 (data) or 35 (weights) multiply-adds per element
    direct('batch along the vector: LeNet conv2, one group', { N: 16, Cg: 6, Kg: 16, R: 5, S: 5, stride: [1, 1], padding: [0, 0], H: rng.int(9, 14), W: rng.int(9, 14) }),
    direct('batch along the vector: a partial group, rows of several runs', { N: 13, Cg: 2, Kg: 16, R: 3, S: 4, stride: [1, 1], padding: [1, 2], H: rng.int(4, 9), W: rng.int(26, 40) }),
    direct('batch along the vector: 7-wide filters, a full and a partial group', { N: 29, Cg: 6, Kg: 16, R: 2, S: 7, stride: [1, 1], padding: [0, 3], H: rng.int(5, 9), W: rng.int(9, 20) }),
    direct('batch along the vector: two groups, the second half full', { N: 24, Cg: 4, Kg: 16, R: 5, S: 5, stride: [1, 1], padding: [1, 1], H: rng.int(6, 12), W: rng.int(6, 12) }),
  ];
}

describe('native conv2d', () => {
  const rng = makeRng();
  const configs: Conv[] = [
    randomConv(rng, 'random'),
    randomConv(rng, 'random'),
    randomConv(rng, 'random odd sizes, stride 2-3', { H: 2 * rng.int(2, 6) + 1, W: 2 * rng.int(2, 6) + 1, stride: [rng.int(2, 3), rng.int(2, 3)] }),
    randomConv(rng, 'dilation 2', { dilation: [2, 2], R: 3, S: 3 }),
    randomConv(rng, 'grouped', { groups: rng.int(2, 4), Cg: rng.int(2, 3), Kg: rng.int(2, 3) }),
    randomConv(rng, 'depthwise', { groups: rng.int(3, 6), Cg: 1, Kg: rng.int(1, 2) }),
    randomConv(rng, '1x1 stride 1 (pointwise GEMM)', { R: 1, S: 1, stride: [1, 1], padding: [0, 0] }),
    randomConv(rng, '1x1 stride 2 padded', { R: 1, S: 1, stride: [2, 2], padding: [1, 1] }),
    randomConv(rng, '7x7 stride 2 pad 3', { R: 7, S: 7, stride: [2, 2], padding: [3, 3], dilation: [1, 1], H: rng.int(7, 15), W: rng.int(7, 15) }),
    randomConv(rng, 'batch 1, padding beyond the kernel reach', { N: 1, R: 2, S: 3, padding: [4, 5], dilation: [1, 1] }),
    randomConv(rng, 'single-channel 5x5 (LeNet conv1)', { groups: 1, Cg: 1, Kg: 6, R: 5, S: 5, stride: [1, 1], padding: [0, 0], dilation: [1, 1], H: 12, W: 11 }),
    // Kg*P*Q*Cg*R*S above 2^18: the sample-ordered path whose GEMMs BLAS threads
    randomConv(rng, 'large (BLAS-threaded GEMMs)', { N: 2, groups: 1, Cg: 16, Kg: 16, R: 3, S: 3, stride: [1, 1], padding: [1, 1], dilation: [1, 1], H: 23, W: 25 }),
    randomConv(rng, 'large pointwise', { N: 2, groups: 2, Cg: 24, Kg: 20, R: 1, S: 1, stride: [1, 1], padding: [0, 0], H: 29, W: 27 }),
    // 3x3 stride 1 with at least 8 channels each side: Winograd F(2x2, 3x3), with odd output sizes (partial
    // edge tiles), every padding it serves, and padding that differs between height and width
    ...winogradConfigs(rng),
    // float32 forward and weight gradient on AVX-512 CPUs: the direct kernels (16 output channels a vector)
    ...directConfigs(rng),
  ];

  for (const c of configs) {
    for (const Ctor of [Float32Array, Float64Array]) {
      it(`${Ctor.name} forward, backward-data, backward-weight vs naive float64: ${describeConv(c)}`, () => {
        const yShape = outShape(c);
        expect(native.conv2dOutputShape(c.x, c.w, c.stride, c.padding, c.dilation, c.groups)).toEqual(yShape);
        const x = randomArray(Ctor, numel(c.x), rng), w = randomArray(Ctor, numel(c.w), rng);
        const withBias = rng.next() < 0.5;
        const bias = withBias ? randomArray(Ctor, c.w[0], rng) : null;
        const dy = randomArray(Ctor, numel(yShape), rng);
        const ref = refConv(c, x, w, bias, dy);
        // garbage in the outputs: every kernel must overwrite
        const y = randomArray(Ctor, numel(yShape), rng), dx = randomArray(Ctor, x.length, rng);
        const dw = randomArray(Ctor, w.length, rng), dbias = randomArray(Ctor, c.w[0], rng);
        native.conv2dForward(x, c.x, w, c.w, bias, y, c.stride, c.padding, c.dilation, c.groups);
        native.conv2dBackwardData(dy, w, c.w, dx, c.x, c.stride, c.padding, c.dilation, c.groups);
        native.conv2dBackwardWeight(x, c.x, dy, dw, c.w, dbias, c.stride, c.padding, c.dilation, c.groups);
        const [K, Cg, R, S] = c.w, Kg = K / c.groups, [N, , P, Q] = yShape;
        const tol = (reduction: number) =>
          Ctor === Float32Array ? { atol: 1e-4, rtol: FLT_EPSILON * reduction } : { atol: 1e-12 * reduction, rtol: 1e-12 };
        const opts = (label: string, reduction: number) => ({ ...tol(reduction), seed: rng.seed, label: `${label} ${describeConv(c)}` });
        expectClose(y, ref.y, opts('forward', Cg * R * S));
        expectClose(dx, ref.dx, opts('backward-data', Kg * R * S));
        expectClose(dw, ref.dw, opts('backward-weight', N * P * Q));
        expectClose(dbias, ref.dbias, opts('bias gradient', N * P * Q));
      });
    }
  }

  // float32 where the path split over threads is float32-only (the direct kernels' rows of one sample)
  const threadConfigs: Array<[Conv, Float32ArrayConstructor | Float64ArrayConstructor]> = [
    [randomConv(rng, 'threads', { N: 5, groups: 2, Cg: 3, Kg: 2, R: 3, S: 3, H: 9, W: 8 }), Float64Array],
    [randomConv(rng, 'threads, Winograd', { N: 3, groups: 1, Cg: 10, Kg: 9, R: 3, S: 3, stride: [1, 1], padding: [1, 1], dilation: [1, 1], H: 9, W: 11 }), Float64Array],
    [randomConv(rng, 'threads, direct batch 1', { N: 1, groups: 1, Cg: 6, Kg: 16, R: 5, S: 5, stride: [1, 1], padding: [2, 2], dilation: [1, 1], H: 13, W: 17 }), Float32Array],
    [randomConv(rng, 'threads, direct along rows, batch 1', { N: 1, groups: 1, Cg: 2, Kg: 7, R: 3, S: 3, stride: [1, 1], padding: [1, 1], dilation: [1, 1], H: 11, W: 30 }), Float32Array],
    [randomConv(rng, 'threads, Winograd on AVX-512 (own GEMMs)', { N: 3, groups: 1, Cg: 66, Kg: 70, R: 3, S: 3, stride: [1, 1], padding: [1, 1], dilation: [1, 1], H: 21, W: 29 }), Float32Array],
    [randomConv(rng, 'threads, batch along the vector', { N: 32, groups: 1, Cg: 6, Kg: 16, R: 5, S: 5, stride: [1, 1], padding: [0, 0], dilation: [1, 1], H: 14, W: 14 }), Float32Array],
  ];
  for (const [c, Ctor] of threadConfigs) it(`results do not depend on the thread count: ${Ctor.name} ${describeConv(c)}`, () => {
    const x = randomArray(Ctor, numel(c.x), rng), w = randomArray(Ctor, numel(c.w), rng);
    const dy = randomArray(Ctor, numel(outShape(c)), rng);
    const run = () => {
      const y = new Ctor(dy.length), dx = new Ctor(x.length), dw = new Ctor(w.length);
      native.conv2dForward(x, c.x, w, c.w, null, y, c.stride, c.padding, c.dilation, c.groups);
      native.conv2dBackwardData(dy, w, c.w, dx, c.x, c.stride, c.padding, c.dilation, c.groups);
      native.conv2dBackwardWeight(x, c.x, dy, dw, c.w, null, c.stride, c.padding, c.dilation, c.groups);
      return [y, dx, dw];
    };
    const before = native.getNumThreads();
    try {
      native.setNumThreads(1);
      const one = run();
      native.setNumThreads(2);
      const two = run();
      // float32 to its rounding, as against the reference: the thread count sizes Winograd's chunks, and a chunk's
      // tile count picks between OpenBLAS and our GEMM kernels, which add up the channels in different orders
      const tol = Ctor === Float32Array ? { atol: 1e-4, rtol: 1e-5 } : { atol: 1e-13, rtol: 1e-13 };
      for (let i = 0; i < 3; i++) expectClose(two[i]!, one[i]!, { ...tol, seed: rng.seed });
    } finally {
      native.setNumThreads(before);
    }
  });

  describe('backward kernels match central differences of the forward binding (float64)', () => {
    const fdConfigs = [
      randomConv(rng, 'strided, padded', { N: 2, groups: 1, Cg: 2, Kg: 2, R: 3, S: 2, stride: [2, 3], padding: [1, 2], dilation: [1, 1], H: 7, W: 8 }),
      randomConv(rng, 'dilated, grouped', { N: 1, groups: 2, Cg: 2, Kg: 1, R: 2, S: 3, stride: [1, 2], padding: [2, 1], dilation: [2, 2], H: 6, W: 7 }),
      randomConv(rng, 'pointwise', { N: 2, groups: 1, Cg: 3, Kg: 2, R: 1, S: 1, stride: [1, 1], padding: [0, 0], H: 3, W: 5 }),
      randomConv(rng, 'Winograd', { N: 2, groups: 1, Cg: 8, Kg: 8, R: 3, S: 3, stride: [1, 1], padding: [1, 2], dilation: [1, 1], H: 5, W: 4 }),
    ];
    for (const c of fdConfigs) {
      it(describeConv(c), () => {
        const yShape = outShape(c);
        const x = randomArray(Float64Array, numel(c.x), rng), w = randomArray(Float64Array, numel(c.w), rng);
        const bias = randomArray(Float64Array, c.w[0], rng), g = randomArray(Float64Array, numel(yShape), rng);
        const y = new Float64Array(g.length);
        const loss = () => {
          native.conv2dForward(x, c.x, w, c.w, bias, y, c.stride, c.padding, c.dilation, c.groups);
          let s = 0;
          for (let i = 0; i < y.length; i++) s += y[i]! * g[i]!;
          return s;
        };
        const eps = 1e-6;
        const numeric = (a: Float64Array) =>
          Float64Array.from(a, (v, i) => {
            a[i] = v + eps;
            const up = loss();
            a[i] = v - eps;
            const down = loss();
            a[i] = v;
            return (up - down) / (2 * eps);
          });
        const dx = new Float64Array(x.length), dw = new Float64Array(w.length), dbias = new Float64Array(bias.length);
        native.conv2dBackwardData(g, w, c.w, dx, c.x, c.stride, c.padding, c.dilation, c.groups);
        native.conv2dBackwardWeight(x, c.x, g, dw, c.w, dbias, c.stride, c.padding, c.dilation, c.groups);
        const opts = { atol: 1e-5, rtol: 1e-3, seed: rng.seed };
        expectClose(dx, numeric(x), { ...opts, label: 'dx' });
        expectClose(dw, numeric(w), { ...opts, label: 'dw' });
        expectClose(dbias, numeric(bias), { ...opts, label: 'dbias' });
      });
    }
  });

  it('conv_transpose2d with output_padding: backward-data takes the larger input shape', () => {
    // stride 2, output_padding 1: H = (P-1)*2 - 2*1 + (3-1) + 1 + 1
    const c: Conv = { label: 'transpose', x: [2, 4, 10, 8], w: [4, 2, 3, 3], stride: [2, 2], padding: [1, 1], dilation: [1, 1], groups: 2 };
    expect(outShape(c)).toEqual([2, 4, 5, 4]);
    const w = randomArray(Float64Array, numel(c.w), rng), xt = randomArray(Float64Array, 2 * 4 * 5 * 4, rng);
    const yt = new Float64Array(numel(c.x));
    native.conv2dBackwardData(xt, w, c.w, yt, c.x, c.stride, c.padding, c.dilation, c.groups);
    expectClose(yt, refConv(c, new Float64Array(yt.length), w, null, xt).dx, { atol: 1e-12, rtol: 1e-12, seed: rng.seed });
  });

  it('a zero-size batch gives empty outputs and zero weight gradients', () => {
    const c: Conv = { label: 'empty', x: [0, 4, 5, 5], w: [6, 2, 3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 2 };
    expect(native.conv2dOutputShape(c.x, c.w, c.stride, c.padding, c.dilation, c.groups)).toEqual([0, 6, 5, 5]);
    const empty = new Float32Array(0), w = randomArray(Float32Array, numel(c.w), rng);
    native.conv2dForward(empty, c.x, w, c.w, new Float32Array(6), empty, c.stride, c.padding, c.dilation, c.groups);
    native.conv2dBackwardData(empty, w, c.w, empty, c.x, c.stride, c.padding, c.dilation, c.groups);
    const dw = Float32Array.from(w), dbias = Float32Array.of(1, 2, 3, 4, 5, 6);
    native.conv2dBackwardWeight(empty, c.x, empty, dw, c.w, dbias, c.stride, c.padding, c.dilation, c.groups);
    expect(dw.every((v) => v === 0) && dbias.every((v) => v === 0)).toBe(true);
  });

  describe('rejects bad arguments with TypeError/RangeError naming them', () => {
    const f = (n: number) => new Float32Array(n);
    type Fwd = Parameters<typeof native.conv2dForward>;
    // x [2, 6, 5, 5], w [4, 3, 3, 3], groups 2 -> y [2, 4, 3, 3]
    const good = (): Fwd => [f(300), [2, 6, 5, 5], f(108), [4, 3, 3, 3], f(4), f(72), [1, 1], [0, 0], [1, 1], 2];
    const cases: Array<[string, (a: Fwd) => void, ErrorConstructor, RegExp]> = [
      ['weight channels disagree', (a) => { a[3] = [4, 4, 3, 3]; a[2] = f(144); }, RangeError, /conv2dForward: weight in_channels\/groups must be 3 to match input channels 6 \/ groups 2, got 4/],
      ['groups do not divide channels', (a) => { a[9] = 4; }, RangeError, /conv2dForward: input channels 6 must be divisible by groups 4/],
      ['groups do not divide filters', (a) => { a[3] = [5, 3, 3, 3]; a[2] = f(135); }, RangeError, /weight out_channels 5 must be divisible by groups 2/],
      ['groups 0', (a) => { a[9] = 0; }, RangeError, /conv2dForward: groups must be in \[1, /],
      ['stride 0', (a) => { a[6] = [0, 1]; }, RangeError, /conv2dForward: stride must be in \[1, .*got 0/],
      ['dilation 0', (a) => { a[8] = [1, 0]; }, RangeError, /conv2dForward: dilation must be in \[1, .*got 0/],
      ['negative padding', (a) => { a[7] = [-1, 0]; }, RangeError, /conv2dForward: padding must be in \[0, .*got -1/],
      ['kernel larger than the padded input', (a) => { a[3] = [4, 3, 7, 3]; a[2] = f(252); }, RangeError, /conv2dForward: kernel reach 7 exceeds padded input size 5 along height/],
      ['dilated kernel too wide', (a) => { a[8] = [1, 3]; }, RangeError, /kernel reach 7 exceeds padded input size 5 along width/],
      ['rank-3 input', (a) => { a[1] = [6, 5, 5] as unknown as Fwd[1]; }, RangeError, /conv2dForward: input must be rank 4 \(N, C, H, W\), got rank 3 \[6, 5, 5\]/],
      ['stride of one entry', (a) => { a[6] = [1] as unknown as Pair; }, RangeError, /conv2dForward: stride must have 2 entries/],
      ['element count overflows', (a) => { a[1] = [2 ** 30, 6, 2 ** 12, 2 ** 12]; }, RangeError, /conv2dForward: input element count overflows/],
      ['short x', (a) => { a[0] = f(299); }, RangeError, /conv2dForward: x needs at least 300 elements, got 299/],
      ['short w', (a) => { a[2] = f(100); }, RangeError, /conv2dForward: w needs at least 108 elements, got 100/],
      ['short bias', (a) => { a[4] = f(3); }, RangeError, /conv2dForward: bias needs at least 4 elements, got 3/],
      ['short out', (a) => { a[5] = f(71); }, RangeError, /conv2dForward: out needs at least 72 elements, got 71/],
      ['out overlaps x', (a) => { const buf = f(400); a[0] = buf.subarray(0, 300); a[5] = buf.subarray(280, 352); }, RangeError, /conv2dForward: out overlaps x/],
      ['mixed dtypes', (a) => { a[2] = new Float64Array(108); }, TypeError, /conv2dForward: x and w must have the same dtype, got float32 and float64/],
      ['int32 input', (a) => { a[0] = new Int32Array(300) as unknown as Float32Array; }, TypeError, /conv2dForward: x must be float32 or float64, got int32/],
      ['shape not an array', (a) => { (a as unknown[])[1] = 'NCHW'; }, TypeError, /conv2dForward: xShape must be an array of integers/],
      ['fractional groups', (a) => { a[9] = 1.5; }, RangeError, /conv2dForward: groups must be an integer, got 1.5/],
      ['bias not a typed array', (a) => { (a as unknown[])[4] = [1, 2, 3, 4]; }, TypeError, /conv2dForward: bias must be a Float32Array/],
    ];
    for (const [name, mutate, Err, message] of cases) {
      it(name, () => {
        const args = good();
        native.conv2dForward(...args);
        mutate(args);
        expect(() => native.conv2dForward(...args)).toThrow(Err);
        expect(() => native.conv2dForward(...args)).toThrow(message);
      });
    }
    it('backward-data: short gradOut, short gradIn, bad xShape', () => {
      const w = f(108);
      expect(() => native.conv2dBackwardData(f(71), w, [4, 3, 3, 3], f(300), [2, 6, 5, 5], [1, 1], [0, 0], [1, 1], 2)).toThrow(/conv2dBackwardData: gradOut needs at least 72 elements, got 71/);
      expect(() => native.conv2dBackwardData(f(72), w, [4, 3, 3, 3], f(299), [2, 6, 5, 5], [1, 1], [0, 0], [1, 1], 2)).toThrow(/conv2dBackwardData: gradIn needs at least 300 elements, got 299/);
      expect(() => native.conv2dBackwardData(f(72), w, [4, 3, 3, 3], f(300), [2, 5, 5, 5], [1, 1], [0, 0], [1, 1], 2)).toThrow(RangeError);
      expect(() => native.conv2dBackwardData(f(72), new Float64Array(108), [4, 3, 3, 3], f(300), [2, 6, 5, 5], [1, 1], [0, 0], [1, 1], 2)).toThrow(TypeError);
    });
    it('backward-weight: short gradW, short gradBias, gradW overlapping gradOut', () => {
      const x = f(300), dy = f(72);
      expect(() => native.conv2dBackwardWeight(x, [2, 6, 5, 5], dy, f(107), [4, 3, 3, 3], null, [1, 1], [0, 0], [1, 1], 2)).toThrow(/conv2dBackwardWeight: gradW needs at least 108 elements, got 107/);
      expect(() => native.conv2dBackwardWeight(x, [2, 6, 5, 5], dy, f(108), [4, 3, 3, 3], f(2), [1, 1], [0, 0], [1, 1], 2)).toThrow(/conv2dBackwardWeight: gradBias needs at least 4 elements, got 2/);
      const shared = f(200);
      expect(() => native.conv2dBackwardWeight(x, [2, 6, 5, 5], shared.subarray(0, 72), shared.subarray(50, 158), [4, 3, 3, 3], null, [1, 1], [0, 0], [1, 1], 2)).toThrow(/conv2dBackwardWeight: gradW overlaps gradOut/);
    });
    it('too few arguments', () => {
      expect(() => (native.conv2dForward as unknown as () => void)()).toThrow(/conv2dForward: expected 10 arguments, got 0/);
    });
  });
});

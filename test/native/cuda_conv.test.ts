// The CUDA convolution family (native/cuda/conv.cu) against the float64 CPU kernels: the implicit-GEMM
// forward, backward-data (per stride phase) and backward-weight (split reduction) passes, the depthwise direct
// kernels and the bias gradient, over every geometry the CPU path takes (stride, padding, dilation, groups,
// non-square and 1x1 / 5x5 kernels), sizes that leave partial tiles on every GEMM edge, a zero-size batch,
// float32 and float64, TF32 off and on; then conv1d, convTranspose2d and non-contiguous inputs through
// tf.nn.F. Runs in the cuda-emulated project (and on a GPU); skipped where no cuda device exists.
import { afterEach, describe, expect, it } from 'vitest';
import * as tf from '../../lib/index.js';
import type { DType, Tensor } from '../../lib/index.js';
import { type ConvGeometry, type Shape4, conv2dBackwardDataK, conv2dBackwardWeightK, conv2dForwardK, conv2dOutputShape } from '../../lib/kernels/conv.js';
import { forwardBackwardOn } from '../devices.js';
import { makeRng, randomArray } from '../util.js';

const hasCuda = tf.cuda.isAvailable();
const rng = makeRng();

/** Normwise relative tolerances: max |actual − expected| ≤ tol · max |expected|. */
const TOL: Record<string, number> = { float64: 1e-12, float32: 1e-4, tf32: 5e-3 };

function expectNear(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, label: string): void {
  expect(actual.length, label).toBe(expected.length);
  let scale = 0, worst = 0, at = -1;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]!));
    const err = Math.abs(actual[i]! - expected[i]!);
    if (!(err <= worst)) [worst, at] = [err, i];
  }
  if (at >= 0 && !(worst <= tol * Math.max(scale, 1e-30))) {
    expect.fail(`${label}: element ${at} is ${actual[at]}, expected ${expected[at]} (error ${worst} > ${tol} · ${scale}; seed ${rng.seed})`);
  }
}

const values = (t: Tensor): Float64Array => Float64Array.from(t.dataSync() as ArrayLike<number>);
const random = (shape: readonly number[]): Tensor =>
  tf.tensor(randomArray(Float64Array, shape.reduce((a, b) => a * b, 1), rng), { shape: [...shape] });

interface Case {
  name: string;
  x: Shape4;
  w: Shape4;
  stride?: [number, number];
  padding?: [number, number];
  dilation?: [number, number];
  groups?: number;
}

// Implicit-GEMM tiles are 64x64 (or 128x16 when N ≤ 16) by 16 deep: the odd sizes below leave partial tiles
// on the M, N and reduction edges, several tiles along each, and split backward-weight's reduction.
const CASES: Case[] = [
  { name: '3x3, padding 1', x: [2, 3, 7, 9], w: [5, 3, 3, 3], padding: [1, 1] },
  { name: '3x3, stride 2, padding 1', x: [2, 4, 9, 8], w: [6, 4, 3, 3], stride: [2, 2], padding: [1, 1] },
  { name: 'non-square 2x5, stride [2, 3], padding [1, 2], dilation [2, 1]', x: [2, 3, 11, 13], w: [7, 3, 2, 5], stride: [2, 3], padding: [1, 2], dilation: [2, 1] },
  { name: '5x5, dilation 2, padding 2', x: [1, 3, 11, 10], w: [4, 3, 5, 5], padding: [2, 2], dilation: [2, 2] },
  { name: 'stride 3 over a 2x2 kernel (input rows no output reads)', x: [2, 3, 10, 8], w: [5, 3, 2, 2], stride: [3, 3] },
  { name: 'stride 2 with dilation 2 (one stride phase gets every tap)', x: [1, 2, 9, 9], w: [3, 2, 3, 3], stride: [2, 2], padding: [2, 1], dilation: [2, 2] },
  { name: 'padding beyond the kernel', x: [1, 2, 5, 6], w: [3, 2, 3, 2], padding: [3, 2] },
  { name: '1x1', x: [3, 17, 5, 5], w: [19, 17, 1, 1] },
  { name: '1x1, stride 2', x: [2, 9, 7, 6], w: [20, 9, 1, 1], stride: [2, 2] },
  { name: 'groups 2', x: [2, 6, 8, 7], w: [8, 3, 3, 3], padding: [1, 1], groups: 2 },
  { name: 'groups 3, stride [2, 1], dilation [1, 2], non-square', x: [2, 9, 9, 10], w: [6, 3, 3, 2], stride: [2, 1], padding: [1, 1], dilation: [1, 2], groups: 3 },
  { name: 'partial tiles on every edge, several tiles per edge', x: [2, 7, 13, 11], w: [67, 7, 3, 3], padding: [1, 1] },
  { name: 'split reduction for the weight gradient', x: [4, 3, 16, 16], w: [8, 3, 3, 3], padding: [1, 1] },
  { name: 'wide groups: 2 groups of 33 output channels', x: [1, 34, 6, 5], w: [66, 17, 3, 3], padding: [1, 1], groups: 2 },
  { name: 'depthwise 3x3, stride 2', x: [2, 6, 9, 8], w: [6, 1, 3, 3], stride: [2, 2], padding: [1, 1], groups: 6 },
  { name: 'depthwise, channel multiplier 2, 5x5, dilation 2', x: [2, 4, 11, 9], w: [8, 1, 5, 5], padding: [4, 3], dilation: [2, 2], groups: 4 },
  { name: 'depthwise, stride 3 over 2x2', x: [1, 3, 10, 11], w: [3, 1, 2, 2], stride: [3, 3], groups: 3 },
  { name: 'one input channel (LeNet-5 conv1), 5x5', x: [2, 1, 12, 12], w: [6, 1, 5, 5] },
  { name: 'zero-size batch', x: [0, 4, 6, 6], w: [5, 4, 3, 3], padding: [1, 1] },
  { name: 'zero-size batch, depthwise', x: [0, 4, 6, 6], w: [4, 1, 3, 3], groups: 4 },
];

const geometryOf = (c: Case): ConvGeometry => ({
  stride: c.stride ?? [1, 1], padding: c.padding ?? [0, 0], dilation: c.dilation ?? [1, 1], groups: c.groups ?? 1,
});

interface Passes {
  y: Float64Array;
  gx: Float64Array;
  gw: Float64Array;
  gb: Float64Array | null;
}

/** The three passes on `device` in `dtype` from the same float64 host inputs. */
function passes(c: Case, inputs: { x: Tensor; w: Tensor; b: Tensor | null; gy: Tensor }, device: 'cpu' | 'cuda', dtype: DType): Passes {
  const on = (t: Tensor): Tensor => t.to(dtype).to(device);
  const g = geometryOf(c), x = on(inputs.x), w = on(inputs.w), gy = on(inputs.gy);
  const y = conv2dForwardK(x, w, inputs.b && on(inputs.b), g);
  const gx = conv2dBackwardDataK(gy, w, c.x, g);
  const { gw, gb } = conv2dBackwardWeightK(x, gy, c.w, inputs.b !== null, g);
  for (const t of [y, gx, gw, gb]) if (t) expect(t.deviceName).toBe(device === 'cuda' ? 'cuda:0' : 'cpu');
  return { y: values(y), gx: values(gx), gw: values(gw), gb: gb && values(gb) };
}

describe.runIf(hasCuda)('cuda conv2d kernels against the float64 CPU kernels', () => {
  afterEach(() => tf.setFloat32MatmulPrecision('highest'));

  const columns = [
    { dtype: 'float64' as const, tf32: false, tol: TOL.float64! },
    { dtype: 'float32' as const, tf32: false, tol: TOL.float32! },
    { dtype: 'float32' as const, tf32: true, tol: TOL.tf32! },
  ];
  CASES.forEach((c, index) => {
    for (const { dtype, tf32, tol } of columns) {
      // Bias and no bias alternate over the cases.
      const withBias = index % 2 === 0;
      it(`${c.name}: x [${c.x}], w [${c.w}], ${dtype}${tf32 ? ' TF32' : ''}${withBias ? ', bias' : ''}`, () => {
        const g = geometryOf(c);
        const inputs = {
          x: random(c.x), w: random(c.w), b: withBias ? random([c.w[0]]) : null,
          gy: random(conv2dOutputShape(c.x, c.w, g)),
        };
        const want = passes(c, inputs, 'cpu', 'float64');
        tf.setFloat32MatmulPrecision(tf32 ? 'high' : 'highest');
        const got = passes(c, inputs, 'cuda', dtype);
        expectNear(got.y, want.y, tol, 'forward');
        expectNear(got.gx, want.gx, tol, 'backward-data');
        expectNear(got.gw, want.gw, tol, 'backward-weight');
        if (withBias) expectNear(got.gb!, want.gb!, tol, 'bias gradient');
        else expect(got.gb).toBeNull();
      });
    }
  });

  it("TF32 takes effect on float32 under 'high' only: the three GEMM passes round their inputs, float64 does not", () => {
    const c = CASES.find((k) => k.name.startsWith('partial tiles on every edge'))!;
    const g = geometryOf(c);
    const inputs = { x: random(c.x), w: random(c.w), b: null, gy: random(conv2dOutputShape(c.x, c.w, g)) };
    const run = (precision: 'high' | 'highest', dtype: DType): Passes => {
      tf.setFloat32MatmulPrecision(precision);
      return passes(c, inputs, 'cuda', dtype);
    };
    const full = run('highest', 'float32'), tf32 = run('high', 'float32');
    for (const pass of ['y', 'gx', 'gw'] as const) {
      // TF32 keeps 10 mantissa bits: products of random inputs lose ~1e-4 of their size, float32 ~1e-7.
      const differs = full[pass].some((v, i) => Math.abs(v - tf32[pass][i]!) > 1e-5 * Math.abs(v));
      expect(differs, `${pass} differs under TF32`).toBe(true);
    }
    expect(run('high', 'float64')).toEqual(run('highest', 'float64'));
  });

  it('a zero-size batch gives zero weight and bias gradients', () => {
    const c: Case = { name: 'empty', x: [0, 3, 5, 5], w: [4, 3, 3, 3] };
    const x = tf.zeros(c.x, { device: 'cuda' }), gy = tf.zeros(conv2dOutputShape(c.x, c.w, geometryOf(c)), { device: 'cuda' });
    const { gw, gb } = conv2dBackwardWeightK(x, gy, c.w, true, geometryOf(c));
    expect([...values(gw)]).toEqual(new Array(4 * 3 * 3 * 3).fill(0));
    expect([...values(gb!)]).toEqual([0, 0, 0, 0]);
  });
});

describe.runIf(hasCuda)('convolutions through tf.nn.F on cuda', () => {
  const F = tf.nn.F;
  const upstream = (shape: readonly number[]): Float64Array => randomArray(Float64Array, shape.reduce((a, b) => a * b, 1), rng);

  /** fn's output and input gradients on cuda (in float32 and float64) against the float64 cpu ones. */
  function compare(label: string, fn: (...t: Tensor[]) => Tensor, shapes: number[][]): void {
    const inputs = shapes.map((s) => random(s).requiresGrad_());
    const outShape = fn(...inputs.map((t) => t.detach())).shape;
    const gy = upstream(outShape);
    const want = forwardBackwardOn('cpu', fn, inputs, gy);
    for (const dtype of ['float64', 'float32'] as const) {
      const cast = inputs.map((t) => t.detach().to(dtype).requiresGrad_());
      const got = forwardBackwardOn('cuda', fn, cast, gy);
      expect(got.outDevice).toBe('cuda');
      expectNear(got.out, want.out, TOL[dtype]!, `${label} ${dtype} output`);
      got.grads.forEach((gr, i) => expectNear(gr!, want.grads[i]!, TOL[dtype]!, `${label} ${dtype} gradient ${i}`));
    }
  }

  it('conv1d: stride, padding, dilation, groups, bias', () => {
    compare('conv1d', (x, w, b) => F.conv1d(x!, w!, b, { stride: 2, padding: 2, dilation: 2, groups: 2 }), [[3, 4, 17], [6, 2, 3], [6]]);
    compare('conv1d same', (x, w) => F.conv1d(x!, w!, null, { padding: 'same' }), [[2, 3, 10], [5, 3, 4]]);
  });

  it('convTranspose2d: stride, padding, output padding, dilation, groups, bias', () => {
    compare(
      'convTranspose2d',
      (x, w, b) => F.convTranspose2d(x!, w!, b, { stride: [2, 3], padding: [1, 0], outputPadding: [1, 2], dilation: [1, 2], groups: 2 }),
      [[2, 4, 5, 4], [4, 3, 3, 2], [6]],
    );
    compare('convTranspose2d depthwise', (x, w) => F.convTranspose2d(x!, w!, null, { stride: 2, groups: 3 }), [[1, 3, 4, 5], [3, 1, 3, 3]]);
  });

  it('non-contiguous input views: transposed and strided-sliced x, transposed weight', () => {
    compare('conv2d of views', (x, w, b) => {
      const xv = x!.transpose(2, 3).narrow(3, 1, 6);      // [2, 3, 9, 6] viewed from [2, 3, 7, 9]
      const wv = w!.transpose(0, 1);                       // [4, 3, 3, 3] viewed from [3, 4, 3, 3]
      expect(xv.isContiguous() || wv.isContiguous()).toBe(false);
      return F.conv2d(xv, wv, b, { padding: 1, stride: [1, 2] });
    }, [[2, 3, 7, 9], [3, 4, 3, 3], [4]]);
  });
});

/**
 * The CUDA pooling kernels (cuda/pool.cu) against the cpu ones: max (with indices), average and adaptive
 * pooling, forward and backward, over every window geometry the cpu supports (stride, padding, dilation,
 * ceil mode, overlapping windows, partial edge windows, zero batch), float32 and float64, with ties and NaN.
 * Each cuda result must equal the cpu's bit for bit (the kernels make the same comparisons and add in the
 * same order) and lie within tolerance of the float64 cpu reference. Runs where a cuda device exists (the
 * cuda-emulated project, or a GPU).
 */
import { describe, expect, it } from 'vitest';
import * as tf from '../../lib/index.js';
import { native } from '../../lib/native.js';
import type { Pair, Shape4 } from '../../lib/bindings/conv.js';
import {
  type Expectation, type FloatCtor, callOnCpu, callOnDevice, deviceCount, expectDeviceMatchesCpu, f32Values, makeRng, nans,
} from './device_calls.js';

const rng = makeRng();
const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

interface Geometry {
  x: Shape4;
  kernel: Pair;
  stride: Pair;
  padding: Pair;
  dilation: Pair;
  ceilMode: boolean;
}

const g = (x: Shape4, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair, ceilMode: boolean): Geometry =>
  ({ x, kernel, stride, padding, dilation, ceilMode });

const GEOMETRIES: Geometry[] = [
  g([2, 5, 8, 10], [2, 2], [2, 2], [0, 0], [1, 1], false), // the plain 2x2 pool
  g([1, 3, 9, 11], [2, 2], [2, 2], [0, 0], [1, 1], false), // odd sizes: a row and column left over
  g([1, 3, 9, 11], [2, 2], [2, 2], [1, 1], [1, 1], true), // ceil mode with padding: clipped edge windows
  g([2, 3, 7, 9], [3, 3], [2, 2], [1, 1], [1, 1], false),
  g([2, 3, 7, 6], [3, 3], [1, 1], [1, 1], [1, 1], false), // overlapping windows
  g([1, 2, 11, 9], [3, 3], [2, 2], [1, 1], [2, 2], true), // dilated, ceil mode
  g([2, 3, 6, 7], [2, 3], [1, 2], [1, 1], [2, 1], true), // asymmetric everything
  g([1, 2, 5, 7], [5, 7], [1, 1], [2, 3], [1, 1], false), // one window over the whole plane
  g([1, 1, 13, 5], [4, 1], [3, 1], [2, 0], [1, 1], true),
  g([0, 3, 6, 6], [2, 2], [2, 2], [0, 0], [1, 1], false), // zero batch
];

const name = (c: Geometry) =>
  `x[${c.x}] k${c.kernel} s${c.stride} p${c.padding} d${c.dilation}${c.ceilMode ? ' ceil' : ''}`;

const outShape = (c: Geometry, dilation = c.dilation): Shape4 =>
  native.pool2dOutputShape(c.x, c.kernel, c.stride, c.padding, dilation, c.ceilMode);

/** Inputs with ties (small integers), or random values, optionally with some NaNs. */
function inputValues(n: number, kind: 'ties' | 'random' | 'nan'): Float64Array {
  if (kind === 'ties') return Float64Array.from({ length: n }, () => rng.int(-2, 3));
  const v = f32Values(n, rng);
  if (kind === 'nan') for (let i = 0; i < n; i += 7) v[i] = NaN;
  return v;
}

const exact: Expectation = { outputs: [], bitwise: true, float32: { atol: 0, rtol: 0 }, float64: { atol: 0, rtol: 0 } };
const sums: Omit<Expectation, 'outputs'> = { bitwise: true, float32: { atol: 1e-6, rtol: 1e-5 }, float64: { atol: 1e-13, rtol: 1e-12 } };

/** The cpu's max-pool indices of x, for the backward calls (the forward's, as autograd passes them). */
function cpuIndices(forward: (x: Float64Array, out: Float64Array, idx: Int32Array) => void, x: Float64Array, n: number): Int32Array {
  const idx = new Int32Array(n);
  forward(x, new Float64Array(n), idx);
  return idx;
}

describe.skipIf(deviceCount === 0)('cuda pooling kernels vs cpu', () => {
  for (const c of GEOMETRIES) {
    it(`max pool forward and backward: ${name(c)}`, () => {
      const y = outShape(c), nx = numel(c.x), ny = numel(y);
      const window = [c.kernel, c.stride, c.padding, c.dilation, c.ceilMode];
      for (const kind of ['ties', 'random', 'nan'] as const) {
        const x = inputValues(nx, kind), gy = f32Values(ny, rng);
        expectDeviceMatchesCpu(`${name(c)} ${kind}`, 'maxPool2dForward',
          (Arr: FloatCtor) => [Arr.from(x), c.x, nans(Arr, ny), new Int32Array(ny).fill(-7), ...window],
          { ...exact, outputs: [2, 3] });
        const idx = cpuIndices((xs, out, i) => native.maxPool2dForward(xs, c.x, out, i, c.kernel, c.stride, c.padding, c.dilation, c.ceilMode), x, ny);
        expectDeviceMatchesCpu(`${name(c)} ${kind}`, 'maxPool2dBackward',
          (Arr: FloatCtor) => [Arr.from(gy), y, idx, nans(Arr, nx), c.x, ...window], { ...sums, outputs: [3] });
      }
    });

    it(`avg pool forward and backward: ${name(c)}`, () => {
      const y = outShape(c, [1, 1]), nx = numel(c.x), ny = numel(y);
      const x = f32Values(nx, rng), gy = f32Values(ny, rng);
      for (const countIncludePad of [true, false]) {
        const label = `${name(c)} countIncludePad ${countIncludePad}`;
        expectDeviceMatchesCpu(label, 'avgPool2dForward',
          (Arr: FloatCtor) => [Arr.from(x), c.x, nans(Arr, ny), c.kernel, c.stride, c.padding, c.ceilMode, countIncludePad],
          { ...sums, outputs: [2] });
        expectDeviceMatchesCpu(label, 'avgPool2dBackward',
          (Arr: FloatCtor) => [Arr.from(gy), y, nans(Arr, nx), c.x, c.kernel, c.stride, c.padding, c.ceilMode, countIncludePad],
          { ...sums, outputs: [2] });
      }
    });
  }

  const ADAPTIVE: Array<[Shape4, Pair]> = [
    [[2, 3, 7, 9], [3, 4]], // overlapping windows of uneven sizes
    [[1, 2, 7, 9], [7, 9]], // identity
    [[1, 2, 4, 3], [10, 7]], // more outputs than inputs
    [[2, 5, 6, 6], [1, 1]], // global
    [[1, 3, 33, 17], [5, 3]],
    [[0, 2, 5, 5], [2, 2]],
  ];
  for (const [xs, size] of ADAPTIVE) {
    it(`adaptive avg and max pool forward and backward: x[${xs}] -> ${size}`, () => {
      const y: Shape4 = [xs[0], xs[1], size[0], size[1]], nx = numel(xs), ny = numel(y);
      for (const kind of ['ties', 'random', 'nan'] as const) {
        const x = inputValues(nx, kind), gy = f32Values(ny, rng);
        const label = `x[${xs}] -> ${size} ${kind}`;
        expectDeviceMatchesCpu(label, 'adaptiveMaxPool2dForward',
          (Arr: FloatCtor) => [Arr.from(x), xs, nans(Arr, ny), new Int32Array(ny).fill(-7), size], { ...exact, outputs: [2, 3] });
        const idx = cpuIndices((x64, out, i) => native.adaptiveMaxPool2dForward(x64, xs, out, i, size), x, ny);
        expectDeviceMatchesCpu(label, 'adaptiveMaxPool2dBackward',
          (Arr: FloatCtor) => [Arr.from(gy), y, idx, nans(Arr, nx), xs], { ...sums, outputs: [3] });
        expectDeviceMatchesCpu(label, 'adaptiveAvgPool2dForward',
          (Arr: FloatCtor) => [Arr.from(x), xs, nans(Arr, ny), size], { ...sums, outputs: [2] });
        expectDeviceMatchesCpu(label, 'adaptiveAvgPool2dBackward',
          (Arr: FloatCtor) => [Arr.from(gy), y, nans(Arr, nx), xs], { ...sums, outputs: [2] });
      }
    });
  }

  it('max pool backward: cuda never addresses memory through an index; one outside its window adds nothing', () => {
    const xs: Shape4 = [1, 1, 4, 4], y: Shape4 = [1, 1, 2, 2];
    const window = [[2, 2], [2, 2], [0, 0], [1, 1], false];
    // Windows 0..3 cover positions {0,1,4,5}, {2,3,6,7}, {8,9,12,13}, {10,11,14,15}: index 15 of window 3 is its
    // own, 0 of window 1 and 10 of window 2 are not (the cpu scatters those; cuda, gathering, drops them), and
    // 2^30 is outside the plane (the cpu refuses it; cuda ignores it).
    const args = (indices: number[]) => [Float64Array.from([1, 2, 3, 4]), y, Int32Array.from(indices), nans(Float64Array, 16), xs, ...window];
    const cpu = args([5, 0, 10, 15]), cuda = args([5, 0, 10, 15]);
    callOnCpu('maxPool2dBackward', cpu);
    callOnDevice('maxPool2dBackward', cuda);
    const expected = new Float64Array(16);
    expected[5] = 1;
    expected[15] = 4;
    expect(Array.from(cuda[3] as Float64Array)).toEqual(Array.from(expected));
    expect((cpu[3] as Float64Array)[0]).toBe(2);
    const outside = args([5, 1 << 30, -1, 15]);
    expect(() => callOnCpu('maxPool2dBackward', outside)).toThrow(/maxPool2dBackward: indices\[1\] = 1073741824 is outside/);
    callOnDevice('maxPool2dBackward', outside);
    expect(Array.from(outside[3] as Float64Array)).toEqual(Array.from(expected));
  });
});

describe.skipIf(deviceCount === 0)('pooling through tf.nn on cuda', () => {
  const F = tf.nn.F;
  const base = tf.tensor(f32Values(2 * 3 * 7 * 9, rng), { dtype: 'float64' }).reshape([2, 3, 7, 9]);

  const ops: Array<[string, (x: tf.Tensor) => tf.Tensor]> = [
    ['maxPool2d', (x) => F.maxPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true })],
    ['avgPool2d', (x) => F.avgPool2d(x, [2, 3], { stride: [1, 2], padding: 1, countIncludePad: false })],
    ['adaptiveAvgPool2d', (x) => F.adaptiveAvgPool2d(x, [4, 3])],
    ['adaptiveMaxPool2d', (x) => F.adaptiveMaxPool2d(x, [4, 3])],
  ];
  for (const [op, f] of ops) {
    it(`${op}: values and input gradient on cuda equal the cpu's, from a non-contiguous (transposed) input`, () => {
      const outNumel = f(base.transpose(2, 3)).numel;
      const weights = f32Values(outNumel, rng);
      const results = (['cpu', 'cuda'] as const).map((device) => {
        const leaf = base.detach().to(device).requiresGrad_();
        const x = leaf.transpose(2, 3);
        expect(x.isContiguous()).toBe(false);
        const y = f(x);
        y.mul(tf.tensor(weights, { dtype: 'float64', device }).reshape(y.shape)).sum().backward();
        expect(leaf.grad!.device).toBe(device);
        return { y: Array.from(y.dataSync() as Float64Array), gx: Array.from(leaf.grad!.dataSync() as Float64Array) };
      });
      expect(results[1]!.y).toEqual(results[0]!.y);
      expect(results[1]!.gx).toEqual(results[0]!.gx);
    });
  }
});

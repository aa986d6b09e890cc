/**
 * The CUDA upsampling and PReLU kernels (cuda/upsample.cu) against the cpu ones: nearest and bilinear
 * (align_corners, given scale factors, up and down, identity, degenerate sizes and scales) forward and backward,
 * PReLU forward and backward with one or per-channel slopes, float32 and float64, including empty batches.
 * Upsampling and PReLU's forward and input gradient must equal the cpu's bit for bit; PReLU's weight gradient
 * (a reduction in double, summed in another order) lies within tolerance of the float64 cpu reference. Runs
 * where a cuda device exists (the cuda-emulated project, or a GPU).
 */
import { describe, expect, it } from 'vitest';
import * as tf from '../../lib/index.js';
import { type Expectation, type FloatCtor, deviceCount, expectDeviceMatchesCpu, f32Values, makeRng, nans } from './device_calls.js';

const rng = makeRng();
const bitwise: Omit<Expectation, 'outputs'> = { bitwise: true, float32: { atol: 1e-6, rtol: 1e-5 }, float64: { atol: 1e-13, rtol: 1e-12 } };
const sums: Omit<Expectation, 'outputs'> = { float32: { atol: 1e-5, rtol: 1e-5 }, float64: { atol: 1e-12, rtol: 1e-11 } };

describe.skipIf(deviceCount === 0)('cuda upsampling vs cpu', () => {
  // [N, C, inH, inW, outH, outW, mode, alignCorners, scaleH, scaleW]
  type Case = [number, number, number, number, number, number, 'nearest' | 'bilinear', boolean, number, number];
  const CASES: Case[] = [
    [2, 3, 3, 4, 6, 8, 'nearest', false, 0, 0], // the exact 2x path
    [1, 3, 5, 7, 8, 11, 'nearest', false, 0, 0],
    [2, 2, 9, 9, 4, 5, 'nearest', false, 0, 0], // down
    [1, 2, 5, 6, 8, 10, 'nearest', false, 1.7, 1.75], // scale factors given
    [1, 2, 5, 6, 5, 6, 'nearest', false, 0, 0], // identity
    [2, 3, 3, 3, 5, 6, 'bilinear', false, 0, 0],
    [2, 3, 3, 3, 5, 6, 'bilinear', true, 0, 0],
    [1, 2, 9, 7, 4, 3, 'bilinear', false, 0, 0], // down
    [1, 2, 9, 7, 4, 3, 'bilinear', true, 0, 0],
    [1, 2, 4, 5, 9, 12, 'bilinear', false, 2.3, 2.5],
    [1, 1, 1, 4, 3, 1, 'bilinear', true, 0, 0], // one input row, one output column
    [1, 2, 3, 4, 4, 6, 'bilinear', false, 1e-300, 1e-300], // coordinates Inf / NaN, clamped
    [1, 2, 3, 4, 4, 6, 'nearest', false, 1e-300, 1e-300],
    [0, 3, 4, 4, 8, 8, 'bilinear', false, 0, 0], // empty batch
  ];
  for (const [N, C, inH, inW, outH, outW, mode, align, sh, sw] of CASES) {
    it(`${mode}${align ? ' alignCorners' : ''} [${N}, ${C}, ${inH}, ${inW}] -> ${outH}x${outW} scale ${sh}, ${sw}`, () => {
      const nIn = N * C * inH * inW, nOut = N * C * outH * outW;
      const x = f32Values(nIn, rng), gy = f32Values(nOut, rng);
      const label = `${mode} ${inH}x${inW} -> ${outH}x${outW}`;
      const sizes = [N, C, inH, inW, outH, outW, mode, align, sh, sw];
      expectDeviceMatchesCpu(label, 'upsample2dForward', (Arr: FloatCtor) => [Arr.from(x), ...sizes, nans(Arr, nOut)], { ...bitwise, outputs: [11] });
      expectDeviceMatchesCpu(label, 'upsample2dBackward', (Arr: FloatCtor) => [Arr.from(gy), ...sizes, nans(Arr, nIn)], { ...bitwise, outputs: [11] });
    });
  }
});

describe.skipIf(deviceCount === 0)('cuda PReLU vs cpu', () => {
  // N, C, L: partial blocks, channels of one element, channels past one block, an empty batch.
  const SHAPES: Array<[number, number, number]> = [[2, 3, 5], [3, 70, 1], [2, 4, 700], [1, 1, 1], [0, 3, 4]];
  for (const [N, C, L] of SHAPES) {
    it(`forward and backward: N ${N}, C ${C}, L ${L}, one slope and per-channel slopes`, () => {
      const n = N * C * L;
      // Some exact zeros: x <= 0 takes the slope.
      const x = f32Values(n, rng).map((v, i) => (i % 5 === 0 ? 0 : v)), gy = f32Values(n, rng);
      for (const numWeights of [1, C]) {
        const label = `N ${N} C ${C} L ${L} numWeights ${numWeights}`;
        const w = f32Values(numWeights, rng, 0, 0.5);
        expectDeviceMatchesCpu(label, 'preluForward', (Arr: FloatCtor) => [Arr.from(x), N, C, L, Arr.from(w), numWeights, nans(Arr, n)],
          { ...bitwise, outputs: [6] });
        expectDeviceMatchesCpu(label, 'preluBackward', (Arr: FloatCtor) => [
          Arr.from(x), Arr.from(gy), N, C, L, Arr.from(w), numWeights, nans(Arr, n), null,
        ], { ...bitwise, outputs: [7] });
        for (const withGradX of [true, false]) {
          expectDeviceMatchesCpu(label, 'preluBackward', (Arr: FloatCtor) => [
            Arr.from(x), Arr.from(gy), N, C, L, Arr.from(w), numWeights, withGradX ? nans(Arr, n) : null, nans(Arr, numWeights),
          ], { ...sums, outputs: [7, 8] });
        }
      }
    });
  }
});

describe.skipIf(deviceCount === 0)('interpolate and prelu through tf.nn on cuda', () => {
  const F = tf.nn.F;
  it('match the cpu with their gradients from a non-contiguous input', () => {
    const data = f32Values(2 * 3 * 4 * 5, rng), slopes = f32Values(3, rng, 0, 0.5);
    const run = (device: 'cpu' | 'cuda') => {
      const leaf = tf.tensor(data, { dtype: 'float64', device }).reshape([2, 3, 4, 5]).requiresGrad_();
      const w = tf.tensor(slopes, { dtype: 'float64', device }).requiresGrad_();
      const x = leaf.transpose(2, 3);
      expect(x.isContiguous()).toBe(false);
      const y = F.prelu(F.interpolate(x, { size: [7, 9], mode: 'bilinear', alignCorners: false }), w);
      y.mul(y).sum().backward();
      return [y, leaf.grad!, w.grad!].map((t) => Array.from(t.dataSync() as Float64Array));
    };
    const [cpu, cuda] = [run('cpu'), run('cuda')];
    expect(cuda[0]).toEqual(cpu[0]);
    expect(cuda[1]).toEqual(cpu[1]);
    cuda[2]!.forEach((v, i) => expect(Math.abs(v - cpu[2]![i]!)).toBeLessThanOrEqual(1e-9 * Math.abs(cpu[2]![i]!) + 1e-12));
  });
});

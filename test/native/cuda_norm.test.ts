/**
 * The CUDA normalization kernels (cuda/norm.cu) against the float64 cpu reference: batch norm (training with
 * running statistics, inference, backward in both modes, the fused ReLU and residual variants), layer norm
 * and group norm, forward and backward, float32 and float64. Sizes leave partial blocks and warps, run past one
 * block's threads (statistics of thousands of elements), and include empty batches and rows. Runs where a cuda
 * device exists (the cuda-emulated project, or a GPU).
 */
import { describe, expect, it } from 'vitest';
import * as tf from '../../lib/index.js';
import { native } from '../../lib/native.js';
import { type Expectation, type FloatCtor, deviceCount, expectDeviceMatchesCpu, f32Values, makeRng, nans } from './device_calls.js';

const rng = makeRng();
const tolerances: Omit<Expectation, 'outputs'> = { float32: { atol: 5e-5, rtol: 1e-4 }, float64: { atol: 1e-11, rtol: 1e-9 } };
const expectation = (outputs: number[]): Expectation => ({ ...tolerances, outputs });

/** Float32-representable values, as floats of `Arr` (null stays null). */
const as = (Arr: FloatCtor, v: Float64Array | null) => (v ? Arr.from(v) : null);
/** v rounded to float32 (statistics a forward computed, passed to a backward in either dtype). */
const rounded = (v: Float64Array) => Float64Array.from(Float32Array.from(v));

/** Inputs whose mean is far from 0 relative to their spread (the variance must not cancel), or plain ones. */
function inputs(n: number, offset: number): Float64Array {
  return f32Values(n, rng).map((v) => Math.fround(v + offset));
}

/**
 * Batch-norm inputs [N, C, L] as `inputs`, drawn again until every channel's values spread over at least 0.5:
 * with 2 elements a channel and an offset of 100, two draws a hundredth apart leave a variance at float32's
 * rounding noise of the offset, where no float32 kernel can meet the tolerance (a CI run met one such draw).
 */
function channelInputs(N: number, C: number, L: number, offset: number): Float64Array {
  for (;;) {
    const x = inputs(N * C * L, offset);
    let spread = Infinity;
    for (let c = 0; c < C && N * L > 1; c++) {
      let lo = Infinity, hi = -Infinity;
      for (let i = 0; i < N; i++) for (let l = 0; l < L; l++) { const v = x[(i * C + c) * L + l]!; lo = Math.min(lo, v); hi = Math.max(hi, v); }
      spread = Math.min(spread, hi - lo);
    }
    if (spread >= 0.5) return x;
  }
}

describe.skipIf(deviceCount === 0)('cuda batch norm vs cpu', () => {
  // N, C, L: partial warps, (N, C) input, statistics of 2 elements, > one block of threads, statistics split
  // over several blocks (few and large), an empty batch.
  const SHAPES: Array<[number, number, number]> = [[4, 3, 5], [7, 2, 1], [1, 2, 2], [3, 5, 333], [2, 3, 1500], [4, 3, 5001], [0, 3, 4]];
  for (const [N, C, L] of SHAPES) {
    const n = N * C * L;
    it(`training forward, running stats, inference and backward: N ${N}, C ${C}, L ${L}`, () => {
      for (const [affine, relu, withResidual, offset] of [[true, false, false, 0], [false, true, false, 30], [true, true, true, 0], [true, false, true, 100]] as const) {
        const label = `N ${N} C ${C} L ${L} affine ${affine} relu ${relu} residual ${withResidual} offset ${offset}`;
        const x = channelInputs(N, C, L, offset), gamma = affine ? f32Values(C, rng, 0.5, 2) : null, beta = affine ? f32Values(C, rng) : null;
        const residual = withResidual ? f32Values(n, rng) : null;
        const rm = f32Values(C, rng), rv = f32Values(C, rng, 0.5, 2);
        const forward = (Arr: FloatCtor) => [
          Arr.from(x), N, C, L, as(Arr, gamma), as(Arr, beta), Arr.from(rm), Arr.from(rv), 0.3, 1e-5,
          nans(Arr, n), nans(Arr, C), nans(Arr, C), relu, as(Arr, residual),
        ];
        expectDeviceMatchesCpu(label, 'batchNormForward', forward, expectation([6, 7, 10, 11, 12]));
        expectDeviceMatchesCpu(label, 'batchNormInference', (Arr: FloatCtor) => [
          Arr.from(x), N, C, L, as(Arr, gamma), as(Arr, beta), Arr.from(rm), Arr.from(rv), 1e-3, relu, as(Arr, residual), nans(Arr, n),
        ], expectation([11]));

        const fwd = forward(Float64Array);
        native.batchNormForward(...(fwd as Parameters<typeof native.batchNormForward>));
        const y = rounded(fwd[10] as Float64Array), mean = rounded(fwd[11] as Float64Array), invstd = rounded(fwd[12] as Float64Array);
        const gy = f32Values(n, rng);
        // The ReLU's backward is fused into the batch norm's only without a residual (F.batchNorm's rule).
        const reluOutput = relu && !withResidual ? y : null;
        for (const training of [true, false]) {
          for (const needs of [[true, true, true], [true, false, false], [false, true, true]]) {
            expectDeviceMatchesCpu(`${label} training ${training} needs ${needs}`, 'batchNormBackward', (Arr: FloatCtor) => [
              Arr.from(x), Arr.from(gy), N, C, L, as(Arr, gamma), Arr.from(mean), Arr.from(invstd), training,
              needs[0] ? nans(Arr, n) : null, needs[1] ? nans(Arr, C) : null, needs[2] ? nans(Arr, C) : null, as(Arr, reluOutput),
            ], expectation([9, 10, 11]));
          }
        }
      }
    });
  }
});

describe.skipIf(deviceCount === 0)('cuda layer norm and group norm vs cpu', () => {
  // M, D: partial warps, one element a row, rows past one block, rows split over several blocks, an empty batch
  // and empty rows.
  const LAYER: Array<[number, number]> = [[5, 7], [6, 1], [3, 1000], [2, 4099], [2, 40001], [33, 64], [0, 8], [3, 0]];
  for (const [M, D] of LAYER) {
    it(`layer norm forward and backward: M ${M}, D ${D}`, () => {
      for (const [affine, offset] of [[true, 0], [false, 50]] as const) {
        const label = `M ${M} D ${D} affine ${affine} offset ${offset}`;
        const x = inputs(M * D, offset), gamma = affine ? f32Values(D, rng, 0.5, 2) : null, beta = affine ? f32Values(D, rng) : null;
        const forward = (Arr: FloatCtor) => [Arr.from(x), M, D, as(Arr, gamma), as(Arr, beta), 1e-5, nans(Arr, M * D), nans(Arr, M), nans(Arr, M)];
        expectDeviceMatchesCpu(label, 'layerNormForward', forward, expectation([6, 7, 8]));
        const fwd = forward(Float64Array);
        native.layerNormForward(...(fwd as Parameters<typeof native.layerNormForward>));
        const mean = rounded(fwd[7] as Float64Array), invstd = rounded(fwd[8] as Float64Array), gy = f32Values(M * D, rng);
        for (const needs of [[true, true, true], [true, false, false], [false, true, false]]) {
          expectDeviceMatchesCpu(`${label} needs ${needs}`, 'layerNormBackward', (Arr: FloatCtor) => [
            Arr.from(x), Arr.from(gy), M, D, as(Arr, gamma), Arr.from(mean), Arr.from(invstd),
            needs[0] ? nans(Arr, M * D) : null, needs[1] ? nans(Arr, D) : null, needs[2] ? nans(Arr, D) : null,
          ], expectation([7, 8, 9]));
        }
      }
    });
  }

  // N, C, L, G
  const GROUP: Array<[number, number, number, number]> = [[2, 6, 5, 3], [3, 4, 300, 2], [2, 5, 1, 5], [1, 8, 600, 1], [1, 4, 5000, 2], [0, 4, 3, 2]];
  for (const [N, C, L, G] of GROUP) {
    it(`group norm forward and backward: N ${N}, C ${C}, L ${L}, G ${G}`, () => {
      const n = N * C * L, S = N * G;
      for (const affine of [true, false]) {
        const label = `N ${N} C ${C} L ${L} G ${G} affine ${affine}`;
        const x = inputs(n, 10), gamma = affine ? f32Values(C, rng, 0.5, 2) : null, beta = affine ? f32Values(C, rng) : null;
        const forward = (Arr: FloatCtor) => [Arr.from(x), N, C, L, G, as(Arr, gamma), as(Arr, beta), 1e-5, nans(Arr, n), nans(Arr, S), nans(Arr, S)];
        expectDeviceMatchesCpu(label, 'groupNormForward', forward, expectation([8, 9, 10]));
        const fwd = forward(Float64Array);
        native.groupNormForward(...(fwd as Parameters<typeof native.groupNormForward>));
        const mean = rounded(fwd[9] as Float64Array), invstd = rounded(fwd[10] as Float64Array), gy = f32Values(n, rng);
        expectDeviceMatchesCpu(label, 'groupNormBackward', (Arr: FloatCtor) => [
          Arr.from(x), Arr.from(gy), N, C, L, G, as(Arr, gamma), Arr.from(mean), Arr.from(invstd), nans(Arr, n), nans(Arr, C), nans(Arr, C),
        ], expectation([9, 10, 11]));
      }
    });
  }
});

describe.skipIf(deviceCount === 0)('norms through tf.nn on cuda', () => {
  const F = tf.nn.F;
  const values = (t: tf.Tensor) => Float64Array.from(t.dataSync() as Float64Array);
  const expectClose = (got: Float64Array, want: Float64Array, what: string) => {
    expect(got.length, what).toBe(want.length);
    for (let i = 0; i < got.length; i++) expect(Math.abs(got[i]! - want[i]!), `${what}[${i}]`).toBeLessThanOrEqual(1e-10 + 1e-9 * Math.abs(want[i]!));
  };

  /**
   * Runs `f` on cpu and cuda from the same [2, 5, 6, 4] float64 data viewed transposed (non-contiguous) and
   * compares the outputs, the input gradient and `state` (tensors the call updates in place, from `makeState`).
   */
  function compare(what: string, f: (x: tf.Tensor, state: tf.Tensor[], device: 'cpu' | 'cuda') => tf.Tensor, makeState: () => Float64Array[] = () => []) {
    const data = f32Values(2 * 5 * 6 * 4, rng), init = makeState();
    const results = (['cpu', 'cuda'] as const).map((device) => {
      const leaf = tf.tensor(data, { dtype: 'float64', device }).reshape([2, 5, 6, 4]).requiresGrad_();
      const x = leaf.transpose(2, 3);
      expect(x.isContiguous()).toBe(false);
      const state = init.map((v) => tf.tensor(v.slice(), { dtype: 'float64', device }));
      const y = f(x, state, device);
      y.mul(y).sum().backward();
      return { y: values(y), gx: values(leaf.grad!), state: state.map(values) };
    });
    expectClose(results[1]!.y, results[0]!.y, `${what} y`);
    expectClose(results[1]!.gx, results[0]!.gx, `${what} x.grad`);
    results[0]!.state.forEach((s, i) => expectClose(results[1]!.state[i]!, s, `${what} state ${i}`));
  }

  it('batchNorm training updates running statistics held in a view of a larger tensor, and its gradients match', () => {
    // The running stats are channels 0..4 of a [2, 5] tensor's second row: not the whole storage, so the cuda
    // kernel writes a copy that is then written back.
    compare('batchNorm', (x, [stats], device) => {
      const rows = stats!.reshape([2, 5]);
      const y = F.batchNorm(x, rows.select(0, 0), rows.select(0, 1), null, null, { training: true, momentum: 0.2, relu: true });
      expect(stats!.device).toBe(device);
      return y;
    }, () => [Float64Array.from({ length: 10 }, (_, i) => (i < 5 ? 0.1 * i : 1 + 0.1 * i))]);
  });

  it('layerNorm and groupNorm over non-contiguous input match the cpu with their gradients', () => {
    compare('layerNorm', (x) => F.layerNorm(x, [4, 6]));
    compare('groupNorm', (x) => F.groupNorm(x, 5));
  });
});

/**
 * One valid call per native entry point: `baseline()` builds fresh arguments (calls write into their
 * buffers) that the addon must accept. The fuzzer mutates these; a valid baseline keeps every mutation
 * one step away from a call that reaches the kernel, so the checks in front of each kernel are what
 * gets exercised. Geometry is small and odd-sized; shapes are chosen so every buffer is exactly as
 * long as the op needs (one element short must be rejected).
 */
import { native } from '../../lib/native.js';

export interface FuzzSpec {
  baseline(): unknown[];
  /** Restores global state a successful mutated call may have changed. */
  after?(): void;
}

const f32 = (n: number, fill = 0.5): Float32Array => new Float32Array(n).map((_, i) => fill + 0.01 * i);
const f64 = (n: number): Float64Array => new Float64Array(n).map((_, i) => 0.25 + 0.01 * i);
const i32 = (...v: number[]): Int32Array => Int32Array.from(v);
const u8 = (n: number): Uint8Array => new Uint8Array(n).fill(1);

// conv: x [1, 2, 5, 5], w [3, 2, 3, 3], stride [2, 1], padding [1, 0] -> y [1, 3, 3, 3]
const convGeom = (): unknown[] => [[2, 1], [1, 0], [1, 1], 1];
// pool: x [1, 2, 5, 5], kernel 2, stride 2 -> [1, 2, 2, 2]; adaptive -> [1, 2, 3, 3]
const X_SHAPE = [1, 2, 5, 5];

const sgdHyper = { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0.01, nesterov: true, maximize: false };
const adamHyper = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: true, maximize: false };
const rmspropHyper = { lr: 0.01, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0.9, centered: true, maximize: false };
const adagradHyper = { lr: 0.01, lrDecay: 0, weightDecay: 0, eps: 1e-10, initialAccumulatorValue: 0, maximize: false };

function maxPoolIndices(): Int32Array {
  const idx = new Int32Array(8);
  native.maxPool2dForward(f32(50), X_SHAPE as never, f32(8), idx, [2, 2], [2, 2], [0, 0], [1, 1], false);
  return idx;
}

function adaptiveMaxIndices(): Int32Array {
  const idx = new Int32Array(18);
  native.adaptiveMaxPool2dForward(f32(50), X_SHAPE as never, f32(18), idx, [3, 3]);
  return idx;
}

// class losses: N 2, C 3, L 2 -> 12 logits, 4 samples; target -100 is ignored
const classTarget = (): Int32Array => i32(0, 2, 1, -100);

const pointwise = (forward: boolean, param?: number): FuzzSpec => ({
  baseline: () => [
    f32(5), f32(5, -0.3), 5, ...(param === undefined ? [] : [param]),
    forward ? 'none' : 'mean', ...(forward ? [f32(5)] : [f32(1), f32(5)]),
  ],
});

const initialThreads = native.getNumThreads();

type DeviceAlloc = (device: number, dtype: number, length: number, zero: boolean) => unknown;
const deviceHandle = (): unknown => (native as unknown as { deviceAlloc: DeviceAlloc }).deviceAlloc(0, 0, 7, true);

export const specs: Record<string, FuzzSpec> = {
  // runtime
  backendInfo: { baseline: () => [] },
  getNumThreads: { baseline: () => [] },
  setNumThreads: { baseline: () => [initialThreads], after: () => native.setNumThreads(initialThreads) },
  pageOffset: { baseline: () => [new ArrayBuffer(64)] },

  // device memory (native.fuzz.test.ts fuzzes these only where a device exists): handles of 7 float32
  deviceCount: { baseline: () => [] },
  deviceAlloc: { baseline: () => [0, 0, 7, true] },
  deviceFree: { baseline: () => [deviceHandle()] },
  deviceUpload: { baseline: () => [deviceHandle(), 2, f32(5)] },
  deviceDownload: { baseline: () => [deviceHandle(), 2, f32(5)] },
  deviceDownloadAsync: { baseline: () => [deviceHandle(), 2, f32(5)] },
  deviceSynchronize: { baseline: () => [0] },
  deviceMemoryStats: { baseline: () => [0] },
  deviceTransferStats: { baseline: () => [0] },
  deviceEmptyCache: { baseline: () => [0] },
  deviceResetPeakStats: { baseline: () => [0] },
  deviceHandleInfo: { baseline: () => [deviceHandle()] },

  // gemm: batch 2 of [2, 4] x [4, 3], plus a bias of 3
  gemm: {
    baseline: () => [2, false, false, 2, 3, 4, 1, f32(16), 0, 4, 8, f32(24), 0, 3, 12, 0, f32(12), 0, 3, 6, false, f32(3)],
  },

  // elementwise over shape [2, 3]
  unary: { baseline: () => [0, [2, 3], f32(6), 0, [3, 1], f32(6), 0, [3, 1], 0, 0] },
  binary: { baseline: () => [0, [2, 3], f32(6), 0, [3, 1], f32(6), 0, [3, 1], f32(3), 0, [0, 1], 1, 1] },
  compare: { baseline: () => [0, [2, 3], new Uint8Array(6), 0, [3, 1], f32(6), 0, [3, 1], f32(7), 1, [3, 1]] },
  where: {
    baseline: () => [[2, 3], f32(6), 0, [3, 1], u8(6), 0, [3, 1], f32(6), 0, [3, 1], f32(6), 0, [3, 1]],
  },
  random: { baseline: () => [f32(10), 0, 1, 0, 0, 1] },
  copy: { baseline: () => [[2, 3], f64(6), 0, [3, 1], f32(6), 0, [1, 2]] },

  // reductions and indexing: x [2, 3] reduced over dim 1; index ops over outer 2, dim 3, nIdx 2, inner 2
  reduce: { baseline: () => [0, f32(6), 0, [2], [3], [3], [1], f32(2), null, 0] },
  softmax: { baseline: () => [f32(6), f32(6), 2, 3, false] },
  softmaxBackward: { baseline: () => [f32(6), f32(6), f32(6), 2, 3, true] },
  indexSelect: { baseline: () => [f32(12), i32(2, 0), f32(8), 2, 3, 2, 2] },
  indexAdd: { baseline: () => [f32(8), i32(2, 0), f32(12), 2, 3, 2, 2] },
  gather: { baseline: () => [f32(12), i32(0, 1, 2, 0, 1, 2, 0, 1), f32(8), 2, 3, 2, 2] },
  scatterAdd: { baseline: () => [f32(8), i32(2, 1, 0, 2, 1, 0, 2, 1), f32(12), 2, 3, 2, 2] },

  // conv
  conv2dForward: { baseline: () => [f32(50), X_SHAPE, f32(54), [3, 2, 3, 3], f32(3), f32(27), ...convGeom()] },
  conv2dBackwardData: { baseline: () => [f32(27), f32(54), [3, 2, 3, 3], f32(50), X_SHAPE, ...convGeom()] },
  conv2dBackwardWeight: {
    baseline: () => [f32(50), X_SHAPE, f32(27), f32(54), [3, 2, 3, 3], f32(3), ...convGeom()],
  },
  conv2dOutputShape: { baseline: () => [X_SHAPE, [3, 2, 3, 3], ...convGeom()] },

  // pool
  maxPool2dForward: {
    baseline: () => [f32(50), X_SHAPE, f32(8), new Int32Array(8), [2, 2], [2, 2], [0, 0], [1, 1], false],
  },
  maxPool2dBackward: {
    baseline: () => [f32(8), [1, 2, 2, 2], maxPoolIndices(), f32(50), X_SHAPE, [2, 2], [2, 2], [0, 0], [1, 1], false],
  },
  avgPool2dForward: { baseline: () => [f32(50), X_SHAPE, f32(8), [2, 2], [2, 2], [0, 0], false, true] },
  avgPool2dBackward: {
    baseline: () => [f32(8), [1, 2, 2, 2], f32(50), X_SHAPE, [2, 2], [2, 2], [0, 0], false, true],
  },
  adaptiveAvgPool2dForward: { baseline: () => [f32(50), X_SHAPE, f32(18), [3, 3]] },
  adaptiveAvgPool2dBackward: { baseline: () => [f32(18), [1, 2, 3, 3], f32(50), X_SHAPE] },
  adaptiveMaxPool2dForward: { baseline: () => [f32(50), X_SHAPE, f32(18), new Int32Array(18), [3, 3]] },
  adaptiveMaxPool2dBackward: { baseline: () => [f32(18), [1, 2, 3, 3], adaptiveMaxIndices(), f32(50), X_SHAPE] },
  pool2dOutputShape: { baseline: () => [X_SHAPE, [2, 2], [2, 2], [0, 0], [1, 1], true] },

  // norm: batch N 2, C 3, L 4; layer M 4, D 6; group N 2, C 4, L 3, G 2
  batchNormForward: {
    baseline: () => [f32(24), 2, 3, 4, f32(3), f32(3), f32(3), f32(3, 1), 0.1, 1e-5, f32(24), f32(3), f32(3), true, f32(24)],
  },
  batchNormInference: {
    baseline: () => [f32(24), 2, 3, 4, f32(3), f32(3), f32(3), f32(3, 1), 1e-5, true, f32(24), f32(24)],
  },
  batchNormBackward: {
    baseline: () => [f32(24), f32(24), 2, 3, 4, f32(3), f32(3), f32(3, 1), true, f32(24), f32(3), f32(3), f32(24)],
  },
  layerNormForward: { baseline: () => [f32(24), 4, 6, f32(6), f32(6), 1e-5, f32(24), f32(4), f32(4)] },
  layerNormBackward: {
    baseline: () => [f32(24), f32(24), 4, 6, f32(6), f32(4), f32(4, 1), f32(24), f32(6), f32(6)],
  },
  groupNormForward: { baseline: () => [f32(24), 2, 4, 3, 2, f32(4), f32(4), 1e-5, f32(24), f32(4), f32(4)] },
  groupNormBackward: {
    baseline: () => [f32(24), f32(24), 2, 4, 3, 2, f32(4), f32(4), f32(4, 1), f32(24), f32(4), f32(4)],
  },

  // nn
  dropoutForward: { baseline: () => [f32(10), 10, 0.5, 1, 0, f32(10), new Uint8Array(10)] },
  dropoutBackward: { baseline: () => [f32(10), u8(10), 10, 0.5, f32(10)] },
  preluForward: { baseline: () => [f32(24), 2, 3, 4, f32(3), 3, f32(24)] },
  preluBackward: { baseline: () => [f32(24), f32(24), 2, 3, 4, f32(3), 3, f32(24), f32(3)] },
  upsample2dForward: { baseline: () => [f32(18), 1, 2, 3, 3, 5, 6, 'bilinear', false, 0, 0, f32(60)] },
  upsample2dBackward: { baseline: () => [f32(60), 1, 2, 3, 3, 5, 6, 'bilinear', true, 0, 0, f32(18)] },

  // losses
  crossEntropyForward: { baseline: () => [f32(12), classTarget(), 2, 3, 2, f32(3), -100, 0.1, 'mean', null, f32(1)] },
  crossEntropyBackward: {
    baseline: () => [f32(12), classTarget(), 2, 3, 2, f32(3), -100, 0.1, 'none', f32(4), f32(12)],
  },
  crossEntropyProbForward: { baseline: () => [f32(12), f32(12, 0.1), 2, 3, 2, f32(3), 0.1, 'none', f32(4)] },
  crossEntropyProbBackward: {
    baseline: () => [f32(12), f32(12, 0.1), 2, 3, 2, null, 0, 'mean', f32(1), f32(12)],
  },
  nllForward: { baseline: () => [f32(12, -1), classTarget(), 2, 3, 2, f32(3), -100, 'sum', f32(4), f32(1)] },
  nllBackward: { baseline: () => [classTarget(), 2, 3, 2, f32(3), -100, 'none', f32(4), f32(12)] },
  multiMarginForward: { baseline: () => [f32(6), i32(0, 2), 2, 3, f32(3), 1, 'none', f32(2)] },
  multiMarginBackward: { baseline: () => [f32(6), i32(0, 2), 2, 3, null, 1, 'mean', f32(1), f32(6)] },
  mseLossForward: pointwise(true),
  mseLossBackward: pointwise(false),
  l1LossForward: pointwise(true),
  l1LossBackward: pointwise(false),
  smoothL1LossForward: pointwise(true, 1),
  smoothL1LossBackward: pointwise(false, 0.5),
  huberLossForward: pointwise(true, 1),
  huberLossBackward: pointwise(false, 0.5),
  bceWithLogitsForward: { baseline: () => [f32(6), f32(6, 0.2), 6, f32(3), 3, 'none', f32(6)] },
  bceWithLogitsBackward: { baseline: () => [f32(6), f32(6, 0.2), 6, f32(3), 3, 'mean', f32(1), f32(6)] },
  klDivDistillForward: { baseline: () => [f32(6), f32(6, -0.2), 2, 3, 2, f32(2), f32(1)] },
  klDivDistillBackward: { baseline: () => [f32(6), f32(6, -0.2), 2, 3, 2, f32(1), f32(6)] },

  // optimizers over groups of two parameters of 5 and 3 elements
  validateOptimizer: { baseline: () => ['Adam', 'adam', { ...adamHyper }] },
  sgdStep: { baseline: () => [{ ...sgdHyper }, 2, [1, 0], f32(5), f32(5), f32(5), f32(3), f32(3), f32(3)] },
  adamStep: { baseline: () => [{ ...adamHyper }, true, 2, [1, 2], f32(5), f32(5), f32(5), f32(5), f32(5), f32(3), f32(3), f32(3), f32(3), f32(3)] },
  rmspropStep: { baseline: () => [{ ...rmspropHyper }, 2, f32(5), f32(5), f32(5), f32(5), f32(5), f32(3), f32(3), f32(3), f32(3), f32(3)] },
  adagradStep: { baseline: () => [{ ...adagradHyper }, 2, [1, 3], f32(5), f32(5), f32(5), f32(3), f32(3), f32(3)] },
  gradNormAccumulate: { baseline: () => [2, f64(1), 2, f32(5), f32(3)] },
  clipByNorm: { baseline: () => [f64(1), 0.5, 2, f32(5), f32(3)] },
  clampInPlace: { baseline: () => [f32(5), -1, 1] },
};

/**
 * The CUDA GEMM kernels (native/cuda/gemm.cu) against a float64 reference: the SIMT kernel (float32 at
 * 'highest' precision, float64) and the TF32 tensor-core kernel (float32 at 'high'), through the raw
 * binding with device handles (every transpose, odd M/N/K leaving partial tiles on every edge, K not a
 * multiple of the pipeline's depth, row strides and offsets that rule out 16-byte copies, broadcast
 * batches, zero sizes, alpha/beta) and through tf.matmul on views. Runs on the emulated device
 * ('cuda-emulated' project) and on a GPU.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as tf from '../../lib/index.js';
import { native } from '../../lib/native.js';
import { makeRng, randomArray } from '../util.js';
import { dev, expectDeviceMatchesCpu, f32Values, upload } from './device_calls.js';

type FloatArray = Float32Array | Float64Array;
const gemm = native.gemm as unknown as (...args: unknown[]) => void;
const cudaUsable = tf.cuda.isAvailable();
const rng = makeRng();

interface Operand {
  offset: number;
  ld: number;
  stride: number;
}
interface Problem {
  batch: number;
  transA: boolean;
  transB: boolean;
  M: number;
  N: number;
  K: number;
  alpha: number;
  beta: number;
  A: Operand;
  B: Operand;
  C: Operand;
}

/** Elements an operand of `rows` x `cols` (as stored) spans over the batch. */
function extent(o: Operand, batch: number, rows: number, cols: number): number {
  if (batch === 0 || rows === 0 || cols === 0) return o.offset;
  return o.offset + (batch - 1) * o.stride + (rows - 1) * o.ld + cols;
}

/** A problem with tight row strides plus `pad`, batch strides of whole matrices (0 where `broadcast`). */
function problem(
  p: Pick<Problem, 'transA' | 'transB' | 'M' | 'N' | 'K'> & Partial<Problem>,
  layout: { pad?: number; offset?: number; broadcastA?: boolean; broadcastB?: boolean } = {},
): Problem {
  const { pad = 0, offset = 0 } = layout;
  const batch = p.batch ?? 1;
  const operand = (rows: number, cols: number, broadcast = false): Operand => {
    const ld = Math.max(1, cols) + pad;
    return { offset, ld, stride: broadcast ? 0 : rows * ld };
  };
  return {
    batch, alpha: 1, beta: 0, ...p,
    A: operand(p.transA ? p.K : p.M, p.transA ? p.M : p.K, layout.broadcastA),
    B: operand(p.transB ? p.N : p.K, p.transB ? p.K : p.N, layout.broadcastB),
    C: operand(p.M, p.N),
  };
}

/** C as the reference computes it, in float64, and per element the scale sum |alpha a b| + |beta c|. */
function reference(
  p: Problem, A: FloatArray, B: FloatArray, C: FloatArray,
): { want: Float64Array; scale: Float64Array } {
  const want = Float64Array.from(C), scale = new Float64Array(C.length);
  for (let b = 0; b < p.batch; b++) {
    for (let m = 0; m < p.M; m++) {
      for (let n = 0; n < p.N; n++) {
        let sum = 0, mag = 0;
        for (let k = 0; k < p.K; k++) {
          const a = A[p.A.offset + b * p.A.stride + (p.transA ? k * p.A.ld + m : m * p.A.ld + k)]!;
          const v = B[p.B.offset + b * p.B.stride + (p.transB ? n * p.B.ld + k : k * p.B.ld + n)]!;
          sum += a * v;
          mag += Math.abs(a * v);
        }
        const i = p.C.offset + b * p.C.stride + m * p.C.ld + n;
        const c = p.beta === 0 ? 0 : p.beta * C[i]!;
        want[i] = p.alpha * sum + c;
        scale[i] = Math.abs(p.alpha) * mag + Math.abs(c);
      }
    }
  }
  return { want, scale };
}

/**
 * Runs p on cuda with random operands (C filled with NaN when beta is 0: the kernel must not read it) and
 * returns the worst error relative to the element's scale, over every element the product writes; elements
 * outside it must keep their value.
 */
function worstError(p: Problem, dtype: 'float32' | 'float64', tf32: boolean): number {
  const Arr = dtype === 'float32' ? Float32Array : Float64Array;
  const random = (n: number): FloatArray => randomArray(Arr as Float32ArrayConstructor, n, rng);
  const A = random(extent(p.A, p.batch, p.transA ? p.K : p.M, p.transA ? p.M : p.K));
  const B = random(extent(p.B, p.batch, p.transB ? p.N : p.K, p.transB ? p.K : p.N));
  const C = random(extent(p.C, p.batch, p.M, p.N));
  const { want, scale } = reference(p, A, B, C);
  const written = new Uint8Array(C.length);
  for (let b = 0; b < p.batch; b++)
    for (let m = 0; m < p.M; m++)
      for (let n = 0; n < p.N; n++) written[p.C.offset + b * p.C.stride + m * p.C.ld + n] = 1;
  if (p.beta === 0) C.forEach((_, i) => { if (written[i]) C[i] = NaN; });
  const hA = upload(A), hB = upload(B), hC = upload(C);
  try {
    gemm(p.batch, p.transA, p.transB, p.M, p.N, p.K, p.alpha, hA, p.A.offset, p.A.ld, p.A.stride,
      hB, p.B.offset, p.B.ld, p.B.stride, p.beta, hC, p.C.offset, p.C.ld, p.C.stride, tf32);
    const got = new Arr(C.length);
    if (C.length > 0) dev.deviceDownload(hC, 0, got);
    let worst = 0;
    for (let i = 0; i < C.length; i++) {
      if (!written[i]) {
        expect(got[i], `element ${i} outside C's matrices changed (TF_TEST_SEED=${rng.seed})`).toBe(C[i]);
        continue;
      }
      const err = Math.abs(got[i]! - want[i]!) / Math.max(scale[i]!, 1e-30);
      worst = Math.max(worst, Number.isNaN(err) ? Infinity : err);
    }
    return worst;
  } finally {
    for (const h of [hA, hB, hC]) dev.deviceFree(h);
  }
}

const transposes = [[false, false], [false, true], [true, false], [true, true]] as const;
const label = (p: Problem, tf32: boolean): string =>
  `${p.batch}x[${p.M}x${p.K}]${p.transA ? 'T' : ''}·[${p.K}x${p.N}]${p.transB ? 'T' : ''} ld ${p.A.ld}/${p.B.ld} ` +
  `off ${p.A.offset} tf32 ${tf32} (TF_TEST_SEED=${rng.seed})`;
// float32 against the float64 reference: 'highest' within 1e-4 of the scale, TF32 within 5e-3.
const tolerance = (tf32: boolean): number => (tf32 ? 5e-3 : 1e-4);

describe.skipIf(!cudaUsable)('cuda gemm kernels', () => {
  it('every transpose, odd sizes with partial tiles on every edge, alpha and beta, both precisions', () => {
    // 67 x 45 leaves partial 64- and 128-wide tiles; K = 37 is no multiple of 8, 16 or the pipeline's 48.
    for (const tf32 of [false, true]) {
      for (const [transA, transB] of transposes) {
        const p = problem({ transA, transB, M: 67, N: 45, K: 37, alpha: 1.5, beta: -0.5 });
        expect(worstError(p, 'float32', tf32), label(p, tf32)).toBeLessThan(tolerance(tf32));
      }
    }
  });

  it('TF32 rounds the inputs: its error is far above float32 rounding, within the TF32 bound', () => {
    const p = problem({ transA: false, transB: false, M: 40, N: 24, K: 64 });
    const tf32 = worstError(p, 'float32', true), exact = worstError(p, 'float32', false);
    expect(tf32, label(p, true)).toBeGreaterThan(1e-5);
    expect(exact, label(p, false)).toBeLessThan(1e-6);
  });

  it('16-byte copies and 4-byte copies: aligned strides, padded strides, offsets, K spanning several stages', () => {
    for (const tf32 of [false, true]) {
      for (const [transA, transB] of transposes) {
        for (const layout of [{ pad: 0 }, { pad: 3 }, { pad: 4, offset: 1 }, { pad: 4, offset: 4 }]) {
          const p = problem({ transA, transB, M: 36, N: 20, K: 100, beta: 1 }, layout);
          expect(worstError(p, 'float32', tf32), label(p, tf32)).toBeLessThan(tolerance(tf32));
        }
      }
    }
  });

  it('128 x 128 SIMT tiles and several tensor-core tiles across a batch', () => {
    for (const tf32 of [false, true]) {
      const p = problem({ transA: false, transB: true, M: 129, N: 131, K: 19, batch: tf32 ? 2 : 8 });
      expect(worstError(p, 'float32', tf32), label(p, tf32)).toBeLessThan(tolerance(tf32));
    }
  });

  it('batches with a broadcast operand (batch stride 0)', () => {
    for (const tf32 of [false, true]) {
      for (const [broadcastA, broadcastB] of [[true, false], [false, true]] as const) {
        const p = problem({ transA: broadcastA, transB: false, M: 17, N: 9, K: 23, batch: 3, beta: 0.25 },
          { broadcastA, broadcastB });
        expect(worstError(p, 'float32', tf32), label(p, tf32)).toBeLessThan(tolerance(tf32));
      }
    }
  });

  it('float64 on the SIMT kernel, TF32 ignored', () => {
    for (const [transA, transB] of transposes) {
      for (const tf32 of [false, true]) {
        const p = problem({ transA, transB, M: 33, N: 70, K: 21, alpha: -2, beta: 0.5, batch: 2 });
        expect(worstError(p, 'float64', tf32), label(p, tf32)).toBeLessThan(1e-13);
      }
    }
  });

  it('sizes of 0 and 1', () => {
    for (const tf32 of [false, true]) {
      const sizes = [[1, 1, 1, 1], [1, 7, 1, 2], [5, 1, 9, 1], [3, 4, 0, 2], [0, 4, 3, 2], [4, 0, 3, 1], [2, 2, 2, 0]];
      for (const [M, N, K, batch] of sizes) {
        for (const [transA, transB] of transposes) {
          const p = problem({ transA, transB, M: M!, N: N!, K: K!, batch: batch!, beta: 0.5 });
          expect(worstError(p, 'float32', tf32), label(p, tf32)).toBeLessThan(tolerance(tf32));
        }
      }
    }
  });
});

describe.skipIf(!cudaUsable)('tf.matmul on cuda', () => {
  afterEach(() => tf.setFloat32MatmulPrecision('highest'));

  const values = (t: tf.Tensor): number[] => Array.from(t.dataSync() as ArrayLike<number>);

  function expectAgrees(cpu: tf.Tensor, cuda: tf.Tensor, tol: number, what: string): void {
    expect(cuda.device, what).toBe('cuda');
    expect(cuda.shape, what).toEqual(cpu.shape);
    const want = values(cpu), got = values(cuda);
    const scale = Math.max(1, ...want.map(Math.abs));
    want.forEach((w, i) => {
      expect(Math.abs(got[i]! - w) / scale, `${what} [${i}] (TF_TEST_SEED=${rng.seed})`).toBeLessThan(tol);
    });
  }

  it('matches cpu on transposed, sliced, expanded and batched views, float32 and float64', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const data = (n: number): Float64Array => randomArray(Float64Array, n, rng);
      const a = data(2 * 3 * 19 * 13), b = data(13 * 11), w = data(24 * 17);
      const on = (d: tf.DeviceSpec, values: Float64Array, shape: number[]): tf.Tensor =>
        tf.tensor(values, { dtype, device: d }).reshape(shape);
      const cases: Array<[string, (d: tf.DeviceSpec) => tf.Tensor]> = [
        ['batched', (d) => tf.matmul(on(d, a, [2, 3, 19, 13]), on(d, b, [13, 11]))],
        ['transposed both', (d) =>
          tf.matmul(on(d, b, [13, 11]).transpose(0, 1), on(d, a, [6, 19, 13]).transpose(1, 2))],
        ['strided slice', (d) =>
          tf.matmul(on(d, w, [24, 17]).slice(0, 1, 23, 2), on(d, w, [24, 17]).transpose(0, 1).slice(1, 3, 20))],
        ['expanded batch', (d) =>
          tf.matmul(on(d, b, [1, 13, 11]).expand([4, 13, 11]).transpose(1, 2), on(d, a, [6, 13, 19]).slice(0, 0, 4))],
        ['vector', (d) => tf.matmul(on(d, b, [13, 11]), on(d, w.subarray(0, 11), [11]))],
      ];
      for (const [what, make] of cases) {
        expectAgrees(make('cpu'), make('cuda'), dtype === 'float32' ? 1e-5 : 1e-12, `${dtype} ${what}`);
      }
    }
  });

  it("uses TF32 tensor cores for float32 under setFloat32MatmulPrecision('high') only", () => {
    const a = randomArray(Float32Array, 48 * 40, rng), b = randomArray(Float32Array, 40 * 24, rng);
    const product = (d: tf.DeviceSpec): tf.Tensor =>
      tf.matmul(tf.tensor(a, { device: d }).reshape([48, 40]), tf.tensor(b, { device: d }).reshape([40, 24]));
    const cpu = product('cpu');
    expectAgrees(cpu, product('cuda'), 1e-5, 'highest');
    tf.setFloat32MatmulPrecision('high');
    const high = product('cuda');
    expectAgrees(cpu, high, 5e-3, 'high');
    const diff = Math.max(...values(high).map((v, i) => Math.abs(v - values(cpu)[i]!)));
    expect(diff, 'TF32 rounding shows').toBeGreaterThan(1e-5);
  });

  it('adds a bias to every row in the epilogue, with beta 0 and not, in both kernels (TF32 on and off)', () => {
    const M = 37, N = 70, K = 19, batch = 2;
    for (const beta of [0, 0.75]) {
      for (const tf32 of [false, true]) {
        expectDeviceMatchesCpu(`bias, beta ${beta}, tf32 ${tf32}`, 'gemm', (Arr) => {
          const r = makeRng(91);
          return [
            // operands in [-0.5, 0.5): TF32's rounding of 19 products then stays under 5e-3
            batch, false, true, M, N, K, 1.5, Arr.from(f32Values(M * K, r, -0.5, 0.5)), 0, K, 0, Arr.from(f32Values(N * K, r, -0.5, 0.5)), 0, K, 0,
            beta, Arr.from(f32Values(batch * M * N, r)), 0, N, M * N, tf32, Arr.from(f32Values(N, r)),
          ];
        }, { outputs: [16], float32: tf32 ? { atol: 5e-3, rtol: 5e-3 } : { atol: 1e-4, rtol: 1e-4 }, float64: { atol: 1e-12, rtol: 1e-12 } });
      }
    }
  });

  it('names the op and the argument on a bad call', () => {
    const h = dev.deviceAlloc(0, 0, 4, true);
    try {
      expect(() => gemm(1, false, false, 2, 2, 2, 1, h, 0, 2, 0, new Float32Array(4), 0, 2, 0, 0, h, 0, 2, 0, false))
        .toThrow(/gemm: all tensors must be on one device/);
      expect(() => gemm(1, false, false, 2, 2, 2, 1, h, 0, 2, 0, h, 0, 2, 0, 0, h, 0, 2, 0, 'yes'))
        .toThrow(/gemm.*allowTf32/);
    } finally {
      dev.deviceFree(h);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { native } from '../../lib/native.js';
import { expectClose, makeRng, randomArray } from '../util.js';

/** Naive float64 reference of the batched row-major GEMM contract. */
function refGemm(
  batch: number, ta: boolean, tb: boolean, M: number, N: number, K: number, alpha: number,
  A: ArrayLike<number>, lda: number, sa: number, B: ArrayLike<number>, ldb: number, sb: number,
  beta: number, C: ArrayLike<number>, ldc: number, sc: number, bias: ArrayLike<number> | null = null,
): Float64Array {
  const out = Float64Array.from(C);
  for (let b = 0; b < batch; b++)
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let acc = 0;
        for (let k = 0; k < K; k++) {
          const a = ta ? A[b * sa + k * lda + i]! : A[b * sa + i * lda + k]!;
          const bv = tb ? B[b * sb + j * ldb + k]! : B[b * sb + k * ldb + j]!;
          acc += a * bv;
        }
        const idx = b * sc + i * ldc + j;
        out[idx] = alpha * acc + (beta === 0 ? 0 : beta * out[idx]!) + (bias ? bias[j]! : 0);
      }
  return out;
}

describe('native gemm', () => {
  const rng = makeRng();
  for (const Ctor of [Float32Array, Float64Array]) {
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      it(`${Ctor.name} transA=${ta} transB=${tb} odd sizes, padded leading dims, batches, with and without a bias`, () => {
        const batch = rng.int(1, 3), M = rng.int(1, 37), N = rng.int(1, 41), K = rng.int(1, 53);
        const lda = (ta ? M : K) + rng.int(0, 3), ldb = (tb ? K : N) + rng.int(0, 3), ldc = N + rng.int(0, 2);
        const sa = (ta ? K : M) * lda, sb = (tb ? N : K) * ldb, sc = M * ldc;
        const A = randomArray(Ctor, batch * sa, rng), B = randomArray(Ctor, batch * sb, rng);
        const C = randomArray(Ctor, batch * sc, rng);
        const alpha = rng.uniform(0.5, 2), tol = Ctor === Float32Array ? 1e-5 : 1e-12;
        // beta 0 and not, each without and with a bias (the two bias paths: before the product and after)
        for (const [beta, bias] of [[0, null], [0, randomArray(Ctor, N, rng)], [rng.uniform(-1, 1), null], [rng.uniform(-1, 1), randomArray(Ctor, N, rng)]] as const) {
          const Cb = C.slice();
          const expected = refGemm(batch, ta, tb, M, N, K, alpha, A, lda, sa, B, ldb, sb, beta, Cb, ldc, sc, bias);
          native.gemm(batch, ta, tb, M, N, K, alpha, A, 0, lda, sa, B, 0, ldb, sb, beta, Cb, 0, ldc, sc, false, bias);
          expectClose(Cb, expected, { atol: tol * K, rtol: tol, seed: rng.seed, label: `beta ${beta}, ${bias ? 'a' : 'no'} bias` });
        }
      });
    }
  }

  it('products of 2^23 multiply-adds and more, split over 3 threads by rows or by columns, match the reference for every transpose', () => {
    const threads = native.getNumThreads();
    native.setNumThreads(3);
    try {
      // M > N splits by rows, N > M by columns; neither a multiple of the parts' 16-row alignment
      for (const [M, N, K] of [[203, 37, 1200], [37, 211, 1100]] as const) {
        for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
          const lda = (ta ? M : K) + 1, ldb = (tb ? K : N) + 2, ldc = N + 1;
          const A = randomArray(Float32Array, (ta ? K : M) * lda, rng), B = randomArray(Float32Array, (tb ? N : K) * ldb, rng);
          const C = randomArray(Float32Array, M * ldc, rng);
          const expected = refGemm(1, ta, tb, M, N, K, 1.5, A, lda, 0, B, ldb, 0, 0.5, C, ldc, 0);
          native.gemm(1, ta, tb, M, N, K, 1.5, A, 0, lda, 0, B, 0, ldb, 0, 0.5, C, 0, ldc, 0);
          expectClose(C, expected, { atol: 1e-5 * K, rtol: 1e-5, seed: rng.seed, label: `${M}x${N}x${K} transA=${ta} transB=${tb}` });
        }
      }
    } finally {
      native.setNumThreads(threads);
    }
  });

  it('float32 relative error stays under 1e-5 for K up to 1024', () => {
    for (const K of [1, 255, 1024]) {
      const M = 17, N = 19;
      const A = randomArray(Float32Array, M * K, rng, 0.1, 1), B = randomArray(Float32Array, K * N, rng, 0.1, 1);
      const C = new Float32Array(M * N);
      native.gemm(1, false, false, M, N, K, 1, A, 0, K, 0, B, 0, N, 0, 0, C, 0, N, 0);
      // positive inputs: no cancellation, so a relative bound is meaningful
      expectClose(C, refGemm(1, false, false, M, N, K, 1, A, K, 0, B, N, 0, 0, C, N, 0), { atol: 0, rtol: 1e-5 });
    }
  });

  // Shapes across the AVX-512 SGEMM (from 4096 multiply-adds and 16 columns)'s blocking (native/cpu/sgemm.cc: 14 x 32 tiles, depth blocks of ~256, row
  // blocks of ~500, column panels of ~4096 on this machine kind): one tile, one past it, K over two depth blocks,
  // M over two row blocks, N over two column panels, single rows and columns.
  const blockingShapes: Array<[number, number, number]> = [
    [14, 32, 80], [15, 33, 70], [13, 31, 300], [29, 65, 513], [1, 1000, 40], [1000, 17, 40], [505, 40, 20], [20, 4200, 9], [3, 16, 100],
  ];
  for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    it(`float32 transA=${ta} transB=${tb} across tile, depth, row and column block edges, alpha and beta`, () => {
      for (const [M, N, K] of blockingShapes) {
        const lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 5, ldc = N + 2;
        const A = randomArray(Float32Array, (ta ? K : M) * lda, rng), B = randomArray(Float32Array, (tb ? N : K) * ldb, rng);
        for (const beta of [0, 1, -0.5]) {
          // beta 0 must ignore C's contents, NaN included
          const C = beta === 0 ? new Float32Array(M * ldc).fill(NaN) : randomArray(Float32Array, M * ldc, rng);
          const expected = refGemm(1, ta, tb, M, N, K, 1.5, A, lda, 0, B, ldb, 0, beta, C, ldc, 0);
          native.gemm(1, ta, tb, M, N, K, 1.5, A, 0, lda, 0, B, 0, ldb, 0, beta, C, 0, ldc, 0);
          expectClose(C, expected, { atol: 1e-5 * K, rtol: 1e-5, label: `${M}x${N}x${K} beta ${beta}` });
        }
      }
    });
  }

  it('broadcasts an operand with stride 0 and honours offsets', () => {
    const A = Float64Array.from([9, 1, 2, 3, 4]), B = Float64Array.from([1, 0, 0, 1]);
    const C = new Float64Array(9);
    native.gemm(2, false, false, 2, 2, 2, 1, A, 1, 2, 0, B, 0, 2, 0, 0, C, 1, 2, 4);
    expect(Array.from(C)).toEqual([0, 1, 2, 3, 4, 1, 2, 3, 4]);
  });

  it('zero-size dimensions are no-ops and K = 0 scales C by beta', () => {
    const C = Float32Array.from([1, 2, 3, 4]);
    native.gemm(1, false, false, 2, 2, 0, 1, new Float32Array(0), 0, 1, 0, new Float32Array(0), 0, 2, 0, 0.5, C, 0, 2, 0);
    expect(Array.from(C)).toEqual([0.5, 1, 1.5, 2]);
    native.gemm(0, false, false, 5, 5, 5, 1, new Float32Array(0), 0, 5, 0, new Float32Array(0), 0, 5, 0, 0, new Float32Array(0), 0, 5, 0);
  });

  describe('rejects bad arguments with TypeError/RangeError naming them', () => {
    const f = () => new Float32Array(16);
    type Args = Parameters<typeof native.gemm>;
    const good = (): Args => [1, false, false, 4, 4, 4, 1, f(), 0, 4, 0, f(), 0, 4, 0, 0, f(), 0, 4, 0];
    const cases: Array<[string, (a: Args) => void, ErrorConstructor, RegExp]> = [
      ['short A', (a) => { a[7] = new Float32Array(15); }, RangeError, /gemm: A needs at least 16 elements, got 15/],
      ['short C', (a) => { a[16] = new Float32Array(3); }, RangeError, /gemm: C needs at least 16/],
      ['offset past the end', (a) => { a[12] = 1; }, RangeError, /gemm: B needs at least 17/],
      ['lda too small', (a) => { a[9] = 3; }, RangeError, /leading dimension of A must be >= 4, got 3/],
      ['negative M', (a) => { a[3] = -1; }, RangeError, /gemm: M must be in \[0, 2147483647\], got -1/],
      ['fractional N', (a) => { a[4] = 1.5; }, RangeError, /gemm: N must be an integer, got 1.5/],
      ['NaN K', (a) => { a[5] = NaN; }, RangeError, /gemm: K must be an integer/],
      ['huge batch overflows', (a) => { a[0] = 2 ** 53; a[10] = 2 ** 20; }, RangeError, /gemm: A/],
      ['mixed dtypes', (a) => { a[11] = new Float64Array(16); }, TypeError, /A and B must have the same dtype, got float32 and float64/],
      ['int32 buffer', (a) => { (a as unknown[])[7] = new Int32Array(16); }, TypeError, /A must be float32 or float64, got int32/],
      ['not a typed array', (a) => { (a as unknown[])[7] = [1, 2]; }, TypeError, /gemm: A must be a Float32Array/],
      ['string flag', (a) => { (a as unknown[])[1] = 'no'; }, TypeError, /gemm: transA must be a boolean/],
      ['overlapping C batches', (a) => { a[0] = 2; a[19] = 4; a[16] = new Float32Array(64); a[10] = 16; a[14] = 16; a[7] = new Float32Array(32); a[11] = new Float32Array(32); }, RangeError, /C batches would overlap/],
    ];
    for (const [name, mutate, Err, message] of cases) {
      it(name, () => {
        const args = good();
        mutate(args);
        expect(() => native.gemm(...args)).toThrow(Err);
        expect(() => native.gemm(...args)).toThrow(message);
      });
    }
    it('too few arguments', () => {
      expect(() => (native.gemm as unknown as () => void)()).toThrow(/gemm: expected 20 arguments, got 0/);
    });
  });
});

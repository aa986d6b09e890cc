import { describe, expect, it } from 'vitest';
import { native } from '../../lib/native.js';
import type { UpsampleMode } from '../../lib/bindings/nn.js';
import { dot, expectClose, gradTol, makeRng, numericGrad, randomArray } from '../util.js';

const F64 = Float64Array;


/** Philox4x32-10 in BigInt arithmetic: the uniform in [0, 1) that element i of (seed, offset) must use. */
function philoxUniform(seed: number, offset: number, i: number): number {
  const M = 0xffffffffn;
  const counter = BigInt(offset) + BigInt(Math.floor(i / 4));
  let c0 = counter & M, c1 = (counter >> 32n) & M, c2 = 0n, c3 = 0n;
  let k0 = BigInt(seed) & M, k1 = (BigInt(seed) >> 32n) & M;
  for (let r = 0; r < 10; r++) {
    const p0 = 0xd2511f53n * c0, p1 = 0xcd9e8d57n * c2;
    const n0 = (p1 >> 32n) ^ c1 ^ k0, n2 = (p0 >> 32n) ^ c3 ^ k1;
    c1 = p1 & M;
    c3 = p0 & M;
    c0 = n0;
    c2 = n2;
    k0 = (k0 + 0x9e3779b9n) & M;
    k1 = (k1 + 0xbb67ae85n) & M;
  }
  const word = [c0, c1, c2, c3][i % 4]!;
  return Number(word >> 8n) / 16777216;
}

describe('native dropout', () => {
  const rng = makeRng();
  for (const Arr of [Float32Array, Float64Array]) {
    it(`${Arr.name} masks follow Philox(seed) at the counter offset, scaling is exact`, () => {
      const n = rng.int(20, 61), p = rng.uniform(0.2, 0.7), seed = rng.int(0, 2 ** 40), offset = rng.int(0, 2 ** 45);
      const x = randomArray(Arr, n, rng), y = new Arr(n), mask = new Uint8Array(n);
      native.dropoutForward(x, n, p, seed, offset, y, mask);
      const scale = Arr === Float32Array ? Math.fround(1 / (1 - p)) : 1 / (1 - p);
      const round = Arr === Float32Array ? Math.fround : (v: number) => v;
      for (let i = 0; i < n; i++) {
        expect(mask[i], `mask[${i}] (TF_TEST_SEED=${rng.seed})`).toBe(philoxUniform(seed, offset, i) >= p ? 1 : 0);
        expect(y[i]).toBe(mask[i] ? round(x[i]! * scale) : 0);
      }
      const gy = randomArray(Arr, n, rng), gx = new Arr(n);
      native.dropoutBackward(gy, mask, n, p, gx);
      for (let i = 0; i < n; i++) expect(gx[i]).toBe(mask[i] ? round(gy[i]! * scale) : 0);
    });
  }

  it('same seed and offset reproduce; another offset differs; threads do not matter', () => {
    const n = 5001, x = new F64(n).fill(1);
    const run = (seed: number, offset: number) => {
      const y = new F64(n), mask = new Uint8Array(n);
      native.dropoutForward(x, n, 0.5, seed, offset, y, mask);
      return mask;
    };
    const a = run(7, 100);
    expect(run(7, 100)).toEqual(a);
    expect(run(7, 100 + Math.ceil(n / 4))).not.toEqual(a);
    expect(run(8, 100)).not.toEqual(a);
    const threads = native.getNumThreads();
    try {
      native.setNumThreads(1);
      expect(run(7, 100)).toEqual(a);
    } finally {
      native.setNumThreads(threads);
    }
  });

  it('mask mean is close to 1 - p', () => {
    const n = 40000;
    for (const p of [0.1, 0.5, 0.9]) {
      const mask = new Uint8Array(n);
      native.dropoutForward(new Float32Array(n), n, p, rng.int(0, 2 ** 31), 0, new Float32Array(n), mask);
      const mean = mask.reduce((s, v) => s + v, 0) / n;
      // 5 standard deviations of a binomial mean
      expect(Math.abs(mean - (1 - p))).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n));
    }
  });

  it('p = 0 keeps everything unchanged, p = 1 drops everything, n = 0 is a no-op', () => {
    const x = randomArray(Float32Array, 33, rng), y = new Float32Array(33), mask = new Uint8Array(33);
    native.dropoutForward(x, 33, 0, 1, 2, y, mask);
    expect(Array.from(y)).toEqual(Array.from(x));
    expect(mask.every((m) => m === 1)).toBe(true);
    native.dropoutForward(x, 33, 1, 1, 2, y, mask);
    expect(y.every((v) => v === 0)).toBe(true);
    expect(mask.every((m) => m === 0)).toBe(true);
    const gx = new Float32Array(33).fill(5);
    native.dropoutBackward(x, mask, 33, 1, gx);
    expect(gx.every((v) => v === 0)).toBe(true);
    native.dropoutForward(new Float32Array(0), 0, 0.5, 1, 2, new Float32Array(0), new Uint8Array(0));
  });
});

describe('native prelu', () => {
  const rng = makeRng();
  for (const Arr of [Float32Array, Float64Array]) {
    for (const shared of [false, true]) {
      it(`${Arr.name} forward, ${shared ? 'one shared slope' : 'per-channel slopes'}`, () => {
        const N = rng.int(1, 3), C = 2 * rng.int(1, 3) + 1, L = rng.int(1, 9), n = N * C * L, nw = shared ? 1 : C;
        const x = randomArray(Arr, n, rng), w = randomArray(Arr, nw, rng, 0, 0.5), y = new Arr(n);
        native.preluForward(x, N, C, L, w, nw, y);
        const expected = Array.from(x, (v, i) => (v > 0 ? v : v * w[shared ? 0 : Math.floor(i / L) % C]!));
        expectClose(y, expected, { atol: 0, rtol: Arr === Float32Array ? 1e-7 : 0, seed: rng.seed });
        native.preluForward(new Arr(0), 0, C, L, w, nw, new Arr(0));
      });
    }
  }

  for (const shared of [false, true]) {
    it(`backward matches central differences (float64, ${shared ? 'shared' : 'per-channel'} slope)`, () => {
      const N = rng.int(1, 3), C = 2 * rng.int(1, 3) + 1, L = rng.int(1, 7), n = N * C * L, nw = shared ? 1 : C;
      const x = randomArray(F64, n, rng), w = randomArray(F64, nw, rng, 0, 0.5), g = randomArray(F64, n, rng);
      const y = new F64(n);
      const loss = () => {
        native.preluForward(x, N, C, L, w, nw, y);
        return dot(y, g);
      };
      const gx = new F64(n), gw = new F64(nw);
      native.preluBackward(x, g, N, C, L, w, nw, gx, gw);
      expectClose(gx, numericGrad(loss, x), { ...gradTol, seed: rng.seed, label: 'gradX' });
      expectClose(gw, numericGrad(loss, w), { ...gradTol, seed: rng.seed, label: 'gradWeight' });
    });
  }
});

/** Naive float64 upsampling with PyTorch's formulas (nearest in float32 arithmetic, as ATen does). */
function refUpsample(
  x: ArrayLike<number>, planes: number, inH: number, inW: number, outH: number, outW: number,
  mode: UpsampleMode, align: boolean, scaleH: number, scaleW: number,
): Float64Array {
  const taps = (dst: number, inS: number, outS: number, scale: number): Array<[number, number]> => {
    if (mode === 'nearest') {
      if (outS === inS) return [[dst, 1]];
      if (outS === 2 * inS) return [[dst >> 1, 1]];
      const s = scale > 0 ? Math.fround(1 / scale) : Math.fround(inS / outS);
      return [[Math.min(Math.floor(Math.fround(dst * s)), inS - 1), 1]];
    }
    if (outS === inS) return [[dst, 1]];
    const ratio = align ? (outS > 1 ? (inS - 1) / (outS - 1) : 0) : scale > 0 ? 1 / scale : inS / outS;
    const src = align ? ratio * dst : Math.max(ratio * (dst + 0.5) - 0.5, 0);
    const i0 = Math.min(Math.floor(src), inS - 1), l1 = Math.min(Math.max(src - i0, 0), 1);
    return [[i0, 1 - l1], [i0 + (i0 < inS - 1 ? 1 : 0), l1]];
  };
  const y = new Float64Array(planes * outH * outW);
  for (let p = 0; p < planes; p++)
    for (let oh = 0; oh < outH; oh++)
      for (let ow = 0; ow < outW; ow++) {
        let acc = 0;
        for (const [h, wh] of taps(oh, inH, outH, scaleH))
          for (const [w, ww] of taps(ow, inW, outW, scaleW)) acc += wh * ww * x[(p * inH + h) * inW + w]!;
        y[(p * outH + oh) * outW + ow] = acc;
      }
  return y;
}

describe('native upsample2d', () => {
  const rng = makeRng();
  const grid = Float64Array.from([1, 2, 3, 4]);
  const up = (x: Float64Array, inH: number, inW: number, outH: number, outW: number, mode: UpsampleMode, align: boolean, sh = 0, sw = 0) => {
    const y = new F64(outH * outW * (x.length / (inH * inW)));
    native.upsample2dForward(x, 1, x.length / (inH * inW), inH, inW, outH, outW, mode, align, sh, sw, y);
    return Array.from(y);
  };

  it('matches PyTorch outputs on a 2x2 grid', () => {
    expect(up(grid, 2, 2, 4, 4, 'bilinear', false, 2, 2)).toEqual(
      [1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4]);
    expectClose(up(grid, 2, 2, 4, 4, 'bilinear', true), [1, 4 / 3, 5 / 3, 2, 5 / 3, 2, 7 / 3, 8 / 3, 7 / 3, 8 / 3, 3, 10 / 3, 3, 10 / 3, 11 / 3, 4],
      { atol: 1e-12 });
    expect(up(grid, 2, 2, 4, 4, 'nearest', false, 2, 2)).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    expect(up(grid, 2, 2, 3, 3, 'nearest', false)).toEqual([1, 1, 2, 1, 1, 2, 3, 3, 4]);
  });

  const cases: Array<[UpsampleMode, boolean, 'size' | 'scale']> = [
    ['nearest', false, 'size'], ['nearest', false, 'scale'],
    ['bilinear', false, 'size'], ['bilinear', false, 'scale'], ['bilinear', true, 'size'],
  ];
  for (const Arr of [Float32Array, Float64Array]) {
    for (const [mode, align, by] of cases) {
      it(`${Arr.name} ${mode} alignCorners=${align} by ${by}: forward vs reference, up and down`, () => {
        const N = rng.int(1, 2), C = rng.int(1, 3), inH = rng.int(1, 6), inW = rng.int(2, 7);
        for (const grow of [true, false]) {
          const sh = by === 'scale' ? (grow ? rng.uniform(1.1, 3.3) : rng.uniform(0.5, 0.95)) : 0;
          const sw = by === 'scale' ? (grow ? rng.uniform(1.1, 3.3) : rng.uniform(0.5, 0.95)) : 0;
          const outH = by === 'scale' ? Math.max(1, Math.floor(inH * sh)) : grow ? rng.int(inH + 1, 3 * inH + 2) : rng.int(1, inH);
          const outW = by === 'scale' ? Math.max(1, Math.floor(inW * sw)) : grow ? rng.int(inW + 1, 3 * inW + 2) : rng.int(1, inW - 1);
          const x = randomArray(Arr, N * C * inH * inW, rng), y = new Arr(N * C * outH * outW);
          native.upsample2dForward(x, N, C, inH, inW, outH, outW, mode, align, sh, sw, y);
          const tol = Arr === Float32Array ? 1e-5 : 1e-12;
          expectClose(y, refUpsample(x, N * C, inH, inW, outH, outW, mode, align, sh, sw), { atol: tol, rtol: tol, seed: rng.seed });
        }
        native.upsample2dForward(new Arr(0), 0, C, inH, inW, 2, 3, mode, align, 0, 0, new Arr(0));
      });
    }
  }

  for (const [mode, align, by] of cases) {
    it(`${mode} alignCorners=${align} by ${by}: backward matches central differences (float64)`, () => {
      const N = 1, C = 2, inH = rng.int(1, 4), inW = rng.int(2, 5);
      const sh = by === 'scale' ? rng.uniform(1.2, 2.6) : 0, sw = by === 'scale' ? rng.uniform(0.6, 2.6) : 0;
      const outH = by === 'scale' ? Math.max(1, Math.floor(inH * sh)) : rng.int(1, 2 * inH + 1);
      const outW = by === 'scale' ? Math.max(1, Math.floor(inW * sw)) : rng.int(1, 2 * inW + 1);
      const x = randomArray(F64, N * C * inH * inW, rng), g = randomArray(F64, N * C * outH * outW, rng);
      const y = new F64(g.length);
      const loss = () => {
        native.upsample2dForward(x, N, C, inH, inW, outH, outW, mode, align, sh, sw, y);
        return dot(y, g);
      };
      const gx = new F64(x.length).fill(7);
      native.upsample2dBackward(g, N, C, inH, inW, outH, outW, mode, align, sh, sw, gx);
      expectClose(gx, numericGrad(loss, x), { ...gradTol, seed: rng.seed });
    });
  }
});

describe('nn entry points reject bad arguments with TypeError/RangeError naming them', () => {
  const f = (n: number) => new Float32Array(n);
  type UpArgs = Parameters<typeof native.upsample2dForward>;
  const upArgs = (): UpArgs => [f(24), 2, 3, 2, 2, 4, 4, 'bilinear', false, 0, 0, f(96)];
  const cases: Array<[string, () => void, ErrorConstructor, RegExp]> = [
    ['dropout p > 1', () => native.dropoutForward(f(4), 4, 1.5, 0, 0, f(4), new Uint8Array(4)), RangeError,
      /dropoutForward: p must be in \[0, 1\], got 1.5/],
    ['dropout NaN p', () => native.dropoutForward(f(4), 4, NaN, 0, 0, f(4), new Uint8Array(4)), RangeError,
      /dropoutForward: p must be in \[0, 1\], got nan/i],
    ['dropout short mask', () => native.dropoutForward(f(4), 4, 0.5, 0, 0, f(4), new Uint8Array(3)), RangeError,
      /dropoutForward: mask needs at least 4 elements, got 3/],
    ['dropout float mask', () => native.dropoutForward(f(4), 4, 0.5, 0, 0, f(4), f(4) as unknown as Uint8Array), TypeError,
      /dropoutForward: mask must be uint8, got float32/],
    ['dropout negative seed', () => native.dropoutForward(f(4), 4, 0.5, -1, 0, f(4), new Uint8Array(4)), RangeError,
      /dropoutForward: seed must be in \[0, /],
    ['dropout offset above 2^53', () => native.dropoutForward(f(4), 4, 0.5, 0, 2 ** 54, f(4), new Uint8Array(4)), RangeError,
      /dropoutForward: offset must be in \[0, /],
    ['dropout short x', () => native.dropoutForward(f(3), 4, 0.5, 0, 0, f(4), new Uint8Array(4)), RangeError,
      /dropoutForward: x needs at least 4 elements, got 3/],
    ['dropout backward mixed dtypes', () => native.dropoutBackward(f(4), new Uint8Array(4), 4, 0.5, new Float64Array(4)),
      TypeError, /dropoutBackward: gradY and gradX must have the same dtype, got float32 and float64/],
    ['prelu bad numWeights', () => native.preluForward(f(12), 2, 3, 2, f(3), 2, f(12)), RangeError,
      /preluForward: numWeights must be 1 or C = 3, got 2/],
    ['prelu short weight', () => native.preluForward(f(12), 2, 3, 2, f(2), 3, f(12)), RangeError,
      /preluForward: weight needs at least 3 elements, got 2/],
    ['prelu backward short gradWeight', () => native.preluBackward(f(12), f(12), 2, 3, 2, f(3), 3, null, f(1)), RangeError,
      /preluBackward: gradWeight needs at least 3 elements, got 1/],
    ['prelu int32 x', () => native.preluForward(new Int32Array(12) as unknown as Float32Array, 2, 3, 2, f(3), 3, f(12)),
      TypeError, /preluForward: x must be float32 or float64, got int32/],
    ['upsample unknown mode', () => { const a = upArgs(); (a as unknown[])[7] = 'bicubic'; native.upsample2dForward(...a); },
      RangeError, /upsample2dForward: mode must be 'nearest' or 'bilinear', got 'bicubic'/],
    ['upsample nearest with alignCorners', () => { const a = upArgs(); a[7] = 'nearest'; a[8] = true; native.upsample2dForward(...a); },
      RangeError, /upsample2dForward: alignCorners can only be set with mode 'bilinear'/],
    ['upsample zero output size', () => { const a = upArgs(); a[5] = 0; native.upsample2dForward(...a); },
      RangeError, /upsample2dForward: output height and width must be >= 1, got 0 x 4/],
    ['upsample negative scale', () => { const a = upArgs(); a[9] = -2; native.upsample2dForward(...a); },
      RangeError, /upsample2dForward: scaleH must be finite and >= 0, got -2/],
    ['upsample short y', () => { const a = upArgs(); a[11] = f(95); native.upsample2dForward(...a); },
      RangeError, /upsample2dForward: y needs at least 96 elements, got 95/],
    ['upsample backward short gradX', () => native.upsample2dBackward(f(96), 2, 3, 2, 2, 4, 4, 'nearest', false, 0, 0, f(23)),
      RangeError, /upsample2dBackward: gradX needs at least 24 elements, got 23/],
    ['upsample non-boolean alignCorners', () => { const a = upArgs(); (a as unknown[])[8] = 0; native.upsample2dForward(...a); },
      TypeError, /upsample2dForward: alignCorners must be a boolean/],
    ['too few arguments', () => (native.preluBackward as unknown as () => void)(), TypeError,
      /preluBackward: expected 9 arguments, got 0/],
  ];
  for (const [name, call, Err, message] of cases) {
    it(name, () => {
      expect(call).toThrow(Err);
      expect(call).toThrow(message);
    });
  }
});

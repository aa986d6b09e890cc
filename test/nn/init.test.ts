import { describe, expect, it } from 'vitest';
import { empty, zeros } from '../../lib/creation.js';
import { manualSeed } from '../../lib/random.js';
import { init, Linear, Conv2d } from '../../lib/nn/index.js';
import type { Tensor } from '../../lib/tensor.js';

function stats(t: Tensor): { mean: number; std: number; min: number; max: number } {
  const d = Array.from(t.dataSync() as Float32Array);
  const mean = d.reduce((a, b) => a + b, 0) / d.length;
  const std = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / d.length);
  return { mean, std, min: Math.min(...d), max: Math.max(...d) };
}

/** |sample std − std| within 5 standard errors (the std of a sample std is ≈ std/√(2n) for normal, smaller for uniform). */
function expectStd(t: Tensor, std: number): void {
  const s = stats(t);
  expect(Math.abs(s.std - std)).toBeLessThan((5 * std) / Math.sqrt(2 * t.numel));
  expect(Math.abs(s.mean)).toBeLessThan((5 * std) / Math.sqrt(t.numel));
}

describe('gains and fans', () => {
  it("calculateGain matches PyTorch's table", () => {
    expect(init.calculateGain('linear')).toBe(1);
    expect(init.calculateGain('conv2d')).toBe(1);
    expect(init.calculateGain('sigmoid')).toBe(1);
    expect(init.calculateGain('tanh')).toBeCloseTo(5 / 3, 15);
    expect(init.calculateGain('relu')).toBeCloseTo(Math.SQRT2, 15);
    expect(init.calculateGain('leaky_relu')).toBeCloseTo(Math.sqrt(2 / (1 + 0.01 ** 2)), 15);
    expect(init.calculateGain('leakyRelu', 0.2)).toBeCloseTo(Math.sqrt(2 / 1.04), 15);
    expect(init.calculateGain('selu')).toBe(0.75);
    expect(() => init.calculateGain('softsign' as never)).toThrow("calculateGain: unsupported nonlinearity 'softsign'");
  });

  it('fans of linear and conv weights', () => {
    expect(init.calculateFanInAndFanOut(empty([20, 30]))).toEqual({ fanIn: 30, fanOut: 20 });
    expect(init.calculateFanInAndFanOut(empty([16, 6, 5, 3]))).toEqual({ fanIn: 90, fanOut: 240 });
    expect(() => init.calculateFanInAndFanOut(empty([5]))).toThrow(/at least 2 dims/);
  });
});

describe('distributions', () => {
  it('xavier uniform/normal', () => {
    const w = empty([300, 200]);
    init.xavierUniform_(w, 2);
    const bound = 2 * Math.sqrt(6 / 500);
    expect(stats(w).max).toBeLessThanOrEqual(bound);
    expect(stats(w).min).toBeGreaterThanOrEqual(-bound);
    expectStd(w, bound / Math.sqrt(3));
    init.xavierNormal_(w);
    expectStd(w, Math.sqrt(2 / 500));
  });

  it('kaiming uniform/normal with fanIn/fanOut and nonlinearity', () => {
    const w = empty([64, 32, 3, 3]);
    init.kaimingNormal_(w, { mode: 'fanOut', nonlinearity: 'relu' });
    expectStd(w, Math.SQRT2 / Math.sqrt(64 * 9));
    init.kaimingUniform_(w, { nonlinearity: 'relu' });
    expectStd(w, Math.SQRT2 / Math.sqrt(32 * 9));
    expect(stats(w).max).toBeLessThanOrEqual(Math.sqrt(6 / (32 * 9)));
    init.kaimingNormal_(w, { a: 0.3 });
    expectStd(w, Math.sqrt(2 / 1.09) / Math.sqrt(32 * 9));
    expect(() => init.kaimingUniform_(w, { mode: 'fan_in' as never })).toThrow("kaimingUniform_: mode must be 'fanIn' or 'fanOut', got 'fan_in'");
  });

  it('uniform, normal, constant, zeros, ones; float64 too', () => {
    const t = empty([100, 100], { dtype: 'float64' });
    init.uniform_(t, -2, 4);
    const s = stats(t);
    expect(s.min).toBeGreaterThanOrEqual(-2);
    expect(s.max).toBeLessThan(4);
    expect(Math.abs(s.mean - 1)).toBeLessThan(0.1);
    init.normal_(t, 3, 0.5);
    expect(Math.abs(stats(t).mean - 3)).toBeLessThan(0.03);
    expect(Math.abs(stats(t).std - 0.5)).toBeLessThan(0.03);
    init.constant_(t, 0.25);
    expect(stats(t)).toEqual({ mean: 0.25, std: 0, min: 0.25, max: 0.25 });
    init.zeros_(t);
    expect(stats(t).max).toBe(0);
    init.ones_(t);
    expect(stats(t).min).toBe(1);
    expect(() => init.uniform_(zeros([2], { dtype: 'int32' }))).toThrow('uniform_: tensor must be float32 or float64, got int32');
  });

  it('orthogonal_ gives orthonormal rows or columns, scaled by gain', () => {
    for (const shape of [[7, 4], [4, 7], [6, 2, 3]]) {
      const w = empty(shape, { dtype: 'float64' });
      init.orthogonal_(w, 1.5);
      const rows = shape[0]!, cols = w.numel / rows;
      const a = w.dataSync() as Float64Array;
      const byRows = rows <= cols;
      const n = byRows ? rows : cols, len = byRows ? cols : rows;
      const at = (v: number, i: number) => (byRows ? a[v * cols + i]! : a[i * cols + v]!);
      for (let u = 0; u < n; u++) {
        for (let v = 0; v < n; v++) {
          let dot = 0;
          for (let i = 0; i < len; i++) dot += at(u, i) * at(v, i);
          expect(dot).toBeCloseTo(u === v ? 2.25 : 0, 10);
        }
      }
    }
  });

  it('manualSeed makes initialization reproducible', () => {
    manualSeed(42);
    const a = new Linear(5, 4);
    manualSeed(42);
    const b = new Linear(5, 4);
    expect(Array.from(a.weight.dataSync())).toEqual(Array.from(b.weight.dataSync()));
    expect(Array.from(a.bias!.dataSync())).toEqual(Array.from(b.bias!.dataSync()));
  });
});

describe("layers' default initialization (PyTorch's)", () => {
  it('Linear and Conv2d weights and biases are U(±1/√fanIn)', () => {
    const lin = new Linear(400, 300);
    const bound = 1 / Math.sqrt(400);
    expect(stats(lin.weight).max).toBeLessThanOrEqual(bound);
    expect(stats(lin.weight).min).toBeGreaterThanOrEqual(-bound);
    expectStd(lin.weight, bound / Math.sqrt(3));
    expect(stats(lin.bias!).max).toBeLessThanOrEqual(bound);
    const conv = new Conv2d(8, 64, 3, { groups: 2 });
    const cb = 1 / Math.sqrt(4 * 9);
    expectStd(conv.weight, cb / Math.sqrt(3));
    expect(stats(conv.bias!).max).toBeLessThanOrEqual(cb);
    expect(stats(conv.bias!).min).toBeGreaterThanOrEqual(-cb);
  });
});

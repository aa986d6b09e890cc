import { describe, expect, it } from 'vitest';
import * as tf from '../../lib/index.js';

describe('creation', () => {
  it('builds from nested arrays and typed arrays (zero-copy)', () => {
    const t = tf.tensor([[1, 2, 3], [4, 5, 6]]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('float32');
    const arr = new Float64Array([1, 2, 3, 4]);
    const u = tf.tensor(arr, { shape: [2, 2] });
    expect(u.dtype).toBe('float64');
    arr[0] = 9;
    expect(u.dataSync()).toBe(arr);
    expect(() => tf.tensor([[1, 2], [3]])).toThrow(/tensor: nested arrays are ragged/);
    expect(() => tf.tensor([1, 'a' as unknown as number])).toThrow(/tensor: element 1 is not a number/);
  });

  it('zeros/ones/full/arange/linspace/eye', () => {
    expect(Array.from(tf.full([2], 3).dataSync())).toEqual([3, 3]);
    expect(Array.from(tf.arange(5).dataSync())).toEqual([0, 1, 2, 3, 4]);
    expect(tf.arange(5).dtype).toBe('int32');
    expect(Array.from(tf.arange(1, 2, 0.25).dataSync())).toEqual([1, 1.25, 1.5, 1.75]);
    expect(Array.from(tf.linspace(0, 1, 5).dataSync())).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(tf.eye(2, 3).toArray()).toEqual([[1, 0, 0], [0, 1, 0]]);
    expect(() => tf.zeros([2, -1])).toThrow(/zeros: shape must contain non-negative integers, got \[2, -1\]/);
    expect(() => tf.zeros([2 ** 30, 2 ** 30, 2 ** 30])).toThrow(/has more than 2\^53 elements/);
    expect(() => tf.zeros([1.5])).toThrow(RangeError);
  });

  it('manualSeed makes random ops reproducible; distributions have the right moments', () => {
    tf.manualSeed(42);
    const a = tf.randn([10000]), r = tf.rand([5]);
    tf.manualSeed(42);
    const b = tf.randn([10000]);
    expect(b.dataSync()).toEqual(a.dataSync());
    expect(tf.rand([5]).dataSync()).toEqual(r.dataSync());
    expect(Math.abs(a.mean().item())).toBeLessThan(0.05);
    expect(Math.abs(a.std().item() - 1)).toBeLessThan(0.05);
    const u = tf.rand([10000], { low: 2, high: 4 });
    expect(u.min().item()).toBeGreaterThanOrEqual(2);
    expect(u.max().item()).toBeLessThan(4);
    const k = tf.randint(0, 3, [3000]);
    expect(new Set(Array.from(k.dataSync()))).toEqual(new Set([0, 1, 2]));
    expect(Math.abs(tf.bernoulli(0.25, [10000]).mean().item() - 0.25)).toBeLessThan(0.03);
  });
});

describe('views and storage', () => {
  it('views share storage; reshape copies only when it must', () => {
    const x = tf.arange(12, undefined, 1, { dtype: 'float32' }).reshape(3, 4);
    const v = x.view(4, 3);
    expect(v.storage).toBe(x.storage);
    const tt = x.t();
    expect(tt.isContiguous()).toBe(false);
    expect(tt.reshape(12).storage).not.toBe(x.storage);
    expect(tt.toArray()).toEqual([[0, 4, 8], [1, 5, 9], [2, 6, 10], [3, 7, 11]]);
    expect(x.slice(1, 1, 3).toArray()).toEqual([[1, 2], [5, 6], [9, 10]]);
    expect(x.select(0, -1).toArray()).toEqual([8, 9, 10, 11]);
    expect((x.flip(1).toArray() as number[][])[0]).toEqual([3, 2, 1, 0]);
    expect(x.split(3, 1).map((p) => p.shape)).toEqual([[3, 3], [3, 1]]);
    expect(x.chunk(2, 0).map((p) => p.shape)).toEqual([[2, 4], [1, 4]]);
    expect(tf.stack([x, x], 1).shape).toEqual([3, 2, 4]);
    expect(x.unsqueeze(1).squeeze(1).shape).toEqual([3, 4]);
    expect(x.flatten().shape).toEqual([12]);
  });

  it('stride-2 views copy out element by element, across rows and dtype conversions', () => {
    const x = tf.arange(2 * 3 * 10, undefined, 1, { dtype: 'float32' }).reshape(2, 3, 10);
    const every = x.slice(2, 1, 10, 2).slice(1, 0, 3, 2); // [2, 2, 5], inner stride 2
    const expected = [0, 1].map((n) => [0, 2].map((c) => [1, 3, 5, 7, 9].map((w) => n * 30 + c * 10 + w)));
    expect(every.contiguous().toArray()).toEqual(expected);
    expect(every.double().toArray()).toEqual(expected);
    expect(every.to('int32').toArray()).toEqual(expected);
  });

  it('in-place writes through a view reach the base and bump its version', () => {
    const x = tf.zeros([2, 3]);
    tf.noGrad(() => x.select(1, 1).fill_(5));
    expect(x.toArray()).toEqual([[0, 5, 0], [0, 5, 0]]);
    expect(x.storage.version).toBe(1);
  });

  it('in-place ops write straight into the target, through views and broadcasting', () => {
    const x = tf.arange(12, undefined, 1, { dtype: 'float32' }).reshape(3, 4);
    const data = x.dataSync();
    const col = x.slice(1, 1, 3); // a strided view: columns 1 and 2
    tf.noGrad(() => col.mul_(10).add_(tf.tensor([1, 2])));
    expect(x.dataSync()).toBe(data); // no new buffer for x
    expect(x.toArray()).toEqual([[0, 11, 22, 3], [4, 51, 62, 7], [8, 91, 102, 11]]);
    expect(x.storage.version).toBe(2);
    x.add_(x); // the same view as input and output
    expect((x.toArray() as number[][])[0]).toEqual([0, 22, 44, 6]);
    const y = tf.arange(5, undefined, 1, { dtype: 'float64' });
    y.slice(0, 1).add_(y.slice(0, 0, 4)); // overlapping views in different layouts: computed from the old values
    expect(y.toArray()).toEqual([0, 1, 3, 5, 7]);
    const i = tf.tensor([1, 2, 3], { dtype: 'int32' });
    i.div_(2); // the float result converts back into the int32 target
    expect(i.toArray()).toEqual([0, 1, 1]);
    expect(() => tf.ones([2], { requiresGrad: true }).add_(1)).toThrow(/a leaf tensor that requires grad cannot be modified in place/);
  });

  it('dispose is idempotent and use after dispose throws a clear error', () => {
    const x = tf.ones([3]);
    x.dispose();
    x.dispose();
    expect(() => x.add(1)).toThrow(/tensor used after dispose\(\)/);
    expect(String(x)).toBe('tensor(<disposed>)');
  });
});

describe('printing and reading', () => {
  it('prints like PyTorch and elides large tensors', () => {
    expect(String(tf.tensor([[1, 2], [3, 4]]))).toBe('tensor([[1., 2.],\n        [3., 4.]])');
    expect(String(tf.tensor([0.5, -1.25]))).toBe('tensor([ 0.5000, -1.2500])');
    expect(String(tf.tensor([1, 2], { dtype: 'int32' }))).toBe('tensor([1, 2], dtype=int32)');
    const big = String(tf.zeros([100, 100]));
    expect(big).toContain('...');
    expect(big.length).toBeLessThan(600);
    expect(String(tf.tensor([1], { requiresGrad: true }).mul(2))).toContain('gradFn=<mulScalar>');
  });

  it('item, toArray and data()', async () => {
    expect(tf.tensor([[7]]).item()).toBe(7);
    expect(() => tf.tensor([1, 2]).item()).toThrow(/item: tensor must have exactly one element, got shape \[2\]/);
    expect(Array.from(await tf.tensor([1, 2]).data())).toEqual([1, 2]);
  });

  it('NaN propagates through relu and its gradient, as in PyTorch', () => {
    const x = tf.tensor([NaN, -1, 2], { requiresGrad: true });
    const y = x.relu();
    expect(Number.isNaN(y.dataSync()[0])).toBe(true);
    expect(Array.from(y.dataSync()).slice(1)).toEqual([0, 2]);
    y.sum().backward();
    expect(Array.from(x.grad!.dataSync())).toEqual([1, 0, 1]);
  });

  it('mixing dtypes is an error naming both; scalars promote', () => {
    const i = tf.tensor([1, 2], { dtype: 'int32' });
    expect(() => i.add(tf.tensor([1, 2]))).toThrow(/add: dtypes must match, got int32 and float32/);
    expect(i.mul(0.5).dtype).toBe('float32');
    expect(i.add(1).dtype).toBe('int32');
    expect(tf.argmax(tf.tensor([[1, 5, 2], [7, 0, 1]]), 1).toArray()).toEqual([1, 0]);
    expect(tf.tensor([1, 2, 3]).eq(tf.tensor([1, 0, 3])).sum().item()).toBe(2);
  });
});

import { describe, expect, it } from 'vitest';
import * as tf from '../../lib/index.js';
import { releaseAfter, pooledMemory } from '../../lib/memory.js';
import { native } from '../../lib/native.js';

describe('releaseAfter', () => {
  it('releases what fn allocated, keeps listed and returned tensors, and reuses the released buffers', () => {
    const w = tf.randn([64, 64], { requiresGrad: true });
    let temp: tf.Tensor | undefined;
    const out = releaseAfter(() => {
      temp = w.mul(2);
      const loss = temp.relu().sum();
      loss.backward();
      return w.add(1);
    }, () => [w.grad]);
    expect(temp!.isDisposed).toBe(true);
    expect(() => temp!.dataSync()).toThrow(/used after dispose/);
    expect(w.grad!.isDisposed).toBe(false);
    expect(out.isDisposed).toBe(false);
    expect(w.isDisposed).toBe(false);
    const pooled = pooledMemory();
    expect(pooled).toBeGreaterThanOrEqual(64 * 64 * 4);
    const fresh = tf.randn([64, 64]);
    expect(pooledMemory()).toBe(pooled - 64 * 64 * 4);
    expect(fresh.std().item()).toBeGreaterThan(0.9);
  });

  it('zeroed allocations taken from the free lists are zero', () => {
    releaseAfter(() => tf.randn([1000]).mul(3));
    expect(Array.from(tf.zeros([1000]).dataSync()).every((v) => v === 0)).toBe(true);
  });

  it('nested scopes hand survivors to the enclosing scope', () => {
    let inner: tf.Tensor | undefined;
    releaseAfter(() => {
      inner = releaseAfter(() => tf.ones([3]).add(1));
      expect(inner.isDisposed).toBe(false);
    });
    expect(inner!.isDisposed).toBe(true);
  });

  it('an exception inside fn leaves the tensors alive for the garbage collector', () => {
    let made: tf.Tensor | undefined;
    expect(() => releaseAfter(() => {
      made = tf.ones([4]);
      throw new Error('boom');
    })).toThrow('boom');
    expect(made!.isDisposed).toBe(false);
  });
});

describe('large buffers', () => {
  const pageOffset = (t: tf.Tensor): number => (native.pageOffset(t.buffer.buffer as ArrayBuffer) + t.buffer.byteOffset) % 4096;

  it('start on cache lines at page offsets that differ between consecutive allocations, also when recycled', () => {
    const n = 1 << 16;  // 256 KiB of float32: above the colouring threshold
    const [a, b, c] = [tf.empty([n]), tf.empty([n]), tf.empty([n])];
    const offsets = [a, b, c].map(pageOffset);
    for (const o of offsets) expect(o % 64).toBe(0);
    expect(new Set(offsets).size).toBe(3);
    for (const t of [a, b, c]) expect(t.buffer.length).toBe(n);
    let inside = -1;
    releaseAfter(() => {
      const t = tf.zeros([n]);
      inside = pageOffset(t);
      expect(t.dataSync().every((v) => v === 0)).toBe(true);
    });
    const again = releaseAfter(() => tf.ones([n]));
    expect(pageOffset(again)).toBe(inside);  // the released block came back, start and all
    expect(again.dataSync().every((v) => v === 1)).toBe(true);
  });
});

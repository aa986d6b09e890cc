import { describe, expect, it } from 'vitest';
import * as tf from '../../lib/index.js';
import { releaseAfter, pooledMemory } from '../../lib/memory.js';

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

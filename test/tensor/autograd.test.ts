import { describe, expect, it } from 'vitest';
import * as tf from '../../lib/index.js';

describe('autograd', () => {
  it('accumulates .grad across backward calls and through shared subexpressions', () => {
    const x = tf.tensor([1, 2, 3], { requiresGrad: true });
    const y = x.mul(x).sum(); // d/dx = 2x, x used twice in one node
    y.backward();
    expect(Array.from(x.grad!.dataSync())).toEqual([2, 4, 6]);
    x.mul(3).sum().backward();
    expect(Array.from(x.grad!.dataSync())).toEqual([5, 7, 9]);
  });


  it('a leaf takes an unshared gradient buffer as .grad, and never one that something else still holds', () => {
    const vals = (t: tf.Tensor) => Array.from(t.dataSync());
    // add passes one gradient buffer to both of its inputs: each leaf must own its .grad
    const a = tf.tensor([1, 2], { requiresGrad: true }), b = tf.tensor([3, 4], { requiresGrad: true });
    a.add(b).mul(tf.tensor([5, 6])).sum().backward();
    expect(a.grad!.storage).not.toBe(b.grad!.storage);
    tf.noGrad(() => a.grad!.mul_(0));
    expect(vals(b.grad!)).toEqual([5, 6]);
    // a leaf used twice: the first gradient becomes .grad, the second is added into it
    const w = tf.tensor([1, -1], { requiresGrad: true });
    w.mul(2).add(w.mul(3)).sum().backward();
    expect(vals(w.grad!)).toEqual([5, 5]);
    // a gradient the caller passed in is theirs: copied, not taken
    const v = tf.tensor([1, 2], { requiresGrad: true }), given = tf.tensor([7, 8]);
    v.backward(given);
    tf.noGrad(() => v.grad!.zero_());
    expect(vals(given)).toEqual([7, 8]);
    // a retained non-leaf gradient and a leaf gradient that arrive as one buffer stay apart
    const p = tf.tensor([1, 2], { requiresGrad: true }), q = tf.tensor([3, 4], { requiresGrad: true });
    const mid = p.mul(1).add(q);
    mid.retainGrad();
    mid.mul(tf.tensor([2, 3])).sum().backward();
    tf.noGrad(() => q.grad!.zero_());
    expect(vals(mid.grad!)).toEqual([2, 3]);
    expect(vals(p.grad!)).toEqual([2, 3]);
  });

  it('retainGraph allows a second backward; without it the second call throws', () => {
    const x = tf.tensor([0.5, -1], { requiresGrad: true });
    const y = x.tanh().sum();
    y.backward(undefined, { retainGraph: true });
    y.backward();
    const once = 1 - Math.tanh(0.5) ** 2;
    expect(x.grad!.dataSync()[0]).toBeCloseTo(2 * once, 6);
    expect(() => y.backward()).toThrow(/graph through '(sum|tanh)' was already freed/);
  });

  it('a retained graph backpropagates through a fused kernel again with the same upstream gradient object', () => {
    const x = tf.randn([2, 3, 6, 6], { requiresGrad: true }), w = tf.randn([4, 3, 3, 3], { requiresGrad: true });
    const y = tf.nn.F.conv2d(x, w);
    const dy = tf.randn(y.shape);
    const grads = () => tf.autograd.grad(y, [x, w], { gradOutputs: [dy], retainGraph: true });
    const first = tf.releaseAfter(() => grads().map((g) => Array.from(g!.dataSync())));  // then released
    const again = grads();
    expect(again.map((g) => Array.from(g!.dataSync()))).toEqual(first);
  });

  it('noGrad records nothing; enableGrad re-enables inside it', () => {
    const x = tf.tensor([1, 2], { requiresGrad: true });
    const y = tf.noGrad(() => x.mul(2));
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    const z = tf.noGrad(() => tf.enableGrad(() => x.mul(2)));
    expect(z.gradFn?.name).toBe('mulScalar');
  });

  it('detach cuts the graph but shares storage', () => {
    const x = tf.tensor([1, 2], { requiresGrad: true });
    const d = x.detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.storage).toBe(x.storage);
  });

  it('hooks see and may replace a gradient; retainGrad keeps non-leaf grads', () => {
    const x = tf.tensor([1, 2, 3], { requiresGrad: true });
    const h = x.mul(2).retainGrad();
    const seen: number[][] = [];
    h.registerHook((g) => { seen.push(Array.from(g.dataSync())); return g.mul(10); });
    h.sum().backward();
    expect(seen).toEqual([[1, 1, 1]]);
    expect(Array.from(h.grad!.dataSync())).toEqual([10, 10, 10]);
    expect(Array.from(x.grad!.dataSync())).toEqual([20, 20, 20]);
  });

  it('autograd.grad returns gradients without touching .grad, and supports double backward', () => {
    const x = tf.tensor([0.3, -0.7], { dtype: 'float64', requiresGrad: true });
    const y = x.pow(3).sum();
    const [g] = tf.autograd.grad(y, x, { createGraph: true });
    expect(x.grad).toBeNull();
    expect(Array.from(g!.dataSync()).map((v) => +v.toFixed(12))).toEqual([0.27, 1.47]);
    const [gg] = tf.autograd.grad(g!.sum(), x);
    expect(Array.from(gg!.dataSync()).map((v) => +v.toFixed(12))).toEqual([1.8, -4.2]);
  });

  it('autograd.grad reports unused inputs unless allowUnused', () => {
    const x = tf.tensor([1], { requiresGrad: true }), unused = tf.tensor([1], { requiresGrad: true });
    expect(() => tf.autograd.grad(x.mul(2).sum(), [x, unused])).toThrow(/input 1 was not used/);
    expect(tf.autograd.grad(x.mul(2).sum(), [x, unused], { allowUnused: true })[1]).toBeNull();
  });

  it('an in-place write to a tensor saved for backward throws at backward, naming the op', () => {
    const w = tf.tensor([1, 2], { requiresGrad: true });
    const x = tf.tensor([3, 4]);
    const y = w.mul(x).sum();
    x.add_(1);
    expect(() => y.backward()).toThrow(/a tensor saved by 'mul' was modified by an in-place operation \(version 1, expected 0\)/);
  });

  it('in-place ops on leaves that require grad are refused outside noGrad', () => {
    const w = tf.tensor([1, 2], { requiresGrad: true });
    expect(() => w.add_(1)).toThrow(/a leaf tensor that requires grad cannot be modified in place outside noGrad/);
    tf.noGrad(() => w.add_(1));
    expect(Array.from(w.dataSync())).toEqual([2, 3]);
  });

  it('detectAnomaly names the op whose backward produced NaN', () => {
    const z = tf.tensor([-1, 1], { requiresGrad: true });
    expect(() => tf.detectAnomaly(() => z.log().sum().backward())).not.toThrow(); // NaN forward, finite gradient
    const q = tf.tensor([0, 1], { requiresGrad: true });
    expect(() => tf.detectAnomaly(() => q.sqrt().sum().backward())).toThrow(/detectAnomaly: the backward of 'sqrt' produced NaN or Inf/);
  });

  it('backward needs a scalar or an explicit gradient of the right shape', () => {
    const x = tf.tensor([1, 2], { requiresGrad: true });
    expect(() => x.mul(2).backward()).toThrow(/grad can be created implicitly only for one-element outputs, got shape \[2\]/);
    expect(() => x.mul(2).backward(tf.ones([3]))).toThrow(/grad shape \[3\] differs from output shape \[2\]/);
    expect(() => tf.tensor([1]).backward()).toThrow(/does not require grad/);
  });

  it('gradients through broadcasting are reduced to the input shape', () => {
    const a = tf.randn([3, 1], { requiresGrad: true }), b = tf.randn([4], { requiresGrad: true });
    a.add(b).sum().backward();
    expect(a.grad!.shape).toEqual([3, 1]);
    expect(Array.from(a.grad!.dataSync())).toEqual([4, 4, 4]);
    expect(Array.from(b.grad!.dataSync())).toEqual([3, 3, 3, 3]);
  });

  it('gradcheck catches a wrong gradient', () => {
    const x = tf.randn([3], { dtype: 'float64', requiresGrad: true });
    const wrong = (t: tf.Tensor) => t.detach().mul(t.detach()).add(t.mul(0)); // value x², gradient 0
    expect(() => tf.gradcheck(wrong, [x])).toThrow(/gradcheck: input 0 element 0: analytical 0 vs numerical/);
  });
});

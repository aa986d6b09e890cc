import { describe, expect, it } from 'vitest';
import { Tensor } from '../../lib/tensor.js';
import { fromArray, randint, randn, tensor, zeros } from '../../lib/creation.js';
import { manualSeed } from '../../lib/random.js';
import { noGrad } from '../../lib/autograd/mode.js';
import {
  F, Linear, Bilinear, Conv1d, Conv2d, ConvTranspose2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d,
  BatchNorm1d, BatchNorm2d, BatchNormReLU2d, LayerNorm, GroupNorm, Dropout, ReLU, LeakyReLU, PReLU, ELU, GELU, Sigmoid, Tanh, Softmax,
  LogSoftmax, Flatten, Unflatten, Identity, Upsample, Embedding, Sequential,
} from '../../lib/nn/index.js';
import { Adam } from '../../lib/optim/index.js';
import { expectClose, makeRng, randomArray } from '../util.js';

const data = (t: Tensor): number[] => Array.from(t.dataSync() as ArrayLike<number>);

describe('shapes', () => {
  it('convolutions follow the output-size formulas', () => {
    expect(new Conv1d(3, 5, 3, { stride: 2, padding: 1 }).call(randn([2, 3, 11])).shape).toEqual([2, 5, 6]);
    expect(new Conv2d(3, 4, [3, 5], { padding: 'same' }).call(randn([1, 3, 7, 9])).shape).toEqual([1, 4, 7, 9]);
    expect(new Conv2d(4, 6, 3, { stride: 2, dilation: 2, groups: 2 }).call(randn([2, 4, 13, 12])).shape).toEqual([2, 6, 5, 4]);
    const deconv = new ConvTranspose2d(4, 6, 3, { stride: 2, padding: 1, outputPadding: 1, groups: 2 });
    expect(deconv.weight.shape).toEqual([4, 3, 3, 3]);
    expect(deconv.call(randn([1, 4, 5, 6])).shape).toEqual([1, 6, 10, 12]);
  });

  it('pools, flatten, unflatten, upsample', () => {
    const x = randn([2, 3, 9, 8]);
    expect(new MaxPool2d(3, { stride: 2, padding: 1, ceilMode: true }).call(x).shape).toEqual([2, 3, 5, 5]);
    expect(new AvgPool2d([2, 3]).call(x).shape).toEqual([2, 3, 4, 2]);
    expect(new AdaptiveAvgPool2d(1).call(x).shape).toEqual([2, 3, 1, 1]);
    expect(new AdaptiveMaxPool2d([3, 2]).call(x).shape).toEqual([2, 3, 3, 2]);
    expect(new Flatten().call(x).shape).toEqual([2, 216]);
    expect(new Flatten(0, 1).call(x).shape).toEqual([6, 9, 8]);
    expect(new Unflatten(1, [3, -1]).call(zeros([2, 12])).shape).toEqual([2, 3, 4]);
    expect(new Upsample({ scaleFactor: 2 }).call(x).shape).toEqual([2, 3, 18, 16]);
    expect(new Upsample({ size: [4, 5], mode: 'bilinear', alignCorners: true }).call(x).shape).toEqual([2, 3, 4, 5]);
  });

  it('maxPool takes window maxima (naive reference)', () => {
    const rng = makeRng();
    const x = fromArray(randomArray(Float32Array, 2 * 5 * 6, rng), [1, 2, 5, 6]);
    const y = new MaxPool2d(2).call(x);
    const xd = x.dataSync();
    const expected: number[] = [];
    for (let c = 0; c < 2; c++) for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) {
      let m = -Infinity;
      for (let di = 0; di < 2; di++) for (let dj = 0; dj < 2; dj++) m = Math.max(m, xd[c * 30 + (2 * i + di) * 6 + 2 * j + dj]!);
      expected.push(m);
    }
    expect(data(y)).toEqual(expected);
  });
});

describe('Linear and Bilinear', () => {
  it('Linear computes x Wᵀ + b on any leading dims', () => {
    const lin = new Linear(3, 2, { dtype: 'float64' });
    const x = randn([4, 5, 3], { dtype: 'float64' });
    const y = lin.call(x);
    expect(y.shape).toEqual([4, 5, 2]);
    const w = data(lin.weight), b = data(lin.bias!), xd = data(x);
    const expected = Array.from({ length: 40 }, (_, k) => {
      const r = Math.floor(k / 2), o = k % 2;
      return b[o]! + [0, 1, 2].reduce((s, i) => s + xd[r * 3 + i]! * w[o * 3 + i]!, 0);
    });
    expectClose(data(y), expected, { atol: 1e-12 });
  });

  it('Bilinear matches the naive sum and has gradients', () => {
    const bl = new Bilinear(3, 4, 2, { dtype: 'float64' });
    const x1 = randn([5, 3], { dtype: 'float64' }), x2 = randn([5, 4], { dtype: 'float64' });
    const y = bl.call(x1, x2);
    const W = data(bl.weight), b = data(bl.bias!), a = data(x1), c = data(x2);
    const expected: number[] = [];
    for (let n = 0; n < 5; n++) for (let o = 0; o < 2; o++) {
      let s = b[o]!;
      for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) s += a[n * 3 + i]! * W[(o * 3 + i) * 4 + j]! * c[n * 4 + j]!;
      expected.push(s);
    }
    expectClose(data(y), expected, { atol: 1e-12 });
    y.sum().backward();
    expect(bl.weight.grad!.shape).toEqual([2, 3, 4]);
    expect(() => bl.call(x2, x1)).toThrow(/Bilinear: inputs must be \(N, 3\) and \(N, 4\)/);
  });
});

describe('normalization', () => {
  it('BatchNorm2d: batch statistics in training, running averages (unbiased var), num_batches_tracked, eval uses running stats', () => {
    const rng = makeRng();
    const bn = new BatchNorm2d(3, { dtype: 'float64', momentum: 0.2 });
    expect(data(bn.weight!)).toEqual([1, 1, 1]);
    expect(data(bn.bias!)).toEqual([0, 0, 0]);
    expect(bn.num_batches_tracked!.dtype).toBe('int32');
    expect(bn.num_batches_tracked!.shape).toEqual([]);
    const x = fromArray(randomArray(Float64Array, 2 * 3 * 4 * 5, rng, -2, 3), [2, 3, 4, 5]);
    const y = bn.call(x);
    const xd = data(x), yd = data(y);
    for (let c = 0; c < 3; c++) {
      const vals: number[] = [];
      for (let n = 0; n < 2; n++) for (let k = 0; k < 20; k++) vals.push(xd[(n * 3 + c) * 20 + k]!);
      const mean = vals.reduce((a, v) => a + v, 0) / 40;
      const ss = vals.reduce((a, v) => a + (v - mean) ** 2, 0);
      expect(data(bn.running_mean!)[c]).toBeCloseTo(0.2 * mean, 12);
      expect(data(bn.running_var!)[c]).toBeCloseTo(0.8 + (0.2 * ss) / 39, 12);
      expect(yd[c * 20]).toBeCloseTo((vals[0]! - mean) / Math.sqrt(ss / 40 + 1e-5), 10);
    }
    expect(bn.num_batches_tracked!.item()).toBe(1);
    bn.eval();
    const rm = data(bn.running_mean!), rv = data(bn.running_var!);
    const ye = bn.call(x);
    expect(bn.num_batches_tracked!.item()).toBe(1);
    expect(data(ye)[0]).toBeCloseTo((xd[0]! - rm[0]!) / Math.sqrt(rv[0]! + 1e-5), 10);
    expect(() => bn.call(zeros([2, 3, 4]))).toThrow('BatchNorm2d: input must be rank 4 (N, C, H, W), got rank 3 [2, 3, 4]');
    expect(() => bn.call(zeros([2, 4, 1, 1]))).toThrow(/input must have 3 channels/);
  });

  it('BatchNormReLU2d equals BatchNorm2d then ReLU (a residual added before it), in training and eval, with the same state-dict keys', () => {
    const rng = makeRng();
    const fused = new BatchNormReLU2d(3, { dtype: 'float64' }), plain = new BatchNorm2d(3, { dtype: 'float64' });
    const w = fromArray(Float64Array.from([1.5, -1, 0.5]), [3]);
    noGrad(() => { for (const bn of [fused, plain]) bn.weight!.copy_(w); });
    expect(Object.keys(fused.stateDict())).toEqual(Object.keys(plain.stateDict()));
    const x = fromArray(randomArray(Float64Array, 2 * 3 * 4 * 5, rng, -2, 3), [2, 3, 4, 5]);
    for (const mode of ['train', 'eval'] as const) {
      for (const bn of [fused, plain]) bn[mode]();
      const y = data(fused.call(x)), ref = data(plain.call(x).relu());
      expect(y.some((v) => v === 0)).toBe(true);
      y.forEach((v, i) => expect(v).toBeCloseTo(ref[i]!, 12));
      expect(data(fused.running_mean!)).toEqual(data(plain.running_mean!));
      // a residual joins before the ReLU
      const r = fromArray(randomArray(Float64Array, 2 * 3 * 4 * 5, rng, -1, 1), [2, 3, 4, 5]);
      const yr = data(fused.call(x, r)), refR = data(plain.call(x).add(r).relu());
      yr.forEach((v, i) => expect(v).toBeCloseTo(refR[i]!, 12));
    }
  });

  it('BatchNorm1d with momentum null keeps a cumulative average; without running stats eval uses the batch', () => {
    const bn = new BatchNorm1d(2, { momentum: null, dtype: 'float64' });
    bn.call(tensor([[1, 10], [3, 30]], { dtype: 'float64' }));
    bn.call(tensor([[5, 0], [7, 0]], { dtype: 'float64' }));
    expectClose(data(bn.running_mean!), [4, 10], { atol: 1e-12 });
    expect(bn.num_batches_tracked!.item()).toBe(2);
    const free = new BatchNorm1d(2, { trackRunningStats: false, affine: false });
    expect(free.running_mean).toBeNull();
    expect(Object.keys(free.stateDict())).toEqual([]);
    free.eval();
    const y = free.call(tensor([[1, 2], [3, 6]]));
    expectClose(data(y), [-1, -1, 1, 1], { atol: 1e-4 });
    expect(new BatchNorm1d(4).call(randn([3, 4, 5])).shape).toEqual([3, 4, 5]);
  });

  it('LayerNorm and GroupNorm normalize to mean 0, variance 1 at init', () => {
    const x = randn([4, 6, 5], { dtype: 'float64', mean: 3, std: 2 });
    const ln = new LayerNorm([6, 5], { dtype: 'float64' });
    expect(ln.weight!.shape).toEqual([6, 5]);
    const y = data(ln.call(x));
    for (let n = 0; n < 4; n++) {
      const row = y.slice(n * 30, n * 30 + 30);
      expect(row.reduce((a, v) => a + v, 0) / 30).toBeCloseTo(0, 10);
      expect(row.reduce((a, v) => a + v * v, 0) / 30).toBeCloseTo(1, 4);
    }
    const gn = new GroupNorm(3, 6, { dtype: 'float64' });
    const z = data(gn.call(x));
    const group = z.slice(0, 10);
    expect(group.reduce((a, v) => a + v, 0) / 10).toBeCloseTo(0, 10);
    expect(() => new GroupNorm(4, 6)).toThrow('GroupNorm: numChannels 6 must be divisible by numGroups 4');
    expect(new LayerNorm(5, { bias: false }).bias).toBeNull();
  });
});

describe('activations, dropout, embedding', () => {
  it('activation layers match their formulas', () => {
    const xs = [-2, -0.5, 0, 0.7, 3];
    const x = tensor(xs, { dtype: 'float64' });
    const check = (m: { call(x: Tensor): Tensor }, f: (v: number) => number) => expectClose(data(m.call(x)), xs.map(f), { atol: 1e-12 });
    check(new ReLU(), (v) => Math.max(0, v));
    check(new LeakyReLU(0.2), (v) => (v >= 0 ? v : 0.2 * v));
    check(new ELU(0.5), (v) => (v > 0 ? v : 0.5 * Math.expm1(v)));
    check(new Sigmoid(), (v) => 1 / (1 + Math.exp(-v)));
    check(new Tanh(), Math.tanh);
    check(new GELU('tanh'), (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))));
    const prelu = new PReLU({ dtype: 'float64' });
    check(prelu, (v) => (v >= 0 ? v : 0.25 * v));
    expect(new PReLU({ numParameters: 3 }).weight.shape).toEqual([3]);
    const sum = xs.reduce((a, v) => a + Math.exp(v), 0);
    check(new Softmax(0), (v) => Math.exp(v) / sum);
    check(new LogSoftmax(-1), (v) => v - Math.log(sum));
    check(new Identity(), (v) => v);
  });

  it('Dropout zeroes and rescales in training, is the identity in eval', () => {
    manualSeed(3);
    const d = new Dropout(0.25);
    const y = data(d.call(zeros([4000]).add(1)));
    const kept = y.filter((v) => v !== 0);
    expect(kept.every((v) => Math.abs(v - 4 / 3) < 1e-6)).toBe(true);
    expect(Math.abs(kept.length / 4000 - 0.75)).toBeLessThan(0.04);
    d.eval();
    expect(data(d.call(tensor([1, 2])))).toEqual([1, 2]);
  });

  it('Embedding looks up rows; the padding row starts at zero', () => {
    const emb = new Embedding(10, 3, { paddingIdx: -1 });
    expect(emb.paddingIdx).toBe(9);
    expect(data(emb.weight.select(0, 9))).toEqual([0, 0, 0]);
    const idx = tensor([[1, 9], [4, 1]], { dtype: 'int32' });
    const y = emb.call(idx);
    expect(y.shape).toEqual([2, 2, 3]);
    expect(data(y.select(0, 0).select(0, 0))).toEqual(data(emb.weight.select(0, 1)));
    expect(emb.toString().split('\n')[0]).toBe('Embedding(10, 3, padding_idx=9)  # weight [10, 3]: 30 params');
  });
});

describe('constructor checks name the layer, argument and value', () => {
  it.each([
    [() => new Linear(0, 3), 'Linear: inFeatures must be a positive integer, got 0'],
    [() => new Linear(2, 3, { dtype: 'int32' as never }), "Linear: dtype must be 'float32' or 'float64', got 'int32'"],
    [() => new Conv2d(3, 4, 0), 'Conv2d: kernelSize must be an integer >= 1 or 2 of them, got 0'],
    [() => new Conv2d(3, 4, 3, { groups: 2 }), 'Conv2d: inChannels 3 must be divisible by groups 2'],
    [() => new Conv2d(4, 4, 3, { padding: 'same', stride: 2 }), "Conv2d: padding 'same' needs stride 1, got stride [2, 2]"],
    [() => new ConvTranspose2d(4, 4, 3, { stride: 2, outputPadding: 2 }), /outputPadding \[2, 2\] must be smaller than stride or dilation/],
    [() => new MaxPool2d(2, { padding: 2 }), 'MaxPool2d: padding 2 must be at most half of the kernel size 2'],
    [() => new BatchNorm2d(3, { momentum: 2 }), 'BatchNorm2d: momentum must be in [0, 1] or null, got 2'],
    [() => new Dropout(1.5), 'Dropout: p must be a probability in [0, 1], got 1.5'],
    [() => new Upsample({}), 'Upsample: give exactly one of size and scaleFactor'],
    [() => new Embedding(5, 2, { paddingIdx: 5 }), 'Embedding: paddingIdx must be an integer in [-5, 5), got 5'],
    [() => new LayerNorm([3, 0]), 'LayerNorm: normalizedShape must be positive integers, got [3, 0]'],
  ] as Array<[() => unknown, string | RegExp]>)('%#', (make, message) => {
    expect(make).toThrow(message);
  });

  it('forward checks the channel count', () => {
    expect(() => new Conv2d(3, 4, 3).call(zeros([1, 2, 5, 5]))).toThrow('Conv2d: input must be rank 4 (N, C, H, W) with C = 3, got [1, 2, 5, 5]');
  });
});

describe('overfitting a small sample', () => {
  it('Conv2d→BatchNorm2d→ReLU→MaxPool2d→Dropout→Flatten→Linear trained with Adam drives the loss near zero', () => {
    manualSeed(7);
    const model = new Sequential(
      new Conv2d(3, 8, 3, { padding: 1 }),
      new BatchNorm2d(8),
      new ReLU(),
      new MaxPool2d(2),
      new Dropout(0.1),
      new Flatten(),
      new Linear(8 * 4 * 4, 4),
    );
    const x = randn([16, 3, 8, 8]);
    const y = randint(0, 4, [16]);
    const opt = new Adam(model.parameters(), { lr: 0.01 });
    let loss = Infinity;
    for (let step = 0; step < 150 && loss >= 0.05; step++) {
      opt.zeroGrad();
      const l = F.crossEntropy(model.call(x), y);
      l.backward();
      opt.step();
      loss = l.item();
    }
    expect(loss).toBeLessThan(0.05);
    model.eval();
    const predictions = noGrad(() => model.call(x).argmax(1));
    expect(data(predictions.eq(y)).every((v) => v === 1)).toBe(true);
    expect((model.at(1) as BatchNorm2d).num_batches_tracked!.item()).toBeGreaterThan(0);
  });
});

describe('Embedding padding gradient', () => {
  it('lookups of paddingIdx send no gradient to its row', () => {
    const emb = new Embedding(4, 2, { paddingIdx: 0, dtype: 'float64' });
    emb.call(tensor([0, 2, 0, 2, 3], { dtype: 'int32' })).sum().backward();
    expect(data(emb.weight.grad!)).toEqual([0, 0, 0, 0, 2, 2, 1, 1]);
  });
});

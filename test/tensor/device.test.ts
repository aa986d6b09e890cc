/**
 * Tensors on 'cuda': creation, moves, mixed-device errors, memory, modules and optimizers, and a CNN
 * step against the CPU. Skipped where CUDA is not usable; `npm test` runs it on the emulated-CUDA addon
 * (vitest project 'cuda-emulated'), and scripts/gpu-check.sh on a GPU.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '../../lib/index.js';
import { nn, optim, train } from '../../lib/index.js';
import { makeRng, randomArray } from '../util.js';

const cudaUsable = tf.cuda.isAvailable();
const dtypes: tf.DType[] = ['float32', 'float64', 'int32', 'bool'];

function values(t: tf.Tensor): number[] {
  return Array.from(t.dataSync() as ArrayLike<number>);
}

describe.skipIf(!cudaUsable)('tensors on cuda', () => {
  it('are created on cuda with the values of the same creation on cpu', () => {
    const cases: Array<(device: tf.DeviceSpec) => tf.Tensor> = [
      (device) => tf.zeros([2, 3], { device }),
      (device) => tf.ones([4], { device, dtype: 'float64' }),
      (device) => tf.full([3, 1], 2.5, { device }),
      (device) => tf.tensor([[1, 2], [3, 4]], { device, dtype: 'int32' }),
      (device) => tf.tensor(new Float32Array([0.5, -1, 7]), { device }),
      (device) => tf.arange(0, 7, 2, { device }),
      (device) => tf.linspace(0, 1, 5, { device }),
      (device) => tf.eye(3, 2, { device }),
    ];
    for (const make of cases) {
      const onCuda = make('cuda'), onCpu = make('cpu');
      expect(onCuda.device).toBe('cuda');
      expect(onCuda.deviceIndex).toBe(0);
      expect(onCuda.deviceName).toBe('cuda:0');
      expect(onCuda.dtype).toBe(onCpu.dtype);
      expect(onCuda.shape).toEqual(onCpu.shape);
      expect(values(onCuda)).toEqual(values(onCpu));
    }
    expect(tf.zeros([2], { device: 'cuda:0' }).deviceName).toBe('cuda:0');
  });

  it('random creation gives the same numbers on cuda as on cpu for the same seed', () => {
    const draws: Array<(device: tf.DeviceSpec) => tf.Tensor> = [
      (device) => tf.randn([5, 7], { device }),
      (device) => tf.rand([33], { device, dtype: 'float64', low: -2, high: 3 }),
      (device) => tf.randint(-4, 9, [17], { device }),
      (device) => tf.bernoulli(0.3, [21], { device }),
    ];
    for (const draw of draws) {
      tf.manualSeed(1234);
      const onCpu = draw('cpu');
      tf.manualSeed(1234);
      const onCuda = draw('cuda');
      expect(onCuda.device).toBe('cuda');
      expect(values(onCuda)).toEqual(values(onCpu));
    }
  });

  it('round-trip cpu -> cuda -> cpu for every dtype, from views too; same-device moves return the tensor', () => {
    const rng = makeRng();
    for (const dtype of dtypes) {
      const data = Array.from(randomArray(Float64Array, 24, rng, -5, 5), (v) => (dtype === 'bool' ? Number(v > 0) : dtype === 'int32' ? Math.round(v) : v));
      const host = tf.tensor(data, { dtype }).reshape([4, 6]);
      const moves: tf.Tensor[] = [host.to('cuda'), host.to('cuda:0'), host.cuda()];
      for (const dev of moves) {
        expect(dev.device).toBe('cuda');
        expect(dev.dtype).toBe(dtype);
        const back = dev.cpu();
        expect(back.device).toBe('cpu');
        expect(back.dtype).toBe(dtype);
        expect(values(back)).toEqual(values(host));
      }
      const view = host.T.slice(0, 1, 5, 2);
      expect(values(view.to('cuda').to('cpu')), `${dtype} view`).toEqual(values(view));
      expect(values(host.to('cuda').T.slice(0, 1, 5, 2)), `${dtype} view on cuda`).toEqual(values(view));
      const dev = moves[0]!;
      expect(dev.to('cuda')).toBe(dev);
      expect(dev.to('cuda:0')).toBe(dev);
      expect(host.to('cpu')).toBe(host);
      expect(host.cpu()).toBe(host);
    }
  });

  it('reads values back: dataSync, item, toArray, toString and await data()', async () => {
    const t = tf.tensor([[1.5, -2], [3, 4]], { device: 'cuda' });
    expect(t.toArray()).toEqual([[1.5, -2], [3, 4]]);
    expect(t.sum().item()).toBe(6.5);
    expect(Array.from(await t.T.data())).toEqual([1.5, 3, -2, 4]);
    expect(t.toString()).toBe(t.cpu().toString());
    expect(() => t.buffer).toThrow(/buffer: a tensor on cuda:0 has no host array/);
  });

  it('runs ops and gradients on cuda, matching cpu', () => {
    const rng = makeRng();
    const x = tf.tensor(randomArray(Float32Array, 12, rng, -2, 2), { shape: [3, 4] });
    const w = tf.tensor(randomArray(Float32Array, 8, rng), { shape: [4, 2] });
    const run = (device: tf.DeviceSpec) => {
      const xd = x.detach().to(device).requiresGrad_(), wd = w.detach().to(device).requiresGrad_();
      const y = xd.matmul(wd).relu().softmax(1).mul(xd.sum(1, true)).logSoftmax(0).sum();
      y.backward();
      return { y: y.item(), gx: values(xd.grad!), gw: values(wd.grad!), device: xd.grad!.deviceName };
    };
    const c = run('cpu'), g = run('cuda');
    expect(g.device).toBe('cuda:0');
    expect(g.y).toBeCloseTo(c.y, 5);
    g.gx.forEach((v, i) => expect(v).toBeCloseTo(c.gx[i]!, 5));
    g.gw.forEach((v, i) => expect(v).toBeCloseTo(c.gw[i]!, 5));
  });

  it('a gradient flows back through to() to the cpu leaf', () => {
    const x = tf.tensor([1, 2, 3], { requiresGrad: true });
    x.to('cuda').mul(2).sum().backward();
    expect(x.grad!.device).toBe('cpu');
    expect(values(x.grad!)).toEqual([2, 2, 2]);
  });

  it('mixing devices in one op throws, naming the op and both devices', () => {
    const a = tf.ones([2, 2], { device: 'cuda' }), b = tf.ones([2, 2]);
    expect(() => a.add(b)).toThrow('add: expected all tensors on one device, got cuda:0 and cpu');
    expect(() => b.mul(a)).toThrow('mul: expected all tensors on one device, got cpu and cuda:0');
    expect(() => a.matmul(b)).toThrow('matmul: expected all tensors on one device, got cuda:0 and cpu');
    expect(() => tf.where(b.gt(0), a, a)).toThrow('where: expected all tensors on one device, got cpu and cuda:0');
    expect(() => tf.cat([a, b])).toThrow('cat: expected all tensors on one device, got cuda:0 and cpu');
    expect(() => nn.F.conv2d(tf.ones([1, 1, 3, 3], { device: 'cuda' }), tf.ones([1, 1, 2, 2]))).toThrow(
      'conv2d: expected all tensors on one device, got cuda:0 and cpu',
    );
  });

  it.skipIf(tf.cuda.deviceCount() < 2)('moves between cuda devices, and ops refuse to mix them', () => {
    const a = tf.arange(0, 6, 1, { device: 'cuda', dtype: 'float32' });
    const b = a.to('cuda:1');
    expect(b.deviceName).toBe('cuda:1');
    expect(b.deviceIndex).toBe(1);
    expect(values(b)).toEqual(values(a));
    expect(values(b.mul(2).cuda(0))).toEqual(values(a.mul(2)));
    expect(() => a.add(b)).toThrow('add: expected all tensors on one device, got cuda:0 and cuda:1');
  });

  it('dispose() and releaseAfter return device memory; a step of training leaves allocated memory flat', () => {
    // The caching allocator hands out blocks in 512-byte classes below 1 MiB, and counts what it hands out.
    const block = (bytes: number) => Math.ceil(bytes / 512) * 512;
    const before = tf.cuda.memoryAllocated();
    const t = tf.zeros([1000], { device: 'cuda' });
    expect(tf.cuda.memoryAllocated()).toBe(before + block(4000));
    t.dispose();
    expect(tf.cuda.memoryAllocated()).toBe(before);
    const kept = tf.releaseAfter(() => {
      tf.randn([500], { device: 'cuda' }).mul(2);
      return tf.ones([10], { device: 'cuda' });
    });
    expect(tf.cuda.memoryAllocated()).toBe(before + block(40));
    kept.dispose();
    expect(tf.cuda.memoryAllocated()).toBe(before);

    tf.manualSeed(7);
    const model = new nn.Sequential(new nn.Linear(8, 16), new nn.ReLU(), new nn.Linear(16, 3)).to('cuda');
    const opt = new optim.Adam(model.parameters(), { lr: 1e-2 });
    const inputs = tf.randn([10, 8], { device: 'cuda' });
    const targets = tf.randint(0, 3, [10], { device: 'cuda' });
    const loss = (logits: tf.Tensor, t: tf.Tensor) => nn.F.crossEntropy(logits, t);
    train.trainStep(model, opt, loss, inputs, targets); // creates the gradients and Adam's state
    const settled = tf.cuda.memoryAllocated();
    tf.cuda.resetPeakMemoryStats();
    const losses: number[] = [];
    for (let step = 0; step < 100; step++) {
      losses.push(train.trainStep(model, opt, loss, inputs, targets).loss);
      expect(tf.cuda.memoryAllocated(), `step ${step}`).toBe(settled);
    }
    expect(tf.cuda.maxMemoryAllocated()).toBeGreaterThanOrEqual(settled);
    expect(tf.cuda.memoryReserved()).toBeGreaterThanOrEqual(settled);
    expect(losses[99]!).toBeLessThan(losses[0]!);
    tf.cuda.synchronize();
    tf.cuda.emptyCache();
    expect(tf.cuda.memoryAllocated()).toBe(settled);
  });

  it('backward returns each intermediate gradient to the allocator once it is used', () => {
    const n = 10_000, block = Math.ceil((n * 4) / 512) * 512;
    const x = tf.randn([n], { device: 'cuda', requiresGrad: true });
    let h = x;
    for (let i = 0; i < 20; i++) h = h.mul(1.01);  // saves nothing; each gradient is a new buffer
    const loss = h.sum();
    const before = tf.cuda.memoryAllocated();
    tf.cuda.resetPeakMemoryStats();
    loss.backward();
    // an incoming gradient and the one made from it, at most, plus x.grad: not one buffer per node
    expect(tf.cuda.maxMemoryAllocated() - before).toBeLessThanOrEqual(3 * block);
    expect(x.grad!.dataSync()[0]).toBeCloseTo(1.01 ** 20, 4);
  });

  it('backward keeps a node\'s incoming gradient until all its inputs have theirs, also when a leaf takes one', () => {
    const a = tf.randn([300], { device: 'cuda', requiresGrad: true }), b = tf.randn([300], { device: 'cuda', requiresGrad: true });
    a.add(b).sum().backward();
    a.add(b).mul(2).sum().backward();  // a and b now hold gradients: the second pass adds into them
    expect(Array.from(a.grad!.dataSync()).every((v) => v === 3)).toBe(true);
    expect(Array.from(b.grad!.dataSync()).every((v) => v === 3)).toBe(true);
  });

  it('memory an op kept only for its backward (pooling indices, a dropout mask, batch statistics) and its gradient functions\' temporaries return when backward ends', () => {
    const block = (bytes: number) => Math.ceil(bytes / 512) * 512;
    const x = tf.randn([2, 3, 20, 20], { device: 'cuda', requiresGrad: true });
    const cases: Array<[string, (x: tf.Tensor) => tf.Tensor, number]> = [
      ['maxPool2d', (x) => nn.F.maxPool2d(x, 2), block(2 * 3 * 10 * 10 * 4)],  // int32 indices
      ['adaptiveMaxPool2d', (x) => nn.F.adaptiveMaxPool2d(x, 5), block(2 * 3 * 5 * 5 * 4)],
      ['dropout', (x) => nn.F.dropout(x, 0.5), block(2 * 3 * 20 * 20)],  // uint8 mask
      ['batchNorm', (x) => nn.F.batchNorm(x, null, null, null, null, { training: true }), 2 * block(3 * 4)],  // mean, invstd
    ];
    for (const [name, op, scratch] of cases) {
      const loss = op(x).square().sum();  // the op's incoming gradient is a whole buffer, not a broadcast view
      const before = tf.cuda.memoryAllocated();
      loss.backward();
      // x.grad is new on the first case only; afterwards gradients accumulate into it in place
      const grad = name === 'maxPool2d' ? block(x.numel * 4) : 0;
      expect(tf.cuda.memoryAllocated(), name).toBe(before + grad - scratch);
    }
  });

  it('Module.to moves parameters and buffers; optimizers keep their state on the parameters\' device', () => {
    const model = new nn.Sequential(new nn.Linear(3, 4), new nn.BatchNorm1d(4));
    const before = model.parameters();
    model.to('cuda');
    for (const p of model.parameters()) expect(p.deviceName).toBe('cuda:0');
    for (const b of model.buffers()) expect(b.device).toBe('cuda');
    expect(model.parameters()[0]).not.toBe(before[0]);
    expect(model.parameters()[0]).toBeInstanceOf(nn.Parameter);
    const params = model.parameters();
    model.to('cuda:0');
    expect(model.parameters()[0]).toBe(params[0]);

    const opt = new optim.Adam(model.parameters(), { lr: 0.1 });
    model.train();
    model.call(tf.randn([5, 3], { device: 'cuda' })).square().mean().backward();
    opt.step();
    const state = opt.state.get(model.parameters()[0]!)!;
    expect((state.exp_avg as tf.Tensor).deviceName).toBe('cuda:0');
    expect((state.exp_avg_sq as tf.Tensor).deviceName).toBe('cuda:0');

    const restored = new optim.Adam(model.parameters(), { lr: 0.1 });
    const dict = opt.stateDict();
    const onCpu = Object.fromEntries(Object.entries(dict.state).map(([k, s]) =>
      [k, Object.fromEntries(Object.entries(s).map(([n, v]) => [n, v instanceof tf.Tensor ? v.cpu() : v]))]));
    restored.loadStateDict({ ...dict, state: onCpu });
    const loaded = restored.state.get(model.parameters()[0]!)!;
    expect((loaded.exp_avg as tf.Tensor).deviceName).toBe('cuda:0');
    expect(values(loaded.exp_avg as tf.Tensor)).toEqual(values(state.exp_avg as tf.Tensor));

    const copy = new nn.Sequential(new nn.Linear(3, 4), new nn.BatchNorm1d(4));
    copy.loadStateDict(model.stateDict());
    expect(values(copy.parameters()[0]!)).toEqual(values(model.parameters()[0]!));
  });

  it('a small CNN trains on cuda with the cpu losses to 1e-5, and then infers as on cpu', () => {
    const build = () => new nn.Sequential(
      new nn.Conv2d(1, 4, 3, { padding: 1 }), new nn.BatchNorm2d(4), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Dropout(0.25), new nn.Flatten(), new nn.Linear(4 * 4 * 4, 5),
    );
    tf.manualSeed(3);
    const reference = build();
    const x = tf.randn([6, 1, 8, 8]), y = tf.randint(0, 5, [6]);
    const run = (device: tf.DeviceSpec): { losses: number[]; eval: number[] } => {
      const model = build();
      model.loadStateDict(reference.stateDict());
      model.to(device);
      const opt = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
      tf.manualSeed(11);
      const [xd, yd] = [x.to(device), y.to(device)];
      const losses: number[] = [];
      for (let step = 0; step < 3; step++) {
        losses.push(train.trainStep(model, opt, (logits, t) => nn.F.crossEntropy(logits, t), xd, yd).loss);
      }
      // eval mode reads the running statistics that training updated in place
      model.eval();
      return { losses, eval: values(tf.noGrad(() => model.call(xd))) };
    };
    const onCpu = run('cpu'), onCuda = run('cuda');
    onCuda.losses.forEach((l, i) => expect(Math.abs(l - onCpu.losses[i]!)).toBeLessThan(1e-5));
    onCuda.eval.forEach((v, i) => expect(Math.abs(v - onCpu.eval[i]!)).toBeLessThan(1e-5));
  });

  it('tf.cuda reports the devices', () => {
    expect(tf.cuda.deviceCount()).toBeGreaterThan(0);
    expect(tf.backendInfo().cuda.devices.length).toBe(tf.cuda.deviceCount());
    expect(() => tf.zeros([1], { device: `cuda:${tf.cuda.deviceCount()}` as tf.DeviceSpec })).toThrow(/does not exist/);
  });
});

describe.skipIf(cudaUsable)('without a usable CUDA device', () => {
  it('moving or creating on cuda throws the reason', () => {
    const reason = tf.backendInfo().cuda.reason ?? '';
    expect(() => tf.ones([2]).to('cuda')).toThrow(`to('cuda'): CUDA is not available: ${reason}`);
    expect(() => tf.ones([2]).cuda()).toThrow(/CUDA is not available/);
    expect(() => tf.zeros([2], { device: 'cuda' })).toThrow(/^zeros: CUDA is not available/);
    expect(() => tf.randn([2], { device: 'cuda:1' })).toThrow(/^randn: CUDA is not available/);
    expect(() => tf.cuda.memoryAllocated()).toThrow(/CUDA is not available/);
    expect(tf.cuda.isAvailable()).toBe(false);
    expect(tf.cuda.deviceCount()).toBe(0);
  });

  it('an unknown device name is a TypeError naming it', () => {
    expect(() => tf.ones([2]).to('gpu' as tf.DeviceSpec)).toThrow(/unknown dtype or device 'gpu'/);
    expect(() => tf.zeros([2], { device: 'cuda:x' as tf.DeviceSpec })).toThrow(/zeros|empty: unknown device 'cuda:x'/);
  });
});

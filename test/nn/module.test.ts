import { describe, expect, it } from 'vitest';
import { Tensor } from '../../lib/tensor.js';
import { tensor, zeros, ones, randn } from '../../lib/creation.js';
import { manualSeed } from '../../lib/random.js';
import {
  Module, Parameter, Linear, Conv2d, MaxPool2d, ReLU, Flatten, Sequential, ModuleList, ModuleDict, BatchNorm2d, Dropout, Identity,
} from '../../lib/nn/index.js';

/** The LeNet-5 of PyTorch's tutorial; torch counts 61,706 parameters. */
class LeNet5 extends Module {
  conv1 = new Conv2d(1, 6, 5);
  pool = new MaxPool2d(2);
  conv2 = new Conv2d(6, 16, 5);
  fc1 = new Linear(16 * 5 * 5, 120);
  fc2 = new Linear(120, 84);
  fc3 = new Linear(84, 10);
  relu = new ReLU();

  forward(x: Tensor): Tensor {
    x = this.pool.call(this.relu.call(this.conv1.call(x)));
    x = this.pool.call(this.relu.call(this.conv2.call(x)));
    x = x.flatten(1);
    return this.fc3.call(this.relu.call(this.fc2.call(this.relu.call(this.fc1.call(x)))));
  }
}

/** A module with a parameter, a buffer, a non-persistent buffer and a child, registered explicitly. */
class Custom extends Module {
  declare scale: Parameter;
  declare count: Tensor;
  declare scratch: Tensor;
  inner = new Linear(2, 2);

  constructor() {
    super();
    this.registerParameter('scale', ones([2]));
    this.registerBuffer('count', zeros([1], { dtype: 'int32' }));
    this.registerBuffer('scratch', zeros([2]), false);
  }

  forward(x: Tensor): Tensor {
    return this.inner.call(x).mul(this.scale);
  }
}

describe('parameters, buffers and state dict keys', () => {
  it("LeNet-5 has PyTorch's 61,706 parameters in PyTorch's order", () => {
    const net = new LeNet5();
    expect(net.countParameters()).toBe(61706);
    expect(net.namedParameters().map(([n, p]) => `${n}:${p.shape.join('x')}`)).toEqual([
      'conv1.weight:6x1x5x5', 'conv1.bias:6', 'conv2.weight:16x6x5x5', 'conv2.bias:16',
      'fc1.weight:120x400', 'fc1.bias:120', 'fc2.weight:84x120', 'fc2.bias:84', 'fc3.weight:10x84', 'fc3.bias:10',
    ]);
    expect(net.call(randn([2, 1, 32, 32])).shape).toEqual([2, 10]);
  });

  it("Sequential keys are PyTorch's (features.0.weight, running_mean, num_batches_tracked)", () => {
    const model = new Sequential(new Conv2d(3, 4, 3), new BatchNorm2d(4), new ReLU(), new Flatten(), new Linear(4, 2, { bias: false }));
    expect(Object.keys(model.stateDict())).toEqual([
      '0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked', '4.weight',
    ]);
    expect(model.namedBuffers().map(([n]) => n)).toEqual(['1.running_mean', '1.running_var', '1.num_batches_tracked']);
    expect(model.namedModules().map(([n, m]) => `${n}:${m.constructor.name}`)).toEqual([
      ':Sequential', '0:Conv2d', '1:BatchNorm2d', '2:ReLU', '3:Flatten', '4:Linear',
    ]);
    expect(model.children()).toHaveLength(5);
    expect(model.at(-1)).toBe(model[4]);
  });

  it('explicit registration: parameters, buffers, non-persistent buffers, null entries', () => {
    const m = new Custom();
    expect(m.namedParameters().map(([n]) => n)).toEqual(['scale', 'inner.weight', 'inner.bias']);
    expect(m.namedBuffers().map(([n]) => n)).toEqual(['count', 'scratch']);
    expect(Object.keys(m.stateDict())).toEqual(['scale', 'count', 'inner.weight', 'inner.bias']);
    expect(m.scale).toBeInstanceOf(Parameter);
    expect(m.scale.requiresGrad).toBe(true);
    // Reassigning a buffer field keeps it a buffer.
    m.count = tensor([5], { dtype: 'int32' });
    expect(m.stateDict().count!.item()).toBe(5);
    const noBias = new Linear(3, 2, { bias: false });
    expect(noBias.bias).toBeNull();
    expect(noBias.namedParameters().map(([n]) => n)).toEqual(['weight']);
    expect(() => m.registerModule('training', new ReLU())).toThrow(/attribute 'training' already exists/);
    expect(() => m.registerParameter('a.b', zeros([1]))).toThrow(/invalid parameter name 'a.b'/);
  });

  it('a shared parameter is listed once', () => {
    const shared = new Linear(3, 3);
    const m = new Sequential(shared, new ReLU(), shared);
    expect(m.parameters()).toHaveLength(2);
  });
});

describe('modes, freezing, hooks, apply, to', () => {
  it('train/eval reach every submodule', () => {
    const m = new Sequential(new Sequential(new Dropout(0.5), new BatchNorm2d(2)), new ReLU());
    m.eval();
    expect(m.modules().every((x) => !x.training)).toBe(true);
    m.train();
    expect(m.modules().every((x) => x.training)).toBe(true);
    m.at(0).train(false);
    expect(m.modules().map((x) => x.training)).toEqual([true, false, false, false, true]);
  });

  it('requiresGrad(false) freezes a subtree; zeroGrad drops gradients', () => {
    const m = new Sequential(new Linear(2, 2), new Linear(2, 2));
    m.at(0).requiresGrad(false);
    expect(m.parameters().map((p) => p.requiresGrad)).toEqual([false, false, true, true]);
    expect(m.countParameters(true)).toBe(6);
    m.call(tensor([[1, 2]])).sum().backward();
    expect(m.parameters().map((p) => p.grad !== null)).toEqual([false, false, true, true]);
    m.zeroGrad();
    expect(m.parameters().every((p) => p.grad === null)).toBe(true);
  });

  it('forward pre-hooks may replace inputs, forward hooks may replace outputs, handles remove them', () => {
    const m = new Identity();
    const seen: string[] = [];
    const pre = m.registerForwardPreHook((_mod, args) => {
      seen.push('pre');
      return [(args[0] as Tensor).mul(2)];
    });
    const post = m.registerForwardHook((mod, args, out) => {
      seen.push(`post ${mod.constructor.name} ${(args[0] as Tensor).item()}`);
      return (out as Tensor).add(1);
    });
    expect(m.call(tensor(3)).item()).toBe(7);
    expect(seen).toEqual(['pre', 'post Identity 6']);
    pre.remove();
    post.remove();
    expect(m.call(tensor(3)).item()).toBe(3);
  });

  it('apply visits children before the parent', () => {
    const m = new Sequential(new Linear(1, 1), new Sequential(new ReLU()));
    const order: string[] = [];
    m.apply((x) => order.push(x.constructor.name));
    expect(order).toEqual(['Linear', 'ReLU', 'Sequential', 'Sequential']);
  });

  it('to(dtype) converts float parameters and buffers, keeps int buffers and requiresGrad; cuda throws clearly', () => {
    const m = new Sequential(new Linear(2, 3), new BatchNorm2d(3));
    m.at(0).requiresGrad(false);
    const before = Array.from(m.at(0).parameters()[0]!.dataSync());
    m.to('float64');
    expect(m.parameters().map((p) => p.dtype)).toEqual(['float64', 'float64', 'float64', 'float64']);
    expect(m.parameters().map((p) => p.requiresGrad)).toEqual([false, false, true, true]);
    expect(m.parameters().every((p) => p instanceof Parameter)).toBe(true);
    expect(m.buffers().map((b) => b.dtype)).toEqual(['float64', 'float64', 'int32']);
    expect(Array.from(m.at(0).parameters()[0]!.dataSync())).toEqual(before);
    expect(() => m.to('cuda')).toThrow(/cuda|CUDA/);
  });
});

describe('loadStateDict', () => {
  it('copies values, and strict errors name missing and unexpected keys and shape mismatches', () => {
    manualSeed(1);
    const a = new Sequential(new Linear(3, 2), new BatchNorm2d(2));
    const b = new Sequential(new Linear(3, 2), new BatchNorm2d(2));
    const sd = a.stateDict();
    expect(b.loadStateDict(sd)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(Array.from(b.parameters()[0]!.dataSync())).toEqual(Array.from(a.parameters()[0]!.dataSync()));

    const { ['0.bias']: _dropped, ...partial } = sd;
    const withExtra = { ...partial, 'head.weight': zeros([1]) };
    expect(() => b.loadStateDict(withExtra)).toThrow(
      'Error(s) in loading state_dict for Sequential:\n\tMissing key(s) in state_dict: "0.bias".\n\tUnexpected key(s) in state_dict: "head.weight".',
    );
    expect(b.loadStateDict(withExtra, { strict: false })).toEqual({ missingKeys: ['0.bias'], unexpectedKeys: ['head.weight'] });

    const wrong = { ...sd, '0.weight': zeros([2, 4]) };
    expect(() => b.loadStateDict(wrong, { strict: false })).toThrow(
      'size mismatch for 0.weight: copying a param with shape [2, 4] from checkpoint, the shape in current model is [2, 3].',
    );
  });

  it('state dict tensors share storage with the module but are detached', () => {
    const m = new Linear(2, 2);
    const w = m.stateDict().weight!;
    expect(w.requiresGrad).toBe(false);
    expect(w.storage).toBe(m.weight.storage);
  });
});

describe('containers', () => {
  it('ModuleList and ModuleDict register children by index and key, and are not callable', () => {
    const list = new ModuleList([new Linear(2, 2), new ReLU()]);
    list.append(new Linear(2, 1));
    expect(list.length).toBe(3);
    expect([...list].map((m) => m.constructor.name)).toEqual(['Linear', 'ReLU', 'Linear']);
    expect(Object.keys(list.stateDict())).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    expect(() => list.at(3)).toThrow(/index 3 is out of range for 3 modules/);
    expect(() => (list as unknown as { call(): void }).call()).toThrow(/not callable/);

    const dict = new ModuleDict({ encoder: new Linear(2, 3), 1: new ReLU(), decoder: new Linear(3, 2) });
    expect(dict.keys()).toEqual(['1', 'encoder', 'decoder']);
    dict.set('head', new Linear(2, 1));
    expect(Object.keys(dict.stateDict())[0]).toBe('encoder.weight');
    expect(dict.get('head')).toBeInstanceOf(Linear);
    expect(() => dict.set('size', new ReLU())).toThrow(/attribute 'size' already exists/);
  });

  it('Sequential checks its arguments and chains forward', () => {
    expect(() => new Sequential(new ReLU(), 3 as never)).toThrow('Sequential: argument 1 must be a Module, got number');
    const m = new Sequential(new Flatten(), new Identity());
    expect(m.call(zeros([2, 3, 4])).shape).toEqual([2, 12]);
  });
});

describe('toString', () => {
  it("prints PyTorch's tree with parameter shapes, counts and a total", () => {
    const net = new LeNet5();
    net.fc3.requiresGrad(false);
    expect(net.toString()).toBe(
      [
        'LeNet5(',
        '  (conv1): Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))  # weight [6, 1, 5, 5], bias [6]: 156 params',
        '  (pool): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)',
        '  (conv2): Conv2d(6, 16, kernel_size=(5, 5), stride=(1, 1))  # weight [16, 6, 5, 5], bias [16]: 2,416 params',
        '  (fc1): Linear(in_features=400, out_features=120, bias=True)  # weight [120, 400], bias [120]: 48,120 params',
        '  (fc2): Linear(in_features=120, out_features=84, bias=True)  # weight [84, 120], bias [84]: 10,164 params',
        '  (fc3): Linear(in_features=84, out_features=10, bias=True)  # weight [10, 84], bias [10]: 850 params',
        '  (relu): ReLU()',
        ')',
        'Total params: 61,706 (trainable 60,856)',
      ].join('\n'),
    );
    const nested = new Sequential(new Sequential(new BatchNorm2d(3, { momentum: null })), new Dropout(0.25));
    expect(nested.toString()).toBe(
      [
        'Sequential(',
        '  (0): Sequential(',
        '    (0): BatchNorm2d(3, eps=1e-05, momentum=None, affine=True, track_running_stats=True)  # weight [3], bias [3]: 6 params',
        '  )',
        '  (1): Dropout(p=0.25, inplace=False)',
        ')',
        'Total params: 6 (trainable 6)',
      ].join('\n'),
    );
  });
});

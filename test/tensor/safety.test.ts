/**
 * Issue 18's silent wrong results in the tensor layer, on every test device: in-place writes whose source
 * overlaps the destination, writes into expanded (self-overlapping) views, tensors disposed before backward
 * or an optimizer step, gradients given to backward with another dtype, shape or device, and shapes and
 * typed arrays at the boundary where a tensor is made.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '../../lib/index.js';
import { nn, optim } from '../../lib/index.js';
import { runsCpu, testDevices } from '../devices.js';

const values = (t: tf.Tensor): number[] => Array.from(t.dataSync() as ArrayLike<number>);

describe.each(testDevices)('in-place writes on %s', (device) => {
  const on = (data: number[], shape: number[]): tf.Tensor => tf.tensor(new Float32Array(data), { shape, device });

  it('copy_ reads a source that overlaps the destination as it was before the write', () => {
    const a = on([1, 2, 3, 4], [2, 2]);
    a.copy_(a.T);
    expect(values(a)).toEqual([1, 3, 2, 4]);
    const b = on([1, 2, 3, 4, 5], [5]);
    b.slice(0, 1, 5).copy_(b.slice(0, 0, 4));
    expect(values(b)).toEqual([1, 1, 2, 3, 4]);
    const c = on([1, 2, 3, 4, 5], [5]);
    c.slice(0, 0, 4).copy_(c.slice(0, 1, 5));
    expect(values(c)).toEqual([2, 3, 4, 5, 5]);
    const d = on([1, 2, 3, 4, 5, 6], [2, 3]);
    d.select(0, 1).copy_(d.select(0, 0).flip(0)); // a reversed view, into the other row of one storage
    expect(values(d)).toEqual([1, 2, 3, 3, 2, 1]);
  });

  it('the arithmetic in-place ops read an overlapping operand before writing', () => {
    const a = on([1, 2, 3, 4], [2, 2]);
    a.add_(a.T);
    expect(values(a)).toEqual([2, 5, 5, 8]);
    const b = on([1, 2, 3, 4, 5], [5]);
    b.slice(0, 1, 5).mul_(b.slice(0, 0, 4));
    expect(values(b)).toEqual([1, 2, 6, 12, 20]);
  });

  it('refuses a write into an expanded view, naming the op and the dim', () => {
    const base = on([1, 2, 3], [1, 3]);
    const e = base.expand(2, 3);
    const writes: Array<[string, () => unknown]> = [
      ['copy_', () => e.copy_(on([1, 2, 3, 4, 5, 6], [2, 3]))],
      ['add_', () => e.add_(1)],
      ['sub_', () => e.sub_(on([1, 2, 3, 4, 5, 6], [2, 3]))],
      ['mul_', () => e.mul_(2)],
      ['div_', () => e.div_(2)],
      ['clamp_', () => e.clamp_(0, 1)],
      ['relu_', () => e.relu_()],
      ['fill_', () => e.fill_(7)],
      ['fill_', () => e.zero_()],
    ];
    for (const [op, write] of writes) {
      expect(write, op).toThrow(new RegExp(`^${op}: the destination is an expanded view .*stride 0 along dim 0 of size 2.*contiguous\\(\\)`));
    }
    expect(values(base)).toEqual([1, 2, 3]);
    // a broadcast source is fine, and so is a dim of size 1 with stride 0
    const d = on([0, 0, 0, 0, 0, 0], [2, 3]);
    d.copy_(base.expand(2, 3));
    expect(values(d)).toEqual([1, 2, 3, 1, 2, 3]);
    on([5], [1]).expand(1).add_(1);
  });

  it('an optimizer refuses parameter state that is a non-contiguous view', () => {
    const p = on([1, 2, 3, 4], [2, 2]).requiresGrad_();
    const opt = new optim.SGD([p], { lr: 0.1, momentum: 0.9 });
    p.grad = tf.onesLike(p);
    opt.step();
    opt.state.get(p)!.momentum_buffer = on([0, 0, 0, 0, 0, 0, 0, 0], [2, 4]).slice(1, 0, 4, 2);
    expect(() => opt.step()).toThrow(/^SGD: a tensor updated in place must be contiguous/);
  });
});

describe.each(testDevices)('dispose before backward on %s', (device) => {
  const setup = () => {
    const w = tf.tensor([[1, 2], [3, 4]], { device, requiresGrad: true });
    const x = tf.tensor([[1, -1], [2, 0.5]], { device });
    return { w, x };
  };

  it('a disposed loss, intermediate or saved input makes backward throw, naming its op', () => {
    {
      const { w, x } = setup();
      const loss = x.matmul(w).relu().sum();
      loss.dispose();
      expect(() => loss.backward()).toThrow("backward: the output of 'sum' was disposed before backward");
    }
    {
      const { w, x } = setup();
      const h = x.matmul(w).add(w); // add saves nothing: the gradient would flow on, but h lost its graph
      const loss = h.add(w).sum();
      h.dispose();
      expect(() => loss.backward()).toThrow("backward: the output of 'add' (an input of 'add') was disposed before backward");
      expect(w.grad).toBeNull();
    }
    {
      const { w, x } = setup();
      const h = x.matmul(w).relu();
      const loss = h.matmul(w).sum();
      h.dispose();
      expect(() => loss.backward()).toThrow(/^backward: the output of 'relu' \((saved by|an input of) 'matmul'\) was disposed before backward$/);
    }
    {
      const { w, x } = setup();
      const loss = x.matmul(w).sum();
      w.dispose();
      expect(() => loss.backward()).toThrow(/^backward: a leaf tensor of shape \[2, 2\] \((saved by|an input of) 'matmul'\) was disposed before backward$/);
    }
  });

  it('an optimizer step throws for a disposed parameter', () => {
    const a = tf.ones([3], { device, requiresGrad: true }), b = tf.ones([2], { device, requiresGrad: true });
    const opt = new optim.Adam([a, b], { lr: 0.1 });
    a.sum().add(b.sum()).backward();
    b.dispose();
    expect(() => opt.step()).toThrow('Adam: parameter 1 of shape [2] was disposed; remove it from the optimizer');
  });

  it('a training step inside releaseAfter still works (the scope releases what the step made)', () => {
    const model = new nn.Linear(3, 2);
    if (device !== 'cpu') model.to(device);
    const opt = new optim.SGD(model.parameters(), { lr: 0.1 });
    const x = tf.ones([4, 3], { device });
    for (let i = 0; i < 3; i++) {
      tf.releaseAfter(() => {
        opt.zeroGrad();
        const loss = model.forward(x).square().mean();
        loss.backward();
        opt.step();
      });
    }
    expect(model.weight.grad).not.toBeNull();
  });
});

describe.each(testDevices)('backward(grad) on %s', (device) => {
  it('refuses a gradient of another dtype, shape or device, naming both', () => {
    const w = tf.ones([2], { device, requiresGrad: true });
    const y = w.mul(3);
    expect(() => y.backward(tf.ones([2], { device, dtype: 'float64' }))).toThrow(
      "backward: grad has dtype float64 but the output (the output of 'mulScalar') is float32; convert it with .to('float32')",
    );
    expect(() => y.backward(tf.ones([2], { device, dtype: 'int32' }))).toThrow(/grad has dtype int32 but .* is float32/);
    expect(() => y.backward(tf.ones([3], { device }))).toThrow('backward: grad shape [3] differs from output shape [2]');
    if (device !== 'cpu') {
      expect(() => y.backward(tf.ones([2]))).toThrow(/^backward: grad is on cpu but the output .* is on cuda:0$/);
    }
    expect(w.grad).toBeNull();
    y.backward(tf.ones([2], { device }));
    expect(values(w.grad!)).toEqual([3, 3]);
  });
});

describe.runIf(runsCpu)('shapes and typed arrays where a tensor is made', () => {
  it('refuses a negative, fractional, non-array or unsafe shape, naming the function', () => {
    expect(() => tf.tensor(new Float32Array(4), { shape: [-2, -2] })).toThrow('tensor: shape must contain non-negative integers, got [-2, -2]');
    expect(() => tf.tensor(new Float32Array(4), { shape: [4, 0.5] })).toThrow('tensor: shape must contain non-negative integers, got [4, 0.5]');
    expect(() => tf.tensor(new Float32Array(4), { shape: [3] })).toThrow('tensor: shape [3] needs 3 elements, got an array of 4');
    expect(() => tf.zeros('abc' as never)).toThrow(new TypeError("zeros: shape must be an array of non-negative integers, got 'abc'"));
    expect(() => tf.ones([2, NaN])).toThrow('ones: shape must contain non-negative integers, got [2, NaN]');
    expect(() => tf.full([2 ** 53, 2], 1)).toThrow(/^full: shape must contain non-negative integers|^full: shape \[.*\] has more than 2\^53/);
    expect(() => tf.empty([-1])).toThrow(/^empty: shape/);
    expect(() => tf.rand([1.5])).toThrow(/^rand: shape/);
    expect(() => tf.eye(2.5)).toThrow(/^eye: shape/);
    expect(() => tf.fromArray(new Float32Array(2), [Infinity])).toThrow(/^fromArray: shape/);
    expect(() => tf.ones([2, 3]).reshape(-2, -3)).toThrow(/^reshape: /);
    expect(() => tf.ones([2, 3]).view(3, 2.5)).toThrow(/^view: /);
    expect(() => tf.ones([1, 3]).expand(-2, 3)).toThrow(/^expand: /);
    expect(() => tf.ones([2, 3]).broadcastTo([3, 3])).toThrow(/^broadcastTo: input \[2, 3\] cannot expand to \[3, 3\]/);
    expect(() => tf.ones([2, 3]).expandAs(tf.ones([3]))).toThrow(/^expandAs: target \[3\] has fewer dims/);
  });

  it('maps every typed array kind to a dtype or refuses it', () => {
    const cases: Array<[ArrayBufferView, tf.DType, number[]]> = [
      [new Float32Array([1.5, -2]), 'float32', [1.5, -2]],
      [new Float64Array([1.5, -2]), 'float64', [1.5, -2]],
      [new Int32Array([7, -8]), 'int32', [7, -8]],
      [new Uint8Array([1, 0]), 'bool', [1, 0]],
      [new Int8Array([-128, 127]), 'int32', [-128, 127]],
      [new Uint8ClampedArray([0, 255]), 'int32', [0, 255]],
      [new Int16Array([-32768, 32767]), 'int32', [-32768, 32767]],
      [new Uint16Array([0, 65535]), 'int32', [0, 65535]],
      [new Uint32Array([0, 2 ** 31 - 1]), 'int32', [0, 2 ** 31 - 1]],
      [new BigInt64Array([-(2n ** 31n), 5n]), 'int32', [-(2 ** 31), 5]],
      [new BigUint64Array([0n, 9n]), 'int32', [0, 9]],
    ];
    for (const [array, dtype, expected] of cases) {
      const t = tf.tensor(array as Float32Array);
      expect([array.constructor.name, t.dtype]).toEqual([array.constructor.name, dtype]);
      expect(t.toArray()).toEqual(expected);
    }
    expect(() => tf.tensor(new Uint32Array([2 ** 31]) as never)).toThrow(new RangeError('tensor: element 0 of the Uint32Array (2147483648) does not fit int32, the widest integer dtype'));
    expect(() => tf.tensor(new BigInt64Array([2n ** 40n]) as never)).toThrow(/^tensor: element 0 of the BigInt64Array \(1099511627776\) does not fit int32/);
    expect(() => tf.tensor(new DataView(new ArrayBuffer(4)) as never)).toThrow(new TypeError('tensor: data must be a typed array, got a DataView'));
  });

  it('refuses an array whose buffer was detached', () => {
    const buffer = new ArrayBuffer(16);
    const array = new Float32Array(buffer);
    structuredClone(buffer, { transfer: [buffer] });
    expect(() => tf.tensor(array)).toThrow(new TypeError("tensor: the Float32Array's ArrayBuffer is detached (transferred elsewhere); pass an array that owns its memory"));
  });

  it('refuses an unknown dtype with the allowed ones', () => {
    const message = "dtype must be one of float32, float64, int32, bool, got 'float16'";
    expect(() => tf.zeros([2], { dtype: 'float16' as never })).toThrow(new TypeError(`zeros: ${message}`));
    expect(() => tf.tensor([1, 2], { dtype: 'float16' as never })).toThrow(new TypeError(`tensor: ${message}`));
    expect(() => tf.randn([2], { dtype: 'float16' as never })).toThrow(new TypeError(`randn: ${message}`));
    expect(() => tf.arange(3, undefined, 1, { dtype: 'float16' as never })).toThrow(new TypeError(`arange: ${message}`));
  });

  it('select, narrow and slice on a 0-d tensor say so', () => {
    const s = tf.tensor(3);
    expect(() => s.select(0, 0)).toThrow('select: a 0-d tensor has no dim to index (dim 0); reshape it to [1] first');
    expect(() => s.narrow(0, 0, 1)).toThrow(/^narrow: a 0-d tensor has no dim/);
    expect(() => s.slice(-1, 0, 1)).toThrow(/^slice: a 0-d tensor has no dim/);
    expect(s.sum(-1).item()).toBe(3); // reductions take dim 0 or -1 of a 0-d tensor, as PyTorch
  });

  it('loadStateDict refuses a null or malformed state, naming the optimizer', () => {
    const p = tf.ones([2], { requiresGrad: true });
    const opt = new optim.Adam([p], { lr: 0.1 });
    const sd = opt.stateDict();
    expect(() => opt.loadStateDict(null as never)).toThrow(new TypeError('Adam.loadStateDict: expects { state, param_groups }, got null'));
    expect(() => opt.loadStateDict({ ...sd, state: { 0: null } } as never)).toThrow(new TypeError('Adam.loadStateDict: state[0] must be an object of state values, got null'));
    expect(() => opt.loadStateDict({ ...sd, param_groups: [null] } as never)).toThrow(new TypeError('Adam.loadStateDict: param_groups[0] must be an object, got null'));
    expect(() => opt.loadStateDict({ ...sd, param_groups: [{ ...sd.param_groups[0], params: ['x'] }] } as never)).toThrow(/params\[0\] must be a parameter index, got 'x'/);
  });
});

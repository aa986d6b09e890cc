import { describe, expect, it } from 'vitest';
import { Tensor } from '../../lib/tensor.js';
import { fromArray, randint, randn } from '../../lib/creation.js';
import { manualSeed } from '../../lib/random.js';
import { noGrad } from '../../lib/autograd/mode.js';
import { F, init } from '../../lib/nn/index.js';
import { SGD } from '../../lib/optim/index.js';
import { BasicBlock, CifarResNet, resnet20 } from '../../lib/models/index.js';
import { expectClose, makeRng, randomArray } from '../util.js';

const data = (t: Tensor): number[] => Array.from(t.dataSync() as ArrayLike<number>);

describe('resnet20', () => {
  it('has the paper-count of parameters (option-A shortcuts) under torchvision key names', () => {
    const conv = (cin: number, cout: number) => cin * cout * 9;
    const bn = (c: number) => 2 * c;
    const block = (cin: number, cout: number) => conv(cin, cout) + bn(cout) + conv(cout, cout) + bn(cout);
    const stage = (cin: number, cout: number) => block(cin, cout) + 2 * block(cout, cout);
    const expected = conv(3, 16) + bn(16) + stage(16, 16) + stage(16, 32) + stage(32, 64) + 64 * 10 + 10;
    expect(expected).toBe(269_722);
    const model = resnet20();
    expect(model.countParameters()).toBe(expected);
    expect(resnet20(100).countParameters()).toBe(expected + 64 * 90 + 90);
    const keys = Object.keys(model.stateDict());
    expect(keys.slice(0, 7)).toEqual(['conv1.weight', 'bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var', 'bn1.num_batches_tracked', 'layer1.0.conv1.weight']);
    expect(keys).toContain('layer3.2.bn2.running_var');
    expect(keys.slice(-2)).toEqual(['fc.weight', 'fc.bias']);
    expect(keys.some((k) => k.includes('shortcut'))).toBe(false);
  });

  it('maps [N, 3, 32, 32] to [N, classes] logits, also in eval mode', () => {
    const model = resnet20(7);
    expect(model.call(randn([3, 3, 32, 32])).shape).toEqual([3, 7]);
    model.eval();
    expect(noGrad(() => model.call(randn([1, 3, 32, 32]))).shape).toEqual([1, 7]);
  });

  it('one SGD-momentum step lowers the loss on a fixed batch', () => {
    manualSeed(11);
    const model = resnet20();
    const x = randn([8, 3, 32, 32]);
    const y = randint(0, 10, [8]);
    const opt = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
    const before = F.crossEntropy(model.call(x), y);
    opt.zeroGrad();
    before.backward();
    opt.step();
    expect(model.conv1.weight.grad).not.toBeNull();
    const after = noGrad(() => F.crossEntropy(model.call(x), y)).item();
    expect(Number.isFinite(before.item())).toBe(true);
    expect(after).toBeLessThan(before.item());
  });

  it('rejects a bad depth or class count', () => {
    expect(() => new CifarResNet(0)).toThrow(/blocksPerStage must be an integer >= 1, got 0/);
    expect(() => resnet20(0)).toThrow(/classes must be an integer >= 1, got 0/);
    expect(() => new BasicBlock(16, 32, 1)).toThrow(/option-A shortcut needs stride 2/);
  });
});

describe('BasicBlock option-A shortcut', () => {
  it('with zero convolutions, a downsampling block is relu(x[:, c - C/2, 2i, 2j]) (zero outside), by a naive loop', () => {
    const rng = makeRng();
    const [N, C, H, W] = [2, 4, 6, 10];
    const xs = randomArray(Float32Array, N * C * H * W, rng);
    const block = new BasicBlock(C, 2 * C, 2);
    init.zeros_(block.conv1.weight);
    init.zeros_(block.conv2.weight);
    const out = block.call(fromArray(xs, [N, C, H, W]));
    const [P, Q] = [H / 2, W / 2];
    expect(out.shape).toEqual([N, 2 * C, P, Q]);
    const expected = new Float64Array(N * 2 * C * P * Q);
    for (let n = 0; n < N; n++) {
      for (let c = C / 2; c < C / 2 + C; c++) {
        for (let i = 0; i < P; i++) {
          for (let j = 0; j < Q; j++) {
            const v = xs[((n * C + c - C / 2) * H + 2 * i) * W + 2 * j]!;
            expected[((n * 2 * C + c) * P + i) * Q + j] = Math.max(v, 0);
          }
        }
      }
    }
    expectClose(data(out), expected, { atol: 0, rtol: 0, seed: rng.seed });
  });
});

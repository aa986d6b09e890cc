/**
 * Training on the 'cuda' device end to end (on the emulated device in CI, on a GPU in gpu-check): a small CNN
 * follows the CPU's loss trajectory, and device memory stays flat over 1,000 steps of a loop that never calls
 * dispose() (train.trainStep hands each step's tensors back to the allocator).
 */
import { describe, expect, it } from 'vitest';
import * as tf from '../../lib/index.js';
import { testDevices } from '../devices.js';

const { nn, optim } = tf;

function smallCnn(): tf.nn.Sequential {
  tf.manualSeed(7);
  return new nn.Sequential(
    new nn.Conv2d(1, 4, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(4, 6, 3), new nn.ReLU(), new nn.Flatten(), new nn.Linear(6 * 2 * 2, 5),
  );
}

function batch(device: string): { inputs: tf.Tensor; targets: tf.Tensor } {
  tf.manualSeed(11);
  return { inputs: tf.randn([6, 1, 8, 8]).to(device as 'cuda'), targets: tf.randint(0, 5, [6]).to(device as 'cuda') };
}

function losses(device: 'cpu' | 'cuda', steps: number, onStep?: (step: number) => void): number[] {
  const model = smallCnn().to(device);
  const opt = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  const { inputs, targets } = batch(device);
  const out: number[] = [];
  for (let step = 1; step <= steps; step++) {
    out.push(tf.train.trainStep(model, opt, nn.F.crossEntropy, inputs, targets).loss);
    onStep?.(step);
  }
  return out;
}

describe.runIf(testDevices.includes('cuda'))('training on cuda', () => {
  it('a small CNN follows the cpu loss trajectory for 20 steps (float32, within 1e-4)', () => {
    const cpu = losses('cpu', 20), cuda = losses('cuda', 20);
    cuda.forEach((l, i) => expect(Math.abs(l - cpu[i]!), `step ${i + 1}: cuda ${l}, cpu ${cpu[i]}`).toBeLessThan(1e-4));
    expect(cuda[19]!).toBeLessThan(cuda[0]!);
  });

  it('device memory after step 1,000 equals memory after step 10, with no dispose() in the loop', () => {
    let at10 = -1, at1000 = -1;
    losses('cuda', 1000, (step) => {
      if (step === 10) at10 = tf.cuda.memoryAllocated();
      if (step === 1000) at1000 = tf.cuda.memoryAllocated();
    });
    expect(at10).toBeGreaterThan(0);
    expect(at1000).toBe(at10);
  }, 300_000);
});

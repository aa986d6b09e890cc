/**
 * End-to-end throughput of whole models, the same workloads for every runner (tensorforge here, PyTorch in
 * bench/peers/torch_bench.py, TensorFlow.js in bench/peers/tfjs_bench.ts), through one request shape:
 *
 *   {"workload": "mlp" | "lenet5" | "resnet20" | "block", "mode": "train" | "grad" | "infer", "batch": 64,
 *    "threads": t, "seconds": g, "reps": r, "device": "cpu" | "cuda" (default cpu), "tf32": false, "warmup": 0 (defaults)}
 *   → {"imagesPerSecond": median over r timed groups of steps, "best": ..., "spread": (max − min) / median}
 *
 * After "warmup" untimed steps (default 0), a first step, timed only for this, sets the steps per group so that a
 * group takes about g seconds (at least one step); a workload whose single step exceeds r·g is timed in one group
 * only (util.ts timeGroups).
 *
 *   mlp       784-256-10 (ReLU) on [B, 1, 28, 28], Adam lr 1e-3
 *   lenet5    LeNet-5 on [B, 1, 28, 28], Adam lr 1e-3
 *   resnet20  CIFAR ResNet-20 on [B, 3, 32, 32], SGD lr 0.1 momentum 0.9 weight decay 5e-4
 *   block     one ResNet basic block (16 → 16 channels) on [B, 16, 32, 32], loss = mean of its output
 *
 * A train step is tf.train.trainStep (forward, cross-entropy, backward, optimizer step, the loss read back,
 * the step's memory recycled, as trainEpoch does); a grad step is the same without the optimizer (gradients
 * zeroed, forward, loss, backward, the loss read back); inference is a forward pass in eval mode without
 * autograd, the logits read back, inside releaseAfter. Inputs are one fixed random batch with random labels.
 */
import * as tf from '../lib/index.js';
import { timeSteps, type E2eMode, type E2eRequest, type E2eResult, type Workload } from './util.js';

export const workloads: Workload[] = ['mlp', 'lenet5', 'resnet20', 'block'];

/** The modes each workload is measured in: grad for the two that isolate forward + backward. */
export const modesOf = (w: Workload): E2eMode[] =>
  w === 'block' ? ['grad'] : w === 'lenet5' ? ['train', 'grad', 'infer'] : ['train', 'infer'];

/** Input shape [C, H, W] of a workload. */
export const inputShape = (w: Workload): [number, number, number] =>
  w === 'resnet20' ? [3, 32, 32] : w === 'block' ? [16, 32, 32] : [1, 28, 28];

function build(w: Workload, device: tf.Device): { model: tf.nn.Module; optimizer: tf.optim.Optimizer<any> } {
  const { nn, optim, models } = tf;
  const model = (w === 'mlp'
    ? new nn.Sequential(new nn.Flatten(), new nn.Linear(784, 256), new nn.ReLU(), new nn.Linear(256, 10))
    : w === 'lenet5' ? models.lenet5() : w === 'block' ? new models.BasicBlock(16, 16) : models.resnet20()).to(device);
  const optimizer = w === 'resnet20'
    ? new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 })
    : new optim.Adam(model.parameters(), { lr: 1e-3 });
  return { model, optimizer };
}

/**
 * Images per second of tensorforge on one workload (the request's thread count, device and float32 matmul
 * precision are set here).
 */
export function runOurs(req: E2eRequest): E2eResult {
  tf.setNumThreads(req.threads);
  tf.setFloat32MatmulPrecision(req.tf32 ? 'high' : 'highest');
  const device = req.device ?? 'cpu';
  const { model, optimizer } = build(req.workload, device);
  const x = tf.randn([req.batch, ...inputShape(req.workload)], { device });
  const y = tf.randint(0, 10, [req.batch], { device });
  const lossFn = (out: tf.Tensor, targets: tf.Tensor) => (req.workload === 'block' ? out.mean() : tf.nn.F.crossEntropy(out, targets));
  const steps: Record<E2eMode, () => void> = {
    train: () => {
      model.train();
      tf.train.trainStep(model, optimizer, lossFn, x, y);
    },
    grad: () => {
      model.train();
      model.zeroGrad();
      tf.releaseAfter(() => {
        const loss = lossFn(model.call(x), y);
        loss.backward();
        return loss.item();
      }, () => model.parameters().map((p) => p.grad));
    },
    infer: () => {
      model.eval();
      tf.releaseAfter(() => tf.noGrad(() => model.call(x)).dataSync()[0]);
    },
  };
  // Each step reads a value back, which waits for its kernels; synchronizing as well keeps that true of any step.
  return timeSteps(steps[req.mode], req, device === 'cuda' ? () => tf.cuda.synchronize() : undefined);
}

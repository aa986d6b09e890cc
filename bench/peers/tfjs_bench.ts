/**
 * TensorFlow.js side of bench/run.ts: the end-to-end workloads of bench/e2e.ts (same layer shapes, losses
 * and optimizers) on one TF.js backend, answering the same JSON-line requests (see bench/e2e.ts).
 *
 *   npx tsx bench/peers/tfjs_bench.ts cpu|wasm [threads]
 *
 * 'cpu' is TF.js's pure-JavaScript backend (single-threaded whatever the thread count); 'wasm' is the
 * WebAssembly backend with its thread count set before initialization. {"info": true} answers the backend,
 * version and effective thread count. A workload a backend cannot run (WASM has no conv2d filter gradient,
 * Conv2DBackpropFilter, so it cannot train a CNN) answers {"error": "cannot train: ..."}.
 */
import { createInterface } from 'node:readline';
import * as tf from '@tensorflow/tfjs';
import { setThreadsCount, getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { timeSteps, type E2eRequest, type E2eResult } from '../util.js';

const backend = process.argv[2] ?? 'cpu';
const threads = Number(process.argv[3] ?? 1);
if (backend === 'wasm') setThreadsCount(threads);
await tf.setBackend(backend);
await tf.ready();

/** Channels-last models with PyTorch's layer sizes; TF.js convolutions want NHWC. */
function build(workload: E2eRequest['workload']): tf.LayersModel {
  const model = tf.sequential();
  if (workload === 'mlp') {
    model.add(tf.layers.flatten({ inputShape: [28, 28, 1] }));
    model.add(tf.layers.dense({ units: 256, activation: 'relu' }));
    model.add(tf.layers.dense({ units: 10 }));
  } else if (workload === 'lenet5') {
    model.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 6, kernelSize: 5, padding: 'same', activation: 'relu' }));
    model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    model.add(tf.layers.conv2d({ filters: 16, kernelSize: 5, activation: 'relu' }));
    model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    model.add(tf.layers.flatten());
    model.add(tf.layers.dense({ units: 120, activation: 'relu' }));
    model.add(tf.layers.dense({ units: 84, activation: 'relu' }));
    model.add(tf.layers.dense({ units: 10 }));
  } else {
    return resnet20();
  }
  return model;
}

/** Zero channels on both sides of NHWC input: the padding half of the option-A shortcut. */
class ChannelPad extends tf.layers.Layer {
  static readonly className = 'ChannelPad';
  constructor(private readonly side: number) {
    super({});
  }
  override computeOutputShape(shape: tf.Shape): tf.Shape {
    return [shape[0]!, shape[1]!, shape[2]!, shape[3]! + 2 * this.side];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    return tf.pad(x, [[0, 0], [0, 0], [0, 0], [this.side, this.side]]);
  }
}

/** ResNet-20 with option-A shortcuts as a functional model (lib/models/resnet.ts, channels last). */
function resnet20(): tf.LayersModel {
  const input = tf.input({ shape: [32, 32, 3] });
  const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) => layer.apply(x) as tf.SymbolicTensor;
  const convBn = (x: tf.SymbolicTensor, filters: number, strides: number) => apply(tf.layers.batchNormalization(),
    apply(tf.layers.conv2d({ filters, kernelSize: 3, strides, padding: 'same', useBias: false, kernelInitializer: 'heNormal' }), x));
  let x = apply(tf.layers.reLU(), convBn(input, 16, 1));
  for (const planes of [16, 32, 64]) {
    for (let b = 0; b < 3; b++) {
      const strides = b === 0 && planes !== 16 ? 2 : 1;
      const out = convBn(apply(tf.layers.reLU(), convBn(x, planes, strides)), planes, 1);
      // x[:, ::2, ::2, :] is a 1×1 max pool with stride 2.
      const shortcut = strides === 1 ? x : apply(new ChannelPad(planes / 4), apply(tf.layers.maxPooling2d({ poolSize: 1, strides: 2 }), x));
      x = apply(tf.layers.reLU(), apply(tf.layers.add(), [out, shortcut]));
    }
  }
  const logits = apply(tf.layers.dense({ units: 10 }), apply(tf.layers.globalAveragePooling2d({}), x));
  return tf.model({ inputs: input, outputs: logits });
}

function run(req: E2eRequest): E2eResult {
  const model = build(req.workload);
  const [c, h, w] = req.workload === 'resnet20' ? [3, 32, 32] : [1, 28, 28];
  const x = tf.randomNormal([req.batch, h, w, c]);
  const labels = tf.oneHot(tf.randomUniform([req.batch], 0, 10, 'int32') as tf.Tensor1D, 10);
  const optimizer = req.workload === 'resnet20' ? tf.train.momentum(0.1, 0.9) : tf.train.adam(1e-3);
  const step = req.mode === 'train'
    ? () => tf.tidy(() => {
      optimizer.minimize(() => tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true }) as tf.Tensor), true)!.dataSync();
    })
    : () => tf.tidy(() => {
      (model.apply(x, { training: false }) as tf.Tensor).dataSync();
    });
  try {
    return timeSteps(step, req);
  } catch (e) {
    const message = (e as Error).message.split('\n')[0]!;
    throw new Error(req.mode === 'train' && /backprop|grad|not (yet )?(registered|implemented|found)/i.test(message) ? `cannot train: ${message}` : message);
  } finally {
    model.dispose();
    optimizer.dispose();
    tf.dispose([x, labels]);
  }
}

for await (const line of createInterface({ input: process.stdin })) {
  const req = JSON.parse(line) as E2eRequest & { info?: boolean };
  let answer: object;
  try {
    answer = req.info
      ? { backend: tf.getBackend(), version: tf.version.tfjs, threads: backend === 'wasm' ? getThreadsCount() : 1 }
      : run(req);
  } catch (e) {
    answer = { error: (e as Error).message };
  }
  console.log(JSON.stringify(answer));
}

/**
 * Cross-check against PyTorch (float64): forward outputs and the gradients of sum(out · v) for a random v,
 * for the same inputs. One python process evaluates every case; skipped when torch cannot be imported.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as F from '../../lib/nn/functional.js';
import { Tensor } from '../../lib/tensor.js';
import { grad } from '../../lib/autograd/engine.js';
import { expectClose, makeRng, randomArray } from '../util.js';

const PYTHON = '/usr/bin/python3';
const torchAvailable = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch'], { timeout: 60_000 }).status === 0;

const rng = makeRng();
const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const vals = (t: Tensor): number[] => Array.from(t.contiguous().dataSync());

const rand = (shape: number[], lo = -1, hi = 1): Tensor => Tensor.fromArray(randomArray(Float64Array, numel(shape), rng, lo, hi), shape);
const leaf = (shape: number[], lo = -1, hi = 1): Tensor => rand(shape, lo, hi).requiresGrad_();
const classes = (shape: number[], C: number, ignore?: number): Tensor =>
  Tensor.fromArray(Int32Array.from({ length: numel(shape) }, (_, i) => (ignore !== undefined && i % 4 === 1 ? ignore : rng.int(0, C - 1))), shape);

interface Case {
  name: string;
  inputs: Record<string, Tensor>;
  /** Ours, over `inputs`. */
  ours: (t: Record<string, Tensor>) => Tensor;
  /** The same computation as a python expression over the input names, torch and F (torch.nn.functional). */
  torch: string;
  /** Inputs whose values after the call are compared too (running statistics). */
  after?: string[];
}

const cases: Case[] = [
  {
    name: 'conv2d stride/padding/dilation/groups/bias',
    inputs: { x: leaf([2, 4, 7, 6]), w: leaf([6, 2, 3, 2]), b: leaf([6]) },
    ours: ({ x, w, b }) => F.conv2d(x!, w!, b, { stride: [2, 1], padding: [1, 0], dilation: [1, 2], groups: 2 }),
    torch: 'F.conv2d(x, w, b, stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2)',
  },
  {
    name: "conv2d padding 'same' with odd totals",
    inputs: { x: leaf([1, 3, 6, 5]), w: leaf([2, 3, 2, 4]) },
    ours: ({ x, w }) => F.conv2d(x!, w!, null, { padding: 'same', dilation: [3, 1] }),
    torch: "F.conv2d(x, w, None, padding='same', dilation=(3, 1))",
  },
  {
    name: 'conv1d',
    inputs: { x: leaf([2, 4, 9]), w: leaf([4, 2, 3]), b: leaf([4]) },
    ours: ({ x, w, b }) => F.conv1d(x!, w!, b, { stride: 2, padding: 2, dilation: 2, groups: 2 }),
    torch: 'F.conv1d(x, w, b, stride=2, padding=2, dilation=2, groups=2)',
  },
  {
    name: 'convTranspose2d outputPadding/groups/dilation/bias',
    inputs: { x: leaf([2, 4, 3, 4]), w: leaf([4, 3, 3, 2]), b: leaf([6]) },
    ours: ({ x, w, b }) => F.convTranspose2d(x!, w!, b, { stride: [2, 3], padding: [1, 0], outputPadding: [1, 2], dilation: [1, 2], groups: 2 }),
    torch: 'F.conv_transpose2d(x, w, b, stride=(2, 3), padding=(1, 0), output_padding=(1, 2), dilation=(1, 2), groups=2)',
  },
  {
    name: 'maxPool2d ceilMode with padding',
    inputs: { x: leaf([2, 3, 7, 6]) },
    ours: ({ x }) => F.maxPool2d(x!, 3, { stride: 2, padding: 1, ceilMode: true }),
    torch: 'F.max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True)',
  },
  {
    name: 'maxPool2d dilation',
    inputs: { x: leaf([1, 2, 8, 7]) },
    ours: ({ x }) => F.maxPool2d(x!, [2, 3], { stride: [1, 2], dilation: [2, 1] }),
    torch: 'F.max_pool2d(x, (2, 3), stride=(1, 2), dilation=(2, 1))',
  },
  {
    name: 'avgPool2d ceilMode, countIncludePad false',
    inputs: { x: leaf([2, 2, 7, 6]) },
    ours: ({ x }) => F.avgPool2d(x!, 3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }),
    torch: 'F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)',
  },
  {
    name: 'adaptive avg and max pooling',
    inputs: { x: leaf([2, 2, 7, 5]) },
    ours: ({ x }) => F.adaptiveAvgPool2d(x!, [3, 4]).add(F.adaptiveMaxPool2d(x!, [3, 4]).mul(2)),
    torch: 'F.adaptive_avg_pool2d(x, (3, 4)) + 2 * F.adaptive_max_pool2d(x, (3, 4))',
  },
  {
    name: 'batchNorm training updates running stats',
    inputs: { x: leaf([4, 3, 5]), rm: rand([3]), rv: rand([3], 0.5, 2), w: leaf([3]), b: leaf([3]) },
    ours: ({ x, rm, rv, w, b }) => F.batchNorm(x!, rm!, rv!, w!, b!, { training: true, momentum: 0.2, eps: 1e-4 }),
    torch: 'F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.2, eps=1e-4)',
    after: ['rm', 'rv'],
  },
  {
    name: 'batchNorm eval 4-D',
    inputs: { x: leaf([2, 3, 4, 3]), rm: rand([3]), rv: rand([3], 0.5, 2), w: leaf([3]), b: leaf([3]) },
    ours: ({ x, rm, rv, w, b }) => F.batchNorm(x!, rm!, rv!, w!, b!, { eps: 1e-3 }),
    torch: 'F.batch_norm(x, rm, rv, w, b, training=False, eps=1e-3)',
  },
  {
    name: 'layerNorm and groupNorm',
    inputs: { x: leaf([2, 6, 3, 2]), lw: leaf([3, 2]), lb: leaf([3, 2]), gw: leaf([6]), gb: leaf([6]) },
    ours: ({ x, lw, lb, gw, gb }) => F.layerNorm(x!, [3, 2], lw, lb).add(F.groupNorm(x!, 3, gw, gb, 1e-3)),
    torch: 'F.layer_norm(x, (3, 2), lw, lb) + F.group_norm(x, 3, gw, gb, 1e-3)',
  },
  {
    name: 'crossEntropy labelSmoothing + weights + ignoreIndex (mean)',
    inputs: { x: leaf([7, 4]), t: classes([7], 4, -100), cw: rand([4], 0.3, 2) },
    ours: ({ x, t, cw }) => F.crossEntropy(x!, t!, { weight: cw, labelSmoothing: 0.15 }),
    torch: 'F.cross_entropy(x, t, weight=cw, label_smoothing=0.15)',
  },
  {
    name: 'crossEntropy spatial, custom ignoreIndex, sum',
    inputs: { x: leaf([2, 3, 4, 2]), t: classes([2, 4, 2], 3, 5), cw: rand([3], 0.3, 2) },
    ours: ({ x, t, cw }) => F.crossEntropy(x!, t!, { weight: cw, ignoreIndex: 5, labelSmoothing: 0.3, reduction: 'sum' }),
    torch: 'F.cross_entropy(x, t, weight=cw, ignore_index=5, label_smoothing=0.3, reduction="sum")',
  },
  {
    name: 'crossEntropy probabilities, none',
    inputs: { x: leaf([3, 5]), p: F.softmax(rand([3, 5], -2, 2), 1), cw: rand([5], 0.3, 2) },
    ours: ({ x, p, cw }) => F.crossEntropy(x!, p!, { weight: cw, labelSmoothing: 0.1, reduction: 'none' }),
    torch: 'F.cross_entropy(x, p, weight=cw, label_smoothing=0.1, reduction="none")',
  },
  {
    name: 'nllLoss and multiMarginLoss',
    inputs: { x: leaf([5, 4]), t: classes([5], 4), cw: rand([4], 0.3, 2) },
    ours: ({ x, t, cw }) => F.nllLoss(x!, t!, { weight: cw }).add(F.multiMarginLoss(x!, t!, { margin: 0.7, weight: cw })),
    torch: 'F.nll_loss(x, t, weight=cw) + F.multi_margin_loss(x, t, margin=0.7, weight=cw)',
  },
  {
    name: 'smoothL1, huber, mse, l1',
    inputs: { x: leaf([3, 5], -2, 2), y: rand([3, 5], -2, 2) },
    ours: ({ x, y }) => F.smoothL1Loss(x!, y!, { beta: 0.6, reduction: 'none' })
      .add(F.huberLoss(x!, y!, { delta: 0.8, reduction: 'none' })).add(F.mseLoss(x!, y!)).add(F.l1Loss(x!, y!, { reduction: 'sum' })),
    torch: 'F.smooth_l1_loss(x, y, beta=0.6, reduction="none") + F.huber_loss(x, y, delta=0.8, reduction="none") + F.mse_loss(x, y) + F.l1_loss(x, y, reduction="sum")',
  },
  {
    name: 'binaryCrossEntropyWithLogits weight + posWeight',
    inputs: { x: leaf([3, 4], -4, 4), y: rand([3, 4], 0, 1), ew: rand([4], 0, 2), pw: rand([4], 0.5, 3) },
    ours: ({ x, y, ew, pw }) => F.binaryCrossEntropyWithLogits(x!, y!, { weight: ew, posWeight: pw }),
    torch: 'F.binary_cross_entropy_with_logits(x, y, weight=ew, pos_weight=pw)',
  },
  {
    name: 'distillationLoss',
    inputs: { s: leaf([3, 5], -2, 2), tl: rand([3, 5], -2, 2) },
    ours: ({ s, tl }) => F.distillationLoss(s!, tl!, { temperature: 2.5 }),
    torch: '2.5 ** 2 * F.kl_div(F.log_softmax(s / 2.5, 1), F.softmax(tl / 2.5, 1), reduction="batchmean")',
  },
  {
    name: 'interpolate nearest with scaleFactor',
    inputs: { x: leaf([1, 2, 3, 4]) },
    ours: ({ x }) => F.interpolate(x!, { scaleFactor: [1.7, 2.5], mode: 'nearest' }),
    torch: 'F.interpolate(x, scale_factor=(1.7, 2.5), mode="nearest")',
  },
  {
    name: 'interpolate bilinear with size, alignCorners false and true',
    inputs: { x: leaf([2, 2, 3, 4]) },
    ours: ({ x }) => F.interpolate(x!, { size: [5, 7], mode: 'bilinear' }).add(F.interpolate(x!, { size: [5, 7], mode: 'bilinear', alignCorners: true })),
    torch: 'F.interpolate(x, size=(5, 7), mode="bilinear", align_corners=False) + F.interpolate(x, size=(5, 7), mode="bilinear", align_corners=True)',
  },
  {
    name: 'interpolate bilinear downscale by scaleFactor',
    inputs: { x: leaf([1, 2, 7, 6]) },
    ours: ({ x }) => F.interpolate(x!, { scaleFactor: 0.6, mode: 'bilinear' }),
    torch: 'F.interpolate(x, scale_factor=0.6, mode="bilinear", align_corners=False)',
  },
];

const SCRIPT = `
import json, sys, torch
import torch.nn.functional as F
torch.set_default_dtype(torch.float64)
results = []
for case in json.load(sys.stdin):
    ns = {'torch': torch, 'F': F}
    for name, t in case['inputs'].items():
        v = torch.tensor(t['data'], dtype=torch.int64 if t['int'] else torch.float64).reshape(t['shape'])
        ns[name] = v.requires_grad_() if t['grad'] else v
    out = eval(case['torch'], ns)
    upstream = torch.tensor(case['v'], dtype=torch.float64).reshape(out.shape)
    (out * upstream).sum().backward()
    results.append({
        'shape': list(out.shape),
        'out': out.detach().reshape(-1).tolist(),
        'grads': {n: ns[n].grad.reshape(-1).tolist() for n, t in case['inputs'].items() if t['grad']},
        'after': {n: ns[n].detach().reshape(-1).tolist() for n in case['after']},
    })
json.dump(results, sys.stdout)
`;

interface TorchResult {
  shape: number[];
  out: number[];
  grads: Record<string, number[]>;
  after: Record<string, number[]>;
}

describe.skipIf(!torchAvailable)('nn.functional against PyTorch (float64)', () => {
  interface Ours {
    out: Tensor;
    v: Tensor;
    before: Record<string, number[]>;
    grads: Record<string, number[]>;
  }
  let ours: Ours[] = [];
  let torchResults: TorchResult[] = [];

  beforeAll(() => {
    ours = cases.map((c) => {
      const before = Object.fromEntries(Object.entries(c.inputs).map(([n, t]) => [n, vals(t)]));
      const out = c.ours(c.inputs);
      const v = rand([...out.shape]);
      const leaves = Object.entries(c.inputs).filter(([, t]) => t.requiresGrad);
      const grads = grad(out, leaves.map(([, t]) => t), { gradOutputs: [v] });
      return { out, v, before, grads: Object.fromEntries(leaves.map(([n], i) => [n, vals(grads[i]!)])) };
    });
    const payload = cases.map((c, i) => ({
      torch: c.torch,
      after: c.after ?? [],
      v: vals(ours[i]!.v),
      inputs: Object.fromEntries(Object.entries(c.inputs).map(([n, t]) => [n, {
        data: ours[i]!.before[n], shape: t.shape, int: t.dtype === 'int32', grad: t.requiresGrad,
      }])),
    }));
    const run = spawnSync(PYTHON, ['-c', SCRIPT], { input: JSON.stringify(payload), encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 });
    if (run.status !== 0) throw new Error(`python failed (${run.status}): ${run.stderr}`);
    torchResults = JSON.parse(run.stdout) as TorchResult[];
  }, 120_000);

  it.each(cases.map((c, i) => [c.name, i] as const))('%s', (_name, i) => {
    const c = cases[i]!, mine = ours[i]!, ref = torchResults[i]!;
    const opts = { atol: 1e-10, rtol: 1e-9, seed: rng.seed };
    expect([...mine.out.shape]).toEqual(ref.shape);
    expectClose(vals(mine.out), ref.out, { ...opts, label: `${c.name}: output` });
    for (const [n, g] of Object.entries(mine.grads)) expectClose(g, ref.grads[n]!, { ...opts, label: `${c.name}: gradient of ${n}` });
    for (const n of c.after ?? []) expectClose(vals(c.inputs[n]!), ref.after[n]!, { ...opts, label: `${c.name}: ${n} after the call` });
  });
});

if (!torchAvailable) {
  describe('nn.functional against PyTorch', () => {
    it.skip(`skipped: ${PYTHON} cannot import torch (install python3-torch to run the cross-check)`, () => {});
  });
}

/**
 * Infinite logits through the losses and the softmax family, on every test device, in float32 and float64:
 * masked (-inf) logits as attention and constrained decoding produce them, +inf logits, rows that are all
 * -inf (ignored or not), and BCE at ±inf. Expected values are PyTorch 1.13's where it gives the mathematical
 * value; where it does not (a NaN from 0·∞), ours is the limit with 0·log 0 = 0, noted per case as "torch: ...".
 */
import { describe, it } from 'vitest';
import * as tf from '../../lib/index.js';
import type { Tensor } from '../../lib/index.js';
import * as F from '../../lib/nn/functional.js';
import { expectClose } from '../util.js';
import { type TestDevice, forwardBackwardOn, testDevices } from '../devices.js';

const inf = Infinity;
// log_softmax and softmax of the masked rows A = [-inf, 0, 1] and B = [-inf, 2, 0].
const lsA = [-inf, -1.3132616875182228, -0.31326168751822286];
const lsB = [-inf, -0.1269280110429726, -2.1269280110429727];
const sA = [0, 0.26894142136999516, 0.7310585786300049];
const sB = [0, 0.8807970779778823, 0.11920292202211755];
const masked = [[-inf, 0, 1], [-inf, 2, 0]];
const allMaskedFirst = [[-inf, -inf, -inf], [-inf, 0, 1]];

interface Case {
  name: string;
  /** Leaves (float64 values; converted to the dtype under test) and integer operands. */
  inputs: () => Array<{ values: number[][] | number[]; int?: boolean }>;
  fn: (...x: Tensor[]) => Tensor;
  upstream: number[];
  out: number[];
  /** The first input's gradient, flattened; absent: not checked. */
  grad?: number[];
}

const ints = (values: number[]) => ({ values, int: true });
const floats = (values: number[][] | number[]) => ({ values });

/** softmax(row) - onehot(y): the gradient of one sample's cross-entropy. */
const ceGrad = (s: number[], y: number, scale = 1) => s.map((v, c) => scale * (v - (c === y ? 1 : 0)));

const cases: Case[] = [
  {
    name: "crossEntropy, masked logits, class targets, 'none'",
    inputs: () => [floats(masked), ints([1, 2])],
    fn: (x, t) => F.crossEntropy(x, t, { reduction: 'none' }),
    upstream: [1, 1],
    out: [-lsA[1]!, -lsB[2]!],
    grad: [...ceGrad(sA, 1), ...ceGrad(sB, 2)],
  },
  {
    name: "crossEntropy, masked logits, 'mean'",
    inputs: () => [floats(masked), ints([1, 2])],
    fn: (x, t) => F.crossEntropy(x, t),
    upstream: [1],
    out: [(-lsA[1]! - lsB[2]!) / 2],
    grad: [...ceGrad(sA, 1, 0.5), ...ceGrad(sB, 2, 0.5)],
  },
  {
    name: "nllLoss(logSoftmax(x)) over masked logits, 'sum'",
    inputs: () => [floats(masked), ints([1, 2])],
    fn: (x, t) => F.nllLoss(F.logSoftmax(x, 1), t, { reduction: 'sum' }),
    upstream: [1],
    out: [-lsA[1]! - lsB[2]!],
    grad: [...ceGrad(sA, 1), ...ceGrad(sB, 2)],
  },
  {
    name: 'crossEntropy, the target on a -inf logit: +inf, finite gradient',
    inputs: () => [floats(masked), ints([0, 1])],
    fn: (x, t) => F.crossEntropy(x, t, { reduction: 'none' }),
    upstream: [1, 1],
    out: [inf, -lsB[1]!],
    grad: [...ceGrad(sA, 0), ...ceGrad(sB, 1)],
  },
  {
    // Smoothing puts mass e / C on the masked class: the loss is +inf, as torch's.
    name: 'crossEntropy, masked logits with labelSmoothing 0.1',
    inputs: () => [floats(masked), ints([1, 2])],
    fn: (x, t) => F.crossEntropy(x, t, { labelSmoothing: 0.1 }),
    upstream: [1],
    out: [inf],
    grad: [-0.016666666666666666, -0.3321959559816691, 0.3488626226483358, -0.016666666666666666, 0.4237318723222745, -0.4070652056556079],
  },
  {
    name: "crossEntropy, masked logits, probability targets without mass there, 'none' (torch: NaN)",
    inputs: () => [floats(masked), floats([[0, 0.5, 0.5], [0, 0, 1]])],
    fn: (x, p) => F.crossEntropy(x, p, { reduction: 'none' }),
    upstream: [1, 1],
    out: [-(lsA[1]! + lsA[2]!) / 2, -lsB[2]!],
    grad: [0, -0.2310585786300049, 0.2310585786300049, 0, 0.8807970779778823, -0.8807970779778824],
  },
  {
    name: "crossEntropy, probability mass on a masked class: +inf (torch: the other row NaN)",
    inputs: () => [floats(masked), floats([[0.5, 0.5, 0], [0, 0, 1]])],
    fn: (x, p) => F.crossEntropy(x, p, { reduction: 'none' }),
    upstream: [1, 1],
    out: [inf, -lsB[2]!],
    grad: [-0.5, -0.2310585786300049, 0.7310585786300049, 0, 0.8807970779778823, -0.8807970779778824],
  },
  {
    name: 'crossEntropy, class weight 0 on a masked target adds nothing (torch: NaN)',
    inputs: () => [floats(masked), ints([0, 1]), floats([0, 1, 1])],
    fn: (x, t, w) => F.crossEntropy(x, t, { weight: w, reduction: 'sum' }),
    upstream: [1],
    out: [-lsB[1]!],
    grad: [0, 0, 0, ...ceGrad(sB, 1)],
  },
  {
    name: "crossEntropy, an all -inf row ignored: excluded from 'mean', zero gradient (torch: NaN gradient)",
    inputs: () => [floats(allMaskedFirst), ints([-100, 1])],
    fn: (x, t) => F.crossEntropy(x, t),
    upstream: [1],
    out: [-lsA[1]!],
    grad: [0, 0, 0, ...ceGrad(sA, 1)],
  },
  {
    name: "crossEntropy, an all -inf row ignored, 'none' and labelSmoothing 0.1",
    inputs: () => [floats(allMaskedFirst), ints([-100, 1])],
    fn: (x, t) => F.crossEntropy(x, t, { reduction: 'none', labelSmoothing: 0.1 }),
    upstream: [1, 1],
    out: [0, inf],
    grad: [0, 0, 0, -0.03333333333333333, -0.6643919119633382, 0.6977252452966716],
  },
  {
    // Undefined rows stay NaN, as torch's: softmax of an all -inf row or of a row with +inf.
    name: 'crossEntropy, an all -inf row kept and a +inf row: NaN',
    inputs: () => [floats([[-inf, -inf, -inf], [inf, 0, 1]]), ints([0, 1])],
    fn: (x, t) => F.crossEntropy(x, t, { reduction: 'none' }),
    upstream: [1, 1],
    out: [NaN, NaN],
    grad: [NaN, NaN, NaN, NaN, NaN, NaN],
  },
  {
    name: "nllLoss, a -inf log-probability at the target: +inf, ignored rows 0, 'none'",
    inputs: () => [floats([[-inf, 0, -1], [-inf, -inf, -inf], [-inf, -0.5, -1]]), ints([0, -100, 1])],
    fn: (x, t) => F.nllLoss(x, t, { reduction: 'none' }),
    upstream: [1, 1, 1],
    out: [inf, 0, 0.5],
    grad: [-1, 0, 0, 0, 0, 0, 0, -1, 0],
  },
  {
    name: "multiMarginLoss, a masked class costs nothing, 'none'",
    inputs: () => [floats([[-inf, 0, 1], [0, 1, 0.5]]), ints([1, 2])],
    fn: (x, t) => F.multiMarginLoss(x, t, { reduction: 'none' }),
    upstream: [1, 1],
    out: [2 / 3, 2 / 3],
    grad: [0, -1 / 3, 1 / 3, 1 / 3, 1 / 3, -2 / 3],
  },
  {
    name: 'multiMarginLoss, class weight 0 on a masked target adds nothing (torch: NaN)',
    inputs: () => [floats([[-inf, 0, 1], [0, 1, 0.5]]), ints([0, 2]), floats([0, 1, 1])],
    fn: (x, t, w) => F.multiMarginLoss(x, t, { weight: w, reduction: 'sum' }),
    upstream: [1],
    out: [2 / 3],
    grad: [0, 0, 0, 1 / 3, 1 / 3, -2 / 3],
  },
  {
    name: 'binaryCrossEntropyWithLogits at ±inf (torch: NaN where the 0-weighted term is infinite)',
    inputs: () => [floats([inf, -inf, inf, -inf, inf, -inf]), floats([1, 0, 0, 1, 0.5, 0.5])],
    fn: (x, t) => F.binaryCrossEntropyWithLogits(x, t, { reduction: 'none' }),
    upstream: [1, 1, 1, 1, 1, 1],
    out: [0, 0, inf, inf, inf, inf],
    grad: [0, 0, 1, -1, 0.5, -0.5],
  },
  {
    name: 'binaryCrossEntropyWithLogits at ±inf with posWeight 2',
    inputs: () => [floats([inf, -inf, inf, -inf, inf, -inf]), floats([1, 0, 0, 1, 0.5, 0.5]), floats([2])],
    fn: (x, t, pw) => F.binaryCrossEntropyWithLogits(x, t, { reduction: 'none', posWeight: pw }),
    upstream: [1, 1, 1, 1, 1, 1],
    out: [0, 0, inf, inf, inf, inf],
    grad: [0, 0, 1, -2, 0.5, -1],
  },
  {
    name: 'softmax of masked rows and its backward',
    inputs: () => [floats(masked)],
    fn: (x) => F.softmax(x, 1),
    upstream: [1, 2, 3, 3, 2, 1],
    out: [...sA, ...sB],
    grad: [[...sA], [...sB]].flatMap((s, r) => {
      const g = r === 0 ? [1, 2, 3] : [3, 2, 1];
      const dot = s.reduce((a, v, c) => a + v * g[c]!, 0);
      return s.map((v, c) => v * (g[c]! - dot));
    }),
  },
  {
    name: 'logSoftmax of masked rows and its backward',
    inputs: () => [floats(masked)],
    fn: (x) => F.logSoftmax(x, 1),
    upstream: [0, 1, 0, 0, 0, 1],
    out: [...lsA, ...lsB],
    grad: [0, 1 - sA[1]!, -sA[2]!, 0, -sB[1]!, 1 - sB[2]!],
  },
  {
    name: 'softmax and logSoftmax of an all -inf row and of a row with +inf: NaN, as torch',
    inputs: () => [floats([[-inf, -inf, -inf], [inf, 0, -inf]])],
    fn: (x) => F.softmax(x, 1).add(F.logSoftmax(x, 1)),
    upstream: [1, 1, 1, 1, 1, 1],
    out: [NaN, NaN, NaN, NaN, NaN, NaN],
    grad: [NaN, NaN, NaN, NaN, NaN, NaN],
  },
  {
    name: 'logsumexp of masked, all -inf and +inf rows',
    inputs: () => [floats([[-inf, 0, 1], [-inf, -inf, -inf], [inf, 0, -inf]])],
    fn: (x) => tf.logsumexp(x, 1),
    upstream: [1, 1, 1],
    out: [-lsA[1]!, -inf, inf],
    grad: [...sA, NaN, NaN, NaN, NaN, 0, 0],
  },
  {
    // A NaN is never hidden behind an infinite maximum.
    name: 'logsumexp of rows with NaN beside ±inf: NaN',
    inputs: () => [floats([[inf, NaN, 0], [-inf, NaN, -inf]])],
    fn: (x) => tf.logsumexp(x, 1),
    upstream: [1, 1],
    out: [NaN, NaN],
  },
  {
    name: 'distillationLoss with masked teacher and student logits (torch: NaN loss)',
    inputs: () => [floats([[-inf, 0, 1], [0, 1, 2]]), floats([[-inf, 0, 1], [-inf, 1, 2]])],
    fn: (s, t) => F.distillationLoss(s, t),
    upstream: [1],
    out: [0.0943442769261577 / 2],
    grad: [0, 0, 0, 0.045015286585190224, -0.012106475157598773, -0.032908811427591556],
  },
];

/** The case's inputs in `dtype`: leaves require grad except integer operands; the first is the checked one. */
function build(c: Case, dtype: 'float32' | 'float64'): Tensor[] {
  return c.inputs().map(({ values, int }, i) => {
    const rows = values as number[] | number[][];
    const shape = Array.isArray(rows[0]) ? [rows.length, (rows[0] as number[]).length] : [rows.length];
    const flat = Float64Array.from((rows as Array<number | number[]>).flat());
    if (int) return tf.tensor(Int32Array.from(flat), { shape });
    const t = tf.tensor(flat, { shape }).to(dtype);
    return i === 0 ? t.requiresGrad_() : t;
  });
}

describe.each(testDevices)('infinite logits on %s', (device: TestDevice) => {
  for (const dtype of ['float32', 'float64'] as const) {
    const tol = dtype === 'float32' ? { atol: 1e-6, rtol: 1e-6 } : { atol: 1e-14, rtol: 1e-13 };
    it.each(cases.map((c) => [c.name, c] as const))(`${dtype}: %s`, (_name, c) => {
      const { out, grads } = forwardBackwardOn(device, c.fn, build(c, dtype), Float64Array.from(c.upstream));
      expectClose(out, c.out, { ...tol, label: `${c.name}: output` });
      if (c.grad) expectClose(grads[0]!, c.grad, { ...tol, label: `${c.name}: gradient` });
    });
  }
});

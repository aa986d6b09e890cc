import { describe, expect, it } from 'vitest';
import * as F from '../../lib/nn/functional.js';
import { Tensor } from '../../lib/tensor.js';
import { noGrad } from '../../lib/autograd/mode.js';
import { manualSeed } from '../../lib/random.js';
import { expectClose, makeRng, randomArray, type Rng } from '../util.js';

const rng = makeRng();
const seed = rng.seed;
const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** A fresh float64 tensor uniform in [lo, hi). */
function rand64(shape: number[], lo = -1, hi = 1, r: Rng = rng): Tensor {
  return Tensor.fromArray(randomArray(Float64Array, numel(shape), r, lo, hi), shape);
}
const param = (shape: number[], lo = -1, hi = 1): Tensor => rand64(shape, lo, hi).requiresGrad_();
const ints = (values: number[], shape = [values.length]): Tensor => Tensor.fromArray(Int32Array.from(values), shape);
const vals = (t: Tensor): number[] => Array.from(t.contiguous().dataSync() as Float64Array);

type P2 = [number, number];

/** Naive float64 cross-correlation with per-side padding (top, left) and an explicit output size. */
function refConv2d(
  x: Tensor, w: Tensor, bias: Tensor | null, stride: P2, padTL: P2, dilation: P2, groups: number, out: P2,
): number[] {
  const [N, C, H, W] = x.shape as number[], [K, Cg, R, S] = w.shape as number[];
  const xv = vals(x), wv = vals(w), bv = bias ? vals(bias) : null;
  const y = new Array<number>(N! * K! * out[0] * out[1]).fill(0);
  const Kg = K! / groups;
  for (let n = 0; n < N!; n++)
    for (let k = 0; k < K!; k++)
      for (let p = 0; p < out[0]; p++)
        for (let q = 0; q < out[1]; q++) {
          let acc = bv ? bv[k]! : 0;
          for (let c = 0; c < Cg!; c++)
            for (let r = 0; r < R!; r++)
              for (let s = 0; s < S!; s++) {
                const h = p * stride[0] - padTL[0] + r * dilation[0], v = q * stride[1] - padTL[1] + s * dilation[1];
                if (h < 0 || h >= H! || v < 0 || v >= W!) continue;
                const ci = Math.floor(k / Kg) * Cg! + c;
                acc += xv[((n * C! + ci) * H! + h) * W! + v]! * wv[((k * Cg! + c) * R! + r) * S! + s]!;
              }
          y[((n * K! + k) * out[0] + p) * out[1] + q] = acc;
        }
  return y;
}

/** Naive transposed convolution: every input element scatters weight · x into the output. */
function refConvTranspose2d(
  x: Tensor, w: Tensor, bias: Tensor | null, stride: P2, pad: P2, dilation: P2, outputPadding: P2, groups: number,
): { y: number[]; shape: number[] } {
  const [N, Cin, H, W] = x.shape as number[], [, Coutg, R, S] = w.shape as number[];
  const Cout = Coutg! * groups, Cing = Cin! / groups;
  const Ho = (H! - 1) * stride[0] - 2 * pad[0] + dilation[0] * (R! - 1) + outputPadding[0] + 1;
  const Wo = (W! - 1) * stride[1] - 2 * pad[1] + dilation[1] * (S! - 1) + outputPadding[1] + 1;
  const xv = vals(x), wv = vals(w), bv = bias ? vals(bias) : null;
  const y = new Array<number>(N! * Cout * Ho * Wo).fill(0);
  for (let n = 0; n < N!; n++)
    for (let co = 0; co < Cout; co++) for (let i = 0; i < Ho * Wo; i++) y[(n * Cout + co) * Ho * Wo + i] = bv ? bv[co]! : 0;
  for (let n = 0; n < N!; n++)
    for (let ci = 0; ci < Cin!; ci++)
      for (let i = 0; i < H!; i++)
        for (let j = 0; j < W!; j++)
          for (let co = 0; co < Coutg!; co++)
            for (let r = 0; r < R!; r++)
              for (let s = 0; s < S!; s++) {
                const oh = i * stride[0] - pad[0] + r * dilation[0], ow = j * stride[1] - pad[1] + s * dilation[1];
                if (oh < 0 || oh >= Ho || ow < 0 || ow >= Wo) continue;
                const oc = Math.floor(ci / Cing) * Coutg! + co;
                y[((n * Cout + oc) * Ho + oh) * Wo + ow]! += xv[((n * Cin! + ci) * H! + i) * W! + j]! * wv[((ci * Coutg! + co) * R! + r) * S! + s]!;
              }
  return { y, shape: [N!, Cout, Ho, Wo] };
}

describe('nn.functional forward values against float64 references', () => {
  it('conv2d with stride, dilation, groups and bias', () => {
    const x = rand64([2, 4, 9, 7]), w = rand64([6, 2, 3, 2]), b = rand64([6]);
    const y = F.conv2d(x, w, b, { stride: [2, 1], padding: [1, 2], dilation: [1, 2], groups: 2 });
    const out: P2 = [Math.floor((9 + 2 - 2 - 1) / 2) + 1, 7 + 4 - 2 - 1 + 1];
    expect(y.shape).toEqual([2, 6, ...out]);
    expectClose(vals(y), refConv2d(x, w, b, [2, 1], [1, 2], [1, 2], 2, out), { atol: 1e-12, seed });
  });

  it("conv2d 'same' keeps the size, with odd totals padded bottom/right like PyTorch", () => {
    for (const [R, S, dil] of [[2, 4, [1, 1]], [3, 2, [2, 3]], [4, 3, [1, 2]]] as Array<[number, number, P2]>) {
      const x = rand64([1, 3, 6, 5]), w = rand64([2, 3, R, S]);
      const y = F.conv2d(x, w, null, { padding: 'same', dilation: dil });
      expect(y.shape).toEqual([1, 2, 6, 5]);
      const pad: P2 = [Math.floor((dil[0] * (R - 1)) / 2), Math.floor((dil[1] * (S - 1)) / 2)];
      expectClose(vals(y), refConv2d(x, w, null, [1, 1], pad, dil, 1, [6, 5]), { atol: 1e-12, seed, label: `k ${R}x${S} d ${dil}` });
    }
    const x = rand64([1, 2, 5, 5]), w = rand64([3, 2, 3, 3]);
    expectClose(vals(F.conv2d(x, w, null, { padding: 'valid' })), vals(F.conv2d(x, w)), { atol: 0 });
  });

  it('conv1d equals a height-1 conv2d reference', () => {
    const x = rand64([2, 4, 11]), w = rand64([6, 2, 3]), b = rand64([6]);
    const y = F.conv1d(x, w, b, { stride: 2, padding: 1, dilation: 2, groups: 2 });
    const L = Math.floor((11 + 2 - 4 - 1) / 2) + 1;
    expect(y.shape).toEqual([2, 6, L]);
    const ref = refConv2d(x.reshape([2, 4, 1, 11]), w.reshape([6, 2, 1, 3]), b, [1, 2], [0, 1], [1, 2], 2, [1, L]);
    expectClose(vals(y), ref, { atol: 1e-12, seed });
    const same = F.conv1d(x, w, null, { padding: 'same', dilation: 3, groups: 2 });
    expect(same.shape).toEqual([2, 6, 11]);
    expectClose(vals(same), refConv2d(x.reshape([2, 4, 1, 11]), w.reshape([6, 2, 1, 3]), null, [1, 1], [0, 3], [1, 3], 2, [1, 11]), { atol: 1e-12, seed });
  });

  it('convTranspose2d equals the scatter reference (stride, padding, outputPadding, dilation, groups)', () => {
    const cases: Array<{ x: number[]; w: number[]; s: P2; p: P2; d: P2; op: P2; g: number }> = [
      { x: [2, 3, 4, 5], w: [3, 2, 3, 3], s: [2, 2], p: [1, 0], d: [1, 1], op: [1, 0], g: 1 },
      { x: [1, 4, 3, 3], w: [4, 3, 2, 3], s: [3, 2], p: [0, 1], d: [2, 1], op: [2, 1], g: 2 },
      { x: [1, 2, 5, 4], w: [2, 1, 3, 1], s: [1, 1], p: [1, 0], d: [1, 1], op: [0, 0], g: 2 },
    ];
    for (const c of cases) {
      const x = rand64(c.x), w = rand64(c.w), b = rand64([c.w[1]! * c.g]);
      const y = F.convTranspose2d(x, w, b, { stride: c.s, padding: c.p, dilation: c.d, outputPadding: c.op, groups: c.g });
      const ref = refConvTranspose2d(x, w, b, c.s, c.p, c.d, c.op, c.g);
      expect(y.shape).toEqual(ref.shape);
      expectClose(vals(y), ref.y, { atol: 1e-12, seed, label: JSON.stringify(c) });
    }
  });

  it('linear over batch dims reads the weight through a transposed view', () => {
    const x = rand64([2, 3, 5]), w = rand64([4, 5]), b = rand64([4]);
    const y = F.linear(x, w, b);
    expect(y.shape).toEqual([2, 3, 4]);
    const xv = vals(x), wv = vals(w), bv = vals(b);
    const ref: number[] = [];
    for (let r = 0; r < 6; r++) for (let o = 0; o < 4; o++) ref.push(bv[o]! + [0, 1, 2, 3, 4].reduce((a, i) => a + xv[r * 5 + i]! * wv[o * 5 + i]!, 0));
    expectClose(vals(y), ref, { atol: 1e-12, seed });
    expectClose(vals(F.linear(rand64([5]).mul(0).add(1), w)), [0, 1, 2, 3].map((o) => [0, 1, 2, 3, 4].reduce((a, i) => a + wv[o * 5 + i]!, 0)), { atol: 1e-12 });
  });

  it('foldBatchNorm: conv → batchNorm(eval) equals the folded conv', () => {
    const x = rand64([2, 3, 6, 5]), w = rand64([4, 3, 3, 3]), b = rand64([4]);
    const bn = { runningMean: rand64([4]), runningVar: rand64([4], 0.5, 2), weight: rand64([4]), bias: rand64([4]), eps: 1e-3 };
    const ref = F.batchNorm(F.conv2d(x, w, b, { padding: 1 }), bn.runningMean, bn.runningVar, bn.weight, bn.bias, { eps: bn.eps });
    const folded = F.foldBatchNorm(w, b, bn);
    expectClose(vals(F.conv2d(x, folded.weight, folded.bias, { padding: 1 })), vals(ref), { atol: 1e-12, rtol: 1e-12, seed });
    const plain = F.foldBatchNorm(w, null, { ...bn, weight: null, bias: null });
    const ref2 = F.batchNorm(F.conv2d(x, w), bn.runningMean, bn.runningVar, null, null, { eps: bn.eps });
    expectClose(vals(F.conv2d(x, plain.weight, plain.bias)), vals(ref2), { atol: 1e-12, rtol: 1e-12, seed });
  });

  it('batchNorm training normalizes per channel and updates running stats with the unbiased variance', () => {
    const x = rand64([3, 2, 4]);
    const rm = rand64([2]), rv = rand64([2], 0.5, 1.5);
    const rm0 = vals(rm), rv0 = vals(rv), v0 = rm.storage.version;
    const y = F.batchNorm(x, rm, rv, null, null, { training: true, momentum: 0.3, eps: 1e-5 });
    const xv = vals(x);
    for (let c = 0; c < 2; c++) {
      const xs = [0, 1, 2].flatMap((n) => [0, 1, 2, 3].map((l) => xv[(n * 2 + c) * 4 + l]!));
      const mean = xs.reduce((a, v) => a + v, 0) / 12;
      const ss = xs.reduce((a, v) => a + (v - mean) ** 2, 0);
      expect(rm.dataSync()[c]).toBeCloseTo(0.7 * rm0[c]! + 0.3 * mean, 12);
      expect(rv.dataSync()[c]).toBeCloseTo(0.7 * rv0[c]! + 0.3 * (ss / 11), 12);
      const yv = vals(y);
      [0, 1, 2].forEach((n) => [0, 1, 2, 3].forEach((l) => {
        const i = (n * 2 + c) * 4 + l;
        expect(yv[i]).toBeCloseTo((xv[i]! - mean) / Math.sqrt(ss / 12 + 1e-5), 10);
      }));
    }
    expect(rm.storage.version).toBeGreaterThan(v0);
  });

  it('batchNorm with relu: true equals relu(batchNorm()), and with a residual relu(batchNorm() + r), in value and gradients, training and eval', () => {
    for (const training of [true, false]) {
      // gamma of either sign and small shifts: every channel's output has values on both sides of 0
      const x = rand64([4, 3, 5, 2], -2, 2), rm = rand64([3]), rv = rand64([3], 0.5, 2);
      const w = Tensor.fromArray(Float64Array.from([1, -1, 0.5]), [3]), b = rand64([3], -0.2, 0.2);
      const g = rand64([4, 3, 5, 2]);
      const run = (fused: boolean) => {
        const [xg, wg, bg] = [x, w, b].map((t) => t.clone().requiresGrad_());
        const [rmc, rvc] = [rm.clone(), rv.clone()];
        const y = fused
          ? F.batchNorm(xg!, rmc, rvc, wg!, bg!, { training, relu: true })
          : F.batchNorm(xg!, rmc, rvc, wg!, bg!, { training }).relu();
        y.mul(g).sum().backward();
        return [y, xg!.grad!, wg!.grad!, bg!.grad!, rmc, rvc].map(vals);
      };
      const [fused, composed] = [run(true), run(false)];
      expect(fused[0]!.some((v) => v === 0) && fused[0]!.some((v) => v > 0)).toBe(true);
      for (let i = 0; i < fused.length; i++) expectClose(fused[i]!, composed[i]!, { atol: 1e-12, seed, label: `training ${training} #${i}` });
      // and with a residual added before the ReLU, the residual's gradient included
      const r = rand64([4, 3, 5, 2]);
      const runResidual = (fusedAdd: boolean) => {
        const [xg, wg, bg, rg] = [x, w, b, r].map((t) => t.clone().requiresGrad_());
        const y = fusedAdd
          ? F.batchNorm(xg!, rm.clone(), rv.clone(), wg!, bg!, { training, relu: true, residual: rg! })
          : F.batchNorm(xg!, rm.clone(), rv.clone(), wg!, bg!, { training }).add(rg!).relu();
        y.mul(g).sum().backward();
        return [y, xg!.grad!, wg!.grad!, bg!.grad!, rg!.grad!].map(vals);
      };
      const [withAdd, addComposed] = [runResidual(true), runResidual(false)];
      for (let i = 0; i < withAdd.length; i++) expectClose(withAdd[i]!, addComposed[i]!, { atol: 1e-12, seed, label: `residual, training ${training} #${i}` });
    }
  });

  it('batchNormRelu equals relu(batchNorm(eval)); a saved running stat modified in place fails backward', () => {
    const x = rand64([2, 3, 4, 3]), rm = rand64([3]), rv = rand64([3], 0.5, 2), w = rand64([3]), b = rand64([3]);
    const ref = vals(F.batchNorm(x, rm, rv, w, b)).map((v) => Math.max(v, 0));
    expectClose(vals(F.batchNormRelu(x, rm, rv, w, b)), ref, { atol: 1e-12, seed });
    const xg = x.clone().requiresGrad_();
    expectClose(vals(F.batchNormRelu(xg, rm, rv, w, b)), ref, { atol: 1e-12, seed });
    const y = F.batchNorm(xg, rm, rv, w, b);
    noGrad(() => rm.add_(1));
    expect(() => y.sum().backward()).toThrow(/modified by an in-place operation/);
  });

  it('dropout: reproducible under manualSeed, scaled survivors, identity when not training', () => {
    const x = rand64([40, 50], 1, 2);
    manualSeed(11);
    const a = vals(F.dropout(x, 0.3));
    manualSeed(11);
    expect(vals(F.dropout(x, 0.3))).toEqual(a);
    const xv = vals(x);
    let kept = 0;
    a.forEach((v, i) => {
      if (v !== 0) {
        kept++;
        expect(v).toBeCloseTo(xv[i]! / 0.7, 12);
      }
    });
    expect(kept / a.length).toBeGreaterThan(0.65);
    expect(kept / a.length).toBeLessThan(0.75);
    expect(F.dropout(x, 0.3, false)).toBe(x);
    expect(F.dropout(x, 0)).toBe(x);
    expect(vals(F.dropout(x, 1)).every((v) => v === 0)).toBe(true);
    const d2 = F.dropout2d(rand64([4, 6, 3, 2], 1, 2), 0.5);
    for (let plane = 0; plane < 24; plane++) {
      const p = vals(d2).slice(plane * 6, plane * 6 + 6);
      expect(p.every((v) => v === 0) || p.every((v) => v !== 0)).toBe(true);
    }
  });

  it('pooling shapes and globalAvgPool2d', () => {
    const x = rand64([2, 3, 7, 6]);
    expect(F.maxPool2d(x, 3, { stride: 2, ceilMode: true }).shape).toEqual([2, 3, 3, 3]);
    expect(F.maxPool2d(x, [2, 3]).shape).toEqual([2, 3, 3, 2]);
    expect(F.avgPool2d(x, 3, { stride: 2, padding: 1 }).shape).toEqual([2, 3, 4, 3]);
    const { values, indices } = F.maxPool2dWithIndices(x, 2);
    expect(indices.dtype).toBe('int32');
    const xv = vals(x);
    Array.from(indices.dataSync()).forEach((idx, i) => {
      const plane = Math.floor(i / 9);
      expect(values.dataSync()[i]).toBe(xv[plane * 42 + idx]);
    });
    const g = F.globalAvgPool2d(x);
    expect(g.shape).toEqual([2, 3]);
    expectClose(vals(g), vals(F.adaptiveAvgPool2d(x, 1)), { atol: 1e-12 });
    expect(F.adaptiveMaxPool2d(x, [3, 2]).shape).toEqual([2, 3, 3, 2]);
  });

  it('embedding gathers rows for any index shape', () => {
    const w = rand64([5, 3]);
    const e = F.embedding(ints([4, 0, 2, 2, 1, 3], [2, 3]), w);
    expect(e.shape).toEqual([2, 3, 3]);
    const wv = vals(w);
    expect(vals(e)).toEqual([4, 0, 2, 2, 1, 3].flatMap((r) => wv.slice(r * 3, r * 3 + 3)));
  });

  it('losses: reductions, ignoreIndex and probability targets', () => {
    const x = rand64([4, 3]);
    const t = ints([0, -100, 2, 1]);
    const none = vals(F.crossEntropy(x, t, { reduction: 'none' }));
    const xv = vals(x);
    const logp = (n: number, c: number) => {
      const row = xv.slice(n * 3, n * 3 + 3), m = Math.max(...row);
      return row[c]! - m - Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
    };
    expectClose(none, [-logp(0, 0), 0, -logp(2, 2), -logp(3, 1)], { atol: 1e-12 });
    expect(F.crossEntropy(x, t).item()).toBeCloseTo((none[0]! + none[2]! + none[3]!) / 3, 12);
    expect(F.crossEntropy(x, t, { reduction: 'sum' }).item()).toBeCloseTo(none[0]! + none[2]! + none[3]!, 12);
    const onehot = Tensor.fromArray(Float64Array.from([1, 0, 0, 0, 0, 1, 0, 0, 1, 0, 1, 0]), [4, 3]);
    const hard = ints([0, 2, 2, 1]);
    expect(F.crossEntropy(x, onehot).item()).toBeCloseTo(F.crossEntropy(x, hard).item(), 12);
    expect(F.nllLoss(F.logSoftmax(x, 1), hard).item()).toBeCloseTo(F.crossEntropy(x, hard).item(), 12);
    const a = rand64([2, 5]), b = rand64([2, 5]);
    const d = vals(a).map((v, i) => v - vals(b)[i]!);
    expect(F.mseLoss(a, b).item()).toBeCloseTo(d.reduce((s, v) => s + v * v, 0) / 10, 12);
    expect(F.l1Loss(a, b, { reduction: 'sum' }).item()).toBeCloseTo(d.reduce((s, v) => s + Math.abs(v), 0), 12);
    expect(F.l1Penalty([a, b]).item()).toBeCloseTo([...vals(a), ...vals(b)].reduce((s, v) => s + Math.abs(v), 0), 12);
  });
});

// Gradcheck and argument-error cases of every nn.functional op live in ./functional_cases.ts and run
// from the op table in test/tensor/ops.test.ts.
describe('nn.functional gradients', () => {
  it('gradients reach only the input: no teacher gradient, none for integer targets', () => {
    const s = param([2, 3]), teacher = param([2, 3]);
    F.distillationLoss(s, teacher, { temperature: 2 }).backward();
    expect(s.grad).not.toBeNull();
    expect(teacher.grad).toBeNull();
    const x = param([2, 3]), t = ints([1, 2]);
    F.crossEntropy(x, t).backward();
    expect(x.grad!.shape).toEqual([2, 3]);
    expect(t.requiresGrad).toBe(false);
  });
});

/**
 * The fused loss kernels as tensor functions. Each loss binds its operands once and gives a forward (the
 * reduced loss as a 0-d tensor, or per-sample losses for 'none') and a backward (the input's gradient from
 * the upstream one), computed on the operands' device: on cuda the loss stays on the device.
 */
import { native } from '../native.js';
import type { AnyBuffer } from '../bindings/elementwise.js';
import type { LossReduction } from '../bindings/loss.js';
import type { Tensor } from '../tensor.js';
import { asOp, commonDevice, denseBuffer, uninitialized } from './runtime.js';
import { kernelFamily } from './family.js';

/** This module's kernel family: its entry points and how each device runs them (see family.ts). */
export const lossFamily = kernelFamily('loss', [
  'crossEntropyForward', 'crossEntropyBackward', 'crossEntropyProbForward', 'crossEntropyProbBackward', 'nllForward', 'nllBackward',
  'multiMarginForward', 'multiMarginBackward', 'mseLossForward', 'mseLossBackward', 'l1LossForward', 'l1LossBackward',
  'smoothL1LossForward', 'smoothL1LossBackward', 'huberLossForward', 'huberLossBackward', 'bceWithLogitsForward',
  'bceWithLogitsBackward', 'klDivDistillForward', 'klDivDistillBackward',
], { cpu: 'native', cuda: 'native' });

export type { LossReduction } from '../bindings/loss.js';

/** A loss on native buffers: forward writes per-sample losses and/or the reduced loss (either may be null). */
interface NativeLoss {
  forward(losses: AnyBuffer | null, loss: AnyBuffer | null): void;
  backward(gradOut: AnyBuffer, gradIn: AnyBuffer): void;
}

/** A fused loss bound to its input and operands, on their device. */
export interface LossKernel {
  /** A 0-d loss, or for 'none' the per-sample losses of `sampleShape`. */
  forward(sampleShape: readonly number[]): Tensor;
  /** The input's gradient (its shape) from the upstream gradient g (the forward's shape). */
  backward(g: Tensor): Tensor;
}

type Operands = ReadonlyArray<Tensor | null>;
type Buffers = ReadonlyArray<AnyBuffer | null>;

/**
 * The loss `op` over the entry points `${entry}Forward` and `${entry}Backward`, whose errors (a class target
 * out of range, checked natively) name `op` and `${op} backward`, the calls the user made.
 */
function lossKernel(op: string, entry: string, reduction: LossReduction, input: Tensor, operands: Operands, bind: (x: AnyBuffer, o: Buffers) => NativeLoss): LossKernel {
  const device = commonDevice(op, [input, ...operands]);
  const loss = () => bind(denseBuffer(input), operands.map((t) => t && denseBuffer(t)));
  return {
    forward: (sampleShape) => {
      const out = uninitialized(reduction === 'none' ? sampleShape : [], input.dtype, device);
      const buffer = denseBuffer(out);
      asOp(op, `${entry}Forward`, () => (reduction === 'none' ? loss().forward(buffer, null) : loss().forward(null, buffer)));
      return out;
    },
    backward: (g) => {
      commonDevice(`${op} backward`, [g, input]);
      const gx = uninitialized(input.shape, input.dtype, device);
      asOp(`${op} backward`, `${entry}Backward`, () => loss().backward(denseBuffer(g), denseBuffer(gx)));
      return gx;
    },
  };
}

/** Class scores (N, C, L) with int32 class targets (N, L) and optional class weights (C). */
export interface ClassLossArgs {
  N: number;
  C: number;
  L: number;
  ignoreIndex: number;
  reduction: LossReduction;
}

export function crossEntropyK(input: Tensor, target: Tensor, weight: Tensor | null, labelSmoothing: number, a: ClassLossArgs): LossKernel {
  return lossKernel('crossEntropy', 'crossEntropy', a.reduction, input, [target, weight], (x, [t, w]) => ({
    forward: (losses, loss) => native.crossEntropyForward(x, t!, a.N, a.C, a.L, w, a.ignoreIndex, labelSmoothing, a.reduction, losses, loss),
    backward: (gy, gx) => native.crossEntropyBackward(x, t!, a.N, a.C, a.L, w, a.ignoreIndex, labelSmoothing, a.reduction, gy, gx),
  }));
}

/** Cross-entropy with class-probability targets of the input's shape (ignoreIndex unused). */
export function crossEntropyProbK(input: Tensor, target: Tensor, weight: Tensor | null, labelSmoothing: number, a: ClassLossArgs): LossKernel {
  return lossKernel('crossEntropy', 'crossEntropyProb', a.reduction, input, [target, weight], (x, [t, w]) => ({
    forward: (losses, loss) => native.crossEntropyProbForward(x, t!, a.N, a.C, a.L, w, labelSmoothing, a.reduction, losses, loss),
    backward: (gy, gx) => native.crossEntropyProbBackward(x, t!, a.N, a.C, a.L, w, labelSmoothing, a.reduction, gy, gx),
  }));
}

export function nllK(input: Tensor, target: Tensor, weight: Tensor | null, a: ClassLossArgs): LossKernel {
  return lossKernel('nllLoss', 'nll', a.reduction, input, [target, weight], (x, [t, w]) => ({
    forward: (losses, loss) => native.nllForward(x, t!, a.N, a.C, a.L, w, a.ignoreIndex, a.reduction, losses, loss),
    backward: (gy, gx) => native.nllBackward(t!, a.N, a.C, a.L, w, a.ignoreIndex, a.reduction, gy, gx),
  }));
}

/** Multi-class hinge over input (N, C) with int32 targets (N) and optional class weights (C). */
export function multiMarginK(input: Tensor, target: Tensor, weight: Tensor | null, margin: number, reduction: LossReduction): LossKernel {
  const [N, C] = input.shape as [number, number];
  return lossKernel('multiMarginLoss', 'multiMargin', reduction, input, [target, weight], (x, [t, w]) => ({
    forward: (losses, loss) => native.multiMarginForward(x, t!, N, C, w, margin, reduction, losses, loss),
    backward: (gy, gx) => native.multiMarginBackward(x, t!, N, C, w, margin, reduction, gy, gx),
  }));
}

/** Losses of d = input − target elementwise; `param` is beta (smoothL1) or delta (huber), unused otherwise. */
export type DifferenceLoss = 'mseLoss' | 'l1Loss' | 'smoothL1Loss' | 'huberLoss';

export function differenceLossK(op: DifferenceLoss, input: Tensor, target: Tensor, reduction: LossReduction, param: number): LossKernel {
  const n = input.numel, r = reduction;
  return lossKernel(op, op, r, input, [target], (x, [t]) => {
    const tt = t!;
    switch (op) {
      case 'mseLoss':
        return { forward: (l, loss) => native.mseLossForward(x, tt, n, r, l, loss), backward: (gy, gx) => native.mseLossBackward(x, tt, n, r, gy, gx) };
      case 'l1Loss':
        return { forward: (l, loss) => native.l1LossForward(x, tt, n, r, l, loss), backward: (gy, gx) => native.l1LossBackward(x, tt, n, r, gy, gx) };
      case 'smoothL1Loss':
        return {
          forward: (l, loss) => native.smoothL1LossForward(x, tt, n, param, r, l, loss),
          backward: (gy, gx) => native.smoothL1LossBackward(x, tt, n, param, r, gy, gx),
        };
      case 'huberLoss':
        return {
          forward: (l, loss) => native.huberLossForward(x, tt, n, param, r, l, loss),
          backward: (gy, gx) => native.huberLossBackward(x, tt, n, param, r, gy, gx),
        };
    }
  });
}

/** Binary cross-entropy on logits; posWeight has lastDim elements (or is null). */
export function bceWithLogitsK(input: Tensor, target: Tensor, posWeight: Tensor | null, lastDim: number, reduction: LossReduction): LossKernel {
  const n = input.numel;
  return lossKernel('binaryCrossEntropyWithLogits', 'bceWithLogits', reduction, input, [target, posWeight], (x, [t, pw]) => ({
    forward: (losses, loss) => native.bceWithLogitsForward(x, t!, n, pw, lastDim, reduction, losses, loss),
    backward: (gy, gx) => native.bceWithLogitsBackward(x, t!, n, pw, lastDim, reduction, gy, gx),
  }));
}

/** T²·KL(softmax(teacher/T) ‖ softmax(student/T)) averaged over the N rows of logits (N, C); student gradient only. */
export function distillationK(student: Tensor, teacher: Tensor, temperature: number): LossKernel {
  const [N, C] = student.shape as [number, number];
  return lossKernel('distillationLoss', 'klDivDistill', 'mean', student, [teacher], (s, [t]) => ({
    forward: (losses, loss) => native.klDivDistillForward(s, t!, N, C, temperature, losses, loss),
    backward: (gy, gx) => native.klDivDistillBackward(s, t!, N, C, temperature, gy, gx),
  }));
}

/**
 * The fused loss kernels as tensor functions. Each loss binds its operands once and gives a forward (the
 * reduced loss, or per-sample losses for 'none') and a backward (the input's gradient from the upstream
 * one). No CUDA losses yet: cuda tensors go through hostFallback.
 */
import { native } from '../native.js';
import type { FloatArray } from '../dtype.js';
import type { LossReduction } from '../bindings/loss.js';
import type { Tensor } from '../tensor.js';
import { floats, floatsOrNull, hostFallback, uninitialized } from './runtime.js';
import { kernelFamily } from './family.js';

/** This module's kernel family: its entry points and how each device runs them (see family.ts). */
export const lossFamily = kernelFamily('loss', [
  'crossEntropyForward', 'crossEntropyBackward', 'crossEntropyProbForward', 'crossEntropyProbBackward', 'nllForward', 'nllBackward',
  'multiMarginForward', 'multiMarginBackward', 'mseLossForward', 'mseLossBackward', 'l1LossForward', 'l1LossBackward',
  'smoothL1LossForward', 'smoothL1LossBackward', 'huberLossForward', 'huberLossBackward', 'bceWithLogitsForward',
  'bceWithLogitsBackward', 'klDivDistillForward', 'klDivDistillBackward',
], { cpu: 'native', cuda: 'host' });

export type { LossReduction } from '../bindings/loss.js';

/** A loss on host arrays: forward writes per-sample losses when given an array and returns the reduced loss. */
interface HostLoss {
  forward(losses: FloatArray | null): number;
  backward(gradOut: FloatArray, gradIn: FloatArray): void;
}

/** A fused loss bound to its input and operands, on their device. */
export interface LossKernel {
  /** A 0-d loss, or for 'none' the per-sample losses of `sampleShape`. */
  forward(sampleShape: readonly number[]): Tensor;
  /** The input's gradient (its shape) from the upstream gradient g (the forward's shape). */
  backward(g: Tensor): Tensor;
}

type Operands = ReadonlyArray<Tensor | null>;

function lossKernel(op: string, reduction: LossReduction, input: Tensor, operands: Operands, bind: (x: FloatArray, o: Operands) => HostLoss): LossKernel {
  return {
    forward: (sampleShape) => hostFallback(op, [input, ...operands], ([x, ...o]) => {
      const loss = bind(floats(x!), o);
      if (reduction === 'none') {
        const out = uninitialized(sampleShape, x!.dtype);
        loss.forward(floats(out));
        return out;
      }
      const out = uninitialized([], x!.dtype);
      out.buffer[0] = loss.forward(null);
      return out;
    }),
    backward: (g) => hostFallback(`${op} backward`, [g, input, ...operands], ([g, x, ...o]) => {
      const gx = uninitialized(x!.shape, x!.dtype);
      bind(floats(x!), o).backward(floats(g!), floats(gx));
      return gx;
    }),
  };
}

const ints = (t: Tensor | null): Int32Array => t!.dataSync() as Int32Array;
const float = (t: Tensor | null): FloatArray => floats(t!);

/** Class scores (N, C, L) with int32 class targets (N, L) and optional class weights (C). */
export interface ClassLossArgs {
  N: number;
  C: number;
  L: number;
  ignoreIndex: number;
  reduction: LossReduction;
}

export function crossEntropyK(input: Tensor, target: Tensor, weight: Tensor | null, labelSmoothing: number, a: ClassLossArgs): LossKernel {
  return lossKernel('crossEntropy', a.reduction, input, [target, weight], (x, [t, w]) => ({
    forward: (losses) => native.crossEntropyForward(x, ints(t!), a.N, a.C, a.L, floatsOrNull(w), a.ignoreIndex, labelSmoothing, a.reduction, losses),
    backward: (gy, gx) =>
      native.crossEntropyBackward(x, ints(t!), a.N, a.C, a.L, floatsOrNull(w), a.ignoreIndex, labelSmoothing, a.reduction, gy, gx),
  }));
}

/** Cross-entropy with class-probability targets of the input's shape (ignoreIndex unused). */
export function crossEntropyProbK(input: Tensor, target: Tensor, weight: Tensor | null, labelSmoothing: number, a: ClassLossArgs): LossKernel {
  return lossKernel('crossEntropy', a.reduction, input, [target, weight], (x, [t, w]) => ({
    forward: (losses) => native.crossEntropyProbForward(x, float(t!), a.N, a.C, a.L, floatsOrNull(w), labelSmoothing, a.reduction, losses),
    backward: (gy, gx) => native.crossEntropyProbBackward(x, float(t!), a.N, a.C, a.L, floatsOrNull(w), labelSmoothing, a.reduction, gy, gx),
  }));
}

export function nllK(input: Tensor, target: Tensor, weight: Tensor | null, a: ClassLossArgs): LossKernel {
  return lossKernel('nllLoss', a.reduction, input, [target, weight], (x, [t, w]) => ({
    forward: (losses) => native.nllForward(x, ints(t!), a.N, a.C, a.L, floatsOrNull(w), a.ignoreIndex, a.reduction, losses),
    backward: (gy, gx) => native.nllBackward(ints(t!), a.N, a.C, a.L, floatsOrNull(w), a.ignoreIndex, a.reduction, gy, gx),
  }));
}

/** Multi-class hinge over input (N, C) with int32 targets (N) and optional class weights (C). */
export function multiMarginK(input: Tensor, target: Tensor, weight: Tensor | null, margin: number, reduction: LossReduction): LossKernel {
  const [N, C] = input.shape as [number, number];
  return lossKernel('multiMarginLoss', reduction, input, [target, weight], (x, [t, w]) => ({
    forward: (losses) => native.multiMarginForward(x, ints(t!), N, C, floatsOrNull(w), margin, reduction, losses),
    backward: (gy, gx) => native.multiMarginBackward(x, ints(t!), N, C, floatsOrNull(w), margin, reduction, gy, gx),
  }));
}

/** Losses of d = input − target elementwise; `param` is beta (smoothL1) or delta (huber), unused otherwise. */
export type DifferenceLoss = 'mseLoss' | 'l1Loss' | 'smoothL1Loss' | 'huberLoss';

export function differenceLossK(op: DifferenceLoss, input: Tensor, target: Tensor, reduction: LossReduction, param: number): LossKernel {
  const n = input.numel, r = reduction;
  return lossKernel(op, r, input, [target], (x, [t]) => {
    const tt = float(t!);
    switch (op) {
      case 'mseLoss':
        return { forward: (l) => native.mseLossForward(x, tt, n, r, l), backward: (gy, gx) => native.mseLossBackward(x, tt, n, r, gy, gx) };
      case 'l1Loss':
        return { forward: (l) => native.l1LossForward(x, tt, n, r, l), backward: (gy, gx) => native.l1LossBackward(x, tt, n, r, gy, gx) };
      case 'smoothL1Loss':
        return {
          forward: (l) => native.smoothL1LossForward(x, tt, n, param, r, l),
          backward: (gy, gx) => native.smoothL1LossBackward(x, tt, n, param, r, gy, gx),
        };
      case 'huberLoss':
        return {
          forward: (l) => native.huberLossForward(x, tt, n, param, r, l),
          backward: (gy, gx) => native.huberLossBackward(x, tt, n, param, r, gy, gx),
        };
    }
  });
}

/** Binary cross-entropy on logits; posWeight has lastDim elements (or is null). */
export function bceWithLogitsK(input: Tensor, target: Tensor, posWeight: Tensor | null, lastDim: number, reduction: LossReduction): LossKernel {
  const n = input.numel;
  return lossKernel('binaryCrossEntropyWithLogits', reduction, input, [target, posWeight], (x, [t, pw]) => ({
    forward: (losses) => native.bceWithLogitsForward(x, float(t!), n, floatsOrNull(pw), lastDim, reduction, losses),
    backward: (gy, gx) => native.bceWithLogitsBackward(x, float(t!), n, floatsOrNull(pw), lastDim, reduction, gy, gx),
  }));
}

/** T²·KL(softmax(teacher/T) ‖ softmax(student/T)) averaged over the N rows of logits (N, C); student gradient only. */
export function distillationK(student: Tensor, teacher: Tensor, temperature: number): LossKernel {
  const [N, C] = student.shape as [number, number];
  return lossKernel('distillationLoss', 'mean', student, [teacher], (s, [t]) => ({
    forward: () => native.klDivDistillForward(s, float(t!), N, C, temperature, null),
    backward: (gy, gx) => native.klDivDistillBackward(s, float(t!), N, C, temperature, gy, gx),
  }));
}

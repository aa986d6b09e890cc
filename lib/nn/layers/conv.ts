/** Convolution layers; the math is in the functional conv ops. */
import type { Tensor } from '../../tensor.js';
import { Module, type Parameter } from '../module.js';
import * as F from '../functional.js';
import {
  checkDType, checkPositiveInt, fail, newParameter, resetLinearLike, show, tuple, type DTypeOptions, checkOptions } from './common.js';

type Size = number | readonly number[];

/** Options of the convolution layers; sizes are a number or one entry per spatial dim. */
export interface ConvOptions extends DTypeOptions {
  stride?: Size;
  /** Zero padding per side, or 'same' / 'valid' (not for transposed convolutions). */
  padding?: Size | 'same' | 'valid';
  dilation?: Size;
  /** Channels are split into this many independent groups; default 1. */
  groups?: number;
  /** Default true. */
  bias?: boolean;
}

/** Options of ConvTranspose2d. */
export interface ConvTransposeOptions extends Omit<ConvOptions, 'padding'> {
  padding?: Size;
  /** Extra rows/columns on one side of the output, each < stride or < dilation; default 0. */
  outputPadding?: Size;
}

/** One entry per spatial dim, each an integer >= min. */
function sizes(owner: string, name: string, value: Size, dims: number, min: number): number[] {
  const list = typeof value === 'number' ? new Array<number>(dims).fill(value) : Array.isArray(value) ? [...value] : [];
  if (list.length !== dims || !list.every((v) => Number.isSafeInteger(v) && v >= min)) {
    fail(owner, `${name} must be an integer >= ${min} or ${dims} of them, got ${show(value)}`);
  }
  return list;
}

/**
 * The shared part of every convolution: configuration checks, parameters and their PyTorch default
 * initialization, and PyTorch's repr. The weight is (outChannels, inChannels/groups, *kernel), or
 * (inChannels, outChannels/groups, *kernel) when transposed.
 */
abstract class ConvNd extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number[];
  readonly stride: number[];
  readonly padding: number[] | 'same' | 'valid';
  readonly dilation: number[];
  readonly groups: number;
  readonly outputPadding: number[];
  declare weight: Parameter;
  declare bias: Parameter | null;

  constructor(
    owner: string, dims: number, transposed: boolean, inChannels: number, outChannels: number, kernelSize: Size,
    options: ConvOptions & { outputPadding?: Size },
  ) {
    super();
    checkPositiveInt(owner, 'inChannels', inChannels);
    checkPositiveInt(owner, 'outChannels', outChannels);
    const groups = options.groups ?? 1;
    checkPositiveInt(owner, 'groups', groups);
    if (inChannels % groups !== 0) fail(owner, `inChannels ${inChannels} must be divisible by groups ${groups}`);
    if (outChannels % groups !== 0) fail(owner, `outChannels ${outChannels} must be divisible by groups ${groups}`);
    const dtype = checkDType(owner, options.dtype ?? 'float32');
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = sizes(owner, 'kernelSize', kernelSize, dims, 1);
    this.stride = sizes(owner, 'stride', options.stride ?? 1, dims, 1);
    this.dilation = sizes(owner, 'dilation', options.dilation ?? 1, dims, 1);
    this.groups = groups;
    const padding = options.padding ?? 0;
    if (padding === 'same' || padding === 'valid') {
      if (transposed) fail(owner, `padding must be integers, got ${show(padding)}`);
      if (padding === 'same' && this.stride.some((s) => s !== 1)) fail(owner, `padding 'same' needs stride 1, got stride ${show(this.stride)}`);
      this.padding = padding;
    } else {
      this.padding = sizes(owner, 'padding', padding, dims, 0);
    }
    this.outputPadding = sizes(owner, 'outputPadding', options.outputPadding ?? 0, dims, 0);
    this.outputPadding.forEach((p, i) => {
      if (p >= this.stride[i]! && p >= this.dilation[i]!) {
        fail(owner, `outputPadding ${show(this.outputPadding)} must be smaller than stride or dilation in each dim`);
      }
    });
    const weightShape = transposed
      ? [inChannels, outChannels / groups, ...this.kernelSize]
      : [outChannels, inChannels / groups, ...this.kernelSize];
    this.registerParameter('weight', newParameter(weightShape, dtype));
    this.registerParameter('bias', options.bias ?? true ? newParameter([outChannels], dtype) : null);
    this.resetParameters();
  }

  /** Re-draws the parameters with PyTorch's default initialization (kaiming-uniform a = √5; bias U(±1/√fanIn)). */
  resetParameters(): void {
    resetLinearLike(this.weight, this.bias);
  }

  override extraRepr(): string {
    const parts = [`${this.inChannels}, ${this.outChannels}, kernel_size=${tuple(this.kernelSize)}, stride=${tuple(this.stride)}`];
    if (typeof this.padding === 'string') parts.push(`padding=${this.padding}`);
    else if (this.padding.some((p) => p !== 0)) parts.push(`padding=${tuple(this.padding)}`);
    if (this.dilation.some((d) => d !== 1)) parts.push(`dilation=${tuple(this.dilation)}`);
    if (this.outputPadding.some((p) => p !== 0)) parts.push(`output_padding=${tuple(this.outputPadding)}`);
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (this.bias === null) parts.push('bias=False');
    return parts.join(', ');
  }
}

function checkChannels(owner: string, x: Tensor, rank: number, layout: string, channels: number): void {
  if (x.ndim !== rank || x.shape[1] !== channels) {
    fail(owner, `input must be rank ${rank} ${layout} with C = ${channels}, got [${x.shape.join(', ')}]`);
  }
}

/**
 * 1-D convolution (cross-correlation) over (N, inChannels, L) → (N, outChannels, Lout),
 * Lout = ⌊(L + 2·padding − dilation·(kernelSize − 1) − 1) / stride⌋ + 1.
 */
export class Conv1d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: number | readonly [number], options: ConvOptions = {}) {
    super('Conv1d', 1, false, inChannels, outChannels, kernelSize, options);
    checkOptions('Conv1d', options);
  }

  forward(x: Tensor): Tensor {
    checkChannels('Conv1d', x, 3, '(N, C, L)', this.inChannels);
    return F.conv1d(x, this.weight, this.bias ?? undefined, {
      stride: this.stride[0]!,
      padding: typeof this.padding === 'string' ? this.padding : this.padding[0]!,
      dilation: this.dilation[0]!,
      groups: this.groups,
    });
  }
}

/**
 * 2-D convolution (cross-correlation) over (N, inChannels, H, W) → (N, outChannels, Hout, Wout),
 * Hout = ⌊(H + 2·padding − dilation·(kernelSize − 1) − 1) / stride⌋ + 1 (likewise W).
 */
export class Conv2d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: number | readonly [number, number], options: ConvOptions = {}) {
    super('Conv2d', 2, false, inChannels, outChannels, kernelSize, options);
    checkOptions('Conv2d', options);
  }

  forward(x: Tensor): Tensor {
    checkChannels('Conv2d', x, 4, '(N, C, H, W)', this.inChannels);
    return F.conv2d(x, this.weight, this.bias ?? undefined, {
      stride: this.stride as [number, number],
      padding: typeof this.padding === 'string' ? this.padding : (this.padding as [number, number]),
      dilation: this.dilation as [number, number],
      groups: this.groups,
    });
  }
}

/**
 * Transposed 2-D convolution (the gradient of Conv2d w.r.t. its input) over (N, inChannels, H, W) →
 * (N, outChannels, Hout, Wout), Hout = (H − 1)·stride − 2·padding + dilation·(kernelSize − 1) + outputPadding + 1.
 * Weight (inChannels, outChannels/groups, kH, kW).
 */
export class ConvTranspose2d extends ConvNd {
  constructor(
    inChannels: number, outChannels: number, kernelSize: number | readonly [number, number], options: ConvTransposeOptions = {},
  ) {
    super('ConvTranspose2d', 2, true, inChannels, outChannels, kernelSize, options);
    checkOptions('ConvTranspose2d', options);
  }

  forward(x: Tensor): Tensor {
    checkChannels('ConvTranspose2d', x, 4, '(N, C, H, W)', this.inChannels);
    return F.convTranspose2d(x, this.weight, this.bias ?? undefined, {
      stride: this.stride as [number, number],
      padding: this.padding as [number, number],
      outputPadding: this.outputPadding as [number, number],
      dilation: this.dilation as [number, number],
      groups: this.groups,
    });
  }
}

/** 2-D pooling layers over (N, C, H, W); the math is in the functional pooling ops. */
import type { Tensor } from '../../tensor.js';
import { Module } from '../module.js';
import * as F from '../functional.js';
import { fail, pairOf, show, tuple, checkOptions } from './common.js';

type Pair = number | readonly [number, number];

/** PyTorch's rendering: 2 or (2, 3). */
function fmt(value: Pair): string {
  return typeof value === 'number' ? String(value) : tuple(value);
}

function checkPair(owner: string, name: string, value: Pair, min: number): void {
  const isPair = Array.isArray(value) && value.length === 2;
  const [a, b] = typeof value === 'number' || isPair ? pairOf(value) : [NaN, NaN];
  if ( ![a, b].every((v) => Number.isSafeInteger(v) && v >= min)) {
    fail(owner, `${name} must be an integer >= ${min} or a pair of them, got ${show(value)}`);
  }
}

/** Padding may be at most half the (dilated) kernel, so that every window overlaps the input. */
function checkPadding(owner: string, kernel: Pair, padding: Pair, dilation: Pair = 1): void {
  const k = pairOf(kernel), p = pairOf(padding), d = pairOf(dilation);
  if (p.some((pi, i) => pi > Math.floor((d[i]! * (k[i]! - 1) + 1) / 2))) {
    fail(owner, `padding ${show(padding)} must be at most half of the kernel size ${show(kernel)}`);
  }
}

/** Options of MaxPool2d. */
export interface MaxPool2dOptions {
  /** Default: the kernel size. */
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  /** Round the output size up instead of down; default false. */
  ceilMode?: boolean;
}

/**
 * Maximum over each kernelSize window. Input (N, C, H, W), output (N, C, Hout, Wout) with
 * Hout = ⌊(H + 2·padding − dilation·(k − 1) − 1) / stride⌋ + 1 (⌈⌉ with ceilMode).
 */
export class MaxPool2d extends Module {
  readonly kernelSize: Pair;
  readonly stride: Pair;
  readonly padding: Pair;
  readonly dilation: Pair;
  readonly ceilMode: boolean;

  constructor(kernelSize: Pair, options: MaxPool2dOptions = {}) {
    super();
    checkOptions('MaxPool2d', options);
    const { stride = kernelSize, padding = 0, dilation = 1, ceilMode = false } = options;
    checkPair('MaxPool2d', 'kernelSize', kernelSize, 1);
    checkPair('MaxPool2d', 'stride', stride, 1);
    checkPair('MaxPool2d', 'padding', padding, 0);
    checkPair('MaxPool2d', 'dilation', dilation, 1);
    checkPadding('MaxPool2d', kernelSize, padding, dilation);
    this.kernelSize = kernelSize;
    this.stride = stride;
    this.padding = padding;
    this.dilation = dilation;
    this.ceilMode = ceilMode;
  }

  forward(x: Tensor): Tensor {
    return F.maxPool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding, dilation: this.dilation, ceilMode: this.ceilMode });
  }

  override extraRepr(): string {
    return `kernel_size=${fmt(this.kernelSize)}, stride=${fmt(this.stride)}, padding=${fmt(this.padding)}, ` +
      `dilation=${fmt(this.dilation)}, ceil_mode=${this.ceilMode ? 'True' : 'False'}`;
  }
}

/** Options of AvgPool2d. */
export interface AvgPool2dOptions {
  /** Default: the kernel size. */
  stride?: Pair;
  padding?: Pair;
  ceilMode?: boolean;
  /** Whether zero padding counts in the divisor; default true. */
  countIncludePad?: boolean;
}

/** Mean over each kernelSize window. Input (N, C, H, W), output (N, C, Hout, Wout) as MaxPool2d with dilation 1. */
export class AvgPool2d extends Module {
  readonly kernelSize: Pair;
  readonly stride: Pair;
  readonly padding: Pair;
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;

  constructor(kernelSize: Pair, options: AvgPool2dOptions = {}) {
    super();
    checkOptions('AvgPool2d', options);
    const { stride = kernelSize, padding = 0, ceilMode = false, countIncludePad = true } = options;
    checkPair('AvgPool2d', 'kernelSize', kernelSize, 1);
    checkPair('AvgPool2d', 'stride', stride, 1);
    checkPair('AvgPool2d', 'padding', padding, 0);
    checkPadding('AvgPool2d', kernelSize, padding);
    this.kernelSize = kernelSize;
    this.stride = stride;
    this.padding = padding;
    this.ceilMode = ceilMode;
    this.countIncludePad = countIncludePad;
  }

  forward(x: Tensor): Tensor {
    return F.avgPool2d(x, this.kernelSize, {
      stride: this.stride, padding: this.padding, ceilMode: this.ceilMode, countIncludePad: this.countIncludePad,
    });
  }

  override extraRepr(): string {
    return `kernel_size=${fmt(this.kernelSize)}, stride=${fmt(this.stride)}, padding=${fmt(this.padding)}`;
  }
}

/** Average over adaptive windows to a fixed outputSize. Input (N, C, H, W), output (N, C, *outputSize). */
export class AdaptiveAvgPool2d extends Module {
  readonly outputSize: Pair;

  constructor(outputSize: Pair) {
    super();
    checkPair('AdaptiveAvgPool2d', 'outputSize', outputSize, 1);
    this.outputSize = outputSize;
  }

  forward(x: Tensor): Tensor {
    return F.adaptiveAvgPool2d(x, this.outputSize);
  }

  override extraRepr(): string {
    return `output_size=${fmt(this.outputSize)}`;
  }
}

/** Maximum over adaptive windows to a fixed outputSize. Input (N, C, H, W), output (N, C, *outputSize). */
export class AdaptiveMaxPool2d extends Module {
  readonly outputSize: Pair;

  constructor(outputSize: Pair) {
    super();
    checkPair('AdaptiveMaxPool2d', 'outputSize', outputSize, 1);
    this.outputSize = outputSize;
  }

  forward(x: Tensor): Tensor {
    return F.adaptiveMaxPool2d(x, this.outputSize);
  }

  override extraRepr(): string {
    return `output_size=${fmt(this.outputSize)}`;
  }
}

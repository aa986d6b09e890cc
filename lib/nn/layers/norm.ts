/** Normalization layers; the math is in the functional norm ops. */
import { itemsOf } from '../../checks.js';
import type { Tensor } from '../../tensor.js';
import { Module, type Parameter } from '../module.js';
import * as F from '../functional.js';
import { ones_, zeros_ } from '../init.js';
import { zeros, ones } from '../../creation.js';
import {
  checkDType, checkPositive, checkPositiveInt, fail, newParameter, pyBool, pyFloat, show, tuple, type DTypeOptions, checkOptions } from './common.js';

/** Options of BatchNorm1d/2d. */
export interface BatchNormOptions extends DTypeOptions {
  /** Added to the variance; default 1e-5. */
  eps?: number;
  /**
   * Weight of the new batch statistic in the running averages, r = (1 − momentum)·r + momentum·stat;
   * null for a cumulative average over all batches. Default 0.1.
   */
  momentum?: number | null;
  /** Learn a per-channel scale and shift; default true. */
  affine?: boolean;
  /** Keep running statistics for eval mode; without them batch statistics are used in both modes. Default true. */
  trackRunningStats?: boolean;
}

/**
 * Batch normalization per channel. Training uses the batch's mean and biased variance and updates the
 * running statistics (with the unbiased variance) and num_batches_tracked; eval uses the running
 * statistics. Buffers carry PyTorch's names (running_mean, running_var, num_batches_tracked) so that
 * state dicts interchange with PyTorch.
 */
abstract class BatchNormBase extends Module<[Tensor, (Tensor | null)?]> {
  /** Whether a ReLU follows in the same pass (BatchNormReLU2d). */
  protected readonly fusedRelu: boolean = false;
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  declare weight: Parameter | null;
  declare bias: Parameter | null;
  declare running_mean: Tensor | null;
  declare running_var: Tensor | null;
  declare num_batches_tracked: Tensor | null;

  constructor(protected readonly owner: string, numFeatures: number, options: BatchNormOptions) {
    super();
    checkOptions(owner, options);
    const { eps = 1e-5, momentum = 0.1, affine = true, trackRunningStats = true } = options;
    checkPositiveInt(owner, 'numFeatures', numFeatures);
    checkPositive(owner, 'eps', eps);
    if (momentum !== null && !(Number.isFinite(momentum) && momentum >= 0 && momentum <= 1)) {
      fail(owner, `momentum must be in [0, 1] or null, got ${show(momentum)}`);
    }
    const dtype = checkDType(owner, options.dtype ?? 'float32');
    this.numFeatures = numFeatures;
    this.eps = eps;
    this.momentum = momentum;
    this.affine = affine;
    this.trackRunningStats = trackRunningStats;
    this.registerParameter('weight', affine ? newParameter([numFeatures], dtype) : null);
    this.registerParameter('bias', affine ? newParameter([numFeatures], dtype) : null);
    this.registerBuffer('running_mean', trackRunningStats ? zeros([numFeatures], { dtype }) : null);
    this.registerBuffer('running_var', trackRunningStats ? ones([numFeatures], { dtype }) : null);
    this.registerBuffer('num_batches_tracked', trackRunningStats ? zeros([], { dtype: 'int32' }) : null);
    this.resetParameters();
  }

  /** The running mean (C), or null without trackRunningStats. */
  get runningMean(): Tensor | null {
    return this.running_mean;
  }
  /** The running variance (C), or null without trackRunningStats. */
  get runningVar(): Tensor | null {
    return this.running_var;
  }
  /** Training batches seen, as an int32 scalar tensor, or null without trackRunningStats. */
  get numBatchesTracked(): Tensor | null {
    return this.num_batches_tracked;
  }

  /** Running statistics back to mean 0, variance 1, no batches. */
  resetRunningStats(): void {
    if (this.running_mean) zeros_(this.running_mean);
    if (this.running_var) ones_(this.running_var);
    this.num_batches_tracked?.zero_();
  }

  /** Running statistics reset; weight 1, bias 0. */
  resetParameters(): void {
    this.resetRunningStats();
    if (this.weight) ones_(this.weight);
    if (this.bias) zeros_(this.bias);
  }

  /** Throws unless x has a rank this layer accepts. */
  protected abstract checkInput(x: Tensor): void;

  /**
   * Normalizes x; a residual (x's shape), when given, is added in the same pass (before the ReLU of
   * BatchNormReLU2d): relu(bn(x) + residual) as a ResNet block ends.
   */
  forward(x: Tensor, residual: Tensor | null = null): Tensor {
    this.checkInput(x);
    if (x.shape[1] !== this.numFeatures) {
      fail(this.owner, `input must have ${this.numFeatures} channels in dim 1, got [${x.shape.join(', ')}]`);
    }
    let momentum = this.momentum ?? 0;
    if (this.training && this.num_batches_tracked !== null) {
      this.num_batches_tracked.add_(1);
      if (this.momentum === null) momentum = 1 / this.num_batches_tracked.item();
    }
    const useBatchStats = this.training || this.running_mean === null;
    const track = !this.training || this.trackRunningStats;
    return F.batchNorm(
      x, track ? this.running_mean : null, track ? this.running_var : null, this.weight, this.bias,
      { training: useBatchStats, momentum, eps: this.eps, relu: this.fusedRelu, residual },
    );
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${pyFloat(this.eps)}, momentum=${this.momentum === null ? 'None' : pyFloat(this.momentum)}, ` +
      `affine=${pyBool(this.affine)}, track_running_stats=${pyBool(this.trackRunningStats)}`;
  }
}

/** Batch norm over (N, C) or (N, C, L), statistics per channel C over N (and L). Output has the input's shape. */
export class BatchNorm1d extends BatchNormBase {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super('BatchNorm1d', numFeatures, options);
  }

  protected checkInput(x: Tensor): void {
    if (x.ndim !== 2 && x.ndim !== 3) fail('BatchNorm1d', `input must be rank 2 (N, C) or 3 (N, C, L), got rank ${x.ndim} [${x.shape.join(', ')}]`);
  }
}

/** Batch norm over (N, C, H, W), statistics per channel C over N, H, W. Output has the input's shape. */
export class BatchNorm2d extends BatchNormBase {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super('BatchNorm2d', numFeatures, options);
  }

  protected checkInput(x: Tensor): void {
    if (x.ndim !== 4) fail('BatchNorm2d', `input must be rank 4 (N, C, H, W), got rank ${x.ndim} [${x.shape.join(', ')}]`);
  }
}

/**
 * BatchNorm2d followed by ReLU, fused: one pass over memory forward and backward instead of three (PyTorch's
 * torch.ao.nn.intrinsic.BNReLU2d). Same parameters, buffers and state-dict keys as BatchNorm2d.
 */
export class BatchNormReLU2d extends BatchNorm2d {
  protected override readonly fusedRelu: boolean = true;
}

/** Options of LayerNorm. */
export interface LayerNormOptions extends DTypeOptions {
  /** Default 1e-5. */
  eps?: number;
  /** Learn a per-element scale (and shift); default true. */
  elementwiseAffine?: boolean;
  /** With elementwiseAffine, also learn the shift; default true. */
  bias?: boolean;
}

/**
 * Layer normalization over the trailing dims given by normalizedShape: input (*, ...normalizedShape),
 * output the same shape; weight and bias have shape normalizedShape (1 and 0 initially).
 */
export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  readonly eps: number;
  readonly elementwiseAffine: boolean;
  declare weight: Parameter | null;
  declare bias: Parameter | null;

  constructor(normalizedShape: number | readonly number[], options: LayerNormOptions = {}) {
    super();
    checkOptions('LayerNorm', options);
    const { eps = 1e-5, elementwiseAffine = true, bias = true } = options;
    const shape = typeof normalizedShape === 'number' ? [normalizedShape] : itemsOf('LayerNorm', normalizedShape, 'normalizedShape');
    if (shape.length === 0 || !shape.every((d) => Number.isSafeInteger(d) && d > 0)) {
      fail('LayerNorm', `normalizedShape must be positive integers, got ${show(normalizedShape)}`);
    }
    checkPositive('LayerNorm', 'eps', eps);
    const dtype = checkDType('LayerNorm', options.dtype ?? 'float32');
    this.normalizedShape = shape;
    this.eps = eps;
    this.elementwiseAffine = elementwiseAffine;
    this.registerParameter('weight', elementwiseAffine ? newParameter(shape, dtype) : null);
    this.registerParameter('bias', elementwiseAffine && bias ? newParameter(shape, dtype) : null);
    this.resetParameters();
  }

  /** Weight 1, bias 0. */
  resetParameters(): void {
    if (this.weight) ones_(this.weight);
    if (this.bias) zeros_(this.bias);
  }

  forward(x: Tensor): Tensor {
    return F.layerNorm(x, this.normalizedShape, this.weight ?? undefined, this.bias ?? undefined, this.eps);
  }

  override extraRepr(): string {
    return `${tuple(this.normalizedShape)}, eps=${pyFloat(this.eps)}, elementwise_affine=${pyBool(this.elementwiseAffine)}`;
  }
}

/** Options of GroupNorm. */
export interface GroupNormOptions extends DTypeOptions {
  /** Default 1e-5. */
  eps?: number;
  /** Learn per-channel scale and shift; default true. */
  affine?: boolean;
}

/**
 * Group normalization: channels split into numGroups groups, each normalized over its channels and
 * spatial positions per sample. Input (N, C, *), output the same; weight and bias (C).
 */
export class GroupNorm extends Module {
  readonly numGroups: number;
  readonly numChannels: number;
  readonly eps: number;
  readonly affine: boolean;
  declare weight: Parameter | null;
  declare bias: Parameter | null;

  constructor(numGroups: number, numChannels: number, options: GroupNormOptions = {}) {
    super();
    checkOptions('GroupNorm', options);
    const { eps = 1e-5, affine = true } = options;
    checkPositiveInt('GroupNorm', 'numGroups', numGroups);
    checkPositiveInt('GroupNorm', 'numChannels', numChannels);
    if (numChannels % numGroups !== 0) fail('GroupNorm', `numChannels ${numChannels} must be divisible by numGroups ${numGroups}`);
    checkPositive('GroupNorm', 'eps', eps);
    const dtype = checkDType('GroupNorm', options.dtype ?? 'float32');
    this.numGroups = numGroups;
    this.numChannels = numChannels;
    this.eps = eps;
    this.affine = affine;
    this.registerParameter('weight', affine ? newParameter([numChannels], dtype) : null);
    this.registerParameter('bias', affine ? newParameter([numChannels], dtype) : null);
    this.resetParameters();
  }

  /** Weight 1, bias 0. */
  resetParameters(): void {
    if (this.weight) ones_(this.weight);
    if (this.bias) zeros_(this.bias);
  }

  forward(x: Tensor): Tensor {
    return F.groupNorm(x, this.numGroups, this.weight ?? undefined, this.bias ?? undefined, this.eps);
  }

  override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${pyFloat(this.eps)}, affine=${pyBool(this.affine)}`;
  }
}

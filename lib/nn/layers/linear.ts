/** Fully connected layers. */
import type { Tensor } from '../../tensor.js';
import { Module, type Parameter } from '../module.js';
import * as F from '../functional.js';
import { uniform_ } from '../init.js';
import { checkDType, checkPositiveInt, newParameter, resetLinearLike, type DTypeOptions, checkOptions } from './common.js';

/** Options of Linear and Bilinear. */
export interface LinearOptions extends DTypeOptions {
  /** Whether to learn an additive bias; default true. */
  bias?: boolean;
}

/**
 * y = x Wᵀ + b.
 *
 * Input (*, inFeatures), output (*, outFeatures). Weight (outFeatures, inFeatures) and bias
 * (outFeatures) start U(±1/√inFeatures), as PyTorch.
 */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  declare weight: Parameter;
  declare bias: Parameter | null;

  constructor(inFeatures: number, outFeatures: number, options: LinearOptions = {}) {
    super();
    checkOptions('Linear', options);
    checkPositiveInt('Linear', 'inFeatures', inFeatures);
    checkPositiveInt('Linear', 'outFeatures', outFeatures);
    const dtype = checkDType('Linear', options.dtype ?? 'float32');
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.registerParameter('weight', newParameter([outFeatures, inFeatures], dtype));
    this.registerParameter('bias', options.bias ?? true ? newParameter([outFeatures], dtype) : null);
    this.resetParameters();
  }

  /** Re-draws the parameters with PyTorch's default initialization. */
  resetParameters(): void {
    resetLinearLike(this.weight, this.bias);
  }

  forward(x: Tensor): Tensor {
    return F.linear(x, this.weight, this.bias ?? undefined);
  }

  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias !== null ? 'True' : 'False'}`;
  }
}

/**
 * y[n, o] = Σᵢⱼ x1[n, i] W[o, i, j] x2[n, j] + b[o].
 *
 * Inputs (N, in1Features) and (N, in2Features), output (N, outFeatures). Weight
 * (outFeatures, in1Features, in2Features) and bias start U(±1/√in1Features), as PyTorch.
 */
export class Bilinear extends Module<[Tensor, Tensor], Tensor> {
  readonly in1Features: number;
  readonly in2Features: number;
  readonly outFeatures: number;
  declare weight: Parameter;
  declare bias: Parameter | null;

  constructor(in1Features: number, in2Features: number, outFeatures: number, options: LinearOptions = {}) {
    super();
    checkOptions('Bilinear', options);
    checkPositiveInt('Bilinear', 'in1Features', in1Features);
    checkPositiveInt('Bilinear', 'in2Features', in2Features);
    checkPositiveInt('Bilinear', 'outFeatures', outFeatures);
    const dtype = checkDType('Bilinear', options.dtype ?? 'float32');
    this.in1Features = in1Features;
    this.in2Features = in2Features;
    this.outFeatures = outFeatures;
    this.registerParameter('weight', newParameter([outFeatures, in1Features, in2Features], dtype));
    this.registerParameter('bias', options.bias ?? true ? newParameter([outFeatures], dtype) : null);
    this.resetParameters();
  }

  /** Re-draws the parameters with PyTorch's default initialization. */
  resetParameters(): void {
    const bound = 1 / Math.sqrt(this.in1Features);
    uniform_(this.weight, -bound, bound);
    if (this.bias !== null) uniform_(this.bias, -bound, bound);
  }

  forward(x1: Tensor, x2: Tensor): Tensor {
    if (x1.ndim !== 2 || x2.ndim !== 2 || x1.shape[1] !== this.in1Features || x2.shape[1] !== this.in2Features || x1.shape[0] !== x2.shape[0]) {
      throw new RangeError(
        `Bilinear: inputs must be (N, ${this.in1Features}) and (N, ${this.in2Features}), ` +
          `got [${x1.shape.join(', ')}] and [${x2.shape.join(', ')}]`,
      );
    }
    const { outFeatures: o, in1Features: i, in2Features: j } = this;
    // (N, i) @ (i, o·j) -> (N, o, j), then contract j against x2.
    const left = x1.matmul(this.weight.permute(1, 0, 2).reshape(i, o * j)).reshape(x1.shape[0]!, o, j);
    const y = left.mul(x2.unsqueeze(1)).sum(2);
    return this.bias === null ? y : y.add(this.bias);
  }

  override extraRepr(): string {
    return `in1_features=${this.in1Features}, in2_features=${this.in2Features}, out_features=${this.outFeatures}, ` +
      `bias=${this.bias !== null ? 'True' : 'False'}`;
  }
}

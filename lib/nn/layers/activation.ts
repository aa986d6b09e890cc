/** Activation layers: elementwise nonlinearities (output has the input's shape) and (log-)softmax over a dim. */
import type { Tensor } from '../../tensor.js';
import { Module, type Parameter } from '../module.js';
import * as F from '../functional.js';
import { constant_ } from '../init.js';
import { checkDType, checkPositiveInt, fail, newParameter, pyFloat, show, type DTypeOptions, checkOptions } from './common.js';

/** max(0, x). */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return F.relu(x);
  }
}

/** x for x ≥ 0, negativeSlope·x otherwise (default slope 0.01). */
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
    if (!Number.isFinite(negativeSlope)) fail('LeakyReLU', `negativeSlope must be a finite number, got ${show(negativeSlope)}`);
  }

  forward(x: Tensor): Tensor {
    return F.leakyRelu(x, this.negativeSlope);
  }

  override extraRepr(): string {
    return `negative_slope=${pyFloat(this.negativeSlope)}`;
  }
}

/** Options of PReLU. */
export interface PReLUOptions extends DTypeOptions {
  /** 1 (one slope shared by all channels) or the number of channels (dim 1 of the input); default 1. */
  numParameters?: number;
  /** Initial slope; default 0.25. */
  init?: number;
}

/** x for x ≥ 0, a·x otherwise, with a learned slope a per channel (or shared); weight (numParameters). */
export class PReLU extends Module {
  readonly numParameters: number;
  readonly init: number;
  declare weight: Parameter;

  constructor(options: PReLUOptions = {}) {
    super();
    checkOptions('PReLU', options);
    const { numParameters = 1, init = 0.25 } = options;
    checkPositiveInt('PReLU', 'numParameters', numParameters);
    if (!Number.isFinite(init)) fail('PReLU', `init must be a finite number, got ${show(init)}`);
    this.numParameters = numParameters;
    this.init = init;
    this.registerParameter('weight', newParameter([numParameters], checkDType('PReLU', options.dtype ?? 'float32')));
    this.resetParameters();
  }

  /** Every slope back to `init`. */
  resetParameters(): void {
    constant_(this.weight, this.init);
  }

  forward(x: Tensor): Tensor {
    return F.prelu(x, this.weight);
  }

  override extraRepr(): string {
    return `num_parameters=${this.numParameters}`;
  }
}

/** x for x > 0, alpha·(exp(x) − 1) otherwise (default alpha 1). */
export class ELU extends Module {
  constructor(readonly alpha = 1) {
    super();
    if (!Number.isFinite(alpha)) fail('ELU', `alpha must be a finite number, got ${show(alpha)}`);
  }

  forward(x: Tensor): Tensor {
    return F.elu(x, this.alpha);
  }

  override extraRepr(): string {
    return `alpha=${pyFloat(this.alpha)}`;
  }
}

/** x·Φ(x), exact (erf) or with the tanh approximation. */
export class GELU extends Module {
  constructor(readonly approximate: 'none' | 'tanh' = 'none') {
    super();
    if (approximate !== 'none' && approximate !== 'tanh') fail('GELU', `approximate must be 'none' or 'tanh', got ${show(approximate)}`);
  }

  forward(x: Tensor): Tensor {
    return F.gelu(x, this.approximate);
  }

  override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }
}

/** 1 / (1 + exp(−x)). */
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return F.sigmoid(x);
  }
}

/** tanh(x). */
export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return F.tanh(x);
  }
}

function checkDim(owner: string, dim: number): void {
  if (!Number.isSafeInteger(dim)) fail(owner, `dim must be an integer, got ${show(dim)}`);
}

/** exp(x) / Σ exp(x) along `dim` (PyTorch has no default; here it is required). */
export class Softmax extends Module {
  constructor(readonly dim: number) {
    super();
    checkDim('Softmax', dim);
  }

  forward(x: Tensor): Tensor {
    return F.softmax(x, this.dim);
  }

  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/** log(softmax(x)) along `dim`, computed stably. */
export class LogSoftmax extends Module {
  constructor(readonly dim: number) {
    super();
    checkDim('LogSoftmax', dim);
  }

  forward(x: Tensor): Tensor {
    return F.logSoftmax(x, this.dim);
  }

  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

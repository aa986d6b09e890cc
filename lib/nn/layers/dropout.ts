/** Dropout. */
import type { Tensor } from '../../tensor.js';
import { Module } from '../module.js';
import * as F from '../functional.js';
import { fail, pyFloat, show } from './common.js';

/**
 * In training, zeroes each element with probability p and scales the rest by 1 / (1 − p); the identity
 * in eval mode. Output has the input's shape. Draws from the global generator.
 */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) fail('Dropout', `p must be a probability in [0, 1], got ${show(p)}`);
  }

  forward(x: Tensor): Tensor {
    return F.dropout(x, this.p, this.training);
  }

  override extraRepr(): string {
    return `p=${pyFloat(this.p)}, inplace=False`;
  }
}

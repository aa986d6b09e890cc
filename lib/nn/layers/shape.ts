/** Layers that only reshape: Identity, Flatten, Unflatten. */
import type { Tensor } from '../../tensor.js';
import { Module } from '../module.js';
import { fail, show, tuple } from './common.js';

/** Returns its input (a placeholder, e.g. for a removed head). */
export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

/** Flattens dims startDim..endDim into one: (N, C, H, W) → (N, C·H·W) with the defaults 1 and −1. */
export class Flatten extends Module {
  constructor(readonly startDim = 1, readonly endDim = -1) {
    super();
    if (!Number.isSafeInteger(startDim) || !Number.isSafeInteger(endDim)) {
      fail('Flatten', `startDim and endDim must be integers, got ${show(startDim)} and ${show(endDim)}`);
    }
  }

  forward(x: Tensor): Tensor {
    return x.flatten(this.startDim, this.endDim);
  }

  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}

/** Splits dim into unflattenedSize: (N, 12) → (N, 3, 4) with dim 1 and size [3, 4]; one entry may be −1. */
export class Unflatten extends Module {
  readonly unflattenedSize: number[];

  constructor(readonly dim: number, unflattenedSize: readonly number[]) {
    super();
    if (!Number.isSafeInteger(dim)) fail('Unflatten', `dim must be an integer, got ${show(dim)}`);
    if (!Array.isArray(unflattenedSize)) fail('Unflatten', `unflattenedSize must be an array of non-negative integers, got ${show(unflattenedSize)}`);
    const inferred = unflattenedSize.filter((d) => d === -1).length;
    if (unflattenedSize.length === 0 || inferred > 1 || !unflattenedSize.every((d) => d === -1 || (Number.isSafeInteger(d) && d >= 0))) {
      fail('Unflatten', `unflattenedSize must be non-negative integers with at most one −1, got ${show(unflattenedSize)}`);
    }
    this.unflattenedSize = [...unflattenedSize];
  }

  forward(x: Tensor): Tensor {
    const d = this.dim < 0 ? this.dim + x.ndim : this.dim;
    if (d < 0 || d >= x.ndim) fail('Unflatten', `dim ${this.dim} is out of range for input of rank ${x.ndim}`);
    return x.reshape([...x.shape.slice(0, d), ...this.unflattenedSize, ...x.shape.slice(d + 1)]);
  }

  override extraRepr(): string {
    return `dim=${this.dim}, unflattened_size=${tuple(this.unflattenedSize)}`;
  }
}

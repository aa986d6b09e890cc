/** Upsampling. */
import type { Tensor } from '../../tensor.js';
import { Module } from '../module.js';
import * as F from '../functional.js';
import { fail, pairOf, pyBool, pyFloat, show, tuple, checkOptions } from './common.js';

/** Options of Upsample: exactly one of size and scaleFactor. */
export interface UpsampleOptions {
  /** Output (H, W), or one number for both. */
  size?: number | readonly [number, number];
  /** Multiplier of H and W, or one number for both. */
  scaleFactor?: number | readonly [number, number];
  /** Default 'nearest'. */
  mode?: 'nearest' | 'bilinear';
  /** bilinear only: align the corner pixels of input and output; default false. */
  alignCorners?: boolean;
}

/** Resizes (N, C, H, W) to (N, C, Hout, Wout) by nearest-neighbour or bilinear interpolation. */
export class Upsample extends Module {
  readonly size: number | readonly [number, number] | undefined;
  readonly scaleFactor: number | readonly [number, number] | undefined;
  readonly mode: 'nearest' | 'bilinear';
  readonly alignCorners: boolean | undefined;

  constructor(options: UpsampleOptions) {
    super();
    checkOptions('Upsample', options);
    const { size, scaleFactor, mode = 'nearest', alignCorners } = options;
    if ((size === undefined) === (scaleFactor === undefined)) fail('Upsample', 'give exactly one of size and scaleFactor');
    if (size !== undefined && !pairOf(size).every((s) => Number.isSafeInteger(s) && s > 0)) {
      fail('Upsample', `size must be a positive integer or a pair of them, got ${show(size)}`);
    }
    if (scaleFactor !== undefined && !pairOf(scaleFactor).every((s) => Number.isFinite(s) && s > 0)) {
      fail('Upsample', `scaleFactor must be a positive number or a pair of them, got ${show(scaleFactor)}`);
    }
    if (mode !== 'nearest' && mode !== 'bilinear') fail('Upsample', `mode must be 'nearest' or 'bilinear', got ${show(mode)}`);
    if (alignCorners !== undefined && mode === 'nearest') fail('Upsample', "alignCorners only applies to mode 'bilinear'");
    this.size = size;
    this.scaleFactor = scaleFactor;
    this.mode = mode;
    this.alignCorners = alignCorners;
  }

  forward(x: Tensor): Tensor {
    return F.interpolate(x, { size: this.size, scaleFactor: this.scaleFactor, mode: this.mode, alignCorners: this.alignCorners });
  }

  override extraRepr(): string {
    const what = this.size !== undefined
      ? `size=${typeof this.size === 'number' ? this.size : tuple(this.size)}`
      : `scale_factor=${typeof this.scaleFactor === 'number' ? pyFloat(this.scaleFactor) : tuple(this.scaleFactor!)}`;
    return `${what}, mode='${this.mode}'${this.alignCorners !== undefined ? `, align_corners=${pyBool(this.alignCorners)}` : ''}`;
  }
}

/**
 * Tensors filled from the shared counter-based generator (Philox4x32-10, see lib/random.ts). The native
 * kernel yields the same numbers on every device for the same (seed, offset).
 */
import { native } from '../native.js';
import type { DType } from '../dtype.js';
import type { DeviceId } from '../storage.js';
import type { Tensor } from '../tensor.js';
import { bufferOf, cpu, uninitialized } from './runtime.js';
import { kernelFamily } from './family.js';

/** This module's kernel family: its entry points and how each device runs them (see family.ts). */
export const randomFamily = kernelFamily('random', ['random'], { cpu: 'native', cuda: 'native' });

/** A new tensor on `device`: kind 0 uniform [a, b), 1 normal(a, b), 2 bernoulli(a), 3 integers [a, b). */
export function randomK(
  shape: readonly number[], dtype: DType, kind: number, seed: number, offset: number, a: number, b: number, device: DeviceId = cpu,
): Tensor {
  const out = uninitialized(shape, dtype, device);
  native.random(bufferOf(out), kind, seed, offset, a, b);
  return out;
}

/**
 * The registry through which Tensor's methods reach the ops. tensor.ts cannot import the ops (they import
 * it), so lib/ops/install.ts registers them once when loaded; creation.ts and index.ts load it, so any
 * program that can make a tensor has them.
 */
import type * as elementwise from './ops/elementwise.js';
import type * as reduce from './ops/reduce.js';
import type * as shape from './ops/shape.js';
import type * as linalg from './ops/linalg.js';
import type * as indexing from './ops/indexing.js';
import type { hostData, hostDataAsync } from './kernels/runtime.js';
import type { backward } from './autograd/engine.js';
import type { formatTensor } from './format.js';

export interface TensorOps {
  elementwise: typeof elementwise;
  reduce: typeof reduce;
  shape: typeof shape;
  linalg: typeof linalg;
  indexing: typeof indexing;
  kernels: { hostData: typeof hostData; hostDataAsync: typeof hostDataAsync };
  backward: typeof backward;
  formatTensor: typeof formatTensor;
}

let registered: TensorOps | null = null;

export function registerTensorOps(ops: TensorOps): void {
  registered = ops;
}

export function tensorOps(): TensorOps {
  if (registered === null) {
    throw new Error("tensorforge: tensor methods need the ops; import 'tensorforge' (lib/index.js) or lib/creation.js first");
  }
  return registered;
}

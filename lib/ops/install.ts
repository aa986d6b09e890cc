/** Registers the ops with Tensor's methods (see tensor_ops.ts); imported for that effect. */
import * as elementwise from './elementwise.js';
import * as reduce from './reduce.js';
import * as shape from './shape.js';
import * as linalg from './linalg.js';
import * as indexing from './indexing.js';
import { hostData, hostDataAsync } from '../kernels/runtime.js';
import { backward } from '../autograd/engine.js';
import { formatTensor } from '../format.js';
import { registerTensorOps } from '../tensor_ops.js';

registerTensorOps({ elementwise, reduce, shape, linalg, indexing, kernels: { hostData, hostDataAsync }, backward, formatTensor });

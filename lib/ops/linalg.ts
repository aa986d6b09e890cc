/** Matrix products on the GEMM binding: matmul (NumPy semantics), bmm, addmm, outer. */
import { publicApi } from '../checks.js';
import type { Tensor } from '../tensor.js';
import { attach } from '../autograd/node.js';
import { defineOp } from './registry.js';
import { reduceFamily } from '../kernels/reduce.js';
import { broadcastShapes, requireFloat, requireSameDType } from '../kernels/runtime.js';
import { elementwiseFamily } from '../kernels/elementwise.js';
import { gemmFamily, matmulK } from '../kernels/gemm.js';
import { expand, squeeze, transpose, unsqueeze, reshape } from './shape.js';
import { add, mul } from './elementwise.js';

/** Batched product of [..., M, K] and [..., K, N] with broadcast batch dims. */
const matmulNd = defineOp('matmul', [gemmFamily, elementwiseFamily, reduceFamily], (a: Tensor, b: Tensor): Tensor => {
  const M = a.shape[a.ndim - 2]!, K = a.shape[a.ndim - 1]!, N = b.shape[b.ndim - 1]!;
  if (b.shape[b.ndim - 2] !== K) {
    throw new RangeError(`matmul: shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}] cannot be multiplied (${K} vs ${b.shape[b.ndim - 2]})`);
  }
  const batch = broadcastShapes('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  const out = matmulK(expand(a.detach(), [...batch, M, K]), expand(b.detach(), [...batch, K, N]));
  return attach('matmul', out, [a, b], [
    (g) => matmulNd(g, transpose(b, -1, -2)),
    (g) => matmulNd(transpose(a, -1, -2), g),
  ], [a, b]);
});

/**
 * Matrix product with NumPy semantics: 1-D·1-D is a dot product, a 1-D operand is a row (left) or
 * column (right) vector, and leading batch dims broadcast.
 */
export const matmul = publicApi('matmul', function matmul(a: Tensor, b: Tensor): Tensor {
  requireFloat('matmul', a);
  requireSameDType('matmul', a, b);
  if (a.ndim === 0 || b.ndim === 0) {
    throw new RangeError(`matmul: both operands need at least 1 dim, got shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}]`);
  }
  const a2 = a.ndim === 1 ? unsqueeze(a, 0) : a;
  const b2 = b.ndim === 1 ? unsqueeze(b, 1) : b;
  let out = matmulNd(a2, b2);
  if (b.ndim === 1) out = squeeze(out, -1);
  if (a.ndim === 1) out = squeeze(out, a.ndim === 1 && b.ndim === 1 ? -1 : -2);
  return out;
});

/** Batched matrix product of [B, M, K] and [B, K, N]. */
export const bmm = publicApi('bmm', function bmm(a: Tensor, b: Tensor): Tensor {
  if (a.ndim !== 3 || b.ndim !== 3 || a.shape[0] !== b.shape[0]) {
    throw new RangeError(`bmm: expects [B, M, K] and [B, K, N] with equal B, got [${a.shape.join(', ')}] and [${b.shape.join(', ')}]`);
  }
  return matmul(a, b);
});

/** beta·input + alpha·(a @ b). */
export const addmm = publicApi('addmm', function addmm(input: Tensor, a: Tensor, b: Tensor, options: { beta?: number; alpha?: number } = {}): Tensor {
  const { beta = 1, alpha = 1 } = options;
  const prod = matmul(a, b);
  return add(beta === 1 ? input : mul(input, beta), alpha === 1 ? prod : mul(prod, alpha));
});

/** Outer product of two 1-D tensors. */
export const outer = publicApi('outer', function outer(a: Tensor, b: Tensor): Tensor {
  if (a.ndim !== 1 || b.ndim !== 1) {
    throw new RangeError(`outer: expects 1-D tensors, got shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}]`);
  }
  return matmul(reshape(a, [-1, 1]), reshape(b, [1, -1]));
});

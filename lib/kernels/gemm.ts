/**
 * Batched matrix products on the GEMM binding, on the tensors' device: cpu (BLAS) or cuda (the CUDA GEMM
 * kernels; float32 on TF32 tensor cores when setFloat32MatmulPrecision('high')).
 */
import { native } from '../native.js';
import type { AnyBuffer } from '../bindings/elementwise.js';
import type { Tensor } from '../tensor.js';
import { allowTf32 } from './precision.js';
import { bufferOf, commonDevice, copyAs, denseBuffer, uninitialized } from './runtime.js';
import { kernelFamily } from './family.js';

/** This module's kernel family: its entry points and how each device runs them (see family.ts). */
export const gemmFamily = kernelFamily('gemm', ['gemm'], { cpu: 'native', cuda: 'native' });

interface GemmOperand {
  data: AnyBuffer;
  offset: number;
  ld: number;
  batchStride: number;
  trans: boolean;
}

/** One batch stride for all batch dims, or null when they do not collapse (then a copy is made). */
function collapsedBatchStride(t: Tensor): number | null {
  const dims = t.shape.slice(0, -2).map((s, i) => [s, t.strides[i]!] as const).filter(([s]) => s !== 1);
  if (dims.length === 0 || dims.every(([, st]) => st === 0)) return 0;
  for (let i = 0; i + 1 < dims.length; i++) if (dims[i]![1] !== dims[i + 1]![0] * dims[i + 1]![1]) return null;
  return dims[dims.length - 1]![1];
}

/** Describes a [..., R, C] view (on any device) to GEMM without copying when its layout allows. */
function gemmOperand(t: Tensor): GemmOperand {
  const R = t.shape[t.ndim - 2]!, C = t.shape[t.ndim - 1]!;
  const sr = t.strides[t.ndim - 2]!, sc = t.strides[t.ndim - 1]!;
  const batchStride = collapsedBatchStride(t);
  if (batchStride !== null) {
    if ((sc === 1 || C === 1) && (sr >= Math.max(1, C) || R === 1)) {
      return { data: bufferOf(t), offset: t.offset, ld: R === 1 ? Math.max(1, C) : sr, batchStride, trans: false };
    }
    if ((sr === 1 || R === 1) && (sc >= Math.max(1, R) || C === 1)) {
      return { data: bufferOf(t), offset: t.offset, ld: C === 1 ? Math.max(1, R) : sc, batchStride, trans: true };
    }
  }
  const c = copyAs(t, t.dtype);
  return { data: bufferOf(c), offset: 0, ld: Math.max(1, C), batchStride: R * C, trans: false };
}

/**
 * out [...batch, M, N] = a · b (+ bias[N] on every row) for views a [...batch, M, K] and b [...batch, K, N]
 * already expanded to the common batch shape (stride 0 along broadcast dims); one float dtype, one device.
 */
export function matmulK(a: Tensor, b: Tensor, bias: Tensor | null = null): Tensor {
  const device = commonDevice('matmul', [a, b, bias]);
  const M = a.shape[a.ndim - 2]!, K = a.shape[a.ndim - 1]!, N = b.shape[b.ndim - 1]!;
  const batch = a.shape.slice(0, -2);
  const count = batch.reduce((x, y) => x * y, 1);
  const A = gemmOperand(a), B = gemmOperand(b);
  const out = uninitialized([...batch, M, N], a.dtype, device);
  native.gemm(
    count, A.trans, B.trans, M, N, K, 1,
    A.data, A.offset, A.ld, A.batchStride, B.data, B.offset, B.ld, B.batchStride,
    0, bufferOf(out), 0, Math.max(1, N), M * N, allowTf32(), bias && denseBuffer(bias),
  );
  return out;
}

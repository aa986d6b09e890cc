/** Types of the runtime and GEMM entry points of the native addon. */

import type { AnyBuffer } from './elementwise.js';

export interface CudaDeviceInfo {
  index: number;
  name: string;
  /** e.g. "9.0" */
  computeCapability: string;
  /** bytes */
  totalMemory: number;
  multiprocessors: number;
}

export interface NativeBackendInfo {
  /** threads: what a large GEMM uses from the calling thread, its setNumThreads count (OpenBLAS itself runs single-threaded). */
  gemm: { backend: 'openblas-static' | 'openblas-shared' | 'portable'; detail: string; threads: number };
  /** The calling JS thread's setNumThreads count. */
  threads: number;
  napiVersion: number;
  cuda: {
    compiled: boolean;
    runtimeVersion: number;
    driverVersion: number;
    devices: CudaDeviceInfo[];
    /** Why no device is usable, when devices is empty. */
    reason?: string;
    /** The CUDA execution model run on the CPU (a test build), not a GPU; absent in older addons. */
    emulated?: boolean;
  };
}

export type FloatArray = Float32Array | Float64Array;

export interface RuntimeBinding {
  backendInfo(): NativeBackendInfo;
  /** The calling JS thread's count for the CPU kernels (GEMMs included), 1..256; other JS threads keep theirs. */
  setNumThreads(n: number): void;
  getNumThreads(): number;
  /** Byte offset of the buffer's memory within its 4 KiB page. */
  pageOffset(buffer: ArrayBuffer): number;
}

export interface GemmBinding {
  /**
   * Batched row-major GEMM: for b in [0, batch): C_b = alpha * op(A_b) * op(B_b) + beta * C_b, where
   * X_b starts at offX + b * strideX (stride 0 broadcasts) and has row stride ldX. A, B, C share one float dtype
   * and one device (typed arrays on cpu, device handles on cuda). allowTf32: float32 products on cuda may use
   * TF32 tensor cores (default false). bias (length N, C's dtype and device), when given, is added to every
   * row of every C_b: a linear layer's epilogue.
   */
  gemm(
    batch: number, transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
    A: AnyBuffer, offA: number, lda: number, strideA: number,
    B: AnyBuffer, offB: number, ldb: number, strideB: number,
    beta: number, C: AnyBuffer, offC: number, ldc: number, strideC: number, allowTf32?: boolean,
    bias?: AnyBuffer | null,
  ): void;
}

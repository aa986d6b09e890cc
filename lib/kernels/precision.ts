/**
 * The float32 matmul precision, as PyTorch's torch.set_float32_matmul_precision: 'highest' computes float32
 * products in float32; 'high' lets the CUDA GEMM and convolution kernels use TF32 tensor cores (10-bit
 * mantissa inputs, float32 accumulation). CPU kernels always compute in full float32; float64 is never affected.
 */
export type MatmulPrecision = 'highest' | 'high';

let precision: MatmulPrecision = 'highest';

export function setFloat32MatmulPrecision(p: MatmulPrecision): void {
  if (p !== 'highest' && p !== 'high') {
    throw new RangeError(`setFloat32MatmulPrecision: precision must be 'highest' or 'high', got ${JSON.stringify(p)}`);
  }
  precision = p;
}

export function getFloat32MatmulPrecision(): MatmulPrecision {
  return precision;
}

/** Whether float32 GEMMs and convolutions on cuda may use TF32 tensor cores. */
export function allowTf32(): boolean {
  return precision === 'high';
}

/**
 * The addon's runtime and device-memory entry points, below tensors: backend information, CPU threads,
 * and CUDA memory behind opaque handles. Every device call goes through `cudaApi()`, which degrades to
 * "no device" when the addon predates the device API or finds no usable device, so that creating or
 * moving a tensor to cuda throws the addon's reason instead of a missing-function TypeError.
 */
import { native } from '../native.js';

export { packageVersion } from '../native.js';
import type { NativeBackendInfo } from '../bindings/runtime.js';
import type { DeviceBinding, DeviceHandle, DeviceMemoryStats, DeviceTransferStats, DTypeCode } from '../bindings/device.js';
import type { AnyArray } from '../bindings/elementwise.js';
import type { DType } from '../dtype.js';

export type { DeviceHandle, DeviceMemoryStats, DeviceTransferStats } from '../bindings/device.js';
export type { NativeBackendInfo } from '../bindings/runtime.js';

export function backendInfo(): NativeBackendInfo {
  return native.backendInfo();
}

export function setNumThreads(n: number): void {
  native.setNumThreads(n);
}

export function getNumThreads(): number {
  return native.getNumThreads();
}

/** Byte offset of the buffer's memory within its 4 KiB page. */
export function pageOffset(buffer: ArrayBuffer): number {
  return native.pageOffset(buffer);
}

const dtypeCodes: Record<DType, DTypeCode> = { float32: 0, float64: 1, int32: 2, bool: 3 };

/** The device API when this addon has it, else null. */
function deviceApi(): DeviceBinding | null {
  return typeof native.deviceCount === 'function' ? (native as DeviceBinding) : null;
}

let devicesFound: number | undefined;

/**
 * Usable CUDA devices: 0 when the addon has no device API or none is usable. Asked of the addon once:
 * every cuda allocation checks it, and the set of devices does not change while a process runs.
 */
export function cudaDeviceCount(): number {
  devicesFound ??= deviceApi()?.deviceCount() ?? 0;
  return devicesFound;
}

/** Why CUDA cannot be used, in the addon's words. */
function cudaUnavailableReason(): string {
  const info = native.backendInfo().cuda;
  if (info.reason) return info.reason;  // a build without CUDA says so itself (native/cuda/absent.cc)
  if (!info.compiled) return 'this build has no CUDA kernels';
  return deviceApi() ? 'no usable CUDA device' : 'this addon predates the device API (rebuild it)';
}

/**
 * The device API, after checking that device `index` exists; `op` names the caller in the error, as in
 * "to('cuda'): CUDA is not available: no CUDA driver".
 */
function cudaApi(op: string, index: number): DeviceBinding {
  const api = deviceApi();
  const count = cudaDeviceCount();
  if (!api || count === 0) throw new Error(`${op}: CUDA is not available: ${cudaUnavailableReason()}`);
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new RangeError(`${op}: cuda:${index} does not exist; ${count} CUDA device${count === 1 ? ' is' : 's are'} available`);
  }
  return api;
}

/** Throws (naming `op` and the reason) unless cuda:index is usable. */
export function requireCudaDevice(op: string, index: number): void {
  cudaApi(op, index);
}

/** Device memory for `length` elements of dtype on cuda:index, zero-filled when `zero`. */
export function deviceAlloc(op: string, index: number, dtype: DType, length: number, zero: boolean): DeviceHandle {
  return cudaApi(op, index).deviceAlloc(index, dtypeCodes[dtype], length, zero);
}

/** Hands the memory back to the caching allocator (idempotent). */
export function deviceFree(handle: DeviceHandle): void {
  deviceApi()!.deviceFree(handle);
}

export function deviceUpload(handle: DeviceHandle, offset: number, src: AnyArray): void {
  deviceApi()!.deviceUpload(handle, offset, src);
}

/** Copies into dst from element `offset`, waiting for the device's queued work. */
export function deviceDownload(handle: DeviceHandle, offset: number, dst: AnyArray): void {
  deviceApi()!.deviceDownload(handle, offset, dst);
}

export function deviceDownloadAsync(handle: DeviceHandle, offset: number, dst: AnyArray): Promise<void> {
  return deviceApi()!.deviceDownloadAsync(handle, offset, dst);
}

export function deviceSynchronize(op: string, index: number): void {
  cudaApi(op, index).deviceSynchronize(index);
}

export function deviceMemoryStats(op: string, index: number): DeviceMemoryStats {
  return cudaApi(op, index).deviceMemoryStats(index);
}

export function deviceTransferStats(op: string, index: number): DeviceTransferStats {
  return cudaApi(op, index).deviceTransferStats(index);
}

export function deviceEmptyCache(op: string, index: number): void {
  cudaApi(op, index).deviceEmptyCache(index);
}

export function deviceResetPeakStats(op: string, index: number): void {
  cudaApi(op, index).deviceResetPeakStats(index);
}

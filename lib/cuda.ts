/**
 * tf.cuda: whether CUDA is usable, and the caching allocator's memory statistics per device (bytes).
 * `device` is an index or 'cuda:N' (default 0). Every function but isAvailable/deviceCount throws the
 * reason when CUDA is not usable.
 */
import {
  cudaDeviceCount, deviceEmptyCache, deviceMemoryStats, deviceResetPeakStats, deviceSynchronize, deviceTransferStats,
  type DeviceMemoryStats, type DeviceTransferStats,
} from './kernels/device.js';
import { parseDevice } from './storage.js';

export type { DeviceMemoryStats, DeviceTransferStats } from './kernels/device.js';

function indexOf(device: number | string, op: string): number {
  if (typeof device === 'number') return device;
  const id = parseDevice(device, op);
  if (id.type !== 'cuda') throw new TypeError(`${op}: expected a cuda device, got '${device}'`);
  return id.index;
}

/** True when at least one CUDA device (a GPU, or the emulated device of a test build) is usable. */
export function isAvailable(): boolean {
  return cudaDeviceCount() > 0;
}

export function deviceCount(): number {
  return cudaDeviceCount();
}

/** The allocator's statistics: live and reserved bytes, their peaks, live allocations. */
export function memoryStats(device: number | string = 0): DeviceMemoryStats {
  return deviceMemoryStats('cuda.memoryStats', indexOf(device, 'cuda.memoryStats'));
}

/**
 * Host<->device copies on the device since the process started (counts and bytes; copies within the
 * device are not counted): take two readings around a piece of work to see what it moved.
 */
export function transferStats(device: number | string = 0): DeviceTransferStats {
  return deviceTransferStats('cuda.transferStats', indexOf(device, 'cuda.transferStats'));
}

/** Bytes in live tensors' device memory. */
export function memoryAllocated(device: number | string = 0): number {
  return deviceMemoryStats('cuda.memoryAllocated', indexOf(device, 'cuda.memoryAllocated')).allocated;
}

/** Bytes the caching allocator holds, live or cached for reuse. */
export function memoryReserved(device: number | string = 0): number {
  return deviceMemoryStats('cuda.memoryReserved', indexOf(device, 'cuda.memoryReserved')).reserved;
}

/** The peak of memoryAllocated since the start or the last resetPeakMemoryStats. */
export function maxMemoryAllocated(device: number | string = 0): number {
  return deviceMemoryStats('cuda.maxMemoryAllocated', indexOf(device, 'cuda.maxMemoryAllocated')).maxAllocated;
}

export function maxMemoryReserved(device: number | string = 0): number {
  return deviceMemoryStats('cuda.maxMemoryReserved', indexOf(device, 'cuda.maxMemoryReserved')).maxReserved;
}

export function resetPeakMemoryStats(device: number | string = 0): void {
  deviceResetPeakStats('cuda.resetPeakMemoryStats', indexOf(device, 'cuda.resetPeakMemoryStats'));
}

/** Returns cached, unused blocks to the driver (live tensors are not touched). */
export function emptyCache(device: number | string = 0): void {
  deviceEmptyCache('cuda.emptyCache', indexOf(device, 'cuda.emptyCache'));
}

/** Waits until the device has finished all queued work. */
export function synchronize(device: number | string = 0): void {
  deviceSynchronize('cuda.synchronize', indexOf(device, 'cuda.synchronize'));
}

/**
 * Types of the device entry points of the native addon: device memory behind opaque handles, host/device
 * copies, and the caching allocator's statistics. An addon built without CUDA may lack them all
 * (lib/native.ts types them as optional); deviceCount() is 0 when no device is usable.
 *
 * Every other entry point accepts a DeviceHandle wherever it takes a typed array and then runs on that
 * handle's device; a call mixing devices throws. dtype codes: 0 float32, 1 float64, 2 int32, 3 bool (uint8).
 */
import type { AnyArray } from './elementwise.js';

/** Device memory owned by the native caching allocator; the addon frees it on deviceFree or when collected. */
export interface DeviceHandle {
  readonly __deviceHandle: unique symbol;
}

export type DTypeCode = 0 | 1 | 2 | 3;

export interface DeviceMemoryStats {
  /** Bytes in live allocations. */
  allocated: number;
  /** Bytes the caching allocator holds from the driver (live and cached). */
  reserved: number;
  maxAllocated: number;
  maxReserved: number;
  /** Live allocations. */
  allocations: number;
}

/** Host<->device copies through deviceUpload / deviceDownload(Async) on one device since the process started. */
export interface DeviceTransferStats {
  /** Host-to-device copies and their bytes. */
  uploads: number;
  uploadBytes: number;
  /** Device-to-host copies and their bytes. */
  downloads: number;
  downloadBytes: number;
}

export interface DeviceBinding {
  deviceCount(): number;
  /** `length` elements of dtype on device `device`, zero-filled when `zero`. */
  deviceAlloc(device: number, dtype: DTypeCode, length: number, zero: boolean): DeviceHandle;
  /** Returns the memory to the caching allocator; idempotent. */
  deviceFree(handle: DeviceHandle): void;
  /** Copies src into the handle from element `offset`. */
  deviceUpload(handle: DeviceHandle, offset: number, src: AnyArray): void;
  /** Copies dst.length elements from element `offset` into dst, waiting for the device. */
  deviceDownload(handle: DeviceHandle, offset: number, dst: AnyArray): void;
  /** As deviceDownload, resolving when the copy is done without blocking the event loop. */
  deviceDownloadAsync(handle: DeviceHandle, offset: number, dst: AnyArray): Promise<void>;
  deviceSynchronize(device: number): void;
  deviceMemoryStats(device: number): DeviceMemoryStats;
  deviceTransferStats(device: number): DeviceTransferStats;
  /** Releases the allocator's cached (unused) blocks to the driver. */
  deviceEmptyCache(device: number): void;
  deviceResetPeakStats(device: number): void;
  deviceHandleInfo(handle: DeviceHandle): { device: number; dtype: DTypeCode; length: number };
}

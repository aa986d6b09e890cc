/**
 * Devices and the memory behind tensors. A tensor holds one Storage: a CpuStorage (a JS typed array the
 * garbage collector owns) or a CudaStorage (an opaque handle to device memory from the native caching
 * allocator). The kernel layer (lib/kernels) is the only code that looks inside either.
 */
import { type DType, type TypedArray, dtypeOfArray } from './dtype.js';
import { type DeviceHandle, deviceFree } from './kernels/device.js';

/** Where a tensor lives. */
export type Device = 'cpu' | 'cuda';
/** A device as users name it: 'cpu', 'cuda' (device 0) or 'cuda:N'. */
export type DeviceSpec = Device | `cuda:${number}`;

/** A parsed device: its kind and index (0 for cpu). */
export interface DeviceId {
  type: Device;
  index: number;
}

/** Parses 'cpu', 'cuda' or 'cuda:N'; `op` names the caller in the error. */
export function parseDevice(spec: string, op: string): DeviceId {
  if (spec === 'cpu') return { type: 'cpu', index: 0 };
  if (spec === 'cuda') return { type: 'cuda', index: 0 };
  const m = /^cuda:(\d+)$/.exec(spec);
  if (m) return { type: 'cuda', index: Number(m[1]) };
  throw new TypeError(`${op}: unknown device '${spec}' (expected 'cpu', 'cuda' or 'cuda:N')`);
}

/** 'cpu' or 'cuda:N', the form error messages use. */
export function deviceName(id: DeviceId): DeviceSpec {
  return id.type === 'cpu' ? 'cpu' : `cuda:${id.index}`;
}

export function isDeviceSpec(value: string): value is DeviceSpec {
  return value === 'cpu' || value === 'cuda' || /^cuda:\d+$/.test(value);
}

let storagesCreated = 0;

/** The serial the next storage will get: every storage created from now on has at least this serial. */
export function nextStorageSerial(): number {
  return storagesCreated + 1;
}

/** Memory behind one or more tensors. */
interface StorageBase {
  readonly device: Device;
  /** 0 for cpu. */
  readonly deviceIndex: number;
  readonly dtype: DType;
  /** Elements. */
  readonly length: number;
  /** Creation order (see nextStorageSerial). */
  readonly serial: number;
  /** Bumped by every in-place write; saved tensors compare it at backward. */
  version: number;
  readonly disposed: boolean;
  /** Releases the memory now; idempotent. */
  dispose(): void;
}

const disposedError = (): Error => new Error('tensorforge: tensor used after dispose()');

export class CpuStorage implements StorageBase {
  readonly device = 'cpu' as const;
  readonly deviceIndex = 0;
  readonly dtype: DType;
  readonly length: number;
  readonly serial = ++storagesCreated;
  version = 0;
  #data: TypedArray | null;

  constructor(data: TypedArray) {
    this.#data = data;
    this.dtype = dtypeOfArray(data);
    this.length = data.length;
  }

  get data(): TypedArray {
    if (this.#data === null) throw disposedError();
    return this.#data;
  }

  get disposed(): boolean {
    return this.#data === null;
  }

  dispose(): void {
    this.#data = null;
  }

  /** Disposes the storage and hands its array to the caller (for recycling). */
  detach(): TypedArray {
    const data = this.data;
    this.#data = null;
    return data;
  }
}

/**
 * Device memory on cuda:deviceIndex. dispose() returns it to the native caching allocator at once; a
 * storage that is never disposed is freed by the native handle's finalizer when the handle is collected.
 */
export class CudaStorage implements StorageBase {
  readonly device = 'cuda' as const;
  readonly serial = ++storagesCreated;
  version = 0;
  #handle: DeviceHandle | null;

  constructor(handle: DeviceHandle, readonly dtype: DType, readonly length: number, readonly deviceIndex: number) {
    this.#handle = handle;
  }

  get handle(): DeviceHandle {
    if (this.#handle === null) throw disposedError();
    return this.#handle;
  }

  get disposed(): boolean {
    return this.#handle === null;
  }

  dispose(): void {
    if (this.#handle === null) return;
    deviceFree(this.#handle);
    this.#handle = null;
  }
}

export type Storage = CpuStorage | CudaStorage;

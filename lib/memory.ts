/**
 * Storage allocation and recycling. CPU storage is allocated from size-keyed free lists, CUDA storage from
 * the native caching allocator; `releaseAfter(fn, keep)` runs fn and then releases every storage allocated
 * during fn that no kept tensor uses: CPU buffers go back to the free lists, device memory back to the
 * caching allocator (deviceFree), at once rather than whenever the garbage collector finds the handles.
 * A training loop calls it once per step, so each step reuses the previous step's activation memory
 * instead of handing the garbage collector megabytes of ArrayBuffers (whose external-memory pressure
 * otherwise forces a full mark-compact every few steps).
 */
import { constants as bufferConstants } from 'node:buffer';
import { requireFunction } from './checks.js';
import { type DType, type TypedArray, arrayConstructors } from './dtype.js';
import { deviceAlloc, pageOffset } from './kernels/device.js';
import { CpuStorage, CudaStorage, type DeviceId, type Storage } from './storage.js';
import type { Tensor } from './tensor.js';

/** Bytes the free lists may hold; beyond it released buffers are left to the garbage collector. */
const maxPooledBytes = 512 * 1024 * 1024;
const pageBytes = 4096, lineBytes = 64;
/**
 * Buffers from this size up choose where in a 4 KiB page they start. The C heap hands out large blocks one
 * after the other, so a kernel's input and output often start a few bytes apart modulo 4 KiB; the CPU then
 * takes each store as a possible alias of the loads just ahead of it ("4K aliasing") and streams at a third
 * of its speed (relu over 16M floats: 10 GB/s instead of 27). Starting every buffer on the same page offset
 * avoids that but lines all streams up on the same DRAM banks (2-thread relu: 33 -> 22 GB/s), so
 * successive buffers start 23 cache lines apart (mod 4 KiB), as allocators that colour large blocks do.
 */
const alignFromBytes = 64 * 1024;
const colourStep = 23;
let nextColour = 0;

/** A recyclable piece of memory: `bytes` usable bytes of `buffer` from byte `offset`. */
interface Block {
  buffer: ArrayBuffer;
  offset: number;
}

const freeLists = new Map<number, Block[]>();
let pooledBytes = 0;
/** Storages allocated inside the innermost releaseAfter, or null outside any. */
let tracked: Storage[] | null = null;

/** The most elements a JavaScript typed array may have (2^32 in Node 20), so the largest host tensor. */
export const maxHostElements = 2 ** 32;

/**
 * New memory from the C heap, uninitialized where Buffer.allocUnsafeSlow can make it (it skips the zero
 * fill, up to buffer.constants.MAX_LENGTH: 4 GiB in Node 20); larger buffers are ArrayBuffers, whose
 * zero pages the OS maps lazily. Running out of memory is a RangeError naming the size.
 */
function freshBuffer(bytes: number): ArrayBuffer {
  try {
    if (bytes > bufferConstants.MAX_LENGTH) return new ArrayBuffer(bytes);
    const fresh = Buffer.allocUnsafeSlow(bytes);
    return fresh.buffer.byteLength === bytes ? (fresh.buffer as ArrayBuffer) : new ArrayBuffer(bytes);
  } catch (err) {
    throw new RangeError(`cannot allocate ${bytes} bytes of host memory for a tensor: ${(err as Error).message}`, { cause: err });
  }
}

function takeBlock(bytes: number): Block {
  const reused = freeLists.get(bytes)?.pop();
  if (reused) {
    pooledBytes -= bytes;
    return reused;
  }
  if (bytes < alignFromBytes) return { buffer: freshBuffer(bytes), offset: 0 };
  const buffer = freshBuffer(bytes + pageBytes);
  const start = nextColour * lineBytes;
  nextColour = (nextColour + colourStep) % (pageBytes / lineBytes);
  return { buffer, offset: (start - pageOffset(buffer) + pageBytes) % pageBytes };
}

const cpu: DeviceId = { type: 'cpu', index: 0 };

/**
 * New storage for n elements of dtype on `device` (cpu by default). Contents are undefined unless `zero`
 * is set. Tracked by the innermost releaseAfter, if any.
 */
export function allocateStorage(dtype: DType, n: number, zero: boolean, device: DeviceId = cpu): Storage {
  const storage = device.type === 'cpu'
    ? new CpuStorage(hostArray(dtype, n, zero))
    : new CudaStorage(deviceAlloc('allocate', device.index, dtype, n, zero), dtype, n, device.index);
  tracked?.push(storage);
  return storage;
}

function hostArray(dtype: DType, n: number, zero: boolean): TypedArray {
  if (n > maxHostElements) {
    throw new RangeError(`cannot allocate a ${dtype} tensor of ${n} elements on the cpu: the limit is ${maxHostElements} elements (a JavaScript typed array's)`);
  }
  const Ctor = arrayConstructors[dtype];
  const bytes = n * Ctor.BYTES_PER_ELEMENT;
  let data: TypedArray;
  if (bytes === 0) data = new Ctor(0);
  else if (zero && bytes < alignFromBytes && !freeLists.get(bytes)?.length) data = new Ctor(n);
  else {
    const block = takeBlock(bytes);
    data = new Ctor(block.buffer, block.offset, n);
    if (zero) data.fill(0);
  }
  return data;
}

function recycle(storage: Storage): void {
  if (storage.disposed) return;
  if (storage.device !== 'cpu') {
    storage.dispose();
    return;
  }
  const data = storage.detach();
  const buffer = data.buffer as ArrayBuffer;
  const bytes = data.byteLength, offset = data.byteOffset;
  // only whole blocks as takeBlock makes them (storage from a user's array is never tracked; this is a guard)
  const whole = bytes < alignFromBytes ? offset === 0 && buffer.byteLength === bytes : buffer.byteLength === bytes + pageBytes;
  if (bytes === 0 || !whole || pooledBytes + bytes > maxPooledBytes) return;
  let list = freeLists.get(bytes);
  if (!list) freeLists.set(bytes, (list = []));
  list.push({ buffer, offset });
  pooledBytes += bytes;
}

/**
 * Runs fn; afterwards every storage allocated during fn is released for reuse (and its tensors become
 * disposed) unless it backs a tensor listed by `keep` (called after fn) or the value fn returns.
 * Storages that survive move to the enclosing releaseAfter, if any.
 */
export function releaseAfter<T>(fn: () => T, keep: () => Iterable<Tensor | null | undefined> = () => []): T {
  requireFunction('releaseAfter', fn, 'fn');
  requireFunction('releaseAfter', keep, 'keep');
  const outer = tracked;
  const mine: Storage[] = [];
  tracked = mine;
  let result: T;
  try {
    result = fn();
  } finally {
    tracked = outer;
  }
  const kept = new Set<Storage>();
  for (const t of keep()) if (t) kept.add(t.storage);
  const returned = result as unknown;
  if (returned && typeof returned === 'object' && 'storage' in returned) kept.add((returned as Tensor).storage);
  for (const s of mine) {
    if (kept.has(s)) outer?.push(s);
    else recycle(s);
  }
  return result;
}

/**
 * Releases the storages of tensors the caller knows to be unused (disposing every tensor that shares
 * them), except those backing a tensor in `keep`: cpu buffers go to the free lists, device memory back
 * to the caching allocator.
 */
export function releaseUnless(tensors: Iterable<Tensor | null | undefined>, keep: Iterable<Tensor | null | undefined>): void {
  const kept = new Set<Storage>();
  for (const t of keep) if (t) kept.add(t.storage);
  for (const t of tensors) if (t && !kept.has(t.storage)) recycle(t.storage);
}

/**
 * Releases one storage now (cpu memory to the free lists, device memory to the caching allocator); every
 * tensor on it becomes disposed. For callers that know nothing else can reach it (the autograd engine's
 * intermediate gradients).
 */
export function releaseStorage(storage: Storage): void {
  recycle(storage);
}

/** Bytes currently held in the free lists (for tests and benchmarks). */
export function pooledMemory(): number {
  return pooledBytes;
}

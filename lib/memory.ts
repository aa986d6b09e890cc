/**
 * CPU buffer recycling. Tensor storage is allocated from size-keyed free lists; `releaseAfter(fn, keep)`
 * runs fn and then returns to those lists every buffer allocated during fn that no kept tensor uses.
 * A training loop calls it once per step, so each step reuses the previous step's activation memory
 * instead of handing the garbage collector megabytes of ArrayBuffers (whose external-memory pressure
 * otherwise forces a full mark-compact every few steps).
 */
import { type DType, type TypedArray, arrayConstructors } from './dtype.js';
import { CpuStorage, type Tensor } from './tensor.js';

/** Bytes the free lists may hold; beyond it released buffers are left to the garbage collector. */
const maxPooledBytes = 512 * 1024 * 1024;
const freeLists = new Map<number, ArrayBuffer[]>();
let pooledBytes = 0;
/** Storages allocated inside the innermost releaseAfter, or null outside any. */
let tracked: CpuStorage[] | null = null;

function takeBuffer(bytes: number): ArrayBuffer {
  const reused = freeLists.get(bytes)?.pop();
  if (reused) {
    pooledBytes -= bytes;
    return reused;
  }
  const fresh = Buffer.allocUnsafeSlow(bytes);
  return fresh.buffer.byteLength === bytes ? (fresh.buffer as ArrayBuffer) : new ArrayBuffer(bytes);
}

/**
 * New storage for n elements of dtype. Contents are undefined unless `zero` is set. Tracked by the
 * innermost releaseAfter, if any.
 */
export function allocateStorage(dtype: DType, n: number, zero: boolean): CpuStorage {
  const Ctor = arrayConstructors[dtype];
  const bytes = n * Ctor.BYTES_PER_ELEMENT;
  let data: TypedArray;
  if (bytes === 0) data = new Ctor(0);
  else if (zero && !freeLists.get(bytes)?.length) data = new Ctor(n);
  else {
    data = new Ctor(takeBuffer(bytes), 0, n);
    if (zero) data.fill(0);
  }
  const storage = new CpuStorage(data);
  tracked?.push(storage);
  return storage;
}

function recycle(storage: CpuStorage): void {
  if (storage.disposed) return;
  const data = storage.detach();
  const buffer = data.buffer as ArrayBuffer;
  const bytes = buffer.byteLength;
  if (bytes === 0 || data.byteOffset !== 0 || data.byteLength !== bytes || pooledBytes + bytes > maxPooledBytes) return;
  let list = freeLists.get(bytes);
  if (!list) freeLists.set(bytes, (list = []));
  list.push(buffer);
  pooledBytes += bytes;
}

/**
 * Runs fn; afterwards every storage allocated during fn is released for reuse (and its tensors become
 * disposed) unless it backs a tensor listed by `keep` (called after fn) or the value fn returns.
 * Storages that survive move to the enclosing releaseAfter, if any.
 */
export function releaseAfter<T>(fn: () => T, keep: () => Iterable<Tensor | null | undefined> = () => []): T {
  const outer = tracked;
  const mine: CpuStorage[] = [];
  tracked = mine;
  let result: T;
  try {
    result = fn();
  } finally {
    tracked = outer;
  }
  const kept = new Set<CpuStorage>();
  for (const t of keep()) if (t) kept.add(t.storage);
  const returned = result as unknown;
  if (returned && typeof returned === 'object' && 'storage' in returned) kept.add((returned as Tensor).storage);
  for (const s of mine) {
    if (kept.has(s)) outer?.push(s);
    else recycle(s);
  }
  return result;
}

/** Bytes currently held in the free lists (for tests and benchmarks). */
export function pooledMemory(): number {
  return pooledBytes;
}

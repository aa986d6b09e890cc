/**
 * The safetensors checkpoint format (https://github.com/huggingface/safetensors):
 *
 *   [8 bytes]  N, the header length, unsigned 64-bit little-endian
 *   [N bytes]  UTF-8 JSON object { name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__"?: { string: string } },
 *              padded with spaces so that the data starts 8-byte aligned
 *   [rest]     the data; offsets are relative to its start, and the tensors tile it exactly
 *
 * The reader treats its input as hostile: every number in the header is checked against the file
 * before it is used, so a malformed file is an Error naming the problem, never an out-of-bounds
 * read, a hang, or an allocation larger than the file.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from './atomic.js';

export { writeFileAtomic } from './atomic.js';

/** Element types of the format that tensorforge reads and writes. */
export type DType = 'F32' | 'F64' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/** Typed arrays returned for the dtypes that have a natural JavaScript view; the others come back as raw bytes. */
export type TensorData = Uint8Array | Float32Array | Float64Array | Int32Array | BigInt64Array;

/** One tensor as stored: row-major data of `shape`, little-endian. */
export interface StoredTensor {
  dtype: DType;
  shape: number[];
  /** Raw little-endian bytes, or the dtype's typed array (F32 Float32Array, F64 Float64Array, I32 Int32Array, I64 BigInt64Array). */
  data: TensorData;
}

/** A decoded file: tensors in header order and the optional string metadata. */
export interface SafetensorsContents {
  tensors: Record<string, StoredTensor>;
  metadata: Record<string, string>;
}

type ViewCtor = { new (buffer: ArrayBuffer, byteOffset: number, length: number): TensorData; BYTES_PER_ELEMENT: number };

const DTYPES: Record<DType, { size: number; view?: ViewCtor }> = {
  F64: { size: 8, view: Float64Array },
  I64: { size: 8, view: BigInt64Array },
  F32: { size: 4, view: Float32Array },
  I32: { size: 4, view: Int32Array },
  F16: { size: 2 },
  BF16: { size: 2 },
  I16: { size: 2 },
  I8: { size: 1 },
  U8: { size: 1, view: Uint8Array },
  BOOL: { size: 1 },
};

/** The reference implementation's limit; the largest real headers are a few MB. */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

const METADATA_KEY = '__metadata__';
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function fail(message: string): never {
  throw new Error(`safetensors: ${message}`);
}

function requireLittleEndianHost(): void {
  if (!HOST_IS_LITTLE_ENDIAN) fail('big-endian hosts are not supported (the format is little-endian)');
}

function isDType(value: unknown): value is DType {
  return typeof value === 'string' && Object.hasOwn(DTYPES, value);
}

/**
 * The number of elements of `shape`, or an Error naming `what` when a dimension is not a
 * non-negative safe integer or the product exceeds 2^53 - 1.
 */
function elementCount(shape: unknown, what: string): number {
  if (!Array.isArray(shape)) fail(`${what}: shape must be an array, got ${JSON.stringify(shape)}`);
  if (shape.some((d) => !Number.isSafeInteger(d) || (d as number) < 0)) {
    fail(`${what}: shape entries must be non-negative integers, got [${shape.map((d) => JSON.stringify(d)).join(', ')}]`);
  }
  if (shape.includes(0)) return 0;
  let count = 1;
  for (const d of shape as number[]) {
    count *= d;
    if (!Number.isSafeInteger(count)) fail(`${what}: element count of shape [${shape.join(', ')}] overflows`);
  }
  return count;
}

/** The bytes of `data` as a Uint8Array view (no copy). */
function bytesOf(data: ArrayBufferView): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Encodes tensors and optional string metadata as a safetensors file. Tensors are laid out by
 * descending element size, then name, so that with the 8-byte-aligned header every tensor is
 * aligned to its element size and a reader can view it without copying.
 */
export function serialize(tensors: Record<string, StoredTensor>, metadata?: Record<string, string>): Uint8Array {
  requireLittleEndianHost();
  const entries = Object.entries(tensors).map(([name, t]) => {
    if (name === METADATA_KEY) fail(`serialize: the name ${METADATA_KEY} is reserved for metadata`);
    if (!isDType(t.dtype)) fail(`serialize: tensor '${name}' has unknown dtype ${JSON.stringify(t.dtype)}`);
    const count = elementCount(t.shape, `serialize: tensor '${name}'`);
    const { size, view } = DTYPES[t.dtype];
    if (!(t.data instanceof Uint8Array) && !(view !== undefined && t.data instanceof view)) {
      fail(
        `serialize: tensor '${name}' has dtype ${t.dtype} but data is a ${t.data?.constructor?.name}; ` +
          `pass ${view && view !== Uint8Array ? `a ${view.name} or ` : ''}raw bytes in a Uint8Array`,
      );
    }
    if (t.data.byteLength !== count * size) {
      fail(
        `serialize: tensor '${name}' of dtype ${t.dtype} and shape [${t.shape.join(', ')}] needs ${count * size} bytes, ` +
          `got ${t.data.byteLength}`,
      );
    }
    return { name, tensor: t, size };
  });
  entries.sort((a, b) => b.size - a.size || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') fail(`serialize: metadata values must be strings, got ${typeof v} for key '${k}'`);
    }
    Object.defineProperty(header, METADATA_KEY, { value: metadata, enumerable: true, writable: true, configurable: true });
  }
  let offset = 0;
  for (const { name, tensor } of entries) {
    const end = offset + tensor.data.byteLength;
    const value = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, end] };
    Object.defineProperty(header, name, { value, enumerable: true, writable: true, configurable: true });
    offset = end;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLength = Math.ceil(json.byteLength / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.byteLength, 8 + headerLength);
  let at = 8 + headerLength;
  for (const { tensor } of entries) {
    out.set(bytesOf(tensor.data), at);
    at += tensor.data.byteLength;
  }
  return out;
}

/**
 * The first key that appears twice in one object of `json`, already known to be valid JSON.
 * JSON.parse silently keeps the last duplicate, which would let two readers disagree on a file.
 * Iterative, so deeply nested input cannot overflow the stack.
 */
function findDuplicateKey(json: string): string | undefined {
  const stack: Array<Set<string> | null> = [];
  let expectKey = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x7b /* { */) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      stack.push(null);
      expectKey = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = stack[stack.length - 1] != null;
    } else if (c === 0x22 /* " */) {
      let j = i + 1;
      while (json.charCodeAt(j) !== 0x22) j += json.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      const keys = stack[stack.length - 1];
      if (expectKey && keys) {
        const key = JSON.parse(json.slice(i, j + 1)) as string;
        if (keys.has(key)) return key;
        keys.add(key);
      }
      expectKey = false;
      i = j;
    }
  }
  return undefined;
}

interface HeaderEntry {
  name: string;
  dtype: DType;
  shape: number[];
  begin: number;
  end: number;
}

/** Parses and checks the header against a data section of `dataLength` bytes. */
function parseHeader(headerBytes: Uint8Array, dataLength: number): { entries: HeaderEntry[]; metadata: Record<string, string> } {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    fail('header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    fail(`header is not valid JSON (${(err as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    fail(`header must be a JSON object, got ${header === null ? 'null' : Array.isArray(header) ? 'an array' : typeof header}`);
  }
  const duplicate = findDuplicateKey(text);
  if (duplicate !== undefined) fail(`header has duplicate key '${duplicate}'`);

  const metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === METADATA_KEY) {
      if (typeof info !== 'object' || info === null || Array.isArray(info)) fail(`${METADATA_KEY} must be an object of strings`);
      for (const [k, v] of Object.entries(info)) {
        if (typeof v !== 'string') fail(`${METADATA_KEY} value for '${k}' must be a string, got ${JSON.stringify(v)}`);
        Object.defineProperty(metadata, k, { value: v, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    const what = `tensor '${name}'`;
    if (typeof info !== 'object' || info === null || Array.isArray(info)) fail(`${what}: entry must be an object`);
    for (const field of ['dtype', 'shape', 'data_offsets']) {
      if (!Object.hasOwn(info, field)) fail(`${what}: missing field '${field}'`);
    }
    const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
    if (!isDType(dtype)) fail(`${what}: unknown dtype ${JSON.stringify(dtype)}`);
    const count = elementCount(shape, what);
    if (!Array.isArray(offsets) || offsets.length !== 2) fail(`${what}: data_offsets must be [begin, end], got ${JSON.stringify(offsets)}`);
    const [begin, end] = offsets as unknown[];
    if (!Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || (begin as number) < 0 || (end as number) < 0) {
      fail(`${what}: data_offsets must be non-negative integers, got ${JSON.stringify(offsets)}`);
    }
    const b = begin as number, e = end as number;
    if (e < b) fail(`${what}: data_offsets end ${e} is before begin ${b}`);
    if (e > dataLength) fail(`${what}: data_offsets [${b}, ${e}] run past the end of the data (${dataLength} bytes)`);
    const byteSize = count * DTYPES[dtype].size;
    if (byteSize !== e - b) {
      fail(`${what}: dtype ${dtype} and shape [${(shape as number[]).join(', ')}] need ${byteSize} bytes but data_offsets span ${e - b}`);
    }
    entries.push({ name, dtype, shape: shape as number[], begin: b, end: e });
  }

  const byOffset = [...entries].sort((x, y) => x.begin - y.begin || x.end - y.end);
  let cursor = 0;
  for (const entry of byOffset) {
    if (entry.begin < cursor) fail(`tensor '${entry.name}': data_offsets [${entry.begin}, ${entry.end}] overlap another tensor`);
    if (entry.begin > cursor) {
      fail(
        cursor === 0
          ? `data does not start at offset 0 (first tensor '${entry.name}' begins at ${entry.begin})`
          : `gap in data: bytes [${cursor}, ${entry.begin}) belong to no tensor`,
      );
    }
    cursor = entry.end;
  }
  if (cursor !== dataLength) fail(`gap in data: bytes [${cursor}, ${dataLength}) at the end belong to no tensor`);
  return { entries, metadata };
}

/**
 * The data of one tensor. F32/F64/I32/I64/U8 come back as typed arrays, the others as raw bytes.
 * A suitably aligned range is a view into `bytes` (no copy; it shares memory with the input); an
 * unaligned one is copied.
 */
function tensorData(bytes: Uint8Array, dataStart: number, entry: HeaderEntry): TensorData {
  const { view } = DTYPES[entry.dtype];
  const absolute = bytes.byteOffset + dataStart + entry.begin;
  const Ctor = view ?? Uint8Array;
  const elements = (entry.end - entry.begin) / Ctor.BYTES_PER_ELEMENT;
  if (absolute % Ctor.BYTES_PER_ELEMENT === 0) return new Ctor(bytes.buffer as ArrayBuffer, absolute, elements);
  // Uint8Array's own slice: on a Node Buffer, bytes.slice() would return a view, not a copy.
  const copy = Uint8Array.prototype.slice.call(bytes, dataStart + entry.begin, dataStart + entry.end);
  return new Ctor(copy.buffer, 0, elements);
}

/**
 * Decodes a safetensors file held in `bytes`. Throws an Error naming the first problem when the
 * file is malformed. Tensor data may share memory with `bytes` (see StoredTensor.data).
 */
export function deserialize(bytes: Uint8Array): SafetensorsContents {
  requireLittleEndianHost();
  if (bytes.byteLength < 8) fail(`file is ${bytes.byteLength} bytes, shorter than the 8-byte header length`);
  const declared = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (declared > BigInt(MAX_HEADER_BYTES)) fail(`header length ${declared} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const headerLength = Number(declared);
  if (8 + headerLength > bytes.byteLength) {
    fail(`header length ${headerLength} runs past the end of the ${bytes.byteLength}-byte file`);
  }
  const dataStart = 8 + headerLength;
  const { entries, metadata } = parseHeader(bytes.subarray(8, dataStart), bytes.byteLength - dataStart);
  const tensors = Object.fromEntries(
    entries.map((e) => [e.name, { dtype: e.dtype, shape: e.shape, data: tensorData(bytes, dataStart, e) }] as const),
  );
  return { tensors, metadata };
}

/** Writes tensors and metadata to `path` as a safetensors file, atomically (see writeFileAtomic). */
export async function saveFile(path: string, tensors: Record<string, StoredTensor>, metadata?: Record<string, string>): Promise<void> {
  await writeFileAtomic(path, serialize(tensors, metadata));
}

/** Reads and decodes the safetensors file at `path`; errors name the file and the problem. */
export async function loadFile(path: string): Promise<SafetensorsContents> {
  const bytes = await readFile(path);
  try {
    return deserialize(bytes);
  } catch (err) {
    throw new Error(`${(err as Error).message} (in ${path})`, { cause: err });
  }
}

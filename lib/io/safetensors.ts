/**
 * The safetensors checkpoint format (https://github.com/huggingface/safetensors):
 *
 *   [8 bytes]  N, the header length, unsigned 64-bit little-endian
 *   [N bytes]  UTF-8 JSON object { name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__"?: { string: string } },
 *              padded with spaces so that the data starts 8-byte aligned
 *   [rest]     the data; offsets are relative to its start, and the tensors tile it exactly
 *
 * The reader treats its input as hostile: the header is scanned by a parser of its own that accepts
 * only the format's shape (an object of objects of flat arrays, at most MAX_HEADER_VALUES values) and
 * decodes each string from its own bytes, and every number is checked against the file before it is
 * used. So a malformed file is an Error naming the problem, never an out-of-bounds read, a hang, a
 * stack overflow, or memory beyond about twice the file; reads and writes move the file in chunks,
 * so a file may be larger than one fs call can move (2 GiB).
 */
import { isUtf8 } from 'node:buffer';
import { open } from 'node:fs/promises';
import { fsError, ioChunk, readInto, removeStaleTempFiles, writeFileAtomic } from './atomic.js';

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

/**
 * The deepest nesting of a valid header: the header object, a tensor's (or __metadata__'s) object,
 * and the shape and data_offsets arrays. Anything deeper is refused where it opens.
 */
export const MAX_HEADER_DEPTH = 3;

/**
 * The most JSON values (objects, arrays, strings, numbers, keys not counted) a header may hold: a
 * tensor takes about 8, so this admits ~65,000 tensors (the largest published single files have a
 * few thousand; sharded checkpoints split more), and bounds the memory and time of the parsed header
 * and the tensors made from it (~1 KB and a few microseconds a tensor, most of it the typed-array
 * view and the dictionary insert) to ~70 MB and about a second whatever the file.
 */
export const MAX_HEADER_VALUES = 2 ** 19;

/** Longest key (tensor name, field, metadata key) accepted in a header; real names are under 200 bytes. */
export const MAX_KEY_BYTES = 64 * 1024;

/** Longest JSON number accepted in a header (a 64-bit offset has 20 digits). */
const MAX_NUMBER_CHARS = 32;

const METADATA_KEY = '__metadata__';
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function fail(message: string): never {
  throw new Error(`safetensors: ${message}`);
}

/** `value` as JSON for a message, cut to 60 characters so a hostile 100 MB string cannot flood it. */
function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length <= 60 ? text : `${text.slice(0, 57)}...`;
}

/** A name for a message, cut like show(). */
function nameOf(name: string): string {
  return name.length <= 60 ? name : `${name.slice(0, 57)}...`;
}

/**
 * Sets an own enumerable property, also for the key "__proto__" (where plain assignment would set the
 * prototype instead); plain assignment otherwise, which is much faster than defineProperty on objects
 * with many keys.
 */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
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
  if (!Array.isArray(shape)) fail(`${what}: shape must be an array, got ${show(shape)}`);
  if (shape.some((d) => !Number.isSafeInteger(d) || (d as number) < 0)) {
    fail(`${what}: shape entries must be non-negative integers, got [${shape.map((d) => show(d)).join(', ')}]`);
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
 * A file's parts in order: the 8-byte length and the padded header, then each tensor's data (the
 * callers' arrays, no copy). Tensors are laid out by descending element size, then name, so that
 * with the 8-byte-aligned header every tensor is aligned to its element size and a reader can view it
 * without copying.
 */
function layout(tensors: Record<string, StoredTensor>, metadata: Record<string, string> | undefined, op: string): ArrayBufferView[] {
  requireLittleEndianHost();
  const entries = Object.entries(tensors).map(([name, t]) => {
    if (name === METADATA_KEY) fail(`${op}: the name ${METADATA_KEY} is reserved for metadata`);
    if (!isDType(t.dtype)) fail(`${op}: tensor '${name}' has unknown dtype ${show(t.dtype)}`);
    const count = elementCount(t.shape, `${op}: tensor '${name}'`);
    const { size, view } = DTYPES[t.dtype];
    if (!(t.data instanceof Uint8Array) && !(view !== undefined && t.data instanceof view)) {
      fail(
        `${op}: tensor '${name}' has dtype ${t.dtype} but data is a ${t.data?.constructor?.name}; ` +
          `pass ${view && view !== Uint8Array ? `a ${view.name} or ` : ''}raw bytes in a Uint8Array`,
      );
    }
    if (t.data.byteLength !== count * size) {
      fail(
        `${op}: tensor '${name}' of dtype ${t.dtype} and shape [${t.shape.join(', ')}] needs ${count * size} bytes, ` +
          `got ${t.data.byteLength}`,
      );
    }
    return { name, tensor: t, size };
  });
  entries.sort((a, b) => b.size - a.size || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') fail(`${op}: metadata values must be strings, got ${typeof v} for key '${k}'`);
    }
    setOwn(header, METADATA_KEY, metadata);
  }
  let offset = 0;
  for (const { name, tensor } of entries) {
    const end = offset + tensor.data.byteLength;
    setOwn(header, name, { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, end] });
    offset = end;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLength = Math.ceil(json.byteLength / 8) * 8;
  const head = new Uint8Array(8 + headerLength);
  new DataView(head.buffer).setBigUint64(0, BigInt(headerLength), true);
  head.set(json, 8);
  head.fill(0x20, 8 + json.byteLength);
  return [head, ...entries.map(({ tensor }) => tensor.data)];
}

/** Encodes tensors and optional string metadata as a safetensors file in memory (see saveFile for files of any size). */
export function serialize(tensors: Record<string, StoredTensor>, metadata?: Record<string, string>): Uint8Array {
  const parts = layout(tensors, metadata, 'serialize');
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(bytesOf(part), at);
    at += part.byteLength;
  }
  return out;
}

const isWhitespace = (c: number | undefined) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
/** Digits, '-', '+', '.', 'e', 'E': the characters a JSON number is made of. */
const isNumberChar = (c: number | undefined) =>
  c !== undefined && ((c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45);
const CONTROL_CHARACTER = /[\u0000-\u001f]/;
const NUMBER_SYNTAX = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
/** Strings that every tensor entry repeats, shared instead of held once per entry. */
const COMMON_STRINGS = new Map([METADATA_KEY, 'dtype', 'shape', 'data_offsets', ...Object.keys(DTYPES)].map((k) => [k, k]));

/**
 * A JSON parser for safetensors headers, bounded by construction: containers nest at most
 * MAX_HEADER_DEPTH deep (so the recursion is at most that deep), at most MAX_HEADER_VALUES values are
 * made, numbers have at most MAX_NUMBER_CHARS characters, and each string is decoded from its own
 * bytes (never the whole header as one string). Duplicate keys are refused: JSON.parse keeps the last
 * one silently, which would let two readers disagree on a file. The input is known to be valid UTF-8.
 */
class HeaderParser {
  private at = 0;
  private values = 0;
  /** The same bytes as a Buffer, whose toString(encoding, start, end) decodes a range without making a view of it. */
  private readonly buffer: Buffer;

  constructor(private readonly bytes: Uint8Array) {
    this.buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  parse(): unknown {
    const value = this.value(1);
    this.skipWhitespace();
    if (this.at < this.bytes.length) this.syntax('unexpected data after the header');
    return value;
  }

  private syntax(what: string): never {
    fail(`header is not valid JSON (${what} at byte ${this.at} of the header)`);
  }

  private skipWhitespace(): void {
    while (isWhitespace(this.bytes[this.at])) this.at++;
  }

  /** Skips whitespace and then `byte`, or fails naming what was expected. */
  private expect(byte: number, what: string): void {
    this.skipWhitespace();
    if (this.bytes[this.at] !== byte) this.syntax(`expected ${what}, got ${this.describeNext()}`);
    this.at++;
  }

  private describeNext(): string {
    return this.at >= this.bytes.length ? 'the end' : `'${String.fromCharCode(this.bytes[this.at]!)}'`;
  }

  /** Skips whitespace; then true and past `byte` if it is next, else false. */
  private accept(byte: number): boolean {
    this.skipWhitespace();
    if (this.bytes[this.at] !== byte) return false;
    this.at++;
    return true;
  }

  private value(depth: number): unknown {
    this.skipWhitespace();
    if (++this.values > MAX_HEADER_VALUES) {
      fail(`header holds more than ${MAX_HEADER_VALUES} JSON values (the limit; a tensor takes about 8)`);
    }
    const c = this.bytes[this.at];
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (depth > MAX_HEADER_DEPTH) {
        fail(`header nests deeper than ${MAX_HEADER_DEPTH} levels at byte ${this.at} (a safetensors header is an object of objects of arrays of numbers)`);
      }
      return c === 0x7b ? this.object(depth) : this.array(depth);
    }
    if (c === 0x22 /* " */) return this.string();
    for (const [word, literal] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.matches(word)) {
        this.at += word.length;
        return literal;
      }
    }
    return this.number();
  }

  private matches(word: string): boolean {
    for (let k = 0; k < word.length; k++) if (this.bytes[this.at + k] !== word.charCodeAt(k)) return false;
    return true;
  }

  private object(depth: number): Record<string, unknown> {
    this.at++;
    const out: Record<string, unknown> = {};
    if (this.accept(0x7d /* } */)) return out;
    do {
      this.skipWhitespace();
      if (this.bytes[this.at] !== 0x22) this.syntax(`expected a key, got ${this.describeNext()}`);
      if (this.buffer.indexOf(0x22, this.at + 1) - this.at - 1 > MAX_KEY_BYTES) fail(`header has a key longer than ${MAX_KEY_BYTES} bytes at byte ${this.at} (the limit)`);
      const key = this.string();
      if (Object.hasOwn(out, key)) fail(`header has duplicate key '${nameOf(key)}'`);
      this.expect(0x3a /* : */, "':'");
      setOwn(out, key, this.value(depth + 1));
    } while (this.accept(0x2c /* , */));
    this.expect(0x7d, "',' or '}'");
    return out;
  }

  private array(depth: number): unknown[] {
    this.at++;
    const out: unknown[] = [];
    if (this.accept(0x5d /* ] */)) return out;
    do out.push(this.value(depth + 1));
    while (this.accept(0x2c /* , */));
    this.expect(0x5d, "',' or ']'");
    return out;
  }

  /**
   * A string from its opening quote: the closing quote is found with Buffer.indexOf (memchr), not byte
   * by byte in JavaScript, which matters for a 100 MB string; control characters and escapes are found
   * in the decoded text by native string search.
   */
  private string(): string {
    const start = ++this.at;
    let end = start;
    for (;;) {
      end = this.buffer.indexOf(0x22, end);
      if (end < 0) {
        this.at = this.bytes.length;
        this.syntax('unterminated string');
      }
      let backslashes = 0;
      while (end - 1 - backslashes >= start && this.bytes[end - 1 - backslashes] === 0x5c /* \ */) backslashes++;
      if (backslashes % 2 === 0) break;
      end++;
    }
    let raw = this.buffer.toString('utf8', start, end);
    const control = raw.search(CONTROL_CHARACTER);
    if (control >= 0) {
      this.at = start + Buffer.byteLength(raw.slice(0, control));
      this.syntax('control character in a string');
    }
    this.at = end + 1;
    if (!raw.includes('\\')) return COMMON_STRINGS.get(raw) ?? raw;
    // parsed from the bytes with their quotes, not `"${raw}"`, and raw let go first: no third copy of a large string
    raw = '';
    try {
      return JSON.parse(this.buffer.toString('utf8', start - 1, end + 1)) as string;
    } catch {
      this.at = start;
      return this.syntax('invalid escape in a string');
    }
  }

  private number(): number {
    const start = this.at;
    let digitsOnly = true, value = 0;
    for (let c = this.bytes[this.at]; isNumberChar(c) && this.at - start <= MAX_NUMBER_CHARS; c = this.bytes[++this.at]) {
      digitsOnly &&= c! >= 0x30 && c! <= 0x39;
      value = value * 10 + c! - 0x30;
    }
    // the common case, a small non-negative integer without a leading zero, without making a string
    if (digitsOnly && this.at > start && this.at - start <= 15 && (this.bytes[start] !== 0x30 || this.at - start === 1)) return value;
    if (this.at === start) this.syntax(`unexpected ${this.describeNext()}`);
    if (this.at - start > MAX_NUMBER_CHARS) {
      this.at = start;
      this.syntax(`a number longer than ${MAX_NUMBER_CHARS} characters`);
    }
    const text = this.buffer.toString('latin1', start, this.at);
    if (!NUMBER_SYNTAX.test(text)) {
      this.at = start;
      this.syntax(`malformed number '${text}'`);
    }
    return Number(text);
  }
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
  if (!isUtf8(headerBytes)) fail('header is not valid UTF-8');
  const header = new HeaderParser(headerBytes).parse();
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    fail(`header must be a JSON object, got ${header === null ? 'null' : Array.isArray(header) ? 'an array' : typeof header}`);
  }

  let metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const name of Object.keys(header)) {
    const info = (header as Record<string, unknown>)[name];
    if (name === METADATA_KEY) {
      if (typeof info !== 'object' || info === null || Array.isArray(info)) fail(`${METADATA_KEY} must be an object of strings`);
      for (const k of Object.keys(info)) {
        const v = (info as Record<string, unknown>)[k];
        if (typeof v !== 'string') fail(`${METADATA_KEY} value for '${nameOf(k)}' must be a string, got ${show(v)}`);
      }
      // the parser's own plain object, now known to hold only strings: no second copy of a large one
      metadata = info as Record<string, string>;
      continue;
    }
    const what = `tensor '${nameOf(name)}'`;
    if (typeof info !== 'object' || info === null || Array.isArray(info)) fail(`${what}: entry must be an object`);
    for (const field of ['dtype', 'shape', 'data_offsets']) {
      if (!Object.hasOwn(info, field)) fail(`${what}: missing field '${field}'`);
    }
    const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
    if (!isDType(dtype)) fail(`${what}: unknown dtype ${show(dtype)}`);
    const count = elementCount(shape, what);
    if (!Array.isArray(offsets) || offsets.length !== 2) fail(`${what}: data_offsets must be [begin, end], got ${show(offsets)}`);
    const [begin, end] = offsets as unknown[];
    if (!Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || (begin as number) < 0 || (end as number) < 0) {
      fail(`${what}: data_offsets must be non-negative integers, got ${show(offsets)}`);
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
    const what = `tensor '${nameOf(entry.name)}'`;
    if (entry.begin < cursor) fail(`${what}: data_offsets [${entry.begin}, ${entry.end}] overlap another tensor`);
    if (entry.begin > cursor) {
      fail(
        cursor === 0
          ? `data does not start at offset 0 (first ${what} begins at ${entry.begin})`
          : `gap in data: bytes [${cursor}, ${entry.begin}) belong to no tensor`,
      );
    }
    cursor = entry.end;
  }
  if (cursor !== dataLength) fail(`gap in data: bytes [${cursor}, ${dataLength}) at the end belong to no tensor`);
  return { entries, metadata };
}

/**
 * The header length that the first 8 bytes of a `fileSize`-byte file declare, checked against the
 * file (a file that is not safetensors usually fails here) and against MAX_HEADER_BYTES.
 */
function headerLengthOf(prefix: Uint8Array, fileSize: number): number {
  if (fileSize < 8) fail(`not a safetensors file: it is ${fileSize} bytes, shorter than the 8-byte header length`);
  const declared = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (declared + 8n > BigInt(fileSize)) fail(`not a safetensors file: header length ${declared} exceeds the file size ${fileSize}`);
  if (declared > BigInt(MAX_HEADER_BYTES)) fail(`header length ${declared} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  return Number(declared);
}

/**
 * The data of one tensor, whose file data section starts at byte `dataStart` of `buffer`. F32/F64/I32/
 * I64/U8 come back as typed arrays, the others as raw bytes. A suitably aligned range is a view into
 * `buffer` (no copy; it shares memory with it); an unaligned one is copied.
 */
function tensorData(buffer: ArrayBuffer, dataStart: number, entry: HeaderEntry): TensorData {
  const { view } = DTYPES[entry.dtype];
  const absolute = dataStart + entry.begin;
  const Ctor = view ?? Uint8Array;
  const elements = (entry.end - entry.begin) / Ctor.BYTES_PER_ELEMENT;
  if (absolute % Ctor.BYTES_PER_ELEMENT === 0) return new Ctor(buffer, absolute, elements);
  const copy = new Uint8Array(buffer, absolute, entry.end - entry.begin).slice();
  return new Ctor(copy.buffer, 0, elements);
}

function contentsOf(header: { entries: HeaderEntry[]; metadata: Record<string, string> }, buffer: ArrayBuffer, dataStart: number): SafetensorsContents {
  const tensors: Record<string, StoredTensor> = {};
  for (const e of header.entries) setOwn(tensors as Record<string, unknown>, e.name, { dtype: e.dtype, shape: e.shape, data: tensorData(buffer, dataStart, e) });
  return { tensors, metadata: header.metadata };
}

/**
 * Decodes a safetensors file held in `bytes`. Throws an Error naming the first problem when the
 * file is malformed. Tensor data may share memory with `bytes` (see StoredTensor.data).
 */
export function deserialize(bytes: Uint8Array): SafetensorsContents {
  requireLittleEndianHost();
  const headerLength = headerLengthOf(bytes.subarray(0, 8), bytes.byteLength);
  const dataStart = 8 + headerLength;
  const header = parseHeader(bytes.subarray(8, dataStart), bytes.byteLength - dataStart);
  return contentsOf(header, bytes.buffer as ArrayBuffer, bytes.byteOffset + dataStart);
}

/** Writes tensors and metadata to `path` as a safetensors file of any size, atomically (see writeFileAtomic); errors name `op`. */
export async function writeSafetensors(op: string, path: string, tensors: Record<string, StoredTensor>, metadata?: Record<string, string>): Promise<void> {
  await writeFileAtomic(path, layout(tensors, metadata, op), op);
}

/**
 * Reads and decodes the safetensors file at `path` of any size: the header first, checked before the
 * data is read, then the data into one buffer that the tensors view. Errors name `op` and the file.
 * Temporary files that a killed save of `path` left are removed.
 */
export async function readSafetensors(op: string, path: string): Promise<SafetensorsContents> {
  requireLittleEndianHost();
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw fsError(op, 'read', path, err);
  }
  try {
    let size: number;
    try {
      const stat = await handle.stat();
      if (stat.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      size = stat.size;
    } catch (err) {
      throw fsError(op, 'read', path, err);
    }
    /** `length` bytes of the file from byte `at`, into a new ArrayBuffer of any size (a Uint8Array holds at most 4 GiB, so windows of it). */
    const read = async (at: number, length: number): Promise<ArrayBuffer> => {
      let buffer: ArrayBuffer;
      try {
        buffer = new ArrayBuffer(length);
      } catch (err) {
        throw new RangeError(`${op}: cannot allocate ${length} bytes to read '${path}': ${(err as Error).message}`, { cause: err });
      }
      for (let done = 0; done < length; done += ioChunk.bytes) {
        const window = Math.min(ioChunk.bytes, length - done);
        let got: number;
        try {
          got = await readInto(handle, new Uint8Array(buffer, done, window), at + done);
        } catch (err) {
          throw fsError(op, 'read', path, err);
        }
        if (got < window) fail(`the file ended at byte ${at + done + got} while reading ${length} bytes from byte ${at} (was it truncated while being read?)`);
      }
      return buffer;
    };
    try {
      const headerLength = headerLengthOf(new Uint8Array(await read(0, Math.min(8, size))), size);
      const header = parseHeader(new Uint8Array(await read(8, headerLength)), size - 8 - headerLength);
      const contents = contentsOf(header, await read(8 + headerLength, size - 8 - headerLength), 0);
      await removeStaleTempFiles(path);
      return contents;
    } catch (err) {
      if ((err as Error).message.startsWith('safetensors: ')) {
        throw new Error(`${op}: ${(err as Error).message} (in ${path})`, { cause: err });
      }
      throw err;
    }
  } finally {
    await handle.close();
  }
}

/** Writes tensors and metadata to `path` as a safetensors file, atomically (see writeFileAtomic). */
export async function saveFile(path: string, tensors: Record<string, StoredTensor>, metadata?: Record<string, string>): Promise<void> {
  await writeSafetensors('saveFile', path, tensors, metadata);
}

/** Reads and decodes the safetensors file at `path`; errors name the file and the problem. */
export async function loadFile(path: string): Promise<SafetensorsContents> {
  return readSafetensors('loadFile', path);
}

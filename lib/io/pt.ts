/**
 * PyTorch's own checkpoint files, `.pt` / `.pth` as `torch.save` writes them (the zip format of torch >= 1.6):
 *
 *   <archive>/data.pkl      a pickle of the saved object; each tensor is a call of torch._utils._rebuild_tensor_v2
 *                           on a "persistent id" naming a storage: ('storage', torch.FloatStorage, '0', 'cpu', numel)
 *   <archive>/data/<key>    each storage's raw little-endian elements
 *   <archive>/version       the format version
 *
 * Reading runs a restricted unpickler: a pickle is a program for a stack machine, and Python's unpickler calls
 * whatever global it names. This one knows the few globals a state dict needs (OrderedDict, the tensor and
 * parameter rebuild functions, the storage types) and refuses any other with an error naming it; nothing runs.
 * It is iterative (nesting depth costs no call stack) and every size it meets is checked against the file, so
 * a hostile file costs at most its own size in memory. Storages of float16 and bfloat16 load as float32, int64
 * and the small integer types as int32 (values must fit), bool as bool.
 *
 * Writing produces what `torch.load(path, weights_only=True)` accepts: an OrderedDict of tensors, each with its
 * own storage, in protocol 2 as torch.save does. int32 tensors named `*num_batches_tracked` are stored as int64,
 * as PyTorch keeps them.
 */
import * as zlib from 'node:zlib';
import yauzl from 'yauzl';
import yazl from 'yazl';
import { Tensor, contiguousStrides } from '../tensor.js';
import type { TypedArray } from '../dtype.js';
import { narrowInt64, toStored } from './checkpoint.js';
import { writeFileAtomic } from './atomic.js';

/** What a .pt file may hold: tensors in (nested) dicts, lists and tuples, with numbers, strings and booleans. */
export type PtValue = Tensor | number | bigint | string | boolean | null | PtValue[] | { [key: string]: PtValue };

const INT32_MIN = -(2 ** 31), INT32_MAX = 2 ** 31 - 1;

/** An error in a .pt file, naming the file and what is wrong with it. */
function bad(path: string, what: string): Error {
  return new Error(`loadPt: '${path}' ${what}`);
}

// ---- storages -------------------------------------------------------------------------------------------

/** torch's storage types: the element size and how its elements become one of ours. */
const storageTypes: Record<string, { bytes: number; convert: (raw: Uint8Array, path: string, key: string) => TypedArray }> = {
  FloatStorage: { bytes: 4, convert: (raw) => new Float32Array(copyOf(raw)) },
  DoubleStorage: { bytes: 8, convert: (raw) => new Float64Array(copyOf(raw)) },
  HalfStorage: { bytes: 2, convert: (raw) => halfToFloat(new Uint16Array(copyOf(raw))) },
  BFloat16Storage: { bytes: 2, convert: (raw) => bfloat16ToFloat(new Uint16Array(copyOf(raw))) },
  IntStorage: { bytes: 4, convert: (raw) => new Int32Array(copyOf(raw)) },
  LongStorage: {
    bytes: 8,
    convert: (raw, path, key) => narrowInt64(new BigInt64Array(copyOf(raw)), (v) =>
      bad(path, `storage ${key} holds the int64 value ${v}, outside the int32 range tensorforge uses`)),
  },
  ShortStorage: { bytes: 2, convert: (raw) => Int32Array.from(new Int16Array(copyOf(raw))) },
  CharStorage: { bytes: 1, convert: (raw) => Int32Array.from(new Int8Array(copyOf(raw))) },
  ByteStorage: { bytes: 1, convert: (raw) => Int32Array.from(raw) },
  BoolStorage: { bytes: 1, convert: (raw) => new Uint8Array(copyOf(raw)) },
};

/** The bytes of `raw` in an ArrayBuffer of their own (aligned for any element type). */
function copyOf(raw: Uint8Array): ArrayBuffer {
  return raw.slice().buffer;
}

function halfToFloat(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i]!, sign = h & 0x8000 ? -1 : 1, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
    out[i] = exponent === 0 ? sign * mantissa * 2 ** -24
      : exponent === 31 ? (mantissa ? NaN : sign * Infinity)
        : sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  }
  return out;
}

function bfloat16ToFloat(bits: Uint16Array): Float32Array {
  const wide = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) wide[i] = bits[i]! << 16;
  return new Float32Array(wide.buffer);
}

/** A storage named by the pickle: its type, zip entry key and element count, converted on first use. */
interface StorageRef {
  readonly kind: 'storage';
  readonly type: string;
  readonly key: string;
  readonly numel: number;
}

// ---- the restricted unpickler -------------------------------------------------------------------------

/** A global the pickle may name, as the unpickler represents it. */
type Global = { readonly kind: 'global'; readonly name: string };
const MARK = Symbol('mark');
type StackItem = PtValue | StorageRef | Global | typeof MARK | undefined;

/** The globals a state dict or checkpoint needs; anything else is refused. */
const allowedGlobals = new Set([
  'collections.OrderedDict', 'torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_parameter',
  'torch.nn.parameter.Parameter', ...Object.keys(storageTypes).map((t) => `torch.${t}`),
]);

/**
 * Runs the pickle `pkl`, building tensors from `storage(key)`. Only protocol-2 to -5 opcodes that build data
 * are implemented; extension registries, instance creation and attribute lookups are refused.
 */
function unpickle(pkl: Uint8Array, path: string, storage: (ref: StorageRef) => TypedArray): PtValue {
  const view = new DataView(pkl.buffer, pkl.byteOffset, pkl.byteLength);
  const text = new TextDecoder('utf-8', { fatal: true });
  const stack: StackItem[] = [];
  const marks: number[] = [];
  const memo = new Map<number, StackItem>();
  let at = 0;
  const need = (n: number): number => {
    if (n < 0 || at + n > pkl.length) throw bad(path, `data.pkl ends inside an opcode at byte ${at} (needs ${n} more bytes)`);
    const start = at;
    at += n;
    return start;
  };
  const u8 = (): number => pkl[need(1)]!;
  const u16 = (): number => view.getUint16(need(2), true);
  const u32 = (): number => view.getUint32(need(4), true);
  const i32 = (): number => view.getInt32(need(4), true);
  const u64 = (): number => {
    const v = view.getBigUint64(need(8), true);
    if (v > BigInt(pkl.length)) throw bad(path, `data.pkl declares a length of ${v} bytes, more than its ${pkl.length}`);
    return Number(v);
  };
  const utf8 = (n: number): string => {
    const start = need(n);
    try {
      return text.decode(pkl.subarray(start, start + n));
    } catch {
      throw bad(path, `data.pkl holds a string that is not UTF-8 at byte ${start}`);
    }
  };
  const line = (): string => {
    const end = pkl.indexOf(0x0a, at);
    if (end < 0) throw bad(path, `data.pkl ends inside a text line at byte ${at}`);
    const s = utf8(end - at);
    at++;
    return s;
  };
  const pop = (): StackItem => {
    if (stack.length === 0 || (marks.length && stack.length <= marks[marks.length - 1]!)) {
      throw bad(path, `data.pkl pops an empty stack at byte ${at}`);
    }
    return stack.pop();
  };
  const top = (): StackItem => {
    if (stack.length === 0) throw bad(path, `data.pkl reads an empty stack at byte ${at}`);
    return stack[stack.length - 1];
  };
  const popMark = (): StackItem[] => {
    const m = marks.pop();
    if (m === undefined) throw bad(path, `data.pkl closes a mark it never opened at byte ${at}`);
    return stack.splice(m);
  };
  const dictOf = (target: StackItem): { [key: string]: PtValue } => {
    if (target === null || typeof target !== 'object' || Array.isArray(target) || target instanceof Tensor || 'kind' in target) {
      throw bad(path, `data.pkl sets an item on something that is not a dict at byte ${at}`);
    }
    return target as { [key: string]: PtValue };
  };
  const setItems = (target: StackItem, items: StackItem[]): void => {
    const dict = dictOf(target);
    if (items.length % 2) throw bad(path, `data.pkl sets a key without a value at byte ${at}`);
    for (let i = 0; i < items.length; i += 2) {
      const key = items[i];
      if (typeof key !== 'string' && typeof key !== 'number') throw bad(path, `data.pkl uses a ${describe(key)} as a dict key`);
      Object.defineProperty(dict, String(key), { value: items[i + 1] as PtValue, enumerable: true, writable: true, configurable: true });
    }
  };
  const listOf = (target: StackItem): PtValue[] => {
    if (!Array.isArray(target)) throw bad(path, `data.pkl appends to something that is not a list at byte ${at}`);
    return target;
  };
  const call = (fn: StackItem, args: StackItem): StackItem => {
    if (!isGlobal(fn)) throw bad(path, `data.pkl calls a ${describe(fn)}, not a function`);
    if (!Array.isArray(args)) throw bad(path, `data.pkl calls ${fn.name} without an argument tuple`);
    switch (fn.name) {
      case 'collections.OrderedDict':
        if (args.length) throw bad(path, 'data.pkl builds an OrderedDict from arguments; only empty ones are supported');
        return Object.create(null) as { [key: string]: PtValue };
      case 'torch._utils._rebuild_tensor_v2':
        return rebuildTensor(args as StackItem[], path, storage);
      case 'torch._utils._rebuild_parameter':
      case 'torch.nn.parameter.Parameter':
        if (!(args[0] instanceof Tensor)) throw bad(path, `${fn.name} is given a ${describe(args[0])}, not a tensor`);
        return args[0];
      default:
        throw bad(path, `data.pkl calls ${fn.name}, which is not a function`);
    }
  };

  if (u8() !== 0x80) throw bad(path, 'data.pkl is not a pickle of protocol 2 or later');
  const protocol = u8();
  if (protocol < 2 || protocol > 5) throw bad(path, `data.pkl uses pickle protocol ${protocol}; 2 to 5 are supported`);
  for (;;) {
    const opcodeAt = at;
    const op = u8();
    switch (op) {
      case 0x2e: {  // STOP
        const result = pop();
        if (result === undefined || result === MARK || (typeof result === 'object' && result !== null && 'kind' in result && !(result instanceof Tensor))) {
          throw bad(path, `data.pkl's result is a ${describe(result)}`);
        }
        return result as PtValue;
      }
      case 0x95: need(8); break;  // FRAME: a length hint
      case 0x28: marks.push(stack.length); break;  // MARK
      case 0x29: stack.push([]); break;  // EMPTY_TUPLE (tuples are arrays)
      case 0x5d: stack.push([]); break;  // EMPTY_LIST
      case 0x7d: stack.push(Object.create(null) as { [key: string]: PtValue }); break;  // EMPTY_DICT
      case 0x74: stack.push(popMark() as PtValue[]); break;  // TUPLE
      case 0x6c: stack.push(popMark() as PtValue[]); break;  // LIST
      case 0x85: stack.push([pop() as PtValue]); break;  // TUPLE1
      case 0x86: { const b = pop(), a = pop(); stack.push([a, b] as PtValue[]); break; }  // TUPLE2
      case 0x87: { const c = pop(), b = pop(), a = pop(); stack.push([a, b, c] as PtValue[]); break; }  // TUPLE3
      case 0x4e: stack.push(null); break;  // NONE
      case 0x88: stack.push(true); break;  // NEWTRUE
      case 0x89: stack.push(false); break;  // NEWFALSE
      case 0x4b: stack.push(u8()); break;  // BININT1
      case 0x4d: stack.push(u16()); break;  // BININT2
      case 0x4a: stack.push(i32()); break;  // BININT
      case 0x8a: {  // LONG1: n-byte two's complement
        const n = u8(), start = need(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(pkl[start + i]!);
        if (n > 0 && pkl[start + n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
        stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x47: stack.push(view.getFloat64(need(8), false)); break;  // BINFLOAT (big-endian)
      case 0x8c: stack.push(utf8(u8())); break;  // SHORT_BINUNICODE
      case 0x58: stack.push(utf8(u32())); break;  // BINUNICODE
      case 0x8d: stack.push(utf8(u64())); break;  // BINUNICODE8
      case 0x55: stack.push(latin1(pkl, need(u8()), at)); break;  // SHORT_BINSTRING
      case 0x54: { const n = i32(); stack.push(latin1(pkl, need(n), at)); break; }  // BINSTRING
      case 0x63: {  // GLOBAL module\nname\n
        const name = `${line()}.${line()}`;
        stack.push(global(name, path));
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        const name = pop(), module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw bad(path, 'data.pkl names a global with non-strings');
        stack.push(global(`${module}.${name}`, path));
        break;
      }
      case 0x71: memo.set(u8(), top()); break;  // BINPUT
      case 0x72: memo.set(u32(), top()); break;  // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break;  // MEMOIZE
      case 0x68: stack.push(recall(memo, u8(), path)); break;  // BINGET
      case 0x6a: stack.push(recall(memo, u32(), path)); break;  // LONG_BINGET
      case 0x73: { const v = pop(), k = pop(); setItems(top(), [k, v]); break; }  // SETITEM
      case 0x75: { const items = popMark(); setItems(top(), items); break; }  // SETITEMS
      case 0x61: { const v = pop(); listOf(top()).push(v as PtValue); break; }  // APPEND
      case 0x65: { const items = popMark(), list = listOf(top()); for (const v of items) list.push(v as PtValue); break; }  // APPENDS
      case 0x52: { const args = pop(), fn = pop(); stack.push(call(fn, args)); break; }  // REDUCE
      case 0x62: {  // BUILD: an object's state; only OrderedDict's (its _metadata) is accepted, and dropped
        const state = pop();
        const target = top();
        dictOf(target);
        if (state !== null && (typeof state !== 'object' || Array.isArray(state))) throw bad(path, 'data.pkl builds a dict from a non-dict state');
        break;
      }
      case 0x51: {  // BINPERSID: ('storage', type, key, location, numel)
        const pid = pop();
        stack.push(storageRef(pid, path));
        break;
      }
      default:
        throw bad(path, `data.pkl uses pickle opcode 0x${op.toString(16).padStart(2, '0')} at byte ${opcodeAt}, which a state dict does not need`);
    }
  }
}

function latin1(pkl: Uint8Array, start: number, end: number): string {
  return Buffer.from(pkl.buffer, pkl.byteOffset + start, end - start).toString('latin1');
}

function global(name: string, path: string): Global {
  if (!allowedGlobals.has(name)) {
    throw bad(path, `data.pkl names the global '${name}', which is not a tensor, storage or container type: refused (nothing from the file is ever run)`);
  }
  return { kind: 'global', name };
}

function isGlobal(x: StackItem): x is Global {
  return typeof x === 'object' && x !== null && !(x instanceof Tensor) && (x as Global).kind === 'global';
}

function recall(memo: Map<number, StackItem>, index: number, path: string): StackItem {
  if (!memo.has(index)) throw bad(path, `data.pkl reads memo entry ${index}, never stored`);
  return memo.get(index);
}

function describe(x: StackItem): string {
  if (x === MARK) return 'mark';
  if (x instanceof Tensor) return 'tensor';
  if (Array.isArray(x)) return 'tuple or list';
  if (x === null) return 'None';
  if (typeof x === 'object') return 'kind' in x ? String((x as { kind: string }).kind) : 'dict';
  return typeof x;
}

function storageRef(pid: StackItem, path: string): StorageRef {
  if (!Array.isArray(pid) || pid.length !== 5 || pid[0] !== 'storage') {
    throw bad(path, 'data.pkl names a persistent object that is not a storage');
  }
  const [, type, key, , numel] = pid as unknown as [string, StackItem, unknown, unknown, unknown];
  if (!isGlobal(type)) throw bad(path, 'a storage reference names no storage type');
  if (typeof key !== 'string' || !/^[0-9A-Za-z_]{1,64}$/.test(key)) throw bad(path, `a storage reference has a key that is not a short name: ${describe(key as StackItem)}`);
  if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) throw bad(path, `storage ${key} declares ${String(numel)} elements`);
  return { kind: 'storage', type: type.name.slice('torch.'.length), key, numel };
}

function isStorageRef(x: StackItem): x is StorageRef {
  return typeof x === 'object' && x !== null && !(x instanceof Tensor) && (x as StorageRef).kind === 'storage';
}

/** _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata]) as a contiguous tensor of ours. */
function rebuildTensor(args: StackItem[], path: string, storage: (ref: StorageRef) => TypedArray): Tensor {
  const [ref, offset, size, stride] = args;
  if (args.length < 4 || !isStorageRef(ref)) throw bad(path, '_rebuild_tensor_v2 is not given a storage');
  const dims = (x: StackItem, what: string): number[] => {
    if (!Array.isArray(x) || x.length > 16 || !x.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
      throw bad(path, `a tensor on storage ${ref.key} has a ${what} that is not a tuple of at most 16 non-negative integers`);
    }
    return x as number[];
  };
  const shape = dims(size, 'size'), strides = dims(stride, 'stride');
  if (strides.length !== shape.length) throw bad(path, `a tensor on storage ${ref.key} has ${shape.length} sizes but ${strides.length} strides`);
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) throw bad(path, `a tensor on storage ${ref.key} has the offset ${String(offset)}`);
  const numel = shape.reduce((a, b) => a * b, 1);
  const last = numel === 0 ? offset : offset + shape.reduce((sum, d, i) => sum + (d - 1) * strides[i]!, 0);
  if (numel > 0 && last >= ref.numel) {
    throw bad(path, `a tensor of size [${shape.join(', ')}] at offset ${offset} reaches element ${last} of storage ${ref.key}, which has ${ref.numel}`);
  }
  const data = storage(ref);
  const base = Tensor.fromArray(data, [data.length]);
  return new Tensor(base.storage, shape, strides, offset, base.dtype).contiguous();
}

// ---- zip ----------------------------------------------------------------------------------------------

type ZipFile = yauzl.ZipFile;
type Entry = yauzl.Entry;

function openZip(path: string): Promise<ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, autoClose: false, strictFileNames: true, validateEntrySizes: true }, (err, zip) => {
      if (err) reject(bad(path, `is not a zip archive as torch.save writes (${err.message}); files from torch < 1.6 or saved with _use_new_zipfile_serialization=False are not supported`));
      else resolve(zip);
    });
  });
}

function listEntries(zip: ZipFile, path: string): Promise<Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: Entry[] = [];
    zip.on('entry', (e: Entry) => { entries.push(e); zip.readEntry(); });
    zip.on('end', () => resolve(entries));
    zip.on('error', (err: Error) => reject(bad(path, `has a damaged zip directory (${err.message})`)));
    zip.readEntry();
  });
}

/** zlib.crc32 (Node >= 20.15); older Nodes skip the check. */
const crc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/** An entry's bytes, checked against its CRC-32 (where this Node has zlib.crc32) and bounded by the file's size. */
function readEntry(zip: ZipFile, entry: Entry, path: string, fileSize: number): Promise<Uint8Array> {
  if (entry.uncompressedSize > fileSize) {
    return Promise.reject(bad(path, `entry '${entry.fileName}' declares ${entry.uncompressedSize} bytes, more than the file's ${fileSize}`));
  }
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err) return reject(bad(path, `entry '${entry.fileName}' cannot be read (${err.message})`));
      const out = new Uint8Array(entry.uncompressedSize);
      let filled = 0;
      stream.on('data', (chunk: Buffer) => {
        if (filled + chunk.length > out.length) return stream.destroy(new Error('more bytes than declared'));
        out.set(chunk, filled);
        filled += chunk.length;
      });
      stream.on('error', (e: Error) => reject(bad(path, `entry '${entry.fileName}' is damaged (${e.message})`)));
      stream.on('end', () => {
        if (filled !== out.length) return reject(bad(path, `entry '${entry.fileName}' holds ${filled} bytes, not the ${out.length} declared`));
        if (crc32 && (crc32(out) >>> 0) !== (entry.crc32 >>> 0)) {
          return reject(bad(path, `entry '${entry.fileName}' fails its CRC-32 check (the file is corrupted)`));
        }
        resolve(out);
      });
    });
  });
}

/**
 * Reads a `.pt` / `.pth` file written by `torch.save`: its object with every tensor as a tensorforge tensor
 * (contiguous, on the cpu). A state dict comes back as a plain object of tensors; a checkpoint dict as nested
 * objects. Throws an Error naming the file and the problem for anything else or anything damaged.
 */
export async function loadPt(path: string): Promise<PtValue> {
  const zip = await openZip(path);
  try {
    const fileSize = zip.fileSize;
    const entries = await listEntries(zip, path);
    const pklEntry = entries.find((e) => /^[^/]+\/data\.pkl$/.test(e.fileName));
    if (!pklEntry) throw bad(path, 'has no <archive>/data.pkl entry: not a torch.save file');
    const prefix = pklEntry.fileName.slice(0, -'data.pkl'.length);
    const dataEntries = new Map(entries.filter((e) => e.fileName.startsWith(`${prefix}data/`)).map((e) => [e.fileName.slice(prefix.length + 5), e]));
    const raw = new Map<string, Uint8Array>();
    for (const [key, entry] of dataEntries) raw.set(key, await readEntry(zip, entry, path, fileSize));
    const pkl = await readEntry(zip, pklEntry, path, fileSize);
    const converted = new Map<string, TypedArray>();
    return unpickle(pkl, path, (ref) => {
      let data = converted.get(ref.key);
      if (!data) {
        const bytes = raw.get(ref.key);
        const type = storageTypes[ref.type]!;
        if (!bytes) throw bad(path, `storage ${ref.key} has no data/${ref.key} entry`);
        if (bytes.length < ref.numel * type.bytes) {
          throw bad(path, `storage ${ref.key} declares ${ref.numel} elements of ${type.bytes} bytes but data/${ref.key} holds ${bytes.length} bytes`);
        }
        data = type.convert(bytes.subarray(0, ref.numel * type.bytes), path, ref.key);
        converted.set(ref.key, data);
      }
      return data;
    });
  } finally {
    zip.close();
  }
}

/**
 * A flat record of tensors from a `.pt` file: the file's object itself when it is a state dict, or the state
 * dict under `key` of a checkpoint dict (e.g. 'model' or 'state_dict').
 */
export async function loadPtStateDict(path: string, key?: string): Promise<Record<string, Tensor>> {
  let value = await loadPt(path);
  if (key !== undefined) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Tensor || !(key in value)) {
      throw bad(path, `holds no dict entry '${key}'`);
    }
    value = value[key]!;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Tensor) {
    throw bad(path, `holds a ${Array.isArray(value) ? 'list' : value instanceof Tensor ? 'tensor' : typeof value}, not a state dict`);
  }
  const out: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(value)) {
    if (!(v instanceof Tensor)) {
      throw bad(path, `entry '${k}' is not a tensor${key === undefined ? ' (a checkpoint? pass the key of its state dict, e.g. loadPtStateDict(path, "model"))' : ''}`);
    }
    out[k] = v;
  }
  return out;
}

// ---- writing ------------------------------------------------------------------------------------------

/** A protocol-2 pickle under construction. */
class Pickler {
  readonly parts: Uint8Array[] = [];
  private memo = 0;

  op(...bytes: number[]): void { this.parts.push(Uint8Array.from(bytes)); }

  /** Stores the top of the stack in the next memo slot (as torch's pickler does, so readers can refer back). */
  put(): void {
    const n = this.memo++;
    if (n < 256) this.op(0x71, n);
    else { this.op(0x72); this.u32(n); }
  }

  u32(n: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n, true);
    this.parts.push(b);
  }

  global(module: string, name: string): void {
    this.parts.push(new TextEncoder().encode(`c${module}\n${name}\n`));
    this.put();
  }

  string(s: string): void {
    const bytes = new TextEncoder().encode(s);
    this.op(0x58);
    this.u32(bytes.length);
    this.parts.push(bytes);
    this.put();
  }

  int(n: number): void {
    if (n >= 0 && n < 256) this.op(0x4b, n);
    else if (n >= 0 && n < 65536) this.op(0x4d, n & 0xff, n >> 8);
    else if (n >= INT32_MIN && n <= INT32_MAX) {
      const b = new Uint8Array(5);
      b[0] = 0x4a;
      new DataView(b.buffer).setInt32(1, n, true);
      this.parts.push(b);
    } else {
      const b = new Uint8Array(10);
      b[0] = 0x8a;
      b[1] = 8;
      new DataView(b.buffer).setBigInt64(2, BigInt(n), true);
      this.parts.push(b);
    }
  }

  tuple(items: readonly number[]): void {
    this.op(0x28);
    for (const d of items) this.int(d);
    this.op(0x74);
    this.put();
  }

  bytes(): Uint8Array {
    return Buffer.concat(this.parts);
  }
}

/** torch's storage type for each stored form checkpoint.ts's toStored gives a tensor (int32 counters as int64). */
const storageTypeOf: Record<string, string> = { F32: 'FloatStorage', F64: 'DoubleStorage', BOOL: 'BoolStorage', I32: 'IntStorage', I64: 'LongStorage' };

/** A tensor's elements as torch's storage type and bytes. */
function storageOf(key: string, t: Tensor): { type: string; bytes: Uint8Array } {
  const { dtype, data } = toStored(key, t);
  return { type: storageTypeOf[dtype]!, bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** The zip archive of `torch.save(stateDict)` for these tensors (stored entries, archive name 'archive'). */
export function serializePt(stateDict: Record<string, Tensor>): Promise<Uint8Array> {
  const p = new Pickler();
  p.op(0x80, 2);
  p.global('collections', 'OrderedDict');
  p.op(0x29, 0x52);  // OrderedDict()
  p.put();
  const storages: Uint8Array[] = [];
  const entries = Object.entries(stateDict);
  if (entries.length) p.op(0x28);
  for (const [key, t] of entries) {
    if (!(t instanceof Tensor)) throw new TypeError(`savePt: value for '${key}' is not a Tensor`);
    const { type, bytes } = storageOf(key, t);
    p.string(key);
    p.global('torch._utils', '_rebuild_tensor_v2');
    p.op(0x28);  // the rebuild's arguments
    p.op(0x28);  // the persistent id
    p.string('storage');
    p.global('torch', type);
    p.string(String(storages.length));
    p.string('cpu');
    p.int(t.numel);
    p.op(0x74);
    p.put();
    p.op(0x51);  // BINPERSID
    p.int(0);
    p.tuple(t.shape);
    p.tuple(contiguousStrides(t.shape));
    p.op(0x89);  // requires_grad False
    p.global('collections', 'OrderedDict');
    p.op(0x29, 0x52);  // backward hooks: OrderedDict()
    p.put();
    p.op(0x74);
    p.put();
    p.op(0x52);  // REDUCE
    p.put();
    storages.push(bytes);
  }
  if (entries.length) p.op(0x75);  // SETITEMS
  p.op(0x2e);
  return storedZip([
    ['archive/data.pkl', p.bytes()],
    ...storages.map((bytes, i): [string, Uint8Array] => [`archive/data/${i}`, bytes]),
    ['archive/version', new TextEncoder().encode('3\n')],
  ]);
}

/** A zip archive of the given entries, stored uncompressed (as torch.save writes them), in memory. */
export function storedZip(entries: ReadonlyArray<readonly [string, Uint8Array]>): Promise<Uint8Array> {
  const zip = new yazl.ZipFile();
  for (const [name, data] of entries) {
    zip.addBuffer(Buffer.from(data.buffer, data.byteOffset, data.byteLength), name, { compress: false, mtime: new Date(0) });
  }
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('error', reject);
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

/**
 * Writes a state dict (e.g. `model.stateDict()`) as a `.pt` file that `torch.load(path, weights_only=True)` reads
 * and `module.load_state_dict` accepts. Atomic: a crash leaves the previous file or the new one.
 */
export async function savePt(path: string, stateDict: Record<string, Tensor>): Promise<void> {
  await writeFileAtomic(path, await serializePt(stateDict));
}

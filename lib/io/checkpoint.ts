/**
 * Checkpoints as safetensors files: state dicts with PyTorch's key names, and training checkpoints
 * (model, optimizer, scheduler, epoch) in one file.
 *
 * Tensors map to F32, F64, I32 and BOOL; `num_batches_tracked` is stored as I64, as PyTorch does,
 * and I64 tensors read back as int32 (values must fit). A training checkpoint stores
 *
 *   model.<key>                      the model's state dict
 *   optimizer.state.<i>.<name>       optimizer state tensors of parameter i (PyTorch's numbering)
 *   __metadata__                     format, and JSON for the optimizer's param_groups and scalar state,
 *                                    the scheduler state, epoch and extra
 *
 * Every write goes through a temporary file and a rename, so a crash never leaves a torn file.
 */
import { Tensor } from '../tensor.js';
import { fromArray } from '../creation.js';
import type { TypedArray } from '../dtype.js';
import { readSafetensors, writeSafetensors, type StoredTensor } from './safetensors.js';
import type { Module, StateDict } from '../nn/module.js';
import type { Optimizer, OptimizerStateDict, ParamState, BaseHyper } from '../optim/optimizer.js';

const FORMAT = 'tensorforge.checkpoint/1';
const INT32_MIN = -(2 ** 31), INT32_MAX = 2 ** 31 - 1;

/** A scheduler or anything else with a JSON-serializable state. */
export interface Stateful {
  stateDict(): unknown;
  loadStateDict(state: any): void;
}

/** Keys PyTorch stores as int64; they are written as I64 so that torch loads them unchanged. */
function isInt64Key(key: string): boolean {
  return key === 'num_batches_tracked' || key.endsWith('.num_batches_tracked');
}

/** The stored form of a tensor: its contiguous elements and safetensors dtype. */
export function toStored(key: string, t: Tensor): StoredTensor {
  const data = t.contiguous().dataSync();
  const shape = [...t.shape];
  switch (t.dtype) {
    case 'float32': return { dtype: 'F32', shape, data: data as Float32Array };
    case 'float64': return { dtype: 'F64', shape, data: data as Float64Array };
    case 'bool': return { dtype: 'BOOL', shape, data: data as Uint8Array };
    case 'int32':
      return isInt64Key(key)
        ? { dtype: 'I64', shape, data: BigInt64Array.from(data as Int32Array, (v) => BigInt(v)) }
        : { dtype: 'I32', shape, data: data as Int32Array };
  }
}

/** int64 values as the int32 tensorforge uses, or `outOfRange(value)` thrown at the first that does not fit. */
export function narrowInt64(wide: BigInt64Array, outOfRange: (value: bigint) => Error): Int32Array {
  const out = new Int32Array(wide.length);
  for (let i = 0; i < wide.length; i++) {
    const v = wide[i]!;
    if (v < BigInt(INT32_MIN) || v > BigInt(INT32_MAX)) throw outOfRange(v);
    out[i] = Number(v);
  }
  return out;
}

/**
 * A tensor on a stored tensor's data; I64 becomes int32 (range-checked). The data is used as it is, not
 * copied: it comes from readSafetensors, which reads each file into fresh memory that nothing else holds
 * (a copy would double the peak memory of loading a large checkpoint).
 */
function fromStored(key: string, s: StoredTensor): Tensor {
  let data: TypedArray;
  switch (s.dtype) {
    case 'F32': case 'F64': case 'I32': case 'BOOL': case 'U8':
      data = s.data as Float32Array | Float64Array | Int32Array | Uint8Array;
      break;
    case 'I64':
      data = narrowInt64(s.data as BigInt64Array, (v) =>
        new RangeError(`checkpoint: tensor '${key}' holds the int64 value ${v}, outside the int32 range tensorforge uses`));
      break;
    default:
      throw new TypeError(`checkpoint: tensor '${key}' has dtype ${s.dtype}; tensorforge reads F32, F64, I32, I64, BOOL and U8`);
  }
  return fromArray(data, s.shape);
}

function toStoredRecord(tensors: Record<string, Tensor>): Record<string, StoredTensor> {
  const out: Record<string, StoredTensor> = {};
  for (const [key, t] of Object.entries(tensors)) {
    if (!(t instanceof Tensor)) throw new TypeError(`checkpoint: value for '${key}' is not a Tensor`);
    out[key] = toStored(key, t);
  }
  return out;
}

function fromStoredRecord(tensors: Record<string, StoredTensor>): StateDict {
  const out: StateDict = {};
  for (const [key, s] of Object.entries(tensors)) out[key] = fromStored(key, s);
  return out;
}

/** JSON that keeps ±Infinity and NaN (a plateau scheduler's `best` starts at Infinity). */
function toJson(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? { $number: String(v) } : v));
}

/** The metadata field `field` of the checkpoint at `path`, parsed; an Error naming the file and the field when it is not JSON. */
function fromJson(path: string, field: string, text: string): unknown {
  try {
    return JSON.parse(text, (_, v: unknown) =>
      v !== null && typeof v === 'object' && Object.keys(v).length === 1 && typeof (v as { $number?: unknown }).$number === 'string'
        ? Number((v as { $number: string }).$number)
        : v);
  } catch (err) {
    throw new Error(`loadCheckpoint: metadata field '${field}' of ${path} is not valid JSON (${(err as Error).message})`, { cause: err });
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The optimizer metadata of the checkpoint at `path`, checked for the shape saveCheckpoint writes. */
function savedOptimizer(path: string, text: string): { param_groups: OptimizerStateDict['param_groups']; state: Record<string, Record<string, number>> } {
  const saved = fromJson(path, 'optimizer', text);
  const bad: (what: string, got: unknown) => never = (what, got) => {
    throw new Error(`loadCheckpoint: metadata field 'optimizer' of ${path}: ${what}, got ${JSON.stringify(got)?.slice(0, 60)}`);
  };
  if (!isRecord(saved)) bad('expected an object', saved);
  if (!Array.isArray(saved.param_groups)) bad('param_groups must be an array', saved.param_groups);
  if (!isRecord(saved.state)) bad('state must be an object', saved.state);
  for (const [index, scalars] of Object.entries(saved.state)) {
    if (!/^\d+$/.test(index) || !isRecord(scalars)) bad(`state must map parameter indices to objects, entry '${index}' is not one`, scalars);
  }
  return saved as ReturnType<typeof savedOptimizer>;
}

function savedEpoch(path: string, text: string): number {
  const epoch = fromJson(path, 'epoch', text);
  if (typeof epoch !== 'number') throw new Error(`loadCheckpoint: metadata field 'epoch' of ${path} must be a number, got ${JSON.stringify(epoch)?.slice(0, 60)}`);
  return epoch;
}

/** Writes a state dict (e.g. `model.stateDict()`) to a safetensors file that PyTorch's safetensors loader reads as is. */
export async function saveStateDict(path: string, stateDict: StateDict, metadata?: Record<string, string>): Promise<void> {
  await writeSafetensors('saveStateDict', path, toStoredRecord(stateDict), metadata);
}

/** Reads a safetensors file as a state dict (tensors own their data); pass it to `module.loadStateDict`. */
export async function loadStateDict(path: string): Promise<StateDict> {
  return fromStoredRecord((await readSafetensors('loadStateDict', path)).tensors);
}

/** What a training checkpoint holds. */
export interface CheckpointContents {
  model: Module<any, any>;
  optimizer?: Optimizer<any>;
  scheduler?: Stateful;
  /** The epoch just finished (or about to start; the caller decides). */
  epoch?: number;
  /** Anything JSON-serializable: metrics history, configuration, ... */
  extra?: unknown;
}

/** Writes model, optimizer and scheduler state, epoch and extra to one safetensors file, atomically. */
export async function saveCheckpoint(path: string, contents: CheckpointContents): Promise<void> {
  const { model, optimizer, scheduler, epoch, extra } = contents;
  const tensors: Record<string, Tensor> = {};
  for (const [key, t] of Object.entries(model.stateDict())) tensors[`model.${key}`] = t;
  const metadata: Record<string, string> = { format: FORMAT };
  if (optimizer) {
    const sd = optimizer.stateDict();
    const scalars: Record<number, Record<string, unknown>> = {};
    for (const [index, state] of Object.entries(sd.state)) {
      for (const [name, value] of Object.entries(state)) {
        if (value instanceof Tensor) tensors[`optimizer.state.${index}.${name}`] = value;
        else (scalars[Number(index)] ??= {})[name] = value;
      }
    }
    metadata.optimizer = toJson({ param_groups: sd.param_groups, state: scalars });
  }
  if (scheduler) metadata.scheduler = toJson(scheduler.stateDict());
  if (epoch !== undefined) metadata.epoch = toJson(epoch);
  if (extra !== undefined) metadata.extra = toJson(extra);
  await writeSafetensors('saveCheckpoint', path, toStoredRecord(tensors), metadata);
}

/** What loadCheckpoint restores into and how strictly. */
export interface LoadCheckpointTargets {
  model: Module<any, any>;
  optimizer?: Optimizer<any>;
  scheduler?: Stateful;
  /** Passed to model.loadStateDict; default true. */
  strict?: boolean;
}

/**
 * Restores a file written by saveCheckpoint into the given model (and optimizer and scheduler, which
 * the file must then contain). Returns the epoch and extra that were saved.
 */
export async function loadCheckpoint(path: string, targets: LoadCheckpointTargets): Promise<{ epoch?: number; extra?: unknown }> {
  const { tensors, metadata } = await readSafetensors('loadCheckpoint', path);
  if (metadata.format !== FORMAT) {
    throw new Error(`loadCheckpoint: ${path} is not a tensorforge checkpoint (format ${JSON.stringify(metadata.format)}); use loadStateDict for plain state dicts`);
  }
  const model: StateDict = {};
  const optimizerTensors = new Map<number, ParamState>();
  for (const [key, stored] of Object.entries(tensors)) {
    if (key.startsWith('model.')) {
      model[key.slice('model.'.length)] = fromStored(key, stored);
      continue;
    }
    const match = /^optimizer\.state\.(\d+)\.(.+)$/.exec(key);
    if (!match) throw new Error(`loadCheckpoint: unexpected tensor '${key}' in ${path}`);
    const index = Number(match[1]);
    if (!optimizerTensors.has(index)) optimizerTensors.set(index, {});
    optimizerTensors.get(index)![match[2]!] = fromStored(key, stored);
  }
  targets.model.loadStateDict(model, { strict: targets.strict ?? true });
  if (targets.optimizer) {
    if (metadata.optimizer === undefined) throw new Error(`loadCheckpoint: ${path} has no optimizer state`);
    const saved = savedOptimizer(path, metadata.optimizer);
    const state: Record<number, ParamState> = {};
    for (const [index, scalars] of Object.entries(saved.state)) state[Number(index)] = { ...scalars };
    for (const [index, ts] of optimizerTensors) state[index] = { ...state[index], ...ts };
    (targets.optimizer as Optimizer<BaseHyper>).loadStateDict({ state, param_groups: saved.param_groups });
  }
  if (targets.scheduler) {
    if (metadata.scheduler === undefined) throw new Error(`loadCheckpoint: ${path} has no scheduler state`);
    targets.scheduler.loadStateDict(fromJson(path, 'scheduler', metadata.scheduler));
  }
  return {
    epoch: metadata.epoch !== undefined ? savedEpoch(path, metadata.epoch) : undefined,
    extra: metadata.extra !== undefined ? fromJson(path, 'extra', metadata.extra) : undefined,
  };
}

/**
 * SummaryWriter: TensorBoard event files, with PyTorch's `torch.utils.tensorboard.SummaryWriter` API.
 *
 * A file `events.out.tfevents.<seconds>.<hostname>.<pid>.<n>` in the log directory holds TFRecords of
 * `Event` protos: first the file version "brain.Event:2", then one event per logged value, each a
 * `Summary` with a scalar (simple_value), a histogram (HistogramProto), an image (Summary.Image, PNG),
 * or the HParams plugin's experiment, session start and session end. The model graph is not written:
 * it would take a GraphDef exporter (node per op, attribute protos) that nothing else here needs.
 *
 * Events are queued and written with synchronous appends (so writes from async code cannot interleave)
 * when `maxQueue` events are waiting, when `flushSecs` have passed since the last write (checked on
 * each add and by an unref'd timer that does not keep the process alive), on `flush()` and `close()`,
 * and at process exit for writers left open.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '../tensor.js';
import { isFloatDType } from '../dtype.js';
import { encodePng } from './png.js';
import { ProtoWriter, tfRecord } from './tfevents.js';

export interface SummaryWriterOptions {
  /** Write queued events after this many seconds [10]. */
  flushSecs?: number;
  /** Write queued events when this many are waiting [10]. */
  maxQueue?: number;
  /** Appended to the file name. */
  filenameSuffix?: string;
}

/** Pixel layout of an image given to addImage: channels first, channels last, or one channel. */
export type ImageFormat = 'CHW' | 'HWC' | 'HW';

export type HparamValue = number | string | boolean;

const openWriters = new Set<SummaryWriter>();
let exitHookInstalled = false;
let fileCounter = 0;

/** Flushes writers still open when the process exits normally, so the last records are never lost. */
function trackOpen(writer: SummaryWriter): void {
  openWriters.add(writer);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const w of openWriters) w.flush();
  });
}

function checkTag(op: string, tag: unknown): string {
  if (typeof tag !== 'string' || tag === '') throw new TypeError(`SummaryWriter.${op}: tag must be a non-empty string, got ${JSON.stringify(tag)}`);
  return tag;
}

function checkStep(op: string, step: number): number {
  if (!Number.isSafeInteger(step) || step < 0) throw new RangeError(`SummaryWriter.${op}: step must be an integer >= 0, got ${step}`);
  return step;
}

function scalarOf(op: string, tag: string, value: number | Tensor): number {
  if (value instanceof Tensor) {
    if (value.numel !== 1) throw new RangeError(`SummaryWriter.${op}: '${tag}' must be a number or a one-element tensor, got shape [${value.shape.join(', ')}]`);
    return value.item();
  }
  if (typeof value !== 'number') throw new TypeError(`SummaryWriter.${op}: '${tag}' must be a number or a one-element tensor, got ${typeof value}`);
  return value;
}

/** Summary.Value with a tag; `fill` sets its value field. */
function summaryValue(tag: string, fill: (value: ProtoWriter) => void): ProtoWriter {
  const value = new ProtoWriter().string(1, tag);
  fill(value);
  return value;
}

/** HistogramProto of `values` with `bins` equal-width buckets; bucket_limit holds each bucket's right edge. */
function histogramProto(op: string, tag: string, values: ArrayLike<number>, bins: number): ProtoWriter {
  if (values.length === 0) throw new RangeError(`SummaryWriter.${op}: '${tag}' has no values`);
  let min = Infinity, max = -Infinity, sum = 0, sumSquares = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) throw new RangeError(`SummaryWriter.${op}: '${tag}' has a non-finite value (${v}) at index ${i}`);
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    sumSquares += v * v;
  }
  const count = min === max ? 1 : bins;
  const width = (max - min) / count;
  const limits = Array.from({ length: count }, (_, i) => (i === count - 1 ? max : min + (i + 1) * width));
  const buckets = new Float64Array(count);
  for (let i = 0; i < values.length; i++) buckets[count === 1 ? 0 : Math.min(count - 1, Math.floor((values[i]! - min) / width))]! += 1;
  return new ProtoWriter().double(1, min).double(2, max).double(3, values.length).double(4, sum).double(5, sumSquares)
    .packedDoubles(6, limits).packedDoubles(7, buckets);
}

/** The image as interleaved 8-bit pixels: floats are taken in [0, 1] and scaled by 255, integers in [0, 255]. */
function imagePixels(tag: string, image: Tensor, format: ImageFormat): { pixels: Uint8Array; height: number; width: number; channels: number } {
  const rank = format === 'HW' ? 2 : 3;
  if (image.ndim !== rank) throw new RangeError(`SummaryWriter.addImage: '${tag}' in format ${format} must have rank ${rank}, got shape [${image.shape.join(', ')}]`);
  const [c, h, w] = format === 'HW' ? [1, image.shape[0]!, image.shape[1]!]
    : format === 'CHW' ? [image.shape[0]!, image.shape[1]!, image.shape[2]!] : [image.shape[2]!, image.shape[0]!, image.shape[1]!];
  if (![1, 3, 4].includes(c)) throw new RangeError(`SummaryWriter.addImage: '${tag}' must have 1, 3 or 4 channels, got ${c} (shape [${image.shape.join(', ')}], format ${format})`);
  const data = image.dataSync() as ArrayLike<number>;
  const scale = isFloatDType(image.dtype) ? 255 : 1;
  const pixels = new Uint8Array(h * w * c);
  // HWC output; a CHW source is read with its channel stride
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < c; k++) {
        const v = data[format === 'CHW' ? (k * h + y) * w + x : (y * w + x) * c + k]! * scale;
        pixels[(y * w + x) * c + k] = v > 255 ? 255 : v > 0 ? Math.round(v) : 0;
      }
    }
  }
  return { pixels, height: h, width: w, channels: c };
}

/** google.protobuf.Value of an hparam: number_value, string_value or bool_value. */
function protobufValue(name: string, value: HparamValue): ProtoWriter {
  switch (typeof value) {
    case 'number': return new ProtoWriter().double(2, value);
    case 'string': return new ProtoWriter().string(3, value);
    case 'boolean': return new ProtoWriter().uint(4, value ? 1 : 0);
    default: throw new TypeError(`SummaryWriter.addHparams: hparam '${name}' must be a number, string or boolean, got ${typeof value}`);
  }
}

/** HParamInfo.type (DataType) of a value: DATA_TYPE_STRING 1, DATA_TYPE_BOOL 2, DATA_TYPE_FLOAT64 3. */
const HPARAM_TYPE = { string: 1, boolean: 2, number: 3 } as const;
/** HParams plugin Status.STATUS_SUCCESS. */
const STATUS_SUCCESS = 1;

/** Summary.Value carrying HParamsPluginData (`fill` sets its oneof) in its metadata, as the HParams plugin reads it. */
function hparamsValue(tag: string, fill: (data: ProtoWriter) => void): ProtoWriter {
  const data = new ProtoWriter();
  fill(data);
  const pluginData = new ProtoWriter().string(1, 'hparams').bytes(2, data.finish());
  return summaryValue(tag, (v) => v.message(9, new ProtoWriter().message(1, pluginData)));
}

/** Writes TensorBoard event files into `logdir` (created if missing). */
export class SummaryWriter {
  readonly logdir: string;
  /** The event file this writer appends to. */
  readonly file: string;
  readonly #fd: number;
  readonly #flushMs: number;
  readonly #maxQueue: number;
  #queue: Uint8Array[] = [];
  #lastFlush = performance.now();
  #timer: ReturnType<typeof setInterval>;
  #closed = false;
  /** addScalars' writers, one run (subfolder) per key, as PyTorch's. */
  #children = new Map<string, SummaryWriter>();

  constructor(logdir = 'runs', options: SummaryWriterOptions = {}) {
    const flushSecs = options.flushSecs ?? 10, maxQueue = options.maxQueue ?? 10;
    if (!(flushSecs > 0)) throw new RangeError(`SummaryWriter: flushSecs must be > 0, got ${flushSecs}`);
    if (!Number.isInteger(maxQueue) || maxQueue < 1) throw new RangeError(`SummaryWriter: maxQueue must be an integer >= 1, got ${maxQueue}`);
    this.logdir = logdir;
    mkdirSync(logdir, { recursive: true });
    const name = `events.out.tfevents.${Math.floor(Date.now() / 1000)}.${hostname()}.${process.pid}.${fileCounter++}${options.filenameSuffix ?? ''}`;
    this.file = join(logdir, name);
    this.#fd = openSync(this.file, 'wx');
    this.#flushMs = flushSecs * 1000;
    this.#maxQueue = maxQueue;
    this.#timer = setInterval(() => this.flush(), this.#flushMs);
    this.#timer.unref();
    trackOpen(this);
    this.#event(0, (e) => e.string(3, 'brain.Event:2'));
    this.flush();
  }

  /** Logs a scalar: a number or a one-element tensor. */
  addScalar(tag: string, value: number | Tensor, step = 0): void {
    checkTag('addScalar', tag);
    const v = scalarOf('addScalar', tag, value);
    this.#summary(checkStep('addScalar', step), summaryValue(tag, (s) => s.float(2, v)));
  }

  /**
   * Logs several scalars in one chart: each key goes to its own run, `<logdir>/<mainTag>_<key>`, under the
   * tag `mainTag` (PyTorch's layout).
   */
  addScalars(mainTag: string, values: Record<string, number | Tensor>, step = 0): void {
    checkTag('addScalars', mainTag);
    for (const [key, value] of Object.entries(values)) {
      const run = `${mainTag.replaceAll('/', '_')}_${key}`;
      let child = this.#children.get(run);
      if (!child) {
        this.#checkOpen();
        child = new SummaryWriter(join(this.logdir, run), { flushSecs: this.#flushMs / 1000, maxQueue: this.#maxQueue });
        this.#children.set(run, child);
      }
      child.addScalar(mainTag, value, step);
    }
  }

  /** Logs a histogram of a tensor's or an array's values, in `bins` equal-width buckets [30]. */
  addHistogram(tag: string, values: Tensor | ArrayLike<number>, step = 0, options: { bins?: number } = {}): void {
    checkTag('addHistogram', tag);
    const bins = options.bins ?? 30;
    if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`SummaryWriter.addHistogram: bins must be an integer >= 1, got ${bins}`);
    const data = values instanceof Tensor ? (values.dataSync() as ArrayLike<number>) : values;
    const histo = histogramProto('addHistogram', tag, data, bins);
    this.#summary(checkStep('addHistogram', step), summaryValue(tag, (s) => s.message(5, histo)));
  }

  /**
   * Logs an image, PNG-encoded: a tensor [C, H, W] ('CHW', the default), [H, W, C] ('HWC') or [H, W]
   * ('HW') with 1, 3 or 4 channels; float values in [0, 1], integer values in [0, 255] (clamped).
   */
  addImage(tag: string, image: Tensor, step = 0, options: { dataformats?: ImageFormat } = {}): void {
    checkTag('addImage', tag);
    if (!(image instanceof Tensor)) throw new TypeError(`SummaryWriter.addImage: '${tag}' must be a Tensor, got ${typeof image}`);
    const { pixels, height, width, channels } = imagePixels(tag, image, options.dataformats ?? 'CHW');
    const encoded = new ProtoWriter().uint(1, height).uint(2, width).uint(3, channels).bytes(4, encodePng(pixels, height, width, channels));
    this.#summary(checkStep('addImage', step), summaryValue(tag, (s) => s.message(4, encoded)));
  }

  /**
   * Logs a run's hyperparameters and final metrics for TensorBoard's HParams dashboard: the experiment
   * (every hparam with its type, every metric by tag), the session start with the values, the metric
   * values as scalars under their own tags, and the session end (success). PyTorch writes these into a
   * new run below the log directory; here the session is this writer's own run.
   */
  addHparams(hparams: Record<string, HparamValue>, metrics: Record<string, number>, step = 0): void {
    checkStep('addHparams', step);
    const now = Date.now() / 1000;
    const experiment = new ProtoWriter().double(3, now);
    const start = new ProtoWriter().double(5, now);
    for (const [name, value] of Object.entries(hparams)) {
      const typed = protobufValue(name, value);
      experiment.message(4, new ProtoWriter().string(1, name).uint(4, HPARAM_TYPE[typeof value as keyof typeof HPARAM_TYPE]));
      start.message(1, new ProtoWriter().string(1, name).message(2, typed));
    }
    for (const [tag, value] of Object.entries(metrics)) {
      checkTag('addHparams', tag);
      if (typeof value !== 'number') throw new TypeError(`SummaryWriter.addHparams: metric '${tag}' must be a number, got ${typeof value}`);
      experiment.message(5, new ProtoWriter().message(1, new ProtoWriter().string(2, tag)));
    }
    this.#summary(step, hparamsValue('_hparams_/experiment', (d) => d.message(2, experiment)));
    this.#summary(step, hparamsValue('_hparams_/session_start_info', (d) => d.message(3, start)));
    for (const [tag, value] of Object.entries(metrics)) this.addScalar(tag, value, step);
    const end = new ProtoWriter().uint(1, STATUS_SUCCESS).double(2, Date.now() / 1000);
    this.#summary(step, hparamsValue('_hparams_/session_end_info', (d) => d.message(4, end)));
  }

  /** Writes every queued event (this writer's and addScalars' runs) to disk. */
  flush(): void {
    for (const child of this.#children.values()) child.flush();
    if (this.#closed || this.#queue.length === 0) return;
    const data = Buffer.concat(this.#queue);
    this.#queue = [];
    let written = 0;
    while (written < data.length) written += writeSync(this.#fd, data, written);
    this.#lastFlush = performance.now();
  }

  /** Flushes and closes the file; later adds throw. Closing twice is allowed. */
  close(): void {
    if (this.#closed) return;
    this.flush();
    for (const child of this.#children.values()) child.close();
    this.#closed = true;
    clearInterval(this.#timer);
    openWriters.delete(this);
    closeSync(this.#fd);
  }

  #checkOpen(): void {
    if (this.#closed) throw new Error(`SummaryWriter: the writer for ${this.logdir} is closed`);
  }

  #summary(step: number, value: ProtoWriter): void {
    this.#event(step, (e) => e.message(5, new ProtoWriter().message(1, value)));
  }

  /** Queues an Event (wall_time, step, then what `fill` adds) and writes the queue when it is due. */
  #event(step: number, fill: (event: ProtoWriter) => void): void {
    this.#checkOpen();
    const event = new ProtoWriter().double(1, Date.now() / 1000).uint(2, step);
    fill(event);
    this.#queue.push(tfRecord(event.finish()));
    if (this.#queue.length >= this.#maxQueue || performance.now() - this.#lastFlush >= this.#flushMs) this.flush();
  }
}

/**
 * SummaryWriter's files decoded by an independent reader (tfevents_reader.ts: TFRecord framing checked
 * with a bitwise CRC-32C, Events decoded by protobufjs from TensorBoard's published .proto files), PNGs
 * inflated and unfiltered here, and every decoded value compared with what was logged.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir, hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateSync, crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { tensor, randn } from '../../lib/creation.js';
import { manualSeed } from '../../lib/random.js';
import { SummaryWriter } from '../../lib/train/summary.js';
import { crc32cBitwise, readEvents, PluginData, decodeOptions } from './tfevents_reader.js';

function eventFile(dir: string): string {
  const files = readdirSync(dir).filter((f) => f.startsWith('events.out.tfevents.'));
  expect(files).toHaveLength(1);
  expect(files[0]).toMatch(new RegExp(`^events\\.out\\.tfevents\\.\\d{10}\\.${hostname().replaceAll('.', '\\.')}\\.`));
  return join(dir, files[0]!);
}

/** The summary values of every event, with their step and wall time. */
function values(events: any[]): Array<{ step: number; wallTime: number; value: any }> {
  return events.filter((e) => e.what === 'summary').map((e) => {
    expect(e.summary.value).toHaveLength(1);
    return { step: e.step, wallTime: e.wallTime, value: e.summary.value[0] };
  });
}

/** Decodes an 8-bit, non-interlaced PNG with filter type 0 rows, checking each chunk's CRC-32. */
function decodePng(png: Uint8Array): { width: number; height: number; colorType: number; pixels: Uint8Array } {
  const buf = Buffer.from(png);
  expect([...buf.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let at = 8, width = 0, height = 0, colorType = -1;
  const idat: Buffer[] = [];
  while (at < buf.length) {
    const length = buf.readUInt32BE(at), type = buf.toString('latin1', at + 4, at + 8);
    expect(buf.readUInt32BE(at + 8 + length), `${type} CRC`).toBe(crc32(buf.subarray(at + 4, at + 8 + length)));
    const body = buf.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') {
      [width, height, colorType] = [body.readUInt32BE(0), body.readUInt32BE(4), body[9]!];
      expect([body[8], body[10], body[11], body[12]]).toEqual([8, 0, 0, 0]);
    }
    if (type === 'IDAT') idat.push(body);
    at += 12 + length;
  }
  const channels = { 0: 1, 4: 2, 2: 3, 6: 4 }[colorType]!;
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  expect(raw.length).toBe(height * (stride + 1));
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    expect(raw[y * (stride + 1)]).toBe(0);
    pixels.set(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)), y * stride);
  }
  return { width, height, colorType, pixels };
}

const tempDir = () => mkdtempSync(join(tmpdir(), 'tf-summary-'));

describe('SummaryWriter', () => {
  it('CRC-32C of the reference string "123456789" is 0xE3069283 (the test reader is right)', () => {
    expect(crc32cBitwise(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
  });

  it('writes brain.Event:2 first, then scalars with their steps and wall times', () => {
    const dir = tempDir();
    const before = Date.now() / 1000;
    const w = new SummaryWriter(dir);
    const logged = [[0.75, 0], [0.5, 1], [0.125, 7], [-3.25e-3, 1_000_000_007]] as const;
    for (const [v, step] of logged) w.addScalar('loss/train', v, step);
    w.addScalar('lr', tensor(3e-3), 2);
    w.close();
    const events = readEvents(eventFile(dir));
    expect(events[0]).toMatchObject({ what: 'fileVersion', fileVersion: 'brain.Event:2' });
    const vals = values(events);
    expect(vals.map((v) => [v.value.tag, v.value.value, v.step])).toEqual([
      ...logged.map(([, step]) => ['loss/train', 'simpleValue', step]), ['lr', 'simpleValue', 2],
    ]);
    expect(vals.map((v) => v.value.simpleValue)).toEqual([...logged.map(([v]) => Math.fround(v)), Math.fround(3e-3)]);
    for (const { wallTime } of vals) {
      expect(wallTime).toBeGreaterThanOrEqual(before - 1);
      expect(wallTime).toBeLessThanOrEqual(Date.now() / 1000 + 1);
    }
  });

  it('histograms: min, max, num, sum, sum of squares and bucket counts of a tensor and of an array', () => {
    manualSeed(3);
    const dir = tempDir();
    const w = new SummaryWriter(dir);
    const t = randn([37, 11]);
    w.addHistogram('weights', t, 4, { bins: 13 });
    w.addHistogram('constant', [2.5, 2.5, 2.5], 5);
    w.close();
    const [histo, constant] = values(readEvents(eventFile(dir)));
    const data = Array.from(t.dataSync() as Float32Array);
    const min = Math.min(...data), max = Math.max(...data);
    const h = histo!.value.histo;
    expect(histo!.value.value).toBe('histo');
    expect([h.min, h.max, h.num]).toEqual([min, max, 37 * 11]);
    expect(h.sum).toBeCloseTo(data.reduce((a, b) => a + b, 0), 9);
    expect(h.sumSquares).toBeCloseTo(data.reduce((a, b) => a + b * b, 0), 9);
    expect(h.bucketLimit).toHaveLength(13);
    expect(h.bucketLimit.at(-1)).toBe(max);
    // each value is counted in the first bucket whose right edge reaches it
    const expected = h.bucketLimit.map(() => 0);
    for (const v of data) expected[h.bucketLimit.findIndex((limit: number) => v <= limit)]++;
    expect(h.bucket).toEqual(expected);
    expect(constant!.value.histo).toMatchObject({ min: 2.5, max: 2.5, num: 3, sum: 7.5, sumSquares: 18.75, bucketLimit: [2.5], bucket: [3] });
  });

  it('images: CHW float and HWC integer tensors decode to the same pixels as PNG with their size and colorspace', () => {
    manualSeed(5);
    const dir = tempDir();
    const w = new SummaryWriter(dir);
    const rgb = randn([3, 5, 7]).sigmoid();
    const gray = tensor([[[0], [128]], [[255], [300]], [[-4], [17]]], { dtype: 'int32' }); // H 3, W 2, C 1
    w.addImage('rgb', rgb, 1);
    w.addImage('gray', gray, 2, { dataformats: 'HWC' });
    w.close();
    const [rgbValue, grayValue] = values(readEvents(eventFile(dir)));
    const image = rgbValue!.value.image;
    expect([image.height, image.width, image.colorspace]).toEqual([5, 7, 3]);
    const png = decodePng(image.encodedImageString);
    expect([png.height, png.width, png.colorType]).toEqual([5, 7, 2]);
    const src = rgb.dataSync() as Float32Array;
    for (let y = 0; y < 5; y++) {
      for (let x = 0; x < 7; x++) {
        for (let c = 0; c < 3; c++) expect(png.pixels[(y * 7 + x) * 3 + c]).toBe(Math.round(src[(c * 5 + y) * 7 + x]! * 255));
      }
    }
    const g = grayValue!.value.image;
    expect([g.height, g.width, g.colorspace]).toEqual([3, 2, 1]);
    expect([...decodePng(g.encodedImageString).pixels]).toEqual([0, 128, 255, 255, 0, 17]);
  });

  it('hparams: experiment, session start with typed values, metric scalars and session end, as the HParams plugin reads them', () => {
    const dir = tempDir();
    const w = new SummaryWriter(dir);
    w.addHparams({ lr: 3e-3, optimizer: 'adam', augment: false, epochs: 8 }, { 'hparam/accuracy': 0.9912, 'hparam/loss': 0.031 });
    w.close();
    const vals = values(readEvents(eventFile(dir)));
    expect(vals.map((v) => v.value.tag)).toEqual([
      '_hparams_/experiment', '_hparams_/session_start_info', 'hparam/accuracy', 'hparam/loss', '_hparams_/session_end_info',
    ]);
    const plugin = (v: any) => {
      expect(v.value.metadata.pluginData.pluginName).toBe('hparams');
      return PluginData.toObject(PluginData.decode(v.value.metadata.pluginData.content), decodeOptions) as any;
    };
    const experiment = plugin(vals[0]);
    expect(experiment.data).toBe('experiment');
    expect(experiment.experiment.hparamInfos.map((i: any) => [i.name, i.type])).toEqual([
      ['lr', 'DATA_TYPE_FLOAT64'], ['optimizer', 'DATA_TYPE_STRING'], ['augment', 'DATA_TYPE_BOOL'], ['epochs', 'DATA_TYPE_FLOAT64'],
    ]);
    expect(experiment.experiment.metricInfos.map((m: any) => m.name.tag)).toEqual(['hparam/accuracy', 'hparam/loss']);
    const start = plugin(vals[1]);
    expect(start.data).toBe('sessionStartInfo');
    expect(start.sessionStartInfo.hparams).toEqual({
      lr: { numberValue: 3e-3, kind: 'numberValue' }, optimizer: { stringValue: 'adam', kind: 'stringValue' },
      augment: { boolValue: false, kind: 'boolValue' }, epochs: { numberValue: 8, kind: 'numberValue' },
    });
    expect(vals.slice(2, 4).map((v) => v.value.simpleValue)).toEqual([Math.fround(0.9912), Math.fround(0.031)]);
    const end = plugin(vals[4]);
    expect(end).toMatchObject({ data: 'sessionEndInfo', sessionEndInfo: { status: 'STATUS_SUCCESS' } });
    expect(end.sessionEndInfo.endTimeSecs).toBeGreaterThanOrEqual(start.sessionStartInfo.startTimeSecs);
  });

  it('addScalars writes one run per key under the main tag', () => {
    const dir = tempDir();
    const w = new SummaryWriter(dir);
    w.addScalars('loss', { train: 0.5, val: 0.625 }, 3);
    w.close();
    for (const [run, v] of [['loss_train', 0.5], ['loss_val', 0.625]] as const) {
      const [value] = values(readEvents(eventFile(join(dir, run))));
      expect([value!.value.tag, value!.value.simpleValue, value!.step]).toEqual(['loss', v, 3]);
    }
  });

  it('queues until flush() or maxQueue, and writes what is queued at process exit', async () => {
    const dir = tempDir();
    const w = new SummaryWriter(dir, { maxQueue: 3 });
    const file = eventFile(dir);
    w.addScalar('a', 1, 1);
    expect(readEvents(file)).toHaveLength(1);
    w.flush();
    expect(readEvents(file)).toHaveLength(2);
    for (let i = 0; i < 3; i++) w.addScalar('a', i, 2 + i);
    expect(readEvents(file)).toHaveLength(5);
    w.close();
    expect(() => w.addScalar('a', 1)).toThrow(/closed/);

    // a child process that logs and exits without flush() or close()
    const exitDir = tempDir();
    const script = `import { SummaryWriter } from ${JSON.stringify(join(dirname(fileURLToPath(import.meta.url)), '../../lib/train/summary.ts'))};
      const w = new SummaryWriter(${JSON.stringify(exitDir)}); for (let i = 0; i < 5; i++) w.addScalar('x', i, i);`;
    const { execFileSync } = await import('node:child_process');
    execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 60_000 });
    expect(values(readEvents(eventFile(exitDir))).map((v) => v.value.simpleValue)).toEqual([0, 1, 2, 3, 4]);
  });

  it('names the method and argument in its errors', () => {
    const w = new SummaryWriter(tempDir());
    expect(() => w.addScalar('', 1)).toThrow(new TypeError('SummaryWriter.addScalar: tag must be a non-empty string, got ""'));
    expect(() => w.addScalar('a', 1, -1)).toThrow(new RangeError('SummaryWriter.addScalar: step must be an integer >= 0, got -1'));
    expect(() => w.addHistogram('h', [1, NaN])).toThrow(/addHistogram: 'h' has a non-finite value \(NaN\) at index 1/);
    expect(() => w.addImage('i', randn([2, 4, 4]))).toThrow(/addImage: 'i' must have 1, 3 or 4 channels, got 2/);
    expect(() => w.addHparams({ x: null as never }, {})).toThrow(/addHparams: hparam 'x' must be a number, string or boolean/);
    w.close();
  });
});

/**
 * A reader of TensorBoard event files independent of lib/train: TFRecord frames with both masked CRCs
 * checked by a bit-by-bit CRC-32C, and Events decoded by protobufjs from TensorBoard's published .proto
 * files (fixtures/tensorboard). Used by the SummaryWriter and MNIST job tests.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { expect } from 'vitest';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'tensorboard');
const root = new protobuf.Root();
root.resolvePath = (origin, target) => (!origin || target.startsWith('google/') ? target : resolve(dirname(origin), target));
root.loadSync([join(fixtures, 'event.proto'), join(fixtures, 'hparams', 'plugin_data.proto')]);
const Event = root.lookupType('tensorboard.Event');
export const PluginData = root.lookupType('tensorboard.hparams.HParamsPluginData');
export const decodeOptions = { longs: Number, enums: String, bytes: Buffer.from, oneofs: true, defaults: true } as const;

/** CRC-32C bit by bit (Castagnoli, reflected 0x82F63B78): independent of lib/train/crc.ts's table. */
export function crc32cBitwise(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

const masked = (data: Uint8Array) => {
  const crc = crc32cBitwise(data);
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
};

/** Every event in a file: TFRecord frames with both CRCs checked, each decoded as tensorboard.Event. */
export function readEvents(file: string): any[] {
  const bytes = readFileSync(file);
  const events = [];
  let at = 0;
  while (at < bytes.length) {
    expect(bytes.length - at).toBeGreaterThanOrEqual(16);
    const length = Number(bytes.readBigUInt64LE(at));
    expect(bytes.readUInt32LE(at + 8)).toBe(masked(bytes.subarray(at, at + 8)));
    const data = bytes.subarray(at + 12, at + 12 + length);
    expect(bytes.readUInt32LE(at + 12 + length)).toBe(masked(data));
    events.push(Event.toObject(Event.decode(data), decodeOptions));
    at += 16 + length;
  }
  return events;
}

/** The summary values of every event in a file, each with its event's step. */
export function readEventValues(file: string): any[] {
  return readEvents(file).filter((e) => e.what === 'summary').flatMap((e) => e.summary.value.map((v: any) => ({ ...v, step: e.step })));
}

/** A minimal PNG encoder for 8-bit grayscale, RGB and RGBA images (zlib from node:zlib; no filtering). */
import { deflateSync } from 'node:zlib';
import { crc32 } from './crc.js';

const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
/** PNG colour type by channel count: 0 grayscale, 4 grayscale + alpha, 2 RGB, 6 RGBA. */
const COLOR_TYPE: Record<number, number> = { 1: 0, 2: 4, 3: 2, 4: 6 };

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * Encodes `pixels`, `height` rows of `width` pixels of `channels` (1-4) bytes each, interleaved (HWC),
 * as a PNG file.
 */
export function encodePng(pixels: Uint8Array, height: number, width: number, channels: number): Uint8Array {
  const colorType = COLOR_TYPE[channels];
  if (colorType === undefined) throw new RangeError(`encodePng: channels must be 1, 2, 3 or 4, got ${channels}`);
  if (pixels.length !== height * width * channels) {
    throw new RangeError(`encodePng: expected ${height}×${width}×${channels} = ${height * width * channels} bytes, got ${pixels.length}`);
  }
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, colorType, 0, 0, 0], 8); // bit depth 8, colour type, deflate, filter method 0, no interlace
  const stride = width * channels;
  const scanlines = new Uint8Array(height * (stride + 1)); // each row: filter type 0 (none), then its bytes
  for (let y = 0; y < height; y++) scanlines.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  return Buffer.concat([SIGNATURE, chunk('IHDR', header), chunk('IDAT', deflateSync(scanlines)), chunk('IEND', new Uint8Array(0))]);
}

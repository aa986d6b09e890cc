/**
 * Readers for the IDX format (MNIST, Fashion-MNIST, EMNIST) and for MNIST itself.
 *
 * IDX layout, big-endian: 2 zero bytes, a type byte (0x08 = uint8), a rank byte r, r uint32
 * dimensions, then the data in row-major order. Files may be gzipped; gzip is recognised by its
 * magic bytes (1f 8b), not by the file name.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ArrayDataset, shapeSize } from './dataset.js';

const IDX_UINT8 = 0x08;
const IDX_TYPE_NAMES: Record<number, string> = { 0x08: 'uint8', 0x09: 'int8', 0x0b: 'int16', 0x0c: 'int32', 0x0d: 'float32', 0x0e: 'float64' };

/** A decoded IDX file: `data` has shapeSize(shape) elements in row-major order. */
export interface IdxArray {
  data: Uint8Array;
  shape: number[];
}

/** Reads a file and gunzips it when it starts with the gzip magic bytes; errors name the file. */
export function readMaybeGzipped(path: string): Uint8Array {
  const bytes = readFileSync(path);
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (err) {
    throw new Error(`${path}: corrupt gzip data (${(err as Error).message})`);
  }
}

/**
 * Decodes IDX bytes; `name` labels errors. Only uint8 data (type 0x08) is supported.
 * The byte count must equal the header plus the product of the dimensions exactly.
 */
export function parseIdx(bytes: Uint8Array, name: string): IdxArray {
  if (bytes.length < 4) throw new Error(`${name}: not an IDX file: ${bytes.length} bytes, shorter than the 4-byte magic number`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new Error(`${name}: not an IDX file: bad magic number 0x${magic.toString(16).padStart(8, '0')}, expected 0x0000080X`);
  }
  const type = bytes[2]!, rank = bytes[3]!;
  if (type !== IDX_UINT8) {
    const typeName = IDX_TYPE_NAMES[type] ?? 'unknown';
    throw new Error(`${name}: unsupported IDX data type 0x${type.toString(16).padStart(2, '0')} (${typeName}); only 0x08 (uint8) is supported`);
  }
  if (rank === 0) throw new Error(`${name}: IDX rank is 0; expected at least one dimension`);
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw new Error(`${name}: truncated IDX header: rank ${rank} needs ${headerBytes} header bytes, file has ${bytes.length}`);
  }
  const shape: number[] = [];
  for (let d = 0; d < rank; d++) shape.push(view.getUint32(4 + 4 * d));
  const expected = headerBytes + shapeSize(shape, name);
  if (bytes.length !== expected) {
    const problem = bytes.length < expected ? 'truncated' : `${bytes.length - expected} trailing bytes (dimensions do not match the data)`;
    throw new Error(
      `${name}: ${problem}: dimensions [${shape.join(', ')}] need ${expected} bytes ` +
        `(${headerBytes} header + ${expected - headerBytes} data), file has ${bytes.length}`,
    );
  }
  // A plain Uint8Array view (not a Buffer), so slicing behaves like every other typed array.
  return { data: new Uint8Array(bytes.buffer, bytes.byteOffset + headerBytes, expected - headerBytes), shape };
}

/** Reads an IDX file (raw or gzipped) from disk; see parseIdx for the checks. */
export function readIdx(path: string): IdxArray {
  return parseIdx(readMaybeGzipped(path), path);
}

function findFile(dir: string, stem: string): string {
  for (const name of [stem, `${stem}.gz`]) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  throw new Error(`loadMnist: neither ${stem} nor ${stem}.gz found in ${dir}`);
}

/**
 * Loads MNIST (or any IDX pair with the same file names, e.g. Fashion-MNIST) from `dir`, raw or .gz.
 * Returns images uint8 [N, 1, H, W] (28×28 for MNIST) and labels int32 [N]; N is 60000 for 'train'
 * and 10000 for 'test' on the real data.
 */
export function loadMnist(dir: string, split: 'train' | 'test'): ArrayDataset {
  const prefix = split === 'train' ? 'train' : 't10k';
  const imagesPath = findFile(dir, `${prefix}-images-idx3-ubyte`);
  const labelsPath = findFile(dir, `${prefix}-labels-idx1-ubyte`);
  const images = readIdx(imagesPath), labels = readIdx(labelsPath);
  if (images.shape.length !== 3) throw new Error(`${imagesPath}: expected rank 3 [N, H, W], got [${images.shape.join(', ')}]`);
  if (labels.shape.length !== 1) throw new Error(`${labelsPath}: expected rank 1 [N], got [${labels.shape.join(', ')}]`);
  const [count, height, width] = images.shape as [number, number, number];
  if (labels.shape[0] !== count) {
    throw new Error(`loadMnist: ${labelsPath} has ${labels.shape[0]} labels but ${imagesPath} has ${count} images`);
  }
  return new ArrayDataset(images.data, Int32Array.from(labels.data), [1, height, width]);
}

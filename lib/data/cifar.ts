/**
 * Reader for the CIFAR-10 binary format: each record is 1 label byte (0..9) followed by 3072 pixel
 * bytes, 1024 per channel in R, G, B order, each channel 32×32 row-major — i.e. already CHW.
 */
import { ArrayDataset } from './dataset.js';
import { readMaybeGzipped } from './idx.js';

const CIFAR_PIXELS = 3 * 32 * 32;
const CIFAR_RECORD = 1 + CIFAR_PIXELS;
const CIFAR_CLASSES = 10;

/**
 * Reads and concatenates CIFAR-10 batch files (e.g. data_batch_1.bin ... data_batch_5.bin), raw or
 * gzipped. Returns images uint8 [N, 3, 32, 32] and labels int32 [N].
 */
export function readCifar10(paths: readonly string[]): ArrayDataset {
  const files = paths.map((path) => {
    const bytes = readMaybeGzipped(path);
    if (bytes.length % CIFAR_RECORD !== 0) {
      throw new Error(`${path}: length ${bytes.length} bytes is not a multiple of the ${CIFAR_RECORD}-byte CIFAR-10 record`);
    }
    return { path, bytes };
  });
  const count = files.reduce((n, f) => n + f.bytes.length / CIFAR_RECORD, 0);
  const images = new Uint8Array(count * CIFAR_PIXELS);
  const labels = new Int32Array(count);
  let n = 0;
  for (const { path, bytes } of files) {
    for (let offset = 0; offset < bytes.length; offset += CIFAR_RECORD, n++) {
      const label = bytes[offset]!;
      if (label >= CIFAR_CLASSES) throw new Error(`${path}: record ${offset / CIFAR_RECORD} has label ${label}, expected 0..9`);
      labels[n] = label;
      images.set(bytes.subarray(offset + 1, offset + CIFAR_RECORD), n * CIFAR_PIXELS);
    }
  }
  return new ArrayDataset(images, labels, [3, 32, 32]);
}

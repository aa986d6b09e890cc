/**
 * Datasets as plain typed arrays: images are stored N×C×H×W, one label per image. Nothing here
 * depends on the Tensor class; the DataLoader turns samples into batches of typed arrays.
 */
import { Random, STREAM_SPLIT } from './random.js';

/** A random-access collection of samples. */
export interface Dataset<T> {
  readonly length: number;
  /** Sample `i`, 0 <= i < length. */
  get(i: number): T;
}

/** Pixel data of one image in CHW layout, as stored (uint8 0..255 or float). */
export interface RawImage {
  data: Uint8Array | Float32Array;
  channels: number;
  height: number;
  width: number;
}

/** A float image in CHW layout: data.length === channels * height * width. */
export interface Image extends RawImage {
  data: Float32Array;
}

/** One labelled image; `image.data` may be a view into the dataset's storage, so do not mutate it. */
export interface LabeledImage {
  image: RawImage;
  label: number;
}

/** The image shape [C, H, W]. */
export type ImageShape = readonly [channels: number, height: number, width: number];

/** Number of elements of a shape, rejecting anything that is not a non-negative integer. */
export function shapeSize(shape: readonly number[], what: string): number {
  let size = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`${what}: dimensions must be non-negative integers, got [${shape.join(', ')}]`);
    size *= d;
  }
  if (!Number.isSafeInteger(size)) throw new RangeError(`${what}: shape [${shape.join(', ')}] is too large`);
  return size;
}

/** A float32 copy of a raw image, pixel values unchanged (uint8 stays in 0..255). */
export function toImage(raw: RawImage): Image {
  return { data: new Float32Array(raw.data), channels: raw.channels, height: raw.height, width: raw.width };
}

/**
 * Images held in memory: `images` is N×C×H×W (uint8 or float32), `labels` is [N].
 * `get(i)` returns a view into `images`, never a copy.
 */
export class ArrayDataset implements Dataset<LabeledImage> {
  readonly length: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;

  /**
   * @param images pixel data, shape [N, C, H, W] flattened
   * @param labels class indices, shape [N]
   * @param imageShape [C, H, W] of one image
   */
  constructor(
    readonly images: Uint8Array | Float32Array,
    readonly labels: Int32Array,
    imageShape: ImageShape,
  ) {
    const perImage = shapeSize(imageShape, 'ArrayDataset');
    if (perImage === 0) throw new RangeError(`ArrayDataset: image shape [${imageShape.join(', ')}] is empty`);
    if (images.length !== labels.length * perImage) {
      throw new RangeError(
        `ArrayDataset: ${labels.length} labels of shape [${imageShape.join(', ')}] need ` +
          `${labels.length * perImage} pixel values, got ${images.length}`,
      );
    }
    [this.channels, this.height, this.width] = imageShape;
    this.length = labels.length;
  }

  /** Pixels per image, C*H*W. */
  get imageSize(): number {
    return this.channels * this.height * this.width;
  }

  /** Sample `i`: a view of image i (shape [C, H, W]) and its label. */
  get(i: number): LabeledImage {
    checkIndex('ArrayDataset', i, this.length);
    const size = this.imageSize;
    return {
      image: { data: this.images.subarray(i * size, (i + 1) * size), channels: this.channels, height: this.height, width: this.width },
      label: this.labels[i]!,
    };
  }
}

/** The samples of `dataset` at `indices`, in that order; shares the parent's storage. */
export class Subset<T> implements Dataset<T> {
  /**
   * @param dataset the parent dataset
   * @param indices parent indices, shape [length]
   */
  constructor(
    readonly dataset: Dataset<T>,
    readonly indices: Int32Array,
  ) {
    for (const i of indices) checkIndex('Subset', i, dataset.length);
  }

  /** Number of samples, indices.length. */
  get length(): number {
    return this.indices.length;
  }

  /** Sample `i` of the subset, i.e. parent sample `indices[i]`. */
  get(i: number): T {
    checkIndex('Subset', i, this.indices.length);
    return this.dataset.get(this.indices[i]!);
  }
}

/**
 * Splits `dataset` into disjoint random subsets of the given sizes, which must sum to its length.
 * The split depends only on `seed`: `randomSplit(train, [55000, 5000], 0)` is the same validation set
 * on every run.
 */
export function randomSplit<T>(dataset: Dataset<T>, lengths: readonly number[], seed: number): Subset<T>[] {
  const total = lengths.reduce((a, b) => a + b, 0);
  if (lengths.some((n) => !Number.isInteger(n) || n < 0) || total !== dataset.length) {
    throw new RangeError(`randomSplit: lengths [${lengths.join(', ')}] must be non-negative integers summing to the dataset length ${dataset.length}`);
  }
  const order = new Random(seed, [STREAM_SPLIT]).permutation(dataset.length);
  let start = 0;
  return lengths.map((n) => new Subset(dataset, order.slice(start, (start += n))));
}

/**
 * Where the samples of `dataset` live, if it is an ArrayDataset or a (nested) Subset of one:
 * the backing ArrayDataset and, for each sample, its row there (shape [length]).
 */
export function backingRows(dataset: Dataset<unknown>): { base: ArrayDataset; rows: Int32Array } | undefined {
  if (dataset instanceof ArrayDataset) {
    const rows = new Int32Array(dataset.length);
    for (let i = 0; i < rows.length; i++) rows[i] = i;
    return { base: dataset, rows };
  }
  if (dataset instanceof Subset) {
    const parent = backingRows(dataset.dataset);
    if (!parent) return undefined;
    return { base: parent.base, rows: dataset.indices.map((i) => parent.rows[i]!) };
  }
  return undefined;
}

function checkIndex(what: string, i: number, length: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= length) throw new RangeError(`${what}: index ${i} out of range [0, ${length})`);
}
